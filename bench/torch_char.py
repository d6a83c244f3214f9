"""torch_char.py — the PyTorch reference for issue 11's character models:
nn.LSTM, nn.GRU or nn.RNN (tanh) on the fortunes corpus, truncated BPTT.

The corpus, exactly as nnc's `text` source reads it (both sides must agree
to the character, or the validation losses do not compare):

  1. the directory /usr/share/games/fortunes (--data);
  2. every regular file in it whose name has no '.', in byte order of the
     names (so `art`, `ascii-art`, ..., not the .dat indexes nor the .u8
     copies), their bytes concatenated;
  3. decoded as UTF-8 (strict: a bad byte is an error, not a replacement);
  4. vocabulary = the sorted distinct code points; id = index in it;
  5. of the N characters, the first floor(0.9 N) train, the rest validate;
  6. a text of n ids is cut into B streams of L = floor(n / B) consecutive
     ids (stream b = ids[b L : (b + 1) L]; the n - B L ids left over are
     not used);
  7. batch k holds, for each stream b, x = stream_b[kT : kT + T] and
     y = stream_b[kT + 1 : kT + T + 1]; an epoch is floor((L - 1) / T)
     batches, k = 0, 1, ... in order.

The model: embedding 64, one recurrent layer of hidden 256, a linear
decoder to the vocabulary; cross-entropy averaged over the B x T targets;
Adam (lr 2e-3), gradients clipped to a global norm of 1.0.  The hidden
state carries from batch k to batch k + 1 of the same stream, detached
(truncated BPTT: no gradient crosses a batch boundary); it starts at zero
and is reset to zero when training wraps to a new epoch.

Validation: the validation text cut the same way (B streams, every batch
of its epoch, in order, hidden state carried from zero), mean
cross-entropy over every target, in nats and bits per character.

Printed: the corpus figures, the machine (cpu, torch build, threads),
training tokens/s (B x T x steps over the seconds the steps took: no data
preparation, no validation) and the validation loss after --steps steps.
Run with /usr/bin/python3 (Debian's python3-torch)."""
import argparse, math, os, sys, time
import torch
from torch import nn
from torch_env import print_environment, set_threads_and_seed


def read_corpus(directory):
    """The corpus text, steps 1-3 of the top comment."""
    names = sorted((n for n in os.listdir(directory) if "." not in n), key=os.fsencode)
    names = [n for n in names if os.path.isfile(os.path.join(directory, n))
             and not os.path.islink(os.path.join(directory, n))]
    data = b"".join(open(os.path.join(directory, n), "rb").read() for n in names)
    try:
        return data.decode("utf-8"), len(names)
    except UnicodeDecodeError as e:
        sys.exit(f"torch_char.py: {directory}: not UTF-8 at byte {e.start} of the concatenation")


def streams(ids, B):
    """ids cut into B rows of L = floor(n / B) consecutive ids: [B, L]."""
    L = ids.numel() // B
    return ids[:B * L].view(B, L)


def batch(s, k, T):
    """Batch k of streams s: (x, y), each [B, T]."""
    return s[:, k * T:k * T + T], s[:, k * T + 1:k * T + T + 1]


def batches_per_epoch(s, T):
    return (s.shape[1] - 1) // T


class CharModel(nn.Module):
    def __init__(self, cell, vocab, embed, hidden):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        layer = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}[cell]
        self.rnn = layer(embed, hidden, batch_first=True)   # nn.RNN's nonlinearity is tanh
        self.decode = nn.Linear(hidden, vocab)

    def forward(self, x, h):
        out, h = self.rnn(self.embed(x), h)
        return self.decode(out), h


def detach(h):
    """The state without its history: truncated BPTT's cut."""
    return None if h is None else tuple(t.detach() for t in h) if isinstance(h, tuple) else h.detach()


