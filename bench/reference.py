"""What the PyTorch references (mlp_torch.py, cnn_torch.py) share: their
common options, the data, and the timed training loop, which follows nnc's
trainer: a new permutation each epoch, batches in its order (the last one
short), and the learning rate set before every step from the train block's
cosine schedule, lr (1 + cos(pi progress)) / 2."""
import argparse, math, resource, time
import torch
from idxfile import array

def arguments(lr, doc):
    """A parser with --threads, --batch, --epochs, --lr, --momentum, --data."""
    p = argparse.ArgumentParser(description=doc)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--epochs", type=int, default=1)
    p.add_argument("--lr", type=float, default=lr)
    p.add_argument("--momentum", type=float, default=0.9)
    p.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    return p

def use_threads_and_seed(a):
    """torch.set_num_threads(a.threads), and the seed nnc's trainers default to."""
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)

def dataset(directory, kind, shape):
    """(images scaled to [0, 1] and shaped [N, *shape], int64 labels) of the
    train or t10k files in directory"""
    x = torch.tensor(array(f"{directory}/{kind}-images-idx3-ubyte.gz"), dtype=torch.float32)
    y = torch.tensor(array(f"{directory}/{kind}-labels-idx1-ubyte.gz"), dtype=torch.int64)
    return x.reshape(-1, *shape) / 255, y

def train(model, opt, x, y, a):
    """Trains a.epochs epochs in batches of a.batch; returns the seconds the
    steps took, as nnc's trainer counts them for samples/s."""
    loss_fn = torch.nn.CrossEntropyLoss()
    n, seconds = x.shape[0], 0.0
    steps = (n + a.batch - 1) // a.batch
    model.train()
    for epoch in range(a.epochs):
        perm = torch.randperm(n)
        t0 = time.perf_counter()
        for s in range(steps):
            for g in opt.param_groups:
                g["lr"] = a.lr * 0.5 * (1 + math.cos(math.pi * (epoch + s / steps) / a.epochs))
            batch = perm[s * a.batch:(s + 1) * a.batch]
            opt.zero_grad(set_to_none=True)
            loss_fn(model(x[batch]), y[batch]).backward()
            opt.step()
        seconds += time.perf_counter() - t0
    return seconds

def report(model, x, y, tx, ty, a, seconds):
    """Prints samples_per_s=N test_accuracy=A peak_rss_kib=K."""
    model.eval()
    with torch.no_grad():
        right = sum((model(tx[i:i + 1000]).argmax(1) == ty[i:i + 1000]).sum().item()
                    for i in range(0, tx.shape[0], 1000))
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(f"samples_per_s={x.shape[0] * a.epochs / seconds:.0f} "
          f"test_accuracy={right / tx.shape[0]:.4f} peak_rss_kib={rss}")
