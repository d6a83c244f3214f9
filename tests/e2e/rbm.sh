#!/bin/sh
# rbm.sh — restricted Boltzmann machines (stdlib/rbm.nn, docs/rbm.md):
# AIS against the exact log partition function of a 64-16 RBM; on 1000
# binarized Fashion-MNIST images, examples/rbm.nn's reconstruction error
# falls epoch over epoch, persistent chains live in the checkpoint (a
# resumed run writes the bytes a straight one does) and must have the
# train block's batch, and the pictures are drawn.
. "$(dirname "$0")/lib.sh"

# abs_diff A B
abs_diff() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; printf "%.6f", d < 0 ? -d : d }'; }
log_z() { sed -n 's/^log_z \([-0-9.]*\).*/\1/p' "$1"; }

# binarize: 1 above the threshold (after scale), else 0
printf '2,6,5,9\n0,10,4,6\n' >"$work/grey.csv"
cat >"$work/grey.nn" <<'NN'
model m(x: f32[B, 4]) -> f32[B, 4] {
    param a: f32[4] = zeros
    return x + a
}
train m {
    data train = csv("grey.csv", scale: 0.1, binarize: 0.5)
    loss = mean(m(train.x) * m(train.x))
}
NN
compile grey "$work/grey.nn"
"$work/grey" predict 2>/dev/null | tr '\n' ' ' >"$work/grey.out"
[ "$(cat "$work/grey.out")" = "0 1 0 1 0 1 0 1 " ] || die "binarize: 0.2 0.6 0.5 0.9 / 0 1 0.4 0.6 gave $(cat "$work/grey.out")"
echo "ok: binarize: 0.5 maps 0.2 0.6 0.5 0.9 / 0 1 0.4 0.6 to 0 1 0 1 / 0 1 0 1"

# The samplers: with W = 0 the chain forgets its start, so after 3 steps a
# binary unit is 1 with probability sigmoid(b) and a Gaussian one is N(b, 1)
# (4000 values each: a standard error of 0.007 and 0.016 on the means).
awk 'BEGIN { for (i = 0; i < 500; i++) print "0,0,0,0,0,0,0,0" }' >"$work/zeros.csv"
for kind in gibbs gaussian_gibbs; do
	cat >"$work/$kind.nn" <<NN
import rbm
model m(x: f32[B, 8]) -> f32[B, 8] {
    param W: f32[8, 4] = zeros
    param b: f32[8] = constant(-1)
    param c: f32[4] = zeros
    return $kind(x, W, b, c, k: 3)
}
train m {
    data train = random(count: 8)
    loss = mse(m(train.x), train.y)
}
NN
	compile "$kind" "$work/$kind.nn"
	"$work/$kind" predict --input "$work/zeros.csv" 2>/dev/null | awk '{ for (i = 1; i <= NF; i++) { s += $i; q += $i * $i; n++ } }
		END { m = s / n; printf "%.4f %.4f\n", m, sqrt(q / n - m * m) }' >"$work/$kind.stats"
done
set -- $(cat "$work/gibbs.stats")
awk -v m="$1" 'BEGIN { exit !(m > 0.24 && m < 0.30) }' || die "gibbs: mean $1, expected sigmoid(-1) = 0.269"
set -- $(cat "$work/gaussian_gibbs.stats")
awk -v m="$1" -v s="$2" 'BEGIN { exit !(m > -1.07 && m < -0.93 && s > 0.95 && s < 1.05) }' ||
	die "gaussian_gibbs: mean $1 deviation $2, expected -1 and 1"
echo "ok: gibbs and gaussian_gibbs draw sigmoid(b) and N(b, 1) when W = 0 ($(cat "$work/gibbs.stats" | cut -d' ' -f1); $(cat "$work/gaussian_gibbs.stats"))"

# 8x8 bars and stripes (MacKay 2003): all rows or all columns copy 8 coin flips
awk 'BEGIN { srand(1); for (n = 0; n < 2000; n++) { o = rand() < 0.5; for (k = 0; k < 8; k++) on[k] = rand() < 0.5
	s = ""; for (r = 0; r < 8; r++) for (c = 0; c < 8; c++) s = s (r + c ? "," : "") on[o ? r : c]; print s } }' >"$work/bas.csv"
cat >"$work/bas.nn" <<'NN'
import rbm
model rbm(v: f64[B, 64]) -> f64[B] {
    param W: f64[64, 16] = normal(0, 0.1)
    param b: f64[64] = zeros
    param c: f64[16] = zeros
    return free_energy(v, W, b, c)
}
train rbm {
    data train = csv("bas.csv")
    loss = mean(rbm(train.x)) - mean(rbm(stop_gradient(gibbs(train.x, rbm.W, rbm.b, rbm.c, k: 1))))
    optimizer = sgd(lr: 0.1, momentum: 0.5)
    batch 20
    epochs 5
}
NN
compile bas "$work/bas.nn"
"$work/bas" train -q --save "$work/bas.st" || die "bars and stripes: training failed"
"$work/bas" partition --load "$work/bas.st" >"$work/exact.out" || die "partition failed"
exact=$(log_z "$work/exact.out")
# the data's average log-likelihood is at most minus its entropy, about -ln 510
at_most "$(metric "$work/exact.out" train.loglik)" -6.2 "bars and stripes: exact log-likelihood per image"
for seed in 1 2 3; do
	"$work/bas" ais --load "$work/bas.st" --chains 100 --betas 3000 --seed "$seed" >"$work/ais.out" || die "ais failed"
	at_most "$(abs_diff "$(log_z "$work/ais.out")" "$exact")" 0.1 "|AIS - exact| of log Z = $exact, seed $seed"
