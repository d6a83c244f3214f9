#!/bin/sh
# The same seed gives byte-identical checkpoints, and 2 epochs + save +
# resume for 2 more equals 4 epochs straight, byte for byte.
. "$(dirname "$0")/lib.sh"
[ -r /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || { echo "SKIP: dataset-fashion-mnist is not installed"; exit 77; }
compile logistic "$SRCDIR/examples/logistic.nn"
t="$work/logistic"
$t train --epochs 4 --seed 7 --save "$work/a.safetensors" >/dev/null 2>&1 || die "run a failed"
$t train --epochs 4 --seed 7 --save "$work/b.safetensors" >/dev/null 2>&1 || die "run b failed"
cmp "$work/a.safetensors" "$work/b.safetensors" || die "two runs with seed 7 differ"
echo "ok: same seed, byte-identical checkpoints"
$t train --epochs 4 --seed 8 --save "$work/c.safetensors" >/dev/null 2>&1 || die "run c failed"
cmp -s "$work/a.safetensors" "$work/c.safetensors" && die "seeds 7 and 8 gave the same checkpoint"
echo "ok: another seed, another checkpoint"
$t train --epochs 2 --seed 7 --save "$work/half.safetensors" >/dev/null 2>&1 || die "run half failed"
$t train --epochs 4 --load "$work/half.safetensors" --save "$work/resumed.safetensors" >"$work/resume.out" 2>&1 || { cat "$work/resume.out"; die "resume failed"; }
cmp "$work/a.safetensors" "$work/resumed.safetensors" || die "2 epochs + resume to 4 differs from 4 straight"
echo "ok: 2 epochs, save, resume to 4 == 4 straight, byte for byte"
