#!/bin/sh
# `trainer trace`: the --emit=grad listing of one training step with each
# line's values.  A scalar function whose derivative is known by hand;
# an MLP on Fashion-MNIST whose traced loss and gradients must be those
# of the compiled step that training took on the same batch (read back
# from checkpoints the trainer saved when interrupted after step N); the
# step's batch across an epoch's end; bad options.
. "$(dirname "$0")/lib.sh"

# value FILE PATTERN: the values under the first listing line matching
# PATTERN (ERE), one a line, without the shape and statistics
value() {
	awk -v pat="$2" 'hit { sub(/^ *; (\[[0-9,]*\] )?/, ""); sub(/^.*: /, ""); sub(/ \.\.\.$/, "")
		n = split($0, v, " "); for (i = 1; i <= n; i++) print v[i]; exit }
		$0 ~ pat { hit = 1 }' "$1"
}

# meta FILE KEY: a checkpoint's metadata value
meta() {
	head -c 8192 "$1" | tr -d '\000' | LC_ALL=C grep -ao "\"$2\":\"[^\"]*\"" | head -1 | cut -d'"' -f4
}

# near WHAT GOT WANT REL: |GOT - WANT| <= REL * |WANT|
near() {
	awk -v g="$2" -v w="$3" -v r="$4" 'BEGIN { d = g - w; if (d < 0) d = -d; a = w < 0 ? -w : w
		exit !(g != "" && d <= r * a) }' || die "$1: got '$2', want '$3' (to $4 relative)"
	echo "ok: $1 = $2 (want $3)"
}

# ---- d(w^2 + 3w)/dw = 2w + 3, at w = 2: 7 ----
cat >"$work/sq.nn" <<'EOF'
model f(x: f32[B, 1]) -> f32[B, 1] {
    param w: f32[1] = 2
    return x * (w * w + 3 * w)
}

train f {
    data train = csv("x.csv", label: -1)
    loss = mean(f(train.x))
    optimizer = sgd(lr: 0.125)
    batch 1
}
EOF
printf '1,0\n' >"$work/x.csv"
compile sq "$work/sq.nn"
"$work/sq" trace >"$work/sq.trace" 2>"$work/err" || { cat "$work/err"; die "trace of the scalar model failed"; }
cat "$work/sq.trace"
[ -s "$work/err" ] && { cat "$work/err"; die "trace wrote to stderr"; }
near "the traced loss, w^2 + 3w at w = 2" "$(value "$work/sq.trace" '^  store %[0-9]+ -> loss ')" 10 0
near "the traced gradient of w, 2w + 3" "$(value "$work/sq.trace" '^  store %[0-9]+ -> f\.w\.grad ')" 7 0
near "w after the update, 2 - 0.125 * 7" "$(value "$work/sq.trace" '^  store %[0-9]+ -> f\.w ')" 1.125 0
# every line of both functions has its value: the listing's lines, each but
# the comments followed by one
awk '/^  [%s]/ { if (want) exit 1; want = 1; next } want && /^  ; / { want = 0 } END { exit want }' "$work/sq.trace" ||
	die "a listing line has no value under it"
"$NNC" --emit=grad "$work/sq.nn" >"$work/sq.grad" || die "nnc --emit=grad failed"
grep -Ev '^ *; (\[|[-0-9]|nan|-?inf)' "$work/sq.trace" | grep -Ev '^; (loss|gradients|trace of|parameters|values computed|or \[shape)' | diff "$work/sq.grad" - >/dev/null ||
	die "the trace's listing is not nnc --emit=grad's"
echo "ok: the trace is --emit=grad's listing, a value under each line"

# ---- the step's batch across an epoch's end: three samples, batch 1 ----
printf '1,0\n2,0\n3,0\n' >"$work/x.csv"
for n in 3 4; do
	(cd "$work" && NNRT_FAULT_SIGNAL=$n ./sq train -q --epochs 5 --seed 7 --save "ck$n.st" >/dev/null 2>&1)
	[ -s "$work/ck$n.st" ] || die "the run interrupted after step $n saved nothing"
done
"$work/sq" trace --load "$work/ck3.st" >"$work/t4" 2>/dev/null || die "trace --load ck3 failed"
grep -q '^; trace of f, training step 4: epoch 2, batch index 0 of 3 ' "$work/t4" || { head -1 "$work/t4"; die "step 4 is not the second epoch's first"; }
# the interrupted run's epoch_loss holds the loss of epoch 2's one step
near "step 4's traced loss (shuffled epoch 2)" "$(value "$work/t4" '^  store %[0-9]+ -> loss ')" "$(meta "$work/ck4.st" epoch_loss)" 1e-6
# ck3 ends epoch 1: --batch-index 0 is epoch 2's first batch, step 4
"$work/sq" trace --load "$work/ck3.st" --batch-index 0 2>/dev/null | cmp -s - "$work/t4" ||
	die "--batch-index 0 after the last step of an epoch is not the next epoch's first batch"

