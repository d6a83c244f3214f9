#!/bin/sh
# sampling.sh — bernoulli, gaussian and categorical draw what they say:
# over 4,000 draws each, the frequencies, mean and deviation lie within
# about four standard errors of the distribution's; every categorical
# sample is one-hot; the same seed draws the same samples, and two calls
# draw from different streams.  (gaussian's gradient: tests/gradcheck.)
. "$(dirname "$0")/lib.sh"

# model NAME BODY: a trainer of f32[B, 8] -> f32[B, 8] returning BODY
model() {
	cat >"$work/$1.nn" <<NN
model m(x: f32[B, 8]) -> f32[B, 8] {
    return $2
}
train m {
    data train = random(count: 8)
    loss = mse(m(train.x), train.y)
}
NN
	compile "$1" "$work/$1.nn"
}
# rows FILE N ROW: N copies of the CSV line ROW
rows() { awk -v n="$2" -v r="$3" 'BEGIN { for (i = 0; i < n; i++) print r }' >"$1"; }
# stats FILE: mean and standard deviation of every value printed
stats() { awk '{ for (i = 1; i <= NF; i++) { s += $i; q += $i * $i; n++ } }
	END { m = s / n; printf "%.6f %.6f %d\n", m, sqrt(q / n - m * m), n }' "$1"; }
# within X LO HI NAME
within() { awk -v x="$1" -v lo="$2" -v hi="$3" 'BEGIN { exit !(x >= lo && x <= hi) }' || die "$4 = $1, expected in [$2, $3]"; }

rows "$work/zeros.csv" 500 "0,0,0,0,0,0,0,0"
model bern "bernoulli(0.3 + 0 * x)"
"$work/bern" predict --input "$work/zeros.csv" >"$work/bern.out" 2>/dev/null || die "bernoulli: predict failed"
set -- $(stats "$work/bern.out")
[ "$3" = 4000 ] || die "bernoulli: $3 values, expected 4000"
within "$1" 0.27 0.33 "bernoulli(0.3) mean"
awk '{ for (i = 1; i <= NF; i++) if ($i != 0 && $i != 1) exit 1 }' "$work/bern.out" || die "bernoulli drew a value other than 0 or 1"
"$work/bern" predict --input "$work/zeros.csv" 2>/dev/null | cmp -s - "$work/bern.out" || die "bernoulli: the same seed drew other samples"
echo "ok: bernoulli(0.3) mean $1 over $3 draws, 0 or 1 only, the same again"

model gauss "gaussian(2 + 0 * x, 0.5)"
"$work/gauss" predict --input "$work/zeros.csv" >"$work/gauss.out" 2>/dev/null || die "gaussian: predict failed"
set -- $(stats "$work/gauss.out")
within "$1" 1.97 2.03 "gaussian(2, 0.5) mean"
within "$2" 0.48 0.52 "gaussian(2, 0.5) deviation"
echo "ok: gaussian(2, 0.5) mean $1 deviation $2 over $3 draws"

model twice "bernoulli(0.5 + 0 * x) - bernoulli(0.5 + 0 * x)"
"$work/twice" predict --input "$work/zeros.csv" >"$work/twice.out" 2>/dev/null || die "two draws: predict failed"
set -- $(stats "$work/twice.out")
within "$2" 0.6 0.8 "the deviation of the difference of two bernoulli(0.5) draws"
echo "ok: two calls draw from two streams (deviation of their difference $2)"

# probabilities 0.1 0.2 0.3 0.4, twice over the 8 columns, as log-probabilities
model cat "reshape(categorical(softmax(reshape(x, [B, 2, 4]), axis: -1)), [B, 8])"
rows "$work/logp.csv" 500 "-2.302585,-1.609438,-1.203973,-0.916291,-2.302585,-1.609438,-1.203973,-0.916291"
"$work/cat" predict --input "$work/logp.csv" >"$work/cat.out" 2>/dev/null || die "categorical: predict failed"
awk '{ if ($1 + $2 + $3 + $4 != 1 || $5 + $6 + $7 + $8 != 1) exit 1 }' "$work/cat.out" || die "a categorical sample is not one-hot"
for k in 1 2 3 4; do
	f=$(awk -v k="$k" '{ s += $k + $(k + 4); n += 2 } END { printf "%.4f", s / n }' "$work/cat.out")
	want=$(awk -v k="$k" 'BEGIN { printf "%.1f", k / 10 }')
	within "$f" "$(awk -v w="$want" 'BEGIN { print w - 0.035 }')" "$(awk -v w="$want" 'BEGIN { print w + 0.035 }')" "categorical class $k frequency"
	echo "ok: categorical class $k drawn with frequency $f (p = $want)"
done
