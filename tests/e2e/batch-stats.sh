#!/bin/sh
# batch-stats.sh — batch norm over one value per channel ([B, N] inputs)
# has no statistics on one sample (the unbiased variance is 0/0, which
# wrote NaN into the running variance and exited 0): training drops a
# last batch of one sample from each epoch, and refuses --batch 1 or a
# one-sample data set, for train and gradcheck alike.  Batch norm over
# images ([B, H, W, C]) has H*W values per channel even in one sample and
# keeps both.  --check-numerics covers the running statistics: one that
# turns non-finite while loss and gradients stay finite stops training.
. "$(dirname "$0")/lib.sh"

awk 'BEGIN { for (i = 0; i < 33; i++) printf "%d,%d,%d,%.2f\n", i % 5, i % 7, i % 3, (i % 5) * 0.1 + (i % 3) * 0.2 }' >"$work/d.csv"
head -1 "$work/d.csv" >"$work/one.csv"
cat >"$work/bn1d.nn" <<'NN'
import layers
model m(x: f32[B, 3]) -> f32[B, 1] {
    return dense(batch_norm1d(dense(x, 4)), 1)
}
train m {
    data train = csv("d.csv", label: -1)
    loss = mse(m(train.x), train.y)
    optimizer = sgd(lr: 0.05)
    batch 8
    epochs 3
    seed 1
}
NN
compile bn1d "$work/bn1d.nn"
sed -e 's/csv("d.csv"/csv("one.csv"/' "$work/bn1d.nn" >"$work/bn1d-one.nn"
compile bn1d_one "$work/bn1d-one.nn"
B=$work/bn1d

# 33 samples at batch 8: four batches of 8 and a last of 1, left out
$B train --data-dir "$work" --save "$work/bn.st" >"$work/out" 2>"$work/err" || { cat "$work/err"; die "training failed"; }
grep -q "^trained 96 samples" "$work/out" || { cat "$work/out"; die "3 epochs of 33 samples at batch 8 should train 3 x 32 samples"; }
$B predict --data-dir "$work" --load "$work/bn.st" >"$work/pred" 2>"$work/err" || { cat "$work/err"; die "predict failed"; }
[ "$(wc -l <"$work/pred")" -eq 33 ] || die "predict printed $(wc -l <"$work/pred") rows, want 33"
grep -qiv '^-*[0-9]' "$work/pred" && { head -3 "$work/pred"; die "predict printed a non-finite output (the running statistics?)"; }
echo "ok: a last batch of one sample is left out of each epoch; the running statistics stay finite"
$B train --data-dir "$work" --batch 11 -q --save "$work/b11.st" --log "$work/b11.csv" || die "batch 11 failed"
grep -q "^3,9," "$work/b11.csv" || { cat "$work/b11.csv"; die "33 samples at batch 11: 3 steps an epoch, all kept"; }
echo "ok: with no batch of one, every sample trains"

why="the batch norm or nt_xent at $work/bn1d.nn:3 reads the batch as a whole (each channel's statistics, or every sample against the others), which needs 2 samples"
one_line 2 "train --batch 1" "--batch 1: $why; use --batch 2 or more" $B train --data-dir "$work" --batch 1
one_line 2 "gradcheck --batch 1" "--batch 1: $why" $B gradcheck --data-dir "$work" --batch 1
one_line 3 "a one-sample data set" "data source 'train' has 1 sample, but the batch norm or nt_xent at $work/bn1d-one.nn:3" \
	"$work/bn1d_one" train --data-dir "$work"
$B eval --data-dir "$work" --load "$work/bn.st" --batch 1 >/dev/null || die "eval at batch 1 (running statistics) failed"
echo "ok: eval at --batch 1 uses the running statistics and runs"

# images: 2x2 values per channel in each sample, so one sample is enough
cat >"$work/bn2d.nn" <<'NN'
import layers
model m(x: f32[B, 4]) -> f32[B, 2] {
    h = batch_norm2d(reshape(x, [B, 2, 2, 1]))
    return dense(reshape(h, [B, 4]), 2)
}
train m {
    data train = random(count: 9, classes: 2)
    loss = cross_entropy(m(train.x), train.y)
    batch 4
    epochs 2
    seed 1
}
NN
compile bn2d "$work/bn2d.nn"
"$work/bn2d" train >"$work/out" 2>&1 || { cat "$work/out"; die "batch_norm2d with a last batch of one failed"; }
grep -q "^trained 18 samples" "$work/out" || { cat "$work/out"; die "batch_norm2d: the last batch of one should train"; }
"$work/bn2d" train -q --batch 1 || die "batch_norm2d at --batch 1 failed"
echo "ok: batch norm over images keeps a last batch of one and trains at --batch 1"

# a running variance that overflows (inputs near 1e20: their squares pass
# f32's range) while the loss and the gradients stay finite
awk 'BEGIN { for (i = 0; i < 16; i++) printf "%s,%d\n", (i % 2 ? "1e20" : "-1e20"), i % 2 }' >"$work/big.csv"
cat >"$work/big.nn" <<'NN'
model m(x: f32[B, 1]) -> f32[B, 1] {
    param s: f32[1] = ones
    return batch_norm(x) * s
}
train m {
    data train = csv("big.csv", label: -1)
    loss = mse(m(train.x), train.y)
    batch 8
    seed 1
}
NN
compile big "$work/big.nn"
one_line 5 "a running variance past f32" "non-finite running statistic at step 1 (epoch 1): m.batch_norm_1.running_var\[0\] = inf, the running statistic of the batch norm at $work/big.nn:3; the loss [0-9.e+-]* and the gradients were finite; no update has been made yet in this run, so no learning rate is the cause: .* (values in \[-1e+20, 1e+20\])" \
	"$work/big" train --data-dir "$work"
"$work/big" train -q --data-dir "$work" --no-check-numerics || die "--no-check-numerics should train on"
