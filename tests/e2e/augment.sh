#!/bin/sh
# augment.sh — data augmentation (crop, flip, noise on the training
# source) on small CSV images: a model with augmentation trains; the
# same --seed gives the same bytes, and resuming mid-epoch or between
# epochs gives the bytes of a straight run; augmentation changes
# training but never eval, predict or gradcheck: the same checkpoint
# evaluated by trainers built with and without the augmentation keywords
# prints the same numbers.  Crop on an IDX file without rows and columns
# is refused naming the fix.
. "$(dirname "$0")/lib.sh"

# 8x8 images, one channel: class 0 a 2x4 horizontal bar, class 1 a 4x2
# vertical one, anywhere, on a faint noisy background.  Columns: the 64
# pixels row-major, then the label.
bars() {
	awk -v n="$1" -v s="$2" 'BEGIN {
		srand(s)
		for (i = 0; i < n; i++) {
			k = i % 2; h = k ? 4 : 2; w = k ? 2 : 4
			y0 = int(rand() * (9 - h)); x0 = int(rand() * (9 - w)); line = ""
			for (y = 0; y < 8; y++)
				for (x = 0; x < 8; x++) {
					on = y >= y0 && y < y0 + h && x >= x0 && x < x0 + w
					line = line sprintf("%.3f,", on ? 0.8 + 0.2 * rand() : 0.2 * rand())
				}
			print line k
		}
	}'
}
bars 512 1 >"$work/train.csv"
bars 256 2 >"$work/test.csv"

cat >"$work/plain.nn" <<'EOF'
import layers
model bars(x: f32[B, 64]) -> f32[B, 2] {
    h = relu(dense(x, 32, init: he))
    return dense(h, 2)
}
train bars {
    data train = csv("train.csv")
    data test = csv("test.csv")
    loss = cross_entropy(bars(train.x), train.y)
    optimizer = adam(lr: 0.01)
    batch 32
    epochs 20
    report accuracy, loss on test
    report accuracy, loss on train
}
EOF
sed 's|csv("train.csv")|csv("train.csv", shape: [8, 8, 1], crop: 2, flip: 0.5, noise: 0.1)|' "$work/plain.nn" >"$work/aug.nn"
grep -q 'crop: 2' "$work/aug.nn" || die "the augmented model was not written"
compile plain "$work/plain.nn"
compile aug "$work/aug.nn"
A=$work/aug P=$work/plain

# it trains: 20 epochs of 16 steps
$A train --seed 5 --save "$work/a.st" --log "$work/a.csv" >"$work/a.out" 2>&1 || { cat "$work/a.out"; die "training with augmentation failed"; }
tail -2 "$work/a.out"
grep -qx '# augment views=1 resize=0 crop=2 flip=0.5 erase=0 noise=0.1' "$work/a.csv" || die "the metrics log does not record the augmentation: $(grep '^#' "$work/a.csv")"
at_least "$(metric "$work/a.out" test.accuracy)" 0.9 "test.accuracy with crop, flip and noise"

# the same seed, the same bytes; augmentation does change training
$A train -q --seed 5 --save "$work/a2.st" || die "the second run failed"
cmp "$work/a.st" "$work/a2.st" || die "two augmented runs with seed 5 differ"
$P train -q --seed 5 --save "$work/p.st" || die "training without augmentation failed"
cmp -s "$work/a.st" "$work/p.st" && die "augmentation changed nothing: the checkpoints are equal"
$A train -q --seed 6 --save "$work/a6.st" || die "the seed-6 run failed"
cmp -s "$work/a.st" "$work/a6.st" && die "seeds 5 and 6 gave the same augmented checkpoint"
echo "ok: same seed, same bytes; another seed or no augmentation, other bytes"

# resume: mid-epoch (SIGINT after step 40 of 320, 8 steps into epoch 3)
# and between epochs, to the bytes of the straight run
NNRT_FAULT_SIGNAL=40 $A train -q --seed 5 --save "$work/int.st" 2>"$work/err"; rc=$?
[ $rc -eq 130 ] || { cat "$work/err"; die "SIGINT at step 40: exit $rc, want 130"; }
$A train -q --load "$work/int.st" --save "$work/int.st" || die "resuming after step 40 failed"
cmp "$work/int.st" "$work/a.st" || die "interrupted mid-epoch and resumed: the checkpoint differs"
$A train -q --seed 5 --epochs 7 --save "$work/half.st" || die "7 epochs failed"
$A train -q --load "$work/half.st" --save "$work/half.st" || die "resuming at epoch 7 failed"
cmp "$work/half.st" "$work/a.st" || die "7 epochs + resume to 20 differs from 20 straight"
echo "ok: resumed mid-epoch and between epochs: the bytes of a straight run"

# eval, predict and gradcheck see no augmentation: trainers with and
# without it print the same for the same checkpoint
for cmd in eval predict gradcheck; do
	$A $cmd --load "$work/a.st" >"$work/$cmd.aug" 2>&1 || { cat "$work/$cmd.aug"; die "$cmd (augmented trainer) failed"; }
	$P $cmd --load "$work/a.st" >"$work/$cmd.plain" 2>&1 || { cat "$work/$cmd.plain"; die "$cmd (plain trainer) failed"; }
	cmp "$work/$cmd.aug" "$work/$cmd.plain" || die "$cmd differs with augmentation keywords"
	[ -s "$work/$cmd.aug" ] || die "$cmd printed nothing"
