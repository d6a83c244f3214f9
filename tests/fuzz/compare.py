#!/usr/bin/python3
"""compare.py -- the numeric comparisons of tests/fuzz/programs.sh.

  compare.py text A B RTOL      two outputs of predict, eval or interp_eval:
                                the same lines and words; numbers agree to
                                |a - b| <= RTOL * max(1, |a|, |b|), other
                                words exactly
  compare.py ckpt A B RTOL      two safetensors checkpoints: the same tensor
                                names, dtypes and shapes, values as above
                                (the metadata is not compared)
  compare.py inputs COLS ROWS SEED   ROWS lines of COLS normal values, the
                                CSV that predict and interp_eval read

Exit 0 when they agree, 1 with one line saying where they first differ,
2 for usage or an unreadable file."""
import json
import math
import random
import struct
import sys


def close(a, b, rtol):
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return abs(a - b) <= rtol * max(1.0, abs(a), abs(b))


def number(w):
    try:
        return float(w)
    except ValueError:
        return None


def text(a, b, rtol):
    la, lb = open(a).read().splitlines(), open(b).read().splitlines()
    if len(la) != len(lb):
        return 'line counts differ: %d vs %d' % (len(la), len(lb))
    for i, (x, y) in enumerate(zip(la, lb)):
        wx, wy = x.split(), y.split()
        if len(wx) != len(wy):
            return 'line %d: %d vs %d words' % (i + 1, len(wx), len(wy))
        for j, (u, v) in enumerate(zip(wx, wy)):
            nu, nv = number(u), number(v)
            if (nu is None or nv is None) and u != v:
                return 'line %d word %d: %s vs %s' % (i + 1, j + 1, u, v)
            if nu is not None and nv is not None and not close(nu, nv, rtol):
                return 'line %d value %d: %s vs %s' % (i + 1, j + 1, u, v)
    return None


def tensors(path):
    raw = open(path, 'rb').read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    header.pop('__metadata__', None)
    out = {}
    for name, e in header.items():
        fmt = {'F64': 'd', 'F32': 'f', 'I32': 'i'}[e['dtype']]
        lo, hi = e['data_offsets']
        data = raw[8 + n + lo:8 + n + hi]
        out[name] = (e['dtype'], e['shape'], struct.unpack('<%d%s' % (len(data) // struct.calcsize(fmt), fmt), data))
    return out


def ckpt(a, b, rtol):
    ta, tb = tensors(a), tensors(b)
    if sorted(ta) != sorted(tb):
        return 'tensor names differ: %s vs %s' % (sorted(ta), sorted(tb))
    for name in sorted(ta):
        (da, sa, va), (db, sb, vb) = ta[name], tb[name]
        if (da, sa) != (db, sb):
            return '%s: %s%s vs %s%s' % (name, da, sa, db, sb)
        for i, (x, y) in enumerate(zip(va, vb)):
            if not close(x, y, rtol):
                return '%s[%d]: %.17g vs %.17g' % (name, i, x, y)
    return None


def inputs(cols, rows, seed):
    r = random.Random(seed)
    for _ in range(rows):
        print(','.join('%.17g' % r.gauss(0, 1) for _ in range(cols)))


def main(argv):
    try:
        if len(argv) == 5 and argv[1] == 'inputs':
            inputs(int(argv[2]), int(argv[3]), int(argv[4]))
            return 0
        if len(argv) == 5 and argv[1] in ('text', 'ckpt'):
            why = (text if argv[1] == 'text' else ckpt)(argv[2], argv[3], float(argv[4]))
            if why:
                print(why)
                return 1
            return 0
    except (OSError, ValueError, KeyError, struct.error) as e:
        print('compare.py: %s' % e)
        return 2
    sys.stderr.write(__doc__)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv))
