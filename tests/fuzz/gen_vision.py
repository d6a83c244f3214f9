"""gen_vision.py -- the image ops (NHWC, B first), the layers of
stdlib/layers.nn, batch_norm, dropout and user functions, for gen_ops.py."""

from gen_ops import Val, dims, image


def out_size(n, k, s, pad, d):
    return (n + 2 * pad - d * (k - 1) - 1) // s + 1


def pair(p, a, b):
    """One integer for both axes when they agree, else [rows, columns]."""
    if a == b and p.r.random() < 0.7:
        return str(a)
    return '[%d, %d]' % (a, b)


def to_image(p, x):
    """[B, n] to [B, H, W, C] when n factors so."""
    if len(x.shape) != 2 or x.shape[0] != 'B':
        return None
    n = x.shape[1]
    shapes = [(h, w, n // (h * w)) for h in range(2, 7) for w in range(2, 7) if n % (h * w) == 0 and n // (h * w) <= 4]
    if not shapes:
        return None
    h, w, c = p.r.choice(shapes)
    return p.emit('reshape(%s, [B, %d, %d, %d])' % (x.name, h, w, c), ['B', h, w, c], x, x.dep, 'reshape')


def conv2d(p, x):
    if not image(x):
        return None
    r = p.r
    _, H, W, C = x.shape
    for _ in range(10):
        kh, kw = r.randint(1, 3), r.randint(1, 3)
        sh, sw = r.choice([1, 1, 2]), r.choice([1, 1, 2])
        ph, pw = r.randint(0, 1), r.randint(0, 1)
        dh, dw = r.choice([1, 1, 2]), r.choice([1, 1, 2])
        groups = r.choice([g for g in (1, 2, 3) if C % g == 0])
        o = groups * r.randint(1, 3)
        oh, ow = out_size(H, kh, sh, ph, dh), out_size(W, kw, sw, pw, dw)
        if oh >= 1 and ow >= 1 and p.fits(['B', oh, ow, o]):
            break
    else:
        return None
    w = p.param([kh, kw, C // groups, o])
    args = [x.name, w.name]
    for name, a, b, default in (('stride', sh, sw, 1), ('padding', ph, pw, 0), ('dilation', dh, dw, 1)):
        if (a, b) != (default, default) or r.random() < 0.2:
            args.append('%s: %s' % (name, pair(p, a, b)))
    if groups > 1 or r.random() < 0.1:
        args.append('groups: %d' % groups)
    return p.emit('tanh(conv2d(%s))' % ', '.join(args), ['B', oh, ow, o], x, True, 'conv2d')


def pool(p, x):
    if not image(x):
        return None
    r = p.r
    _, H, W, C = x.shape
    fn = r.choice(['max_pool2d', 'avg_pool2d', 'global_avg_pool', 'local_response_norm', 'flatten'])
    if fn == 'global_avg_pool':
        return p.emit('global_avg_pool(%s)' % x.name, ['B', C], x, x.dep, fn)
    if fn == 'flatten':
        return p.emit('flatten(%s)' % x.name, ['B', H * W * C], x, x.dep, fn)
    if fn == 'local_response_norm':
        size = r.choice([1, 3, 5])
        return p.emit('local_response_norm(%s, size: %d, alpha: %.2g, beta: 0.75, k: 2)' % (x.name, size, r.uniform(0, 0.5)),
                      x.shape, x, x.dep, fn)
    kh, kw = r.randint(1, min(3, H)), r.randint(1, min(3, W))
    sh, sw = r.randint(1, kh), r.randint(1, kw)
    ph, pw = r.randint(0, kh // 2), r.randint(0, kw // 2)
    oh, ow = out_size(H, kh, sh, ph, 1), out_size(W, kw, sw, pw, 1)
    if oh < 1 or ow < 1:
        return None
    args = [x.name, pair(p, kh, kw)]
    if (sh, sw) != (kh, kw) or r.random() < 0.2:
        args.append('stride: %s' % pair(p, sh, sw))
    if (ph, pw) != (0, 0):
        args.append('padding: %s' % pair(p, ph, pw))
    return p.emit('%s(%s)' % (fn, ', '.join(args)), ['B', oh, ow, C], x, x.dep, fn)


def layer(p, x):
    """A function of stdlib/layers.nn that fits x."""
    r = p.r
    p.use_layers()
    if len(x.shape) == 2 and x.shape[0] == 'B':
        k = r.randint(1, 6)
        fn = r.choice(['dense', 'linear', 'mlp_block', 'layer_norm', 'batch_norm1d', 'prelu'])
        if fn == 'layer_norm' and x.shape[1] == 1:
            return None         # the mean of one value is itself: shift alone, a constant
        if fn in ('dense', 'linear'):
            init = r.choice(['', ', init: he_normal', ', init: normal(std: 0.4)'])
            return p.emit('tanh(%s(%s, %d%s))' % (fn, x.name, k, init), ['B', k], x, True, fn)
        if fn == 'mlp_block':
            return p.emit('mlp_block(%s, %d)' % (x.name, k), ['B', k], x, True, fn)
        if fn == 'batch_norm1d':
            return p.emit('batch_norm1d(%s, momentum: %.2g)' % (x.name, r.uniform(0.05, 0.9)), x.shape, x, True, fn)
        return p.emit('%s(%s)' % (fn, x.name), x.shape, x, True, fn)
    if image(x):
        _, H, W, C = x.shape
        fn = r.choice(['conv', 'conv_relu', 'conv_bn_relu', 'residual_block', 'residual_block_proj', 'batch_norm2d'])
        if fn == 'residual_block':
            return p.emit('residual_block(%s)' % x.name, x.shape, x, True, fn)
        if fn == 'batch_norm2d':
            return p.emit('batch_norm2d(%s)' % x.name, x.shape, x, True, fn)
        o = r.randint(1, 4)
        if fn == 'residual_block_proj':
            s = r.randint(1, 2)
            shape = ['B', out_size(H, 3, s, 1, 1), out_size(W, 3, s, 1, 1), o]
            if not p.fits(shape):
                return None
            return p.emit('residual_block_proj(%s, %d, stride: %d)' % (x.name, o, s), shape, x, True, fn)
        size = r.randint(1, min(3, H, W))
        pad = r.randint(0, size // 2)
        shape = ['B', out_size(H, size, 1, pad, 1), out_size(W, size, 1, pad, 1), o]
        if not p.fits(shape):
            return None
        expr = '%s(%s, %d, %d, padding: %d)' % (fn, x.name, o, size, pad)
        return p.emit('tanh(%s)' % expr if fn == 'conv' else expr, shape, x, True, fn)
    return None


def batch_norm(p, x):
    if x.shape[0] != 'B' or len(x.shape) < 2:
        return None
    args = x.name
    if p.r.random() < 0.5:
        args += ', momentum: %.2g' % p.r.uniform(0.05, 1)
    if p.r.random() < 0.3:
        args += ', eps: %.2g' % p.r.uniform(1e-5, 0.1)
    return p.emit('batch_norm(%s)' % args, x.shape, x, x.dep, 'batch_norm')


def dropout(p, x):
    r = p.r
    args = x.name if r.random() < 0.2 else '%s, %s' % (x.name, r.choice(['0', '0.1', '0.3', 'p: 0.5']))
    return p.emit('dropout(%s)' % args, x.shape, x, x.dep, 'dropout')


def user_fn(p, x):
    """A function of this file called once or twice: each call owns its
    parameters (m.blkK_1.s, m.blkK_2.s)."""
    r = p.r
    names = ['B' if d == 'B' else 'D%d' % i for i, d in enumerate(x.shape)]
    typed = r.random() < 0.6
    sig = 'x: float[%s]' % ', '.join(names) if typed else 'x'
    # typed, the parameter takes the last dimension's name (B may sit anywhere)
    pshape = names[-1] if typed and names[-1] != 'B' else ''
    p.new_fn('fn FN(%s, k: float = %.2g) {\n    param s: float[%s] = normal(std: 0.5)\n'
             '    return tanh(x * s + k) + x * 0.5\n}' % (sig, r.uniform(-1, 1), pshape))
    name = 'blk%d' % p.nfn
    expr = '%s(%s)' % (name, x.name)
    if r.random() < 0.5:
        expr = '%s(%s, k: %.2g)' % (name, expr, r.uniform(-1, 1))
    return p.emit(expr, x.shape, x, True, 'fn')


VISION_OPS = [
    ('to_image', 1.5, to_image), ('conv2d', 3, conv2d), ('pool', 4, pool), ('layer', 2.5, layer),
    ('batch_norm', 1, batch_norm), ('dropout', 1, dropout), ('user_fn', 1, user_fn),
]

__all__ = ['VISION_OPS', 'Val', 'dims']