def train(model, s, a, opt=None):
    """a.steps steps over streams s (Adam at a.lr unless opt is given);
    returns the seconds the steps took.  model(x, h) returns the logits
    and the state to carry (None for a model without one)."""
    opt = opt or torch.optim.Adam(model.parameters(), lr=a.lr)
    loss_fn = nn.CrossEntropyLoss()
    per_epoch, h, seconds = batches_per_epoch(s, a.seq), None, 0.0
    model.train()
    for step in range(a.steps):
        k = step % per_epoch
        if k == 0:
            h = None                       # a new epoch starts from a zero state
        x, y = batch(s, k, a.seq)
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        logits, h = model(x, detach(h))
        loss = loss_fn(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), a.clip)
        opt.step()
        seconds += time.perf_counter() - t0
        if a.log_every and (step + 1) % a.log_every == 0:
            print(f"step {step + 1} loss {loss.item():.4f}", flush=True)
    return seconds


@torch.no_grad()
def validate(model, s, T, fresh=False):
    """Mean cross-entropy (nats) over every target of the streams' epoch;
    fresh: every batch from a zero state, as nnc's evaluation runs a
    stateful scan (nn(5), scan)."""
    model.eval()
    total, count, h = 0.0, 0, None
    for k in range(batches_per_epoch(s, T)):
        x, y = batch(s, k, T)
        logits, h = model(x, None if fresh else h)
        total += nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1),
                                             reduction="sum").item()
        count += y.numel()
    return total / count


def arguments():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cell", choices=("lstm", "gru", "rnn"), default="lstm")
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seq", type=int, default=64)
    p.add_argument("--embed", type=int, default=64)
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--data", default="/usr/share/games/fortunes")
    p.add_argument("--fresh-validation", action="store_true",
                   help="start every validation batch from a zero state (as nnc's evaluation does)")
    p.add_argument("--log-every", type=int, default=0, help="print the training loss every N steps")
    p.add_argument("--no-validate", action="store_true", help="skip the validation pass")
    return p.parse_args()


def main():
    a = arguments()
    set_threads_and_seed(a.threads, a.seed)
    text, files = read_corpus(a.data)
    vocab = sorted(set(text))
    index = {c: i for i, c in enumerate(vocab)}
    ids = torch.tensor([index[c] for c in text], dtype=torch.int64)
    n_train = len(text) * 9 // 10         # floor(0.9 N) in integers: no float rounding at any N
    train_s, val_s = streams(ids[:n_train], a.batch), streams(ids[n_train:], a.batch)
    if batches_per_epoch(train_s, a.seq) < 1 or batches_per_epoch(val_s, a.seq) < 1:
        sys.exit(f"torch_char.py: a stream of {val_s.shape[1]} characters is shorter than T + 1 = {a.seq + 1}")
    print(f"corpus: {a.data}, {files} files, {len(text)} characters, vocabulary {len(vocab)}; "
          f"train {n_train} ({batches_per_epoch(train_s, a.seq)} batches an epoch), "
          f"validation {len(text) - n_train} ({batches_per_epoch(val_s, a.seq)} batches)")
    print_environment()
    model = CharModel(a.cell, len(vocab), a.embed, a.hidden)
    print(f"model: {a.cell}, embedding {a.embed}, hidden {a.hidden}, "
          f"{sum(p.numel() for p in model.parameters())} parameters; batch {a.batch}, T {a.seq}, "
          f"Adam lr {a.lr}, clip {a.clip}, seed {a.seed}")
    seconds = train(model, train_s, a)
    print(f"train: {a.steps} steps in {seconds:.2f} s, {a.batch * a.seq * a.steps / seconds:.0f} tokens/s")
    if not a.no_validate:
        nats = validate(model, val_s, a.seq, a.fresh_validation)
        print(f"validation after {a.steps} steps: loss {nats:.4f} nats, {nats / math.log(2):.4f} bits/char")


if __name__ == "__main__":
    main()