done

[ -r /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || { echo "SKIP: dataset-fashion-mnist is not installed"; exit 0; }
fashion_subset train 1000 "$work/data"
fashion_subset t10k 500 "$work/data"
compile rbm "$SRCDIR/examples/rbm.nn"
"$work/rbm" eval -q --data-dir "$work/data" >"$work/eval0.out" 2>/dev/null || die "eval of the untrained RBM failed"
"$work/rbm" train --epochs 2 --data-dir "$work/data" --save "$work/rbm.st" >"$work/train.out" 2>&1 || { cat "$work/train.out"; die "training failed"; }
cat "$work/train.out"
r0=$(metric "$work/eval0.out" test.reconstruction)
r1=$(sed -n 's/^epoch 1\/2.* test.reconstruction \([0-9.]*\).*/\1/p' "$work/train.out")
r2=$(sed -n 's/^epoch 2\/2.* test.reconstruction \([0-9.]*\).*/\1/p' "$work/train.out")
at_most "$r1" "$r0" "test reconstruction error after epoch 1 (untrained: $r0)"
at_most "$r2" "$(awk -v r="$r1" 'BEGIN { print r - 1 }')" "test reconstruction error after epoch 2 (epoch 1: $r1, less 1)"
if command -v gnuplot >/dev/null; then
	"$work/rbm" filters "$work/filters.png" --load "$work/rbm.st" --data-dir "$work/data" >/dev/null || die "filters failed"
	"$work/rbm" chain "$work/chain.png" --load "$work/rbm.st" --data-dir "$work/data" >/dev/null || die "chain failed"
	for p in filters chain; do
		[ "$(head -c 4 "$work/$p.png" | tail -c 3)" = PNG ] || die "$p.png is not a PNG"
	done
	echo "ok: filters.png and chain.png drawn"
fi
PATH=/nonexistent "$work/rbm" filters "$work/none.png" --load "$work/rbm.st" >/dev/null 2>"$work/err"
rc=$?
[ $rc -eq 3 ] && grep -q "gnuplot failed to draw" "$work/err" && [ ! -e "$work/none.png" ] && [ ! -e "$work/none.png.part" ] ||
	{ cat "$work/err"; die "filters without gnuplot: exit $rc, want 3 and no file"; }
echo "ok: filters without gnuplot -> exit 3, no file"
one_line 2 "partition of 2^500 states" "at most 24 units" "$work/rbm" partition --load "$work/rbm.st" --data-dir "$work/data"
one_line 2 "filters without a file" "filters needs the PNG file" "$work/rbm" filters --load "$work/rbm.st"

# PCD: the chains are the checkpoint's; resuming goes on as a straight run
sed 's/k: 1))))/k: 1, persistent: 1))))/' "$SRCDIR/examples/rbm.nn" >"$work/pcd.nn"
grep -q 'persistent: 1' "$work/pcd.nn" || die "examples/rbm.nn: its gibbs(...) call is no longer where this test looks"
compile pcd "$work/pcd.nn"
"$work/pcd" train -q --epochs 2 --data-dir "$work/data" --save "$work/straight.st" || die "PCD training failed"
"$work/pcd" train -q --epochs 1 --data-dir "$work/data" --save "$work/half.st" || die "PCD epoch 1 failed"
"$work/pcd" train -q --epochs 2 --data-dir "$work/data" --load "$work/half.st" --save "$work/resumed.st" || die "PCD resume failed"
grep -q 'gibbs_1.repeat_1.state' "$work/half.st" || die "the checkpoint holds no chain state"
cmp -s "$work/straight.st" "$work/resumed.st" || die "PCD: a resumed run differs from a straight one"
echo "ok: PCD chains in the checkpoint; resumed = straight"
one_line 2 "PCD with another batch" "persistent chain.*every training batch has its 64 rows" \
	"$work/pcd" train --batch 32 --data-dir "$work/data"
# a trainer of 32 chains refuses a checkpoint of 64
sed 's/batch 64/batch 32/' "$work/pcd.nn" >"$work/pcd32.nn"
compile pcd32 "$work/pcd32.nn"
cp "$work/half.st" "$work/half-copy.st"
one_line 3 "PCD checkpoint of another chain count" "gibbs_1.repeat_1.state has shape \[64,784\], the model wants \[32,784\]" \
	"$work/pcd32" train --epochs 2 --data-dir "$work/data" --load "$work/half.st" --save "$work/half.st"
cmp -s "$work/half.st" "$work/half-copy.st" || die "the refused checkpoint was overwritten"