done
echo "ok: eval, predict and gradcheck print the same with and without augmentation:"
sed 's/^/    /' "$work/eval.aug"

# crop needs rows and columns: an IDX file of [4, 64] has none
printf '\0\0\010\002\0\0\0\004\0\0\0\100' >"$work/flat-img.idx"
head -c 256 /dev/zero >>"$work/flat-img.idx"
printf '\0\0\010\001\0\0\0\004\0\1\0\1' >"$work/flat-lab.idx"
sed 's|csv("train.csv")|idx("flat-img.idx", "flat-lab.idx", crop: 1)|' "$work/plain.nn" >"$work/flat.nn"
compile flat "$work/flat.nn"
"$work/flat" train -q 2>"$work/err"; rc=$?
[ $rc -eq 3 ] && grep -q "'crop' needs images, but its samples are 64 values with no rows and columns; give the geometry with shape: \[HEIGHT, WIDTH, CHANNELS\]" "$work/err" \
	|| die "crop on a flat IDX file: exit $rc: $(cat "$work/err")"
echo "ok: crop on a flat IDX file -> exit 3: $(cat "$work/err")"
sed 's|crop: 1|shape: [8, 8, 1], crop: 1|' "$work/flat.nn" >"$work/flat8.nn"
compile flat8 "$work/flat8.nn"
"$work/flat8" train -q --epochs 1 || die "with shape: the flat IDX file trains"
echo "ok: with shape: [8, 8, 1] it trains"

# views: each sample holds two copies of its image, augmented apart in
# training (resize and erase too) and equal everywhere else; a model over
# [B, 2, 64] sees both.  It trains, keeps the same-seed and resume rules.
cat >"$work/views.nn" <<'NN'
import layers
model bars(x: f32[B, 2, 64]) -> f32[B, 2] {
    h = relu(dense(x, 32, init: he))
    return dense(mean(h, axis: 1), 2)
}
train bars {
    data train = csv("train.csv", shape: [8, 8, 1], views: 2, resize: 0.6, flip: 0.5, erase: 0.3)
    data test = csv("test.csv", shape: [8, 8, 1], views: 2)
    loss = cross_entropy(bars(train.x), train.y)
    optimizer = adam(lr: 0.01)
    batch 32
    epochs 20
    report accuracy, loss on test
}
NN
compile views "$work/views.nn"
V=$work/views
$V train --seed 5 --save "$work/v.st" --log "$work/v.csv" >"$work/v.out" 2>&1 || { cat "$work/v.out"; die "training with views failed"; }
grep -qx '# augment views=2 resize=0.6 crop=0 flip=0.5 erase=0.3 noise=0' "$work/v.csv" ||
	die "the metrics log does not record the views: $(grep '^#' "$work/v.csv")"
at_least "$(metric "$work/v.out" test.accuracy)" 0.9 "test.accuracy with two views, resize, flip and erase"
$V train -q --seed 5 --save "$work/v2.st" || die "the second views run failed"
cmp "$work/v.st" "$work/v2.st" || die "two runs with views and seed 5 differ"
NNRT_FAULT_SIGNAL=40 $V train -q --seed 5 --save "$work/vint.st" 2>/dev/null
$V train -q --load "$work/vint.st" --save "$work/vint.st" || die "resuming the views run failed"
cmp "$work/vint.st" "$work/v.st" || die "views: interrupted mid-epoch and resumed: the checkpoint differs"
echo "ok: views: same seed, same bytes; resumed mid-epoch, the bytes of a straight run"
# outside training the two views are the image twice: a model that
# returns its input predicts each row's 64 values twice over
cat >"$work/echo.nn" <<'NN'
model echo(x: f32[B, 2, 64]) -> f32[B, 2, 64] {
    param a: f32[] = zeros
    return x + a
}
train echo {
    data train = csv("test.csv", shape: [8, 8, 1], views: 2, label: -1)
    loss = mean(echo(train.x) * echo(train.x))
}
NN
compile echo "$work/echo.nn"
"$work/echo" predict -q 2>/dev/null | awk '{ if (NF != 128) bad = 1; for (i = 1; i <= 64; i++) if ($i != $(i + 64)) bad = 1 }
	END { exit bad || NR != 256 }' || die "predict: the two views of a sample are not the same 64 values"
echo "ok: predict sees the two views of a test image as the same values"
# every source feeds the model: the views must agree
sed 's|csv("test.csv", shape: \[8, 8, 1\], views: 2)|csv("test.csv", shape: [8, 8, 1])|' "$work/views.nn" >"$work/views1.nn"
"$NNC" "$work/views1.nn" -o "$work/x" 2>"$work/err" && die "views 2 and 1 on two sources compiled"
grep -q "gives 1 view of each image but the training source 'train' gives 2" "$work/err" || die "views mismatch: $(cat "$work/err")"
echo "ok: views that differ between sources -> $(head -1 "$work/err")"
