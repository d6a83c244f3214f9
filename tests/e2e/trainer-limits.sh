#!/bin/sh
# trainer-limits.sh — corners of the trainer: accuracy with a single
# output (argmax is class 0, the only label; it compared the output with
# 0.5); --lr below the cosine schedule's min_lr (refused: the rate would
# rise); csv(header:) past 2^31 and a label column past int64 (refused by
# nnc, whose ranges the runtime shares).
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

# cosine from --lr down to min_lr: an --lr below min_lr is refused
sed -e 's/    batch 8/    optimizer = sgd(lr: 0.1)\n    schedule = cosine(min_lr: 0.01)\n    batch 8/' "$work/one.nn" >"$work/cos.nn"
compile cos "$work/cos.nn"
one_line 2 "--lr below min_lr" "--lr 0.001 is below the cosine schedule's min_lr 0.01, towards which it decays: the rate would rise over training; give --lr 0.01 or more" \
	"$work/cos" train --data-dir "$work" --lr 0.001
"$work/cos" train -q --data-dir "$work" --lr 0.01 --epochs 1 || die "--lr equal to min_lr (a constant rate) failed"
"$work/one" train -q --data-dir "$work" --lr 0.001 --epochs 1 || die "--lr 0.001 without a cosine schedule failed"
echo "ok: --lr at min_lr and --lr without a cosine schedule train"

# header: 3000000000 and label: 1e20 are past the range nnc and the runtime
# share (runtime/nnrt_vocab.h): refused at compile time, with the place
for bad in "header: 3000000000" "label: 1e20"; do
	sed -e "s/csv(\"one.csv\", label: -1)/csv(\"one.csv\", label: -1, $bad)/" "$work/one.nn" >"$work/big.nn"
	sed -e "s/label: -1, label: 1e20/label: 1e20/" -i "$work/big.nn"
	grep -q "${bad%%:*}: " "$work/big.nn" || die "the edit for $bad did not apply"
	rc=0
	"$NNC" "$work/big.nn" -o "$work/big" 2>"$work/big.err" || rc=$?
	[ "$rc" = 1 ] || die "csv($bad): nnc exit $rc, expected 1"
	grep -q "big.nn:[0-9]*:[0-9]*: error: .*${bad%%:*}" "$work/big.err" || die "csv($bad): no located error: $(cat "$work/big.err")"
	echo "ok: csv($bad) refused by nnc: $(head -1 "$work/big.err")"
done
