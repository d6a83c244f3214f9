#!/usr/bin/python3
"""The 784-500 binary RBM of examples/rbm.nn in PyTorch, trained by CD-1 the
way nnc trains it: the loss is mean F(v) - mean F(v1), F the free energy
and v1 one Gibbs step from the batch (no gradient through the chain),
differentiated by autograd; SGD lr 0.05 momentum 0.5, batch 64, images
scaled to [0, 1] and binarized at 0.5, W ~ N(0, 0.01^2), biases 0.

    torch_rbm.py [--threads N] [--epochs N] [--data DIR]

Prints samples_per_s=N reconstruction=R peak_rss_kib=K: R is the test
set's mean squared error of the mean-field reconstruction p(v | p(h | v))
per image, as nnc's `report reconstruction`."""
import resource, time
import torch
from reference import arguments, use_threads_and_seed, dataset

def free_energy(v, W, b, c):
    return -(v * b).sum(1) - torch.nn.functional.softplus(v @ W + c).sum(1)

def gibbs_step(v, W, b, c):
    h = torch.bernoulli(torch.sigmoid(v @ W + c))
    return torch.bernoulli(torch.sigmoid(h @ W.t() + b))

def reconstruction(x, W, b, c):
    with torch.no_grad():
        p = torch.sigmoid(torch.sigmoid(x @ W + c) @ W.t() + b)
        return ((x - p) ** 2).sum(1).mean().item()

def main():
    a = arguments(0.05, __doc__.split("\n\n")[0]).parse_args()
    use_threads_and_seed(a)
    x = (dataset(a.data, "train", (784,))[0] > 0.5).float()
    tx = (dataset(a.data, "t10k", (784,))[0] > 0.5).float()
    W = (torch.randn(784, 500) * 0.01).requires_grad_()
    b = torch.zeros(784, requires_grad=True)
    c = torch.zeros(500, requires_grad=True)
    opt = torch.optim.SGD([W, b, c], lr=a.lr, momentum=0.5)
    n, seconds = x.shape[0], 0.0
    for epoch in range(a.epochs):
        perm = torch.randperm(n)
        t0 = time.perf_counter()
        for s in range(0, n, a.batch):
            v = x[perm[s:s + a.batch]]
            with torch.no_grad():
                v1 = gibbs_step(v, W, b, c)
            loss = free_energy(v, W, b, c).mean() - free_energy(v1, W, b, c).mean()
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
        seconds += time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"samples_per_s={n * a.epochs / seconds:.0f} reconstruction={reconstruction(tx, W, b, c):.3f} "
          f"peak_rss_kib={rss}")

if __name__ == "__main__":
    main()
