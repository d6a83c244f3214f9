#!/usr/bin/python3
"""The PyTorch (CPU) reference for bench/mlp.sh: the 784-256-128-10 ReLU MLP of
examples/mlp.nn, same data, batch, optimizer, schedule and thread count.

    mlp_torch.py --threads T --batch B --epochs E --lr LR --momentum M --data DIR

Prints one line: samples_per_s=N test_accuracy=A peak_rss_kib=K"""
import torch
import reference

def main():
    a = reference.arguments(0.05, __doc__).parse_args()
    reference.use_threads_and_seed(a)
    x, y = reference.dataset(a.data, "train", [784])
    tx, ty = reference.dataset(a.data, "t10k", [784])
    model = torch.nn.Sequential(torch.nn.Linear(784, 256), torch.nn.ReLU(),
                                torch.nn.Linear(256, 128), torch.nn.ReLU(),
                                torch.nn.Linear(128, 10))
    for m in model:
        if isinstance(m, torch.nn.Linear):
            torch.nn.init.kaiming_normal_(m.weight)
            torch.nn.init.zeros_(m.bias)
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum)
    reference.report(model, x, y, tx, ty, a, reference.train(model, opt, x, y, a))

if __name__ == "__main__":
    main()
