#!/bin/sh
# faults-numerics.sh — non-finite values stop training with exit 5 and
# one line naming the step, the tensor and its source line, and a hint
# that fits the cause (a smaller --lr only once updates were made); --max-memory
# refuses a model that does not fit before allocating (exit 4); and every
# allocation of a short run, failed in turn (NNRT_FAIL_ALLOC=1, 2, ...
# until the run succeeds), ends in exit 4 and one line, never a crash.
. "$(dirname "$0")/lib.sh"

cat >"$work/tiny.nn" <<'EOF'
import layers
model tiny(x: f32[B, 8]) -> f32[B, 3] {
    h = relu(dense(x, 16))
    return dense(h, 3)
}
train tiny {
    data train = random(count: 64, classes: 3)
    loss = cross_entropy(tiny(train.x), train.y)
    optimizer = sgd(lr: 1e6)
    batch 16
    epochs 3
    seed 3
    report accuracy on train
}
EOF
compile diverge "$work/tiny.nn"
sed -e 's/sgd(lr: 1e6)/adam(lr: 0.01)/' "$work/tiny.nn" >"$work/ok.nn"
compile ok "$work/ok.nn"
cat >"$work/neglog.nn" <<'EOF'
model neglog(x: f64[B, 3]) -> f64[B, 3] {
    param W: f64[3, 3] = normal(std: 0.7)
    return x @ W
}

train neglog {
    data train = random(count: 8)
    loss = mse(log(neglog(train.x)), train.y)
    optimizer = sgd(lr: 0.1)
    batch 4
    seed 3
}
EOF
compile neglog "$work/neglog.nn"

# the hint: a smaller rate after updates; before the first, the inputs' range instead
one_line 5 "lr 1e6 diverges" "non-finite loss .* at step [0-9]* (epoch [0-9]*), the loss at $work/tiny.nn:8; first non-finite gradient: tiny.dense_[12].[Wb].grad\[[0-9]*\] = .*, of the parameter tiny.dense_[12].[Wb] declared at .*layers.nn:[0-9]*; .*try a smaller --lr" \
	"$work/diverge" train -q
one_line 5 "log of a negative" "non-finite loss -*nan at step 1 (epoch 1), the loss at $work/neglog.nn:8; first non-finite gradient: neglog.W.grad\[0\] = -*nan, of the parameter neglog.W declared at $work/neglog.nn:2; no update has been made yet in this run, so no learning rate is the cause: the forward pass computes it from the initial parameters and this batch's inputs (values in \[-*[0-9.e+-]*, [0-9.e+-]*\])" \
	"$work/neglog" train -q
grep -q -- "--lr" "$work/err" && die "log of a negative at step 1: the hint still names --lr"
"$work/neglog" train -q --no-check-numerics --save "$work/nan.st" >/dev/null 2>&1
one_line 5 "a loaded non-finite parameter" "non-finite loss .* at step [0-9]* .*; a parameter was non-finite before this run's first update (in --load's checkpoint): neglog.W\[[0-9]\] = .*nan" \
	"$work/neglog" train -q --load "$work/nan.st" --epochs 2
"$work/diverge" train -q --no-check-numerics >/dev/null 2>&1 || die "--no-check-numerics still stopped"
echo "ok: --no-check-numerics trains on"

# --max-memory: before anything is allocated, with the batch that would fit
one_line 4 "--max-memory 2K" "--max-memory 2K: the model needs [0-9]* bytes at batch 16 (state [0-9]*, scratch [0-9]*, inputs and outputs [0-9]*); not even batch 1 fits" \
	"$work/ok" train -q --max-memory 2K
one_line 4 "--max-memory 10K" "; --batch [0-9]* fits" "$work/ok" train -q --max-memory 10K
"$work/ok" train -q --max-memory 1M || die "--max-memory 1M should fit the tiny model"
"$work/ok" train -q --max-memory 1048576 || die "--max-memory in bytes"
one_line 2 "--max-memory x" "is not a size" "$work/ok" train --max-memory 12Q

# every allocation failing in turn: exit 4, one line, nothing else
"$work/ok" train -q --save "$work/prev.st" || die "the tiny model does not train"
cp "$work/prev.st" "$work/keep.st"
n=1
while :; do
	NNRT_FAIL_ALLOC=$n "$work/ok" train -q --load "$work/keep.st" --save "$work/keep.st" --epochs 4 \
		>"$work/out" 2>"$work/err"; rc=$?
	[ $rc -eq 0 ] && break
	[ $rc -eq 4 ] || { cat "$work/err"; die "allocation $n failing: exit $rc, want 4"; }
	[ "$(wc -l <"$work/err")" -eq 1 ] && grep -q "^ok: out of memory (asked for [0-9]* bytes)$" "$work/err" \
		|| { cat "$work/err"; die "allocation $n failing: not the one-line error"; }
	if ! cmp -s "$work/keep.st" "$work/prev.st"; then   # failing after the save: the new one must load
		"$work/ok" eval --load "$work/keep.st" >/dev/null 2>&1 || die "allocation $n failing damaged the checkpoint"
		cp "$work/prev.st" "$work/keep.st"
	fi
	n=$((n + 1))
	[ $n -lt 5000 ] || die "NNRT_FAIL_ALLOC never stopped failing"
done
echo "ok: each of the $((n - 1)) allocations of a train run (load, train, save) failing in turn: exit 4, one line, checkpoint intact"
if [ "${SANITIZED:-no}" != yes ] && command -v valgrind >/dev/null; then
	for k in 1 $((n / 3)) $((n / 2)) $((n - 1)); do
		NNRT_FAIL_ALLOC=$k valgrind -q --error-exitcode=99 "$work/ok" train -q --load "$work/keep.st" \
			--save "$work/vg.st" --epochs 4 >/dev/null 2>"$work/err"; rc=$?
		[ $rc -eq 4 ] || { cat "$work/err"; die "allocation $k failing under valgrind: exit $rc"; }
	done
	echo "ok: four of them under valgrind: no memory error"
fi
