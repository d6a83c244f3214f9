"""gen_ops.py -- the ops gen_program.py draws from, one function each.

Each takes the Program and a value x and either appends a statement and
returns the new value, or returns None when the op does not apply to x's
shape (the generator then draws again).  A shape is a list of ints with
'B' at the batch axis.  Ops never reduce, normalise, slice or join along
B: the model's output for a sample must depend on that sample only, which
is what the batch-independence oracle checks."""


class Val:
    def __init__(self, name, shape, dep):
        self.name = name
        self.shape = shape
        self.dep = dep          # depends on a parameter (stop_gradient of it would break gradcheck)


def dims(shape):
    return ', '.join(str(d) for d in shape)


def batch_axis(x):
    return x.shape.index('B')


def other_axes(x):
    b = batch_axis(x)
    return [a for a in range(len(x.shape)) if a != b]


def axis_text(p, a, rank):
    """Axis a written as itself or counted from the end."""
    return str(a - rank) if p.r.random() < 0.4 else str(a)


def image(x):
    return len(x.shape) == 4 and x.shape[0] == 'B'


# -- elementwise -------------------------------------------------------------

UNARY = {
    'exp': 'exp(tanh({x}))', 'log': 'log({x} * {x} + 0.5)', 'sqrt': 'sqrt({x} * {x} + 0.25)',
    'abs': 'abs({x})', 'tanh': 'tanh({x})', 'sigmoid': 'sigmoid({x})', 'relu': 'relu({x})',
    'softplus': 'softplus({x})', 'sin': 'sin({x})', 'cos': 'cos({x})', 'erf': 'erf({x})',
    'leaky_relu': 'leaky_relu({x}, alpha: {a})', 'elu': 'elu({x}, {a})', 'neg': '-{x}',
    'pow': 'pow({x}, 2)', 'cube': '{x} ** 3', 'pow_tensor': 'pow(sigmoid({x}) + 0.5, tanh({x}))',
    'gelu': 'gelu({x})',    # stdlib/layers.nn
}


def unary(p, x):
    name = p.r.choice(sorted(UNARY))
    expr = UNARY[name].format(x=x.name, a='%.2g' % p.r.uniform(0.01, 1.5))
    if name in ('cube', 'pow'):
        expr = 'tanh(%s)' % expr        # bounded: pow(pow(h, 2), 2) after batch norm reached
                                        # sigmoid's 1.0 in f32, and bce's log(1 - p) -inf
    if name == 'gelu':
        p.use_layers()
    return p.emit(expr, x.shape, x, x.dep, name)


def binary(p, x):
    y, ydep = p.operand(x)
    op = p.r.choice(['+', '-', '*', '/', 'maximum', 'minimum'])
    if op == '-' and y == x.name:
        op = '+'            # x - x is 0: every parameter after it would sit on relu's kink
    if op == '/':
        expr = '%s / (1.5 + tanh(%s))' % (x.name, y)
    elif op in ('maximum', 'minimum'):
        expr = '%s(%s, %s)' % (op, x.name, y) if p.r.random() < 0.7 else '%s(%s, %s)' % (op, y, x.name)
    elif p.r.random() < 0.3:
        expr = '%s %s %s' % (y, op, x.name)
    else:
        expr = '%s %s %s' % (x.name, op, y)
    if op == '*':
        expr = 'tanh(%s)' % expr
    if op in ('maximum', 'minimum') and not p.is_value(y):
        expr = unsaturated(expr, x)
    return p.emit(expr, x.shape, x, x.dep or ydep, 'div' if op == '/' else op if op[0].isalpha() else 'arith')


def unsaturated(expr, x):
    """expr plus a little of x.  A maximum, minimum or clip against a
    number or a parameter can give one value for every sample (every
    sample past the bound), and batch norm turns such a value into
    0/sqrt(eps): finite differences there are rounding noise amplified
    300 times, and a zero-initialised shift after it sits on relu's kink.
    The gradient check could then judge nothing."""
    return '%s + 0.25 * %s' % (expr, x.name)


