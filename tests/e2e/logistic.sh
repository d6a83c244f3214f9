#!/bin/sh
# examples/logistic.nn: multinomial logistic regression on Fashion-MNIST.
. "$(dirname "$0")/lib.sh"
[ -r /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || { echo "SKIP: dataset-fashion-mnist is not installed"; exit 77; }
compile logistic "$SRCDIR/examples/logistic.nn"
"$work/logistic" train --epochs 2 >"$work/train.out" 2>&1 || { cat "$work/train.out"; die "training failed"; }
cat "$work/train.out"
at_least "$(metric "$work/train.out" 'test.accuracy')" 0.80 "logistic regression test accuracy after 2 epochs"
