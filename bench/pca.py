#!/usr/bin/python3
"""PCA reconstruction error on Fashion-MNIST: the baseline of the deep
autoencoder (examples/autoencoder.nn, docs/autoencoder.md).

    pca.py [--data DIR] [--components K ...]

Fits the principal components on the training images (scaled to [0, 1],
centred on the training mean), projects the test images on the first K
and back, and prints the test reconstruction error in the units the
trainer reports for `mse(ae(x), x)`: the squared error per pixel, and per
image (x 784).  Uses NumPy from Debian's python3-numpy."""
import argparse, os, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import idxfile

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--components", type=int, nargs="+", default=[30, 2])
    a = ap.parse_args()
    import numpy as np
    load = lambda name: idxfile.array(os.path.join(a.data, name)).reshape(-1, 784) / 255.0
    train, test = load("train-images-idx3-ubyte.gz"), load("t10k-images-idx3-ubyte.gz")
    mean = train.mean(axis=0)
    # The right singular vectors of the centred data are the components,
    # ordered by the variance they explain.
    _, _, vt = np.linalg.svd(train - mean, full_matrices=False)
    print(f"PCA on {len(train)} training images, test error on {len(test)}")
    print("components  mse_per_pixel  error_per_image")
    for k in a.components:
        if not 1 <= k <= 784:
            sys.exit(f"pca.py: --components {k}: between 1 and 784")
        v = vt[:k].T
        rec = (test - mean) @ v @ v.T + mean
        err = ((rec - test) ** 2).mean()
        print(f"{k:10d}  {err:13.6f}  {err * 784:15.3f}")

if __name__ == "__main__":
    main()
