#!/bin/sh
# trainer-limits.sh — corners of the trainer: accuracy with a single
# output (argmax is class 0, the only label; it compared the output with
# 0.5).
. "$(dirname "$0")/lib.sh"

# one class: labels are all 0, the argmax of one output is 0: accuracy 1
awk 'BEGIN { for (i = 0; i < 24; i++) printf "%.3f,%.3f,0\n", (i % 7) - 3, (i % 5) * 0.7 - 1.4 }' >"$work/one.csv"
cat >"$work/one.nn" <<'NN'
model m(x: f32[B, 2]) -> f32[B, 1] {
    param W: f32[2, 1] = normal(std: 3)
    return x @ W
}
train m {
    data train = csv("one.csv", label: -1)
    loss = cross_entropy(m(train.x), train.y)
    batch 8
    seed 2
    report accuracy on train
}
NN
compile one "$work/one.nn"
"$work/one" predict --data-dir "$work" --output logits 2>/dev/null | awk '$1 > 0.5 { n++ } END { exit !(n > 0) }' \
	|| die "the one-class test needs outputs above 0.5 to mean anything"
"$work/one" eval --data-dir "$work" >"$work/out" 2>/dev/null || die "eval of the one-class model failed"
grep -qx "train.accuracy 1" "$work/out" || { cat "$work/out"; die "one class: accuracy is not 1"; }
echo "ok: one output, one class: accuracy 1 (outputs above 0.5 included)"
