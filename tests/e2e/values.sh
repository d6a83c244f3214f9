#!/bin/sh
# Forward values of ops whose gradient checks cannot see a wrong forward
# (a consistent mistake passes them): grouped convolution, slice and
# concat, local response normalization, through a trainer's predict.
. "$(dirname "$0")/lib.sh"

# run NAME N BODY INPUT: predict's output of `model m(x: f32[B, N])` whose
# body is BODY (parameters of ones) for one CSV row INPUT; the file
# starts with $IMPORTS
run() {
	printf '%s\nmodel m(x: f32[B, %s]) -> f32[B, %s] {\n%s\n}\n' "${IMPORTS:-}" "$2" "$2" "$3" >"$work/$1.nn"
	printf 'train m {\n    data train = csv("train.csv", label: -1)\n    loss = mean(m(train.x))\n' >>"$work/$1.nn"
	printf '    optimizer = sgd(lr: 0.000001)\n    batch 1\n}\n' >>"$work/$1.nn"
	echo "$4" >"$work/in.csv"
	echo "$4,0" >"$work/train.csv"
	compile "$1" "$work/$1.nn"
	"$work/$1" predict --data-dir "$work" --input "$work/in.csv" 2>"$work/err" || { cat "$work/err"; die "$1: predict failed"; }
}

# expect WHAT GOT WANT: equal to about 6 digits
expect() {
	awk -v g="$2" -v w="$3" 'BEGIN { n = split(g, a, " "); m = split(w, b, " "); if (n != m) exit 1
		for (i = 1; i <= n; i++) { d = a[i] - b[i]; if (d < 0) d = -d; if (d > 1e-6 * (1 + (b[i] < 0 ? -b[i] : b[i]))) exit 1 } }' ||
		die "$1: got '$2', expected '$3'"
	echo "ok: $1: $2"
}

# NHWC [1, 2, 2, 4] holding 1..16; a 1x1 kernel of ones in 2 groups sums
# channels {0,1} into outputs 0, 1 and {2,3} into 2, 3; then the two
# halves of the channels swap places (slice and concat).
got=$(run groups 16 '    param K: f32[1, 1, 2, 4] = ones
    h = conv2d(reshape(x, [B, 2, 2, 4]), K, groups: 2)
    return flatten(concat([slice(h, 3, 2, 4), slice(h, 3, 0, 2)], axis: 3))' "$(seq -s, 1 16)")
expect "grouped conv2d, slice, concat" "$got" "7 7 3 3 15 15 11 11 23 23 19 19 31 31 27 27"

# A negative start counts from the end with one index by default (as
# x[..., -1]); -4 is the first of 4, and an end counts from the end too
got=$(run slice-neg 4 '    return concat([slice(x, 1, -1), slice(x, 1, -4), slice(x, -1, -2, end: -1), slice(x, 1, 3)], axis: 1)' "1,2,3,4")
expect "slice, negative start" "$got" "4 1 3 4"
# the same on both sides of B in the middle: t is [2, B, 3] holding
# rows (1 2 3) and (4 5 6); the last row, the last column of each row, and
# the first element of the first row (starts -2 and -3: -rank-size)
got=$(run slice-neg-mid 6 '    t = transpose(reshape(x, [B, 2, 3]), [1, 0, 2])
    r = reshape(transpose(slice(t, 0, -1), [1, 0, 2]), [B, 3])
    c = reshape(transpose(slice(t, -1, -1), [1, 0, 2]), [B, 2])
    f = reshape(slice(slice(t, 0, -2), 2, -3), [B, 1])
    return concat([r, c, f], axis: 1)' "1,2,3,4,5,6")
expect "slice, negative start on both sides of B" "$got" "4 5 6 3 6 1"

# x / (k + alpha/size * sum of squares of the 3 neighbouring channels)^beta
# for channels 1..5, k 1, alpha 0.9, beta 0.75: the values
# torch.nn.LocalResponseNorm(3, alpha=0.9, beta=0.75, k=1) gives
got=$(run lrn 5 '    return flatten(local_response_norm(reshape(x, [B, 1, 1, 5]), size: 3, alpha: 0.9, beta: 0.75, k: 1))' "1,2,3,4,5")
expect "local_response_norm" "$got" "0.502973378 0.580801129 0.545811176 0.5 0.717928588"
# AlexNet's width, 5, over 7 channels with signs: both ends see 3 channels
got=$(run lrn5 7 '    return flatten(local_response_norm(reshape(x, [B, 1, 1, 7]), size: 5, alpha: 0.9, beta: 0.75, k: 1))' "1,-2,3,0.5,4,-1,2")
expect "local_response_norm, size 5" "$got" "0.389128447 -0.770877481 0.741658628 0.123609774 0.988878191 -0.307168722 0.618670046"

# arange and stacks of products: x holds two 2x2 matrices a = (1 2; 3 4)
# and b = (5 6; 7 8); a a^T and b b^T, then the positions 0..7 added
got=$(run bmm 8 '    s = reshape(x, [B, 2, 2, 2])
    return reshape(s @ transpose(s, [0, 1, 3, 2]), [B, 8]) + arange(8)' "1,2,3,4,5,6,7,8")
expect "bmm and arange" "$got" "5 12 13 28 65 88 89 120"

# causal attention over two positions with q = k = v = (0.1 0.2), (0.3 0.4):
# the first position sees itself only; the second both, with weights
# softmax((0.11, 0.25) / sqrt 2)
got=$(IMPORTS='import attention' run causal 4 '    q = reshape(x, [B, 1, 2, 2])
    return reshape(attention(q, q, q, causal_mask(2)), [B, 4])' "0.1,0.2,0.3,0.4")
expect "causal attention" "$got" "0.1 0.2 0.2049457091 0.3049457091"

# nt_xent over three samples, codes a = columns 1-2 and b = columns 3-4,
# temperature 0.5, against NT-Xent written out here: the 6 codes' dot
# products over 0.5, each view's cross-entropy of its partner among the
# other 5, a sample's loss the mean of its two views'
printf '1,0,0.8,0.6,0\n0,1,0.1,0.9,0\n0.6,0.8,1,0,0\n' >"$work/train.csv"
cut -d, -f1-4 "$work/train.csv" >"$work/in.csv"
cat >"$work/ntx.nn" <<'NN'
model m(x: f64[B, 4]) -> f64[B] {
    param s: f64[] = ones
    return nt_xent(slice(x, 1, 0, end: 2) * s, slice(x, 1, 2, end: 4), temperature: 0.5)
}
train m {
    data train = csv("train.csv", label: -1)
    loss = mean(m(train.x))
    optimizer = sgd(lr: 0.000001)
    batch 3
}
NN
compile ntx "$work/ntx.nn"
got=$("$work/ntx" predict -q --data-dir "$work" --input "$work/in.csv" 2>/dev/null | tr '\n' ' ')
want=$(awk -F, '{ u[NR] = $1 " " $2; u[NR + 3] = $3 " " $4 }
	END { n = 6; B = 3
		for (j = 1; j <= n; j++) {
			split(u[j], x, " "); z = 0
			for (k = 1; k <= n; k++) { split(u[k], y, " "); s[k] = (x[1] * y[1] + x[2] * y[2]) / 0.5; if (k != j) z += exp(s[k]) }
			p = j <= B ? j + B : j - B; l[j] = log(z) - s[p]
		}
		for (i = 1; i <= B; i++) printf "%.10f ", (l[i] + l[i + B]) / 2 }' "$work/in.csv")
expect "nt_xent" "$got" "$want"
