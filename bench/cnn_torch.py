#!/usr/bin/python3
"""The PyTorch (CPU) reference for bench/cnn.sh: examples/lenet.nn and
examples/alexnet.nn built from torch.nn with the same layer sizes, padding,
pooling, LRN and dropout, the same initializers, data, batch, optimizer
(SGD with momentum and weight decay), schedule and thread count.

    cnn_torch.py --net lenet|alexnet --threads T --batch B --epochs E --data DIR

nnc's images and kernels are NHWC and [KH, KW, C, O]; here they are NCHW
and [O, C, KH, KW], the layout torch's CPU kernels are written for.  The
convolutions compute the same function either way; flatten permutes to NHWC
first, so the first dense layer sees its inputs in nnc's order.

Prints one line: samples_per_s=N test_accuracy=A peak_rss_kib=K"""
import torch
from torch import nn
import reference

class FlattenNHWC(nn.Module):
    """nnc's flatten of an NHWC image: [B, C, H, W] to [B, H*W*C]."""
    def forward(self, x):
        return x.permute(0, 2, 3, 1).flatten(1)

def lenet():
    # conv_relu(6, 5, padding 2), pool 2, conv_relu(16, 5), pool 2,
    # mlp_block 120, mlp_block 84, dense 10
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2), FlattenNHWC(),
        nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10))

def alexnet():
    # nnc's local_response_norm defaults: size 5, alpha 1e-4, beta 0.75,
    # k 2 (torch's k defaults to 1); max_pool2d(h, 3, stride: 2)
    lrn = lambda: nn.LocalResponseNorm(5, alpha=1e-4, beta=0.75, k=2.0)
    return nn.Sequential(
        nn.Conv2d(1, 32, 5, padding=2), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(32, 64, 3, padding=1), nn.ReLU(), lrn(), nn.MaxPool2d(3, 2),
        nn.Conv2d(64, 96, 3, padding=1), nn.ReLU(),
        nn.Conv2d(96, 96, 3, padding=1), nn.ReLU(),
        nn.Conv2d(96, 64, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2), FlattenNHWC(),
        nn.Linear(256, 512), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(512, 512), nn.ReLU(), nn.Dropout(0.5), nn.Linear(512, 10))

# each train block's optimizer: sgd(lr, momentum: 0.9, weight_decay)
NETS = {"lenet": (lenet, 0.05, 0.0), "alexnet": (alexnet, 0.02, 0.0005)}

def initialize(model):
    """The stdlib's: conv and mlp_block He-normal (fan in), the last dense
    Xavier-uniform; biases zero."""
    layers = [m for m in model if isinstance(m, (nn.Conv2d, nn.Linear))]
    for m in layers:
        (nn.init.xavier_uniform_ if m is layers[-1] else nn.init.kaiming_normal_)(m.weight)
        nn.init.zeros_(m.bias)

def main():
    p = reference.arguments(None, __doc__)
    p.add_argument("--net", choices=NETS, required=True)
    a = p.parse_args()
    build, lr, weight_decay = NETS[a.net]
    a.lr = lr if a.lr is None else a.lr
    reference.use_threads_and_seed(a)
    x, y = reference.dataset(a.data, "train", [1, 28, 28])
    tx, ty = reference.dataset(a.data, "t10k", [1, 28, 28])
    model = build()
    initialize(model)
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum, weight_decay=weight_decay)
    reference.report(model, x, y, tx, ty, a, reference.train(model, opt, x, y, a))

if __name__ == "__main__":
    main()
