#!/bin/sh
# gradcheck-scale.sh — gradcheck's absolute floor scales with the loss:
# the rounding of a loss L puts an error of about u |L| / eps into every
# finite difference, so a constant added to a correct loss (+ 1e5 failed
# f64 gradcheck at 1e-6 with errors near 1e-3) or a factor on it must not
# fail it, scaling must leave the errors as they were, and a gradient
# that is wrong (a term hidden by stop_gradient) must still fail under
# the same offset.
. "$(dirname "$0")/lib.sh"

# model LOSS-SUFFIX EXTRA-TERM: an f64 program whose loss is mse + suffix
model() {
	cat <<NN
model m(x: f64[B, 4]) -> f64[B, 3] {
    param W: f64[4, 8] = normal(std: 0.5)
    param V: f64[8, 3] = normal(std: 0.5)
    param U: f64[8, 3] = normal(std: 0.5)
    return tanh(x @ W) @ V$2
}
train m {
    data train = random(count: 16)
    loss = mse(m(train.x), train.y)$1
    batch 16
    seed 5
}
NN
}
# worst NAME: gradcheck's worst error of the trainer NAME, which must pass
worst() {
	"$work/$1" gradcheck --all >"$work/$1.out" 2>&1 || { cat "$work/$1.out"; die "$1: a correct gradient fails"; }
	sed -n 's/^worst \([0-9.e+-]*\) .*/\1/p' "$work/$1.out"
}
model "" " + tanh(x @ W) @ U" >"$work/plain.nn"
model " * 10000" " + tanh(x @ W) @ U" >"$work/scaled.nn"
model " + 100000" " + tanh(x @ W) @ U" >"$work/offset.nn"
model " + 100000" " + stop_gradient(x @ W) @ U" >"$work/wrong.nn"
model "" " + stop_gradient(x @ W) @ U" >"$work/wrong0.nn"
for k in plain scaled offset wrong wrong0; do compile $k "$work/$k.nn"; done
plain=$(worst plain) scaled=$(worst scaled) offset=$(worst offset)
at_most "$offset" 1e-6 "worst error with 100000 added to the loss"
at_most "$scaled" "$(awk -v p="$plain" 'BEGIN { print 10 * p }')" "worst error of the loss times 10000 (plain: $plain)"
at_least "$scaled" "$(awk -v p="$plain" 'BEGIN { print p / 10 }')" "worst error of the loss times 10000 (plain: $plain)"
for k in wrong wrong0; do
	"$work/$k" gradcheck --all >"$work/$k.out" 2>&1; rc=$?
	[ $rc -eq 1 ] || { cat "$work/$k.out"; die "$k: a gradient missing a term passed (exit $rc)"; }
	at_least "$(sed -n 's/^m.W .*max_rel_err \([0-9.e+-]*\) .*/\1/p' "$work/$k.out")" 1e-3 "$k: m.W's error, missing a term"
done