# ---- an MLP on Fashion-MNIST, augmented, against the compiled steps ----
[ -r /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || { echo "SKIP: dataset-fashion-mnist is not installed"; exit 77; }
cat >"$work/m.nn" <<'EOF'
import layers

model m(x: f32[B, 784]) -> f32[B, 10] {
    return dense(relu(dense(x, 16, init: he)), 10)
}

train m {
    data train = idx("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", scale: 1/255, crop: 2, flip: 0.5)
    loss = cross_entropy(m(train.x), train.y)
    optimizer = sgd(lr: 0.125)
    batch 32
    epochs 1
    seed 3
}
EOF
compile m "$work/m.nn"
M="$work/m"
for n in 1 3 4; do
	NNRT_FAULT_SIGNAL=$n $M train -q --save "$work/m$n.st" >/dev/null 2>&1
	[ -s "$work/m$n.st" ] || die "the MLP interrupted after step $n saved nothing"
done
$M trace --values 20000 --digits 9 >"$work/m1.trace" 2>"$work/err" || { cat "$work/err"; die "trace of step 1 failed"; }
for n in 1 3 4; do
	$M trace --load "$work/m$n.st" --values 20000 --digits 9 >"$work/after$n.trace" 2>&1 || die "trace --load m$n.st failed"
done
grep -q '^; trace of m, training step 4: epoch 1, batch index 3 of 1875 ' "$work/after3.trace" || die "trace --load m3.st is not step 4"

# gradient WHAT BEFORE AFTER TRACE: TRACE's gradient of each parameter
# against (W before - W after) / lr, W from the param lines of the traces
# of the checkpoints around the step; the compiled update rounds W to f32
gradient() {
	for p in m.dense_1.W m.dense_1.b m.dense_2.W m.dense_2.b; do
		pe=$(echo "$p" | sed 's/\./\\./g')
		value "$2" "= param $pe " >"$work/wb"
		value "$3" "= param $pe " >"$work/wa"
		value "$4" "^  store %[0-9]+ -> $pe\\.grad " >"$work/g"
		[ -s "$work/g" ] && [ "$(wc -l <"$work/g")" -eq "$(wc -l <"$work/wb")" ] || die "$1: no gradient of $p"
		paste "$work/wb" "$work/wa" "$work/g" | awk -v lr=0.125 -v what="$1 $p" '
			{ c[NR] = ($1 - $2) / lr; g[NR] = $3; a = $3 < 0 ? -$3 : $3; if (a > big) big = a
			  w = $1 < 0 ? -$1 : $1; if (w > wbig) wbig = w }
			END { tol = 1e-4 * big + 4 * wbig * 2^-24 / lr
			      for (i = 1; i <= NR; i++) { d = c[i] - g[i]; if (d < 0) d = -d; if (d > worst) worst = d }
			      printf "%s: %d entries, largest |g| %g, worst difference %g (tolerance %g)\n", what, NR, big, worst, tol
			      exit !(big > 0 && worst <= tol) }' || die "$1: the traced gradient of $p is not the compiled step's"
	done
	echo "ok: $1: the traced gradients are the compiled step's"
}
loss1=$(value "$work/m1.trace" '^  store %[0-9]+ -> loss ')
near "step 1's traced loss (the initial parameters)" "$loss1" "$(awk -v l="$(meta "$work/m1.st" epoch_loss)" 'BEGIN { print l / 32 }')" 1e-5
gradient "step 1" "$work/m1.trace" "$work/after1.trace" "$work/m1.trace"
loss4=$(value "$work/after3.trace" '^  store %[0-9]+ -> loss ')
near "step 4's traced loss (shuffled, augmented)" "$loss4" \
	"$(awk -v a="$(meta "$work/m3.st" epoch_loss)" -v b="$(meta "$work/m4.st" epoch_loss)" 'BEGIN { print (b - a) / 32 }')" 1e-5
gradient "step 4" "$work/after3.trace" "$work/after4.trace" "$work/after3.trace"
$M trace --load "$work/m3.st" --batch-index 3 --values 20000 --digits 9 2>/dev/null | cmp -s - "$work/after3.trace" ||
	die "--batch-index 3 after step 3 is not the step trace takes next"
$M trace --load "$work/m1.st" --step 4 --values 20000 --digits 9 2>/dev/null | value - '^  store %[0-9]+ -> m\.dense_1\.b\.grad ' >"$work/s4"
value "$work/after3.trace" '^  store %[0-9]+ -> m\.dense_1\.b\.grad ' | cmp -s - "$work/s4" &&
	die "--step 4 from other parameters gave step 4's gradient of m3.st's"
echo "ok: --batch-index and --step choose the step"

# ---- bad options: one line, a non-zero exit ----
one_line 2 "--step -1" "--step" $M trace --step -1
one_line 2 "--step 0" "--step" $M trace --step 0
one_line 2 "--batch-index past the end" "has 1875 batches" $M trace --batch-index 1875
one_line 2 "--step with --batch-index" "give one" $M trace --step 2 --batch-index 0
one_line 3 "a checkpoint of another model" "another model" $M trace --load "$work/ck3.st"
one_line 2 "--values x" "--values" $M trace --values x
one_line 2 "--digits 0" "--digits" $M trace --digits 0