def where(p, x):
    """Both branches vary with the sample (see unsaturated); the mask
    may be anything."""
    c, _ = p.operand(x)
    z = p.same_shape(x) or p.broadcasts_to(x)
    zname = '-' + x.name if z.name == x.name else z.name
    cond = 'relu(%s)' % c if p.r.random() < 0.8 else c
    return p.emit('where(%s, %s, %s)' % (cond, x.name, zname), x.shape, x, x.dep or z.dep, 'where')


def clip(p, x):
    r = p.r
    lo, hi = sorted([r.uniform(-1.2, 0.5), r.uniform(-0.5, 1.2)])
    if r.random() < 0.15:
        lo, hi = hi, lo        # lo > hi gives hi everywhere (nn(5))
    lo_t, dep = '%.3g' % lo, x.dep
    if r.random() < 0.3:
        lo_t, dep = p.bcast_param(x).name + ' - 0.5', True
    expr = 'clip(%s, %s, %.3g)' % (x.name, lo_t, hi)
    # lo > hi is hi everywhere: a constant, made to vary by a product
    expr = '%s * %s' % (x.name, expr) if lo > hi else unsaturated(expr, x)
    return p.emit(expr, x.shape, x, dep, 'clip')


def stop_gradient(p, x):
    """Only of values no parameter reaches: elsewhere the loss would move
    with a parameter the gradient says it does not, and gradcheck fails."""
    if x.dep:
        return None
    return p.emit('tanh(stop_gradient(%s))' % x.name, x.shape, x, False, 'stop_gradient')


# -- along an axis -----------------------------------------------------------

def reduce(p, x):
    axes = other_axes(x)
    if not axes:
        return None
    a = p.r.choice(axes)
    fn = p.r.choice(['sum', 'mean', 'max'])
    keep = p.r.random() < 0.3
    shape = list(x.shape)
    if keep:
        shape[a] = 1
    else:
        del shape[a]
    args = '%s, axis: %s' % (x.name, axis_text(p, a, len(x.shape)))
    if keep:
        args += ', keepdims: 1'
    expr = '%s(%s)' % (fn, args)
    if fn == 'sum':
        expr = 'tanh(%s)' % expr
    return p.emit(expr, shape, x, x.dep, fn + ('_before_b' if a < batch_axis(x) else ''))


def softmax(p, x):
    # not along an axis of 1, where the result is a constant (1 or 0): a
    # parameter fed only by it sits on any kink after it
    axes = [a for a in other_axes(x) if x.shape[a] > 1]
    if not axes:
        return None
    a = p.r.choice(axes)
    fn = p.r.choice(['softmax', 'log_softmax'])
    if a == len(x.shape) - 1 and p.r.random() < 0.5:
        expr = '%s(%s)' % (fn, x.name)
    else:
        expr = '%s(%s, axis: %s)' % (fn, x.name, axis_text(p, a, len(x.shape)))
    return p.emit(expr, x.shape, x, x.dep, fn)


def transpose(p, x):
    n = len(x.shape)
    if n < 2:
        return None
    perm = list(range(n))
    while perm == list(range(n)):
        p.r.shuffle(perm)
    shape = [x.shape[i] for i in perm]
    if n == 2 and p.r.random() < 0.5:
        return p.emit('transpose(%s)' % x.name, shape, x, x.dep, 'transpose')
    text = ', '.join(str(i - n) if p.r.random() < 0.2 else str(i) for i in perm)
    return p.emit('transpose(%s, [%s])' % (x.name, text), shape, x, x.dep, 'transpose')


def factor(p, n, parts):
    """n as a product of `parts` positive integers, in random order."""
    out = []
    for _ in range(parts - 1):
        divs = [d for d in range(1, n + 1) if n % d == 0]
        d = p.r.choice(divs)
        out.append(d)
        n //= d
    out.append(n)
    p.r.shuffle(out)
    return out


