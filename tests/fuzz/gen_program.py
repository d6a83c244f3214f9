#!/usr/bin/python3
"""gen_program.py -- random well-typed .nn programs for tests/fuzz/programs.sh.

usage: gen_program.py SEED [--allow CLASS,...|all] [--f32]

Prints one complete f64 program (a model, its train block with
`data train = random(count: N)`) on standard output; the same SEED gives
the same bytes.  The program draws from every builtin of nn(5) and from
stdlib/layers.nn, and moves the batch dimension B wherever the language
lets it (transposes put it anywhere; reductions, slices, concats,
softmaxes and reshapes then work on the axes around it).  Every value
stays bounded (exp of tanh, log of a positive, division by a positive),
so the oracles compare numbers, not overflows.

Program classes that hit bugs already reported are left out unless
--allow names them (KNOWN below); the first comment lines list the
builtins and classes a program uses, which programs.sh prints with each
failure.  --f32 writes the same program in f32 (the oracles loosen their
tolerances and skip the float64 gradient check)."""
import random
import sys

from gen_ops import OPS, Val, dims

# Classes that reach a bug already reported; each maps to the report.
KNOWN = {
}

MAX_PER_SAMPLE = 600       # elements of one sample of any value: keeps gradcheck --all quick


class Program:
    """The model body under construction: statements, parameters, the
    pool of values drawn from, and the features used."""

    def __init__(self, seed, allow, dtype):
        self.r = random.Random(seed)
        self.seed = seed
        self.allow = allow
        self.dt = dtype
        self.body = []
        self.fns = []
        self.pool = []
        self.used = set()
        self.classes = set()
        self.nparam = 0
        self.nval = 0
        self.nfn = 0
        self.imports = False

    # -- building blocks used by gen_ops ------------------------------------
    def ty(self, shape):
        return '%s[%s]' % (self.dt, dims(shape))

    def fits(self, shape):
        n = 1
        for d in shape:
            n *= 1 if d == 'B' else d
        return len(shape) <= 5 and n <= MAX_PER_SAMPLE

    def allowed(self, cls):
        """True when the program may use class cls (records its use)."""
        if cls in KNOWN and cls not in self.allow:
            return False
        self.classes.add(cls)
        return True

    def num(self, lo=-1.5, hi=1.5):
        return '%.3g' % self.r.uniform(lo, hi)

    def init(self, shape):
        r = self.r
        k = r.randrange(8)
        if k < 4:
            return 'normal(std: %.2g)' % r.uniform(0.3, 0.8)
        if k == 4:
            lo = r.uniform(-0.9, 0.1)
            return 'uniform(%.2g, %.2g)' % (lo, lo + r.uniform(0.2, 1.0))
        if k == 5 and len(shape) >= 1:
            return r.choice(['xavier_uniform', 'he_normal', 'glorot_normal', 'he_uniform(gain: 0.8)'])
        if k == 6:
            return 'constant(%.2g)' % r.uniform(-1, 1)
        return 'normal(mean: %.2g, std: 0.5)' % r.uniform(-0.5, 0.5)

    def param(self, shape, init=None):
        """Declares a parameter of shape (no B) and returns its name."""
        self.nparam += 1
        name = 'p%d' % self.nparam
        self.body.append('    param %s: %s = %s' % (name, self.ty(shape), init or self.init(shape)))
        return Val(name, list(shape), dep=True)

    def emit(self, expr, shape, src, dep, tag):
        """hK = expr; the comment gives the shape and the value it came
        from (the reducer replaces a statement by that value)."""
        self.nval += 1
        v = Val('h%d' % self.nval, list(shape), dep=dep)
        self.body.append('    %s = %s    # [%s] from %s' % (v.name, expr, dims(shape), src.name))
        self.used.add(tag)
        self.pool.append(v)
        return v

    def same_shape(self, x):
        """Another value of the pool with x's shape, or None."""
        c = [v for v in self.pool if v.shape == x.shape and v.name != x.name]
        return self.r.choice(c) if c else None

    def broadcasts_to(self, x):
        """A value of the pool (x itself too: ties of maximum, minimum)
        that broadcasts to x's shape, B against B; or None."""
        def fits(v):
            lead = len(x.shape) - len(v.shape)
            return lead >= 0 and all(d == x.shape[lead + i] or (d == 1 and x.shape[lead + i] != 'B')
                                     for i, d in enumerate(v.shape))
        c = [v for v in self.pool if fits(v)]
        return self.r.choice(c) if c else None

    def is_value(self, text):
        """text names a value of the pool (not a parameter, not a number)."""
        return any(v.name == text for v in self.pool)

    def bcast_param(self, x):
        """A parameter that broadcasts against x: a suffix of x's shape,
        B and some other dimensions made 1."""
        r = self.r
        start = r.randrange(len(x.shape) + 1)
        shape = [1 if d == 'B' or r.random() < 0.25 else d for d in x.shape[start:]]
        while shape and shape[0] == 1 and r.random() < 0.5:
            shape = shape[1:]
        return self.param(shape)

    def operand(self, x):
        """A second operand for an elementwise op on x: a value of the
        same shape, a broadcasting parameter, or a number."""
        k = self.r.random()
        if k < 0.35:
            y = self.same_shape(x) if k < 0.2 else self.broadcasts_to(x)
            if y:
                return y.name, y.dep
        if k < 0.8:
            p = self.bcast_param(x)
            return p.name, True
        return self.num(), False

    def use_layers(self):
        self.imports = True

    def new_fn(self, text):
        self.nfn += 1
        self.fns.append(text.replace('FN', 'blk%d' % self.nfn))
        return 'blk%d' % self.nfn


