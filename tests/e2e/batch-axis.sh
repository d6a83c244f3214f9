#!/bin/sh
# Ops along an axis when the batch dimension B is not the first: every op
# that takes an axis or computes strides must give the values of the same
# computation written with B first, whatever the batch size.  Each case is
# a pair of models with the same parameters (initialized per name, so
# alike): REF works on h = x @ W, [B, 4]; ALT on its transpose t, [4, B]
# (or B in the middle of a rank-3 tensor).  Predict of ALT at batch 1 and
# at batch 5 must equal predict of REF at batch 5; ALT's float64 gradients
# must match central differences.
. "$(dirname "$0")/lib.sh"

awk 'BEGIN { srand(5); for (i = 0; i < 5; i++) { for (k = 0; k < 6; k++) printf "%s%.4f", k ? "," : "", 2 * rand() - 1; print "" } }' \
	>"$work/in.csv"

# model NAME BODY: `model m(x: f64[B, 6])` with W and V, returning BODY's value
model() {
	cat >"$work/$1.nn" <<NN
model m(x: f64[B, 6]) {
    param W: f64[6, 4] = normal(std: 0.5)
    param V: f64[6, 6] = normal(std: 0.5)
    param b: f64[4, 1] = normal(std: 0.5)
    h = x @ W
    t = transpose(h)
    r = reshape(x @ V, [B, 2, 3])
    u = transpose(r, [1, 0, 2])
$2
}
train m {
    data train = random(count: 10)
    loss = mean(m(train.x) * m(train.x))
    optimizer = sgd(lr: 0.01)
    batch 5
}
NN
	compile "$1" "$work/$1.nn"
}

predict() { # predict NAME BATCH: predict's rows for in.csv
	"$work/$1" predict --input "$work/in.csv" --batch "$2" 2>"$work/err" || { cat "$work/err"; die "$1: predict --batch $2 failed"; }
}

# same WHAT A B: the same numbers, to 1e-9 relative
same() {
	paste -d'|' "$2" "$3" | awk -F'|' -v what="$1" '{ n = split($1, a, " "); m = split($2, b, " ")
		if (n != m) { print what ": row " NR ": " n " vs " m " values"; bad = 1; exit }
		for (i = 1; i <= n; i++) { d = a[i] - b[i]; s = (a[i] < 0 ? -a[i] : a[i]) + 1
			if (d > 1e-9 * s || -d > 1e-9 * s) { print what ": row " NR ": " a[i] " vs " b[i]; bad = 1; exit } } }
		END { if (!bad && NR != 5) { print what ": " NR " rows"; bad = 1 } exit bad }' || die "$1 differ"
}

# case NAME REF-BODY ALT-BODY
case_() {
	model "$1-ref" "$2"
	model "$1-alt" "$3"
	predict "$1-ref" 5 >"$work/ref"
	predict "$1-alt" 1 >"$work/alt1"
	predict "$1-alt" 5 >"$work/alt5"
	same "$1: B first and B elsewhere at batch 5" "$work/ref" "$work/alt5"
	same "$1: B elsewhere at batch 1 and 5" "$work/alt1" "$work/alt5"
	"$work/$1-alt" gradcheck --all --tol 1e-6 >"$work/gc" 2>&1 || { cat "$work/gc"; die "$1: gradcheck"; }
	echo "ok: $1: $(grep -i worst "$work/gc" | head -1)"
}

case_ slice '    return slice(h, 1, 1, end: 3)' \
	'    return transpose(slice(t, 0, 1, end: 3))'
case_ concat '    return concat([h, slice(h, 1, 0, end: 2) * 2], axis: 1)' \
	'    return transpose(concat([t, slice(t, 0, 0, end: 2) * 2], axis: 0))'
case_ reductions '    return concat([sum(h, axis: 1, keepdims: 1), mean(h, axis: -1, keepdims: 1), max(h, axis: 1, keepdims: 1)], axis: 1)' \
	'    return transpose(concat([sum(t, axis: 0, keepdims: 1), mean(t, axis: 0, keepdims: 1), max(t, axis: -2, keepdims: 1)], axis: 0))'
case_ softmax '    return softmax(h, axis: 1) + log_softmax(h)' \
	'    return transpose(softmax(t, axis: 0) + log_softmax(t, axis: 0))'
case_ broadcast '    return h * reshape(b, [4]) + reshape(b, [4])' \
	'    return transpose(t * b + b)'
case_ matmul '    return h @ transpose(W)' \
	'    return transpose(W @ t)'
case_ reshape '    return reshape(sum(reshape(h, [B, 2, 2]), axis: 2), [B, 2])' \
	'    return transpose(reshape(sum(reshape(t, [2, 2, B]), axis: 1), [2, B]))'
# B in the middle: parts, joins, reductions and softmax along the axes around it
case_ middle '    return reshape(concat([slice(r, 2, 1, end: 3), softmax(r, axis: 2) * mean(r, axis: 1, keepdims: 1)], axis: 2), [B, 10])' \
	'    return reshape(transpose(concat([slice(u, 2, 1, end: 3), softmax(u, axis: -1) * mean(u, axis: 0, keepdims: 1)], axis: 2), [1, 0, 2]), [B, 10])'
case_ middle-join '    return reshape(concat([r, r * 2], axis: 1), [B, 12])' \
	'    return reshape(transpose(concat([u, u * 2], axis: 0), [1, 0, 2]), [B, 12])'
echo "batch axis: every case agrees"