def reshape(p, x):
    """Regroups the dimensions before B and those after it, each group
    keeping its element count (nn(5): a reshape may not move B)."""
    b = batch_axis(x)
    before, after = 1, 1
    for d in x.shape[:b]:
        before *= d
    for d in x.shape[b + 1:]:
        after *= d
    lead = factor(p, before, p.r.randint(1, 2)) if b > 0 and p.r.random() < 0.5 else x.shape[:b]
    shape = lead + ['B'] + factor(p, after, p.r.randint(0 if after == 1 else 1, 3))
    if len(shape) > 5 or shape == x.shape:
        return None
    text = [str(d) for d in shape]
    free = [i for i, d in enumerate(shape) if d != 'B']
    if free and p.r.random() < 0.4:
        text[p.r.choice(free)] = '-1'
    return p.emit('reshape(%s, [%s])' % (x.name, ', '.join(text)), shape, x, x.dep,
                  'reshape_before_b' if lead != x.shape[:b] else 'reshape')


def slice_(p, x):
    b = batch_axis(x)
    axes = [a for a in other_axes(x) if x.shape[a] >= 2]
    if not axes:
        return None
    a = p.r.choice(axes)
    n = x.shape[a]
    start = p.r.randrange(n)
    end = p.r.randint(start + 1, n)
    shape = list(x.shape)
    shape[a] = end - start
    ax = axis_text(p, a, len(x.shape))
    neg = p.r.random() < 0.3
    st = str(start - n) if neg else str(start)
    if end == start + 1 and p.r.random() < 0.5:
        expr = 'slice(%s, %s, %s)' % (x.name, ax, st)
    else:
        expr = 'slice(%s, %s, %s, %s)' % (x.name, ax, st, str(end - n) if end < n and p.r.random() < 0.3 else end)
    return p.emit(expr, shape, x, x.dep, 'slice_before_b' if a < b else 'slice')


def concat(p, x):
    b = batch_axis(x)
    axes = other_axes(x)
    if not axes:
        return None
    a = p.r.choice(axes)
    parts, total, dep = [x.name], x.shape[a], x.dep
    for _ in range(p.r.randint(1, 2)):
        y = p.same_shape(x) if p.r.random() < 0.4 else None
        if y:
            parts.append(y.name)
            dep = dep or y.dep
        else:
            parts.append(p.r.choice(['tanh(%s)', 'sin(%s)', '%s * 0.5'])% x.name)
        total += x.shape[a]
    shape = list(x.shape)
    shape[a] = total
    if not p.fits(shape):
        return None
    p.r.shuffle(parts)
    ax = '' if a == len(x.shape) - 1 and p.r.random() < 0.4 else ', axis: %s' % axis_text(p, a, len(x.shape))
    tag = 'concat_before_b' if a < b else 'concat'
    return p.emit('concat([%s]%s)' % (', '.join(parts), ax), shape, x, dep, tag)


def matmul(p, x):
    if len(x.shape) != 2:
        return None
    k = p.r.randint(1, 6)
    if x.shape[0] == 'B':
        w = p.param([x.shape[1], k])
        return p.emit('tanh(%s @ %s)' % (x.name, w.name), ['B', k], x, True, 'matmul')
    w = p.param([k, x.shape[0]])
    return p.emit('tanh(%s @ %s)' % (w.name, x.name), [k, 'B'], x, True, 'matmul_b_last')


from gen_vision import VISION_OPS    # noqa: E402  (they use the helpers above)

OPS = [
    ('unary', 6, unary), ('binary', 6, binary), ('where', 1.5, where), ('clip', 1.5, clip),
    ('stop_gradient', 0.5, stop_gradient), ('reduce', 2.5, reduce), ('softmax', 1.5, softmax),
    ('transpose', 3.5, transpose), ('reshape', 2.5, reshape), ('slice', 2, slice_),
    ('concat', 2, concat), ('matmul', 2, matmul),
] + VISION_OPS