def input_shape(r):
    k = r.random()
    if k < 0.4:
        return ['B', r.randint(2, 8)]
    if k < 0.6:
        return ['B', r.randint(2, 4), r.randint(2, 5)]
    if k < 0.9:
        return ['B', r.randint(2, 6), r.randint(2, 6), r.randint(1, 3)]
    # big enough that runtime/conv.c works in more than one block of patches
    return ['B', r.randint(10, 12), r.randint(10, 12), r.randint(3, 4)]


def pick(p):
    """The newest value mostly; any earlier one sometimes."""
    r = p.r
    if r.random() < 0.7:
        return p.pool[-1]
    return r.choice(p.pool)


def grow(p, nops):
    ops = [(name, w, f) for name, w, f in OPS]
    total = sum(w for _, w, _ in ops)
    done = tries = 0
    while done < nops and tries < nops * 30:
        tries += 1
        x = pick(p)
        k = p.r.uniform(0, total)
        for name, w, f in ops:
            k -= w
            if k <= 0:
                break
        if f(p, x) is not None:
            done += 1


def to_rows(p, x):
    """x as [B, n]: B moved to the front, the rest flattened."""
    if x.shape[0] != 'B':
        b = x.shape.index('B')
        perm = [b] + [i for i in range(len(x.shape)) if i != b]
        x = p.emit('transpose(%s, [%s])' % (x.name, dims(perm)), [x.shape[i] for i in perm], x, x.dep, 'transpose')
    if len(x.shape) == 1:
        return p.emit('reshape(%s, [B, 1])' % x.name, ['B', 1], x, x.dep, 'reshape')
    if len(x.shape) > 2:
        n = 1
        for d in x.shape[1:]:
            n *= d
        if len(x.shape) == 4 and p.r.random() < 0.5:
            return p.emit('flatten(%s)' % x.name, ['B', n], x, x.dep, 'flatten')
        return p.emit('reshape(%s, [B, %s])' % (x.name, '-1' if p.r.random() < 0.5 else n), ['B', n], x, x.dep, 'reshape')
    return x


def head(p, x, k):
    """The output [B, k] from x [B, n]: a dense layer or a matmul."""
    n = x.shape[1]
    # Outputs of std about 0.4 keep the loss near 1: the float64 gradient
    # check's finite differences lose |loss| * 1e-10 to rounding, against
    # an error floor of 1e-3 and a tolerance of 1e-6.
    init = 'normal(std: %.3g)' % (0.4 / n ** 0.5)
    if p.r.random() < 0.4:
        p.use_layers()
        return p.emit('dense(%s, %d, init: %s)' % (x.name, k, init), ['B', k], x, True, 'dense')
    w = p.param([n, k], init)
    expr = '%s @ %s' % (x.name, w.name)
    if p.r.random() < 0.5:
        expr += ' + %s' % p.param([k], 'zeros').name
    return p.emit(expr, ['B', k], x, True, 'matmul')


