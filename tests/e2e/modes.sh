#!/bin/sh
# Training and evaluation modes: eval and predict use batch norm's running
# statistics, which training moved towards the data's (mean 5, 6, 7 and
# standard deviation 2 per column), and dropout is the identity there.
. "$(dirname "$0")/lib.sh"
awk 'BEGIN { srand(3); for (i = 0; i < 256; i++) {
	for (k = 0; k < 3; k++) { u = rand(); v = rand(); x[k] = 5 + k + 2 * sqrt(-2 * log(u + 1e-12)) * cos(6.2831853 * v) }
	printf "%.5f,%.5f,%.5f,%.5f\n", x[0], x[1], x[2], x[0] - x[1] } }' >"$work/shifted.csv"
cut -d, -f1-3 "$work/shifted.csv" >"$work/inputs.csv"

# batch norm, then a weight trained with a tiny rate: the output is the
# normalized input, whatever the statistics used
cat >"$work/bn.nn" <<'NN'
model m(x: f32[B, 3]) -> f32[B, 3] {
    param s: f32[3] = ones
    return batch_norm(x) * s
}
train m {
    data train = csv("shifted.csv", label: -1)
    loss = mean(m(train.x)) * 0.000001
    optimizer = sgd(lr: 0.000001)
    batch 32
    epochs 4
    seed 1
}
NN
compile bn "$work/bn.nn"
"$work/bn" predict --data-dir "$work" --input "$work/inputs.csv" >"$work/before" 2>"$work/err" || { cat "$work/err"; die "predict failed"; }
"$work/bn" train --data-dir "$work" --save "$work/bn.st" >"$work/out" 2>&1 || { cat "$work/out"; die "training failed"; }
"$work/bn" predict --data-dir "$work" --load "$work/bn.st" --input "$work/inputs.csv" >"$work/after" 2>"$work/err" || { cat "$work/err"; die "predict failed"; }
# column means and standard deviations of predict's rows
stats() { awk '{ for (k = 1; k <= 3; k++) { s[k] += $k; q[k] += $k * $k } } END {
	for (k = 1; k <= 3; k++) { m = s[k] / NR; printf "%.3f %.3f ", m, sqrt(q[k] / NR - m * m) } print "" }' "$1"; }
echo "before training (running mean 0, variance 1): $(stats "$work/before")"
echo "after 32 steps (momentum 0.1):                $(stats "$work/after")"
# untrained, eval is x itself: means 5, 6, 7
stats "$work/before" | awk '{ exit !($1 > 4 && $3 > 5 && $5 > 6) }' || die "before training, eval did not use the initial running statistics"
# trained, eval normalizes: means near 0 and deviations near 1 (the
# running statistics are within 1 - 0.9^32 = 97% of the data's)
stats "$work/after" | awk '{ for (k = 1; k <= 5; k += 2) if ($k > 0.3 || $k < -0.3 || $(k + 1) < 0.8 || $(k + 1) > 1.25) exit 1 }' ||
	die "after training, eval did not normalize with the running statistics"
echo "ok: eval uses the running statistics that training moved"

cat >"$work/drop.nn" <<'NN'
model m(x: f32[B, 3]) -> f32[B, 3] {
    param s: f32[3] = ones
    return dropout(x * s, 0.5)
}
train m {
    data train = csv("shifted.csv", label: -1)
    loss = mean(m(train.x)) * 0.000001
    optimizer = sgd(lr: 0.000001)
    batch 32
    epochs 1
}
NN
compile drop "$work/drop.nn"
"$work/drop" predict --data-dir "$work" --input "$work/inputs.csv" >"$work/pred" 2>"$work/err" || { cat "$work/err"; die "predict failed"; }
tr ',' ' ' <"$work/inputs.csv" | paste -d' ' - "$work/pred" |
	awk '{ for (k = 1; k <= 3; k++) if ($k - $(k + 3) > 1e-4 || $(k + 3) - $k > 1e-4) exit 1 }' ||
	die "dropout in predict is not the identity"
echo "ok: dropout is the identity in predict"
"$work/drop" gradcheck --data-dir "$work" >"$work/gc" 2>&1 || { cat "$work/gc"; die "gradcheck through dropout failed"; }
echo "ok: $(tail -1 "$work/gc")"

# Dropout's masks and batch norm's running statistics resume exactly: 2
# epochs, save, resume to 4 equals 4 straight, byte for byte (the masks are
# a function of the step, the statistics are in the checkpoint).
cat >"$work/both.nn" <<'NN'
model m(x: f32[B, 3]) -> f32[B, 1] {
    param W: f32[3, 8] = he
    param V: f32[8, 1] = xavier
    return dropout(relu(batch_norm(x) @ W), 0.3) @ V
}
train m {
    data train = csv("shifted.csv", label: -1)
    loss = mse(m(train.x), train.y)
    optimizer = adam(lr: 0.01)
    batch 32
    epochs 4
    seed 5
}
NN
compile both "$work/both.nn"
"$work/both" train --data-dir "$work" --save "$work/straight.st" >/dev/null 2>&1 || die "4 epochs failed"
"$work/both" train --data-dir "$work" --epochs 2 --save "$work/half.st" >/dev/null 2>&1 || die "2 epochs failed"
"$work/both" train --data-dir "$work" --load "$work/half.st" --save "$work/resumed.st" >/dev/null 2>&1 || die "resume failed"
cmp "$work/straight.st" "$work/resumed.st" || die "dropout + batch norm: 2 epochs + resume to 4 differs from 4 straight"
"$work/both" train --data-dir "$work" --seed 6 --save "$work/other.st" >/dev/null 2>&1 || die "seed 6 failed"
cmp -s "$work/straight.st" "$work/other.st" && die "seeds 5 and 6 gave the same checkpoint"
echo "ok: dropout + batch norm: resume to 4 epochs == 4 straight, byte for byte; another seed differs"
