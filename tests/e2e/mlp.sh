#!/bin/sh
# examples/mlp.nn for its full 10 epochs on Fashion-MNIST: >= 88% test accuracy.
. "$(dirname "$0")/lib.sh"
[ -r /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || { echo "SKIP: dataset-fashion-mnist is not installed"; exit 77; }
compile mlp "$SRCDIR/examples/mlp.nn"
"$work/mlp" train --threads 2 --save "$work/mlp.safetensors" >"$work/train.out" 2>&1 || { cat "$work/train.out"; die "training failed"; }
cat "$work/train.out"
at_least "$(metric "$work/train.out" 'test.accuracy')" 0.88 "mlp test accuracy after 10 epochs"
"$work/mlp" eval --load "$work/mlp.safetensors" >"$work/eval.out" 2>&1 || die "eval failed"
at_least "$(metric "$work/eval.out" 'test.accuracy')" 0.88 "mlp test accuracy from the saved checkpoint"