def model(p, loss):
    r = p.r
    xshape = input_shape(r)
    p.input_size = 1
    for d in xshape[1:]:
        p.input_size *= d
    x = Val('x', xshape, dep=False)
    p.pool.append(x)
    grow(p, r.randint(3, 12))
    k = r.randint(1, 4) if loss != 'ce' else r.randint(2, 4)
    out = head(p, to_rows(p, pick(p)), k)
    if len(p.pool) > 3 and r.random() < 0.3:
        other = r.choice(p.pool[:-1])
        side = head(p, to_rows(p, other), k)
        out = p.emit('%s + %s' % (out.name, side.name), ['B', k], out, True, 'add')
    # in the return, where the reducer cannot take it away: bce needs (0, 1)
    result = 'sigmoid(%s)' % out.name if loss == 'bce' else out.name
    ret = ' -> %s' % p.ty(['B', k]) if r.random() < 0.5 else ''
    lines = ['model m(x: %s)%s {' % (p.ty(xshape), ret)] + p.body + ['    return %s' % result, '}']
    return '\n'.join(lines)


def train_block(p, loss):
    r = p.r
    count, batch = r.randint(4, 12), r.randint(2, 6)
    fit = {'mse': 'mse(m(train.x), train.y)',
           'mse2': 'mse(m(train.x), train.y) + 0.01 * mean(m(train.x) * m(train.x))',
           'bce': 'binary_cross_entropy(m(train.x), train.y)',
           'ce': 'cross_entropy(m(train.x), train.y)'}[loss]
    opt = r.choice(['sgd(lr: 0.02)', 'sgd(lr: 0.01, momentum: 0.9)', 'sgd(lr: 0.01, momentum: 0.5, nesterov: 1)',
                    'adam(lr: 0.003)', 'adamw(lr: 0.003, weight_decay: 0.01)', 'sgd(lr: 0.01, weight_decay: 0.001)'])
    if r.random() < 0.25:
        # gradient clipping by global norm, often below the norm so it acts
        opt = opt[:-1] + ', clip: %.2g)' % r.uniform(0.05, 2)
    lines = ['train m {',
             '    data train = random(count: %d)' % count,
             '    data test = random(count: %d)' % r.randint(3, 9),
             '    loss = %s' % fit,
             '    optimizer = %s' % opt]
    if r.random() < 0.3:
        lines.append('    schedule = %s' % r.choice(['cosine(min_lr: 0.001)', 'step(every: 1, gamma: 0.5)',
                                                    'constant(warmup: 1)']))
    lines.append('    report %s on test' % ('accuracy, loss' if loss == 'ce' else 'loss'))
    lines += ['    batch %d' % batch, '    epochs %d' % r.randint(1, 2), '    seed %d' % r.randrange(1000), '}']
    return '\n'.join(lines)


def generate(seed, allow, dtype):
    p = Program(seed, allow, dtype)
    loss = p.r.choice(['mse'] * 6 + ['mse2', 'bce', 'ce'])
    m = model(p, loss)
    t = train_block(p, loss)
    head_lines = ['# gen_program.py %d%s' % (seed, ' --f32' if dtype == 'f32' else ''),
                  '# uses: %s' % ' '.join(sorted(p.used | {'loss:' + loss})),
                  '# classes: %s' % (' '.join(sorted(p.classes)) or '-'),
                  '# input per sample: %d' % p.input_size]
    parts = ['\n'.join(head_lines)]
    if p.imports:
        parts.append('import layers')
    parts += p.fns + [m, t]
    return '\n\n'.join(parts) + '\n'


def main(argv):
    if len(argv) < 2 or not argv[1].isdigit():
        sys.stderr.write('usage: gen_program.py SEED [--allow CLASS,...|all] [--f32]\n')
        return 2
    allow, dtype = set(), 'f64'
    i = 2
    while i < len(argv):
        if argv[i] == '--allow' and i + 1 < len(argv):
            allow = set(KNOWN) if argv[i + 1] == 'all' else set(argv[i + 1].split(','))
            i += 2
        elif argv[i] == '--f32':
            dtype = 'f32'
            i += 1
        else:
            sys.stderr.write('gen_program.py: unknown argument %s\n' % argv[i])
            return 2
    sys.stdout.write(generate(int(argv[1]), allow, dtype))
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv))
