#!/usr/bin/python3
"""IDX files (the MNIST format), gzipped or not, for the benchmarks.

    idxfile.py head N DIR FILE...

writes DIR/FILE, gzipped, for each FILE with its first dimension (the
samples) cut to N: a subset that nnc's trainers (--data-dir) and the
PyTorch references (--data) both read, so an epoch is short and the same."""
import gzip, os, struct, sys

def read(path):
    """(the uncompressed bytes, the dimensions, where the values start)"""
    with open(path, "rb") as f:
        raw = f.read()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    ndim = raw[3]
    if raw[:3] != b"\0\0\x08" or ndim == 0:
        sys.exit(f"{path}: not an IDX file of unsigned bytes")
    return raw, struct.unpack(">" + "I" * ndim, raw[4:4 + 4 * ndim]), 4 + 4 * ndim

def array(path):
    """the values as a numpy uint8 array shaped by the header"""
    import numpy as np
    raw, dims, start = read(path)
    return np.frombuffer(raw, np.uint8, offset=start).reshape(dims)

def head(path, n, out):
    raw, dims, start = read(path)
    if n > dims[0]:
        sys.exit(f"{path}: has {dims[0]} samples, not {n}")
    per_sample = (len(raw) - start) // dims[0]
    name = os.path.join(out, os.path.basename(path).removesuffix(".gz") + ".gz")
    with gzip.open(name, "wb", compresslevel=1) as f:
        f.write(raw[:4] + struct.pack(">" + "I" * len(dims), n, *dims[1:]))
        f.write(raw[start:start + n * per_sample])

if __name__ == "__main__":
    if len(sys.argv) < 5 or sys.argv[1] != "head":
        sys.exit("usage: idxfile.py head N DIR FILE...")
    os.makedirs(sys.argv[3], exist_ok=True)
    for path in sys.argv[4:]:
        head(path, int(sys.argv[2]), sys.argv[3])
