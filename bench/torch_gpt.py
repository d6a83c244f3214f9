"""torch_gpt.py — the PyTorch reference for examples/char_gpt.nn: the same
character-level GPT on the fortunes corpus, read and batched exactly as
nnc's `text` source does (bench/torch_char.py's top comment; batches in
order, no state carried: each batch is its own 128 characters).

The model, layer by layer as stdlib/attention.nn writes it: a token
embedding E [V, 128] (normal, std 0.02) plus learned positions [128, 128]
(std 0.02); 4 pre-norm blocks, each x + MHA(LN(x)) then x + FF(LN(x)),
MHA with 4 heads, separate q, k, v and output projections (D x D with
bias, Xavier-uniform weights, zero biases), scores scaled by 1/sqrt(32),
a causal mask; FF = Linear(128, 512), exact GELU, Linear(512, 128); a
final layer norm (eps 1e-5); logits = h E^T (tied, no bias).
Cross-entropy over the B x T targets, AdamW (lr 1e-3, betas 0.9/0.999,
eps 1e-8, weight decay 0.01 on every parameter, as nnc's adamw), the
global gradient norm clipped to 1.0.

Printed: the corpus, the machine, training tokens/s (B x T x steps over
the seconds the steps took) and the validation loss after --steps steps.
Run with /usr/bin/python3 (Debian's python3-torch)."""
import argparse, math, sys
import torch
from torch import nn
from torch_env import print_environment, set_threads_and_seed
from torch_char import read_corpus, streams, batch, batches_per_epoch, train, validate


class Block(nn.Module):
    def __init__(self, d, heads, hidden, T):
        super().__init__()
        self.heads = heads
        self.ln1, self.ln2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.q, self.k, self.v, self.o = (nn.Linear(d, d) for _ in range(4))
        self.ff1, self.ff2 = nn.Linear(d, hidden), nn.Linear(hidden, d)
        for m in (self.q, self.k, self.v, self.o, self.ff1, self.ff2):
            nn.init.xavier_uniform_(m.weight)
            nn.init.zeros_(m.bias)
        self.register_buffer("mask", torch.full((T, T), float("-inf")).triu(1))

    def split(self, x):
        B, T, D = x.shape
        return x.view(B, T, self.heads, D // self.heads).transpose(1, 2)

    def attend(self, x):
        B, T, D = x.shape
        q, k, v = self.split(self.q(x)), self.split(self.k(x)), self.split(self.v(x))
        w = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D // self.heads) + self.mask[:T, :T], dim=-1)
        return self.o((w @ v).transpose(1, 2).reshape(B, T, D))

    def forward(self, x):
        x = x + self.attend(self.ln1(x))
        return x + self.ff2(nn.functional.gelu(self.ff1(self.ln2(x))))


class GPT(nn.Module):
    def __init__(self, vocab, d, heads, hidden, layers, T):
        super().__init__()
        self.E = nn.Parameter(torch.randn(vocab, d) * 0.02)
        self.P = nn.Parameter(torch.randn(T, d) * 0.02)
        self.blocks = nn.Sequential(*(Block(d, heads, hidden, T) for _ in range(layers)))
        self.ln = nn.LayerNorm(d)

    def forward(self, x, state=None):
        """The logits, and no state to carry (torch_char's train and validate)."""
        h = self.blocks(self.E[x] + self.P[:x.shape[1]])
        return self.ln(h) @ self.E.t(), None


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--steps", type=int, default=100)
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--clip", type=float, default=1.0)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seq", type=int, default=128)
    p.add_argument("--data", default="/usr/share/games/fortunes")
    p.add_argument("--log-every", type=int, default=0)
    p.add_argument("--no-validate", action="store_true")
    a = p.parse_args()
    set_threads_and_seed(a.threads, a.seed)
    text, files = read_corpus(a.data)
    vocab = sorted(set(text))
    index = {c: i for i, c in enumerate(vocab)}
    ids = torch.tensor([index[c] for c in text], dtype=torch.int64)
    n_train = len(text) * 9 // 10
    train_s, val_s = streams(ids[:n_train], a.batch), streams(ids[n_train:], a.batch)
    if batches_per_epoch(train_s, a.seq) < 1 or batches_per_epoch(val_s, a.seq) < 1:
        sys.exit(f"torch_gpt.py: a stream of {val_s.shape[1]} characters is shorter than T + 1 = {a.seq + 1}")
    print(f"corpus: {a.data}, {files} files, {len(text)} characters, vocabulary {len(vocab)}; "
          f"train {n_train} ({batches_per_epoch(train_s, a.seq)} batches an epoch)")
    print_environment()
    model = GPT(len(vocab), 128, 4, 512, 4, a.seq)
    print(f"model: GPT 4x(d 128, 4 heads, ff 512), T {a.seq}, "
          f"{sum(p.numel() for p in model.parameters())} parameters; batch {a.batch}, AdamW lr {a.lr}")
    seconds = train(model, train_s, a, torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=0.01))
    print(f"train: {a.steps} steps in {seconds:.2f} s, {a.batch * a.seq * a.steps / seconds:.0f} tokens/s")
    if not a.no_validate:
        nats = validate(model, val_s, a.seq, fresh=True)
        print(f"validation after {a.steps} steps: loss {nats:.4f} nats, {nats / math.log(2):.4f} bits/char")


if __name__ == "__main__":
    main()
