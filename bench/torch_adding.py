"""torch_adding.py — the PyTorch reference for the memory lab (issue 11,
examples/memory/): the adding problem with nn.RNN (tanh) and nn.LSTM.

The data, as nnc's `adding(length: T, count: N)` source defines it
(nn(5)): a sample's x is [T, 2], column 0 uniform in [0, 1), column 1 a
marker that is 1 at one step uniform in [0, T/2) and one uniform in
[T/2, T), 0 elsewhere; y is the sum of the two marked values.  The
distribution is nnc's; the numbers are not (these come from torch's
generator, nnc's from its counter-based streams), so compare the
outcomes, not the bytes.  Always predicting 1 scores MSE 1/6 = 0.167.

The model: one recurrent layer (input 2, hidden 128), the last step's
hidden state through a linear layer to one output; MSE; Adam (lr 1e-3),
batch 32, gradients clipped to a global norm of 1.0 (--clip 0: none).
Training draws batches from a fixed set of --count samples, a new
permutation each epoch, as nnc's trainer does; the test set is
--test-count samples of another stream.

Printed per (T, cell): test MSE every --eval-every steps and after
--steps steps, against the baseline measured on the same test set, and
the training steps/s.  Run with /usr/bin/python3 (Debian's python3-torch)."""
import argparse, time
import torch
from torch import nn
from torch_env import print_environment, set_threads_and_seed


def adding(T, n, generator):
    """n samples of the adding problem: x [n, T, 2], y [n, 1]."""
    values = torch.rand(n, T, generator=generator)
    half = T // 2
    first = torch.randint(0, half, (n,), generator=generator)
    second = torch.randint(half, T, (n,), generator=generator)
    marker = torch.zeros(n, T)
    rows = torch.arange(n)
    marker[rows, first] = 1
    marker[rows, second] = 1
    y = (values[rows, first] + values[rows, second]).unsqueeze(1)
    return torch.stack((values, marker), dim=2), y


class Memory(nn.Module):
    def __init__(self, cell, hidden):
        super().__init__()
        self.rnn = {"rnn": nn.RNN, "lstm": nn.LSTM}[cell](2, hidden, batch_first=True)
        self.out = nn.Linear(hidden, 1)

    def forward(self, x):
        seq, _ = self.rnn(x)
        return self.out(seq[:, -1])


@torch.no_grad()
def mse(model, x, y):
    model.eval()
    err = sum(((model(x[i:i + 1000]) - y[i:i + 1000]) ** 2).sum().item() for i in range(0, x.shape[0], 1000))
    model.train()
    return err / x.shape[0]


def run(cell, T, a):
    """Trains one (cell, T) for a.steps steps; prints as it goes."""
    torch.manual_seed(a.seed)
    gen = torch.Generator().manual_seed(a.seed * 1000 + T)
    x, y = adding(T, a.count, gen)
    tx, ty = adding(T, a.test_count, gen)    # drawn after the training set: another stream
    baseline = ((ty - 1) ** 2).mean().item()
    model = Memory(cell, a.hidden)
    opt = torch.optim.Adam(model.parameters(), lr=a.lr)
    perm, at, seconds = torch.randperm(a.count), 0, 0.0
    for step in range(1, a.steps + 1):
        if at + a.batch > a.count:          # a new epoch, the short last batch dropped
            perm, at = torch.randperm(a.count), 0
        idx = perm[at:at + a.batch]
        at += a.batch
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss = nn.functional.mse_loss(model(x[idx]), y[idx])
        loss.backward()
        if a.clip > 0:
            nn.utils.clip_grad_norm_(model.parameters(), a.clip)
        opt.step()
        seconds += time.perf_counter() - t0
        if a.eval_every and step % a.eval_every == 0 and step < a.steps:
            print(f"T {T} {cell} step {step} test_mse {mse(model, tx, ty):.5f}", flush=True)
    print(f"T {T} {cell}: after {a.steps} steps test_mse {mse(model, tx, ty):.5f} "
          f"(baseline {baseline:.5f}); {a.steps / seconds:.1f} steps/s", flush=True)


def arguments():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cell", choices=("rnn", "lstm", "both"), default="both")
    p.add_argument("--length", default="50,100", help="sequence lengths T, comma-separated")
    p.add_argument("--steps", type=int, default=1000)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--hidden", type=int, default=128)
    p.add_argument("--count", type=int, default=20000, help="training samples")
    p.add_argument("--test-count", type=int, default=1000)
    p.add_argument("--eval-every", type=int, default=0, help="print the test MSE every N steps")
    a = p.parse_args()
    a.lengths = [int(t) for t in a.length.split(",")]
    if min(a.lengths) < 2 or a.count < a.batch or a.test_count < 1:
        p.error("each T must be 2 or more, --count at least --batch, --test-count at least 1")
    return a


def main():
    a = arguments()
    set_threads_and_seed(a.threads, a.seed)
    print_environment()
    print(f"adding problem: hidden {a.hidden}, batch {a.batch}, Adam lr {a.lr}, clip {a.clip}, "
          f"{a.count} training and {a.test_count} test samples, seed {a.seed}")
    for T in a.lengths:
        for cell in (("rnn", "lstm") if a.cell == "both" else (a.cell,)):
            run(cell, T, a)


if __name__ == "__main__":
    main()
