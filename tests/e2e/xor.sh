#!/bin/sh
# XOR by plain backprop: the 2-2-1 sigmoid network must fit all four points.
. "$(dirname "$0")/lib.sh"
compile xor "$SRCDIR/examples/xor.nn"
"$work/xor" train --save "$work/xor.safetensors" >"$work/train.out" 2>&1 || { cat "$work/train.out"; die "training failed"; }
cat "$work/train.out" | tail -3
"$work/xor" eval --load "$work/xor.safetensors" >"$work/eval.out" 2>&1 || { cat "$work/eval.out"; die "eval failed"; }
cat "$work/eval.out"
at_most "$(metric "$work/eval.out" 'train.loss')" 0.02 "xor mean squared error"
"$work/xor" predict --load "$work/xor.safetensors" >"$work/pred.out" 2>&1 || die "predict failed"
awk 'NR == 1 && $1 < 0.2 || NR == 2 && $1 > 0.8 || NR == 3 && $1 > 0.8 || NR == 4 && $1 < 0.2 { ok++ } END { exit ok != 4 }' "$work/pred.out" \
	|| { cat "$work/pred.out"; die "xor predictions are not 0 1 1 0"; }
echo "ok: predictions $(tr '\n' ' ' <"$work/pred.out")"
