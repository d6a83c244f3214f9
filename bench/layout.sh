#!/bin/sh
# bench/layout.sh — NHWC against NCHW for the convolution layers of the
# examples (bench/layout.c), one thread, on the OpenBLAS kernel nnc's
# trainers run.  The measurement behind docs/cnn.md's choice of NHWC.
#
#   bench/layout.sh [REPS]      (median of REPS, default 9)
# Run from a built tree (./quickstart --build-only).
set -eu
cd "$(dirname "$0")/.."
no_torch=1
. bench/lib.sh
cc -O2 -Iruntime $(pkg-config --cflags openblas) bench/layout.c libnnrt.a $(pkg-config --libs openblas) -lm \
	-o "$work/layout"
same_kernel
print_machine
OPENBLAS_NUM_THREADS=1 "$work/layout" "${1:-9}"
