#!/bin/sh
# The vanishing-gradient lab (examples/vanishing, docs/vanishing.md): the
# same 20-layer MLP as sigmoid + Xavier, ReLU + He and ReLU + residual,
# trained with --log-grad-norms.  Asserts the phenomenon as measured:
# - at step 0 the sigmoid net's first-layer weight gradient is >= 100x
#   smaller than its last layer's; in the two ReLU nets the ratio is
#   within 10x either way;
# - after one epoch the sigmoid net is near chance on the test set while
#   the other three are far above it.
# Each trains one whole epoch of the 60,000 training images (938 steps of
# 64; about 7 s each on a 2-core AMD EPYC, 30 s on slower machines).
# Measured: test accuracy 0.1000 (sigmoid), 0.82 (ReLU + He), 0.84
# (residual), 0.84 (sigmoid + batch norm).  Then nnc-gradplot draws the
# logs (when gnuplot is present) and fails cleanly on bad input.
. "$(dirname "$0")/lib.sh"
data=/usr/share/datasets/fashion-mnist
[ -r "$data/train-images-idx3-ubyte.gz" ] || { echo "SKIP: dataset-fashion-mnist is not installed"; exit 77; }
samples=12800 steps=938
gradplot="$SRCDIR/tools/nnc-gradplot"

# ratio CSV: last layer's weight-gradient norm over the first layer's, at
# the first logged step
ratio() {
	awk -F, 'NR == 2 { s = $1 } NR > 1 && $1 == s && $3 ~ /\.W$/ { if (!n++) first = $4; last = $4 }
		END { if (n < 2 || first <= 0) exit 1; printf "%.6g\n", last / first }' "$1"
}

fashion_subset train $samples "$work/data"
for v in sigmoid_xavier relu_he relu_residual sigmoid_bn; do
	compile $v "$SRCDIR/examples/vanishing/$v.nn"
	"$work/$v" train --data-dir "$data" --log-grad-norms "$work/$v.csv" >"$work/$v.out" 2>&1 ||
		{ cat "$work/$v.out"; die "$v: training failed"; }
	cat "$work/$v.out"
done

# the log's shape: a header, then one row per step per parameter tensor
params=$("$work/relu_he" info | grep -c '^deep\.')
[ "$(head -n 1 "$work/relu_he.csv")" = "step,epoch,param,grad_norm" ] || die "relu_he.csv: bad header: $(head -n 1 "$work/relu_he.csv")"
rows=$(($(wc -l <"$work/relu_he.csv") - 1))
[ "$rows" -eq $((steps * params)) ] || die "relu_he.csv has $rows rows, expected $steps steps x $params parameters"
awk -F, 'NR > 1 && ($2 != 1 || $4 + 0 <= 0 || $1 >= '$steps') { exit 1 }' "$work/relu_he.csv" ||
	die "relu_he.csv: a row with an epoch other than 1, a step past $((steps - 1)) or a norm <= 0"
[ "$(sed -n 2p "$work/relu_he.csv" | cut -d, -f1,3)" = "0,deep.hidden_1.dense_1.W" ] ||
	die "relu_he.csv: the first row is not step 0 of the first parameter"
echo "ok: relu_he.csv has $steps steps x $params parameter tensors"

# The number logged is the L2 norm of the gradient itself: with W = 0 the
# logits are 0 and the softmax uniform, so the bias gradient of the mean
# cross-entropy over one batch of all the samples is 1/10 - (the share of
# class k), known from the labels alone.  In float64, so that the sum over
# the 12,800 samples is exact to far below the tolerance whatever order
# the compiled code adds them in (in float32 its rounding alone is ~1e-5).
cat >"$work/zero.nn" <<'EOF'
import layers
model zero(x: f64[B, 784]) -> f64[B, 10] {
    return dense(x, 10, init: zeros)
}
train zero {
    data train = idx("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", scale: 1/255)
    loss = cross_entropy(zero(train.x), train.y)
    optimizer = sgd(lr: 0.1)
    batch 64
    epochs 1
}
EOF
compile zero "$work/zero.nn"
"$work/zero" train -q --batch $samples --data-dir "$work/data" --log-grad-norms "$work/zero.csv" ||
	die "zero.nn: training failed"
want=$(gzip -dc "$work/data/train-labels-idx1-ubyte.gz" | tail -c +9 | od -An -tu1 -v | tr -s ' ' '\n' |
	awk -v n=$samples 'NF { c[$1]++ } END { for (k = 0; k < 10; k++) s += (0.1 - c[k] / n) ^ 2; printf "%.9g\n", sqrt(s) }')
got=$(awk -F, '$1 == 0 && $3 == "zero.dense_1.b" { print $4 }' "$work/zero.csv")
awk -v g="$got" -v w="$want" 'BEGIN { d = g - w; exit !(g != "" && w > 0 && (d < 0 ? -d : d) <= 1e-7 * w) }' ||
	die "zero.nn: logged bias gradient norm '$got', expected $want from the label counts"
echo "ok: the logged norm is the gradient's: $got, from the label counts $want"

r=$(ratio "$work/sigmoid_xavier.csv") || die "sigmoid_xavier.csv: no weight norms at step 0"
at_least "$r" 100 "sigmoid + Xavier: last/first layer weight-gradient norm at step 0"
for v in relu_he relu_residual sigmoid_bn; do
	r=$(ratio "$work/$v.csv") || die "$v.csv: no weight norms at step 0"
	at_least "$r" 0.1 "$v: last/first layer weight-gradient norm at step 0"
	at_most "$r" 10 "$v: last/first layer weight-gradient norm at step 0"
done

at_most "$(metric "$work/sigmoid_xavier.out" test.accuracy)" 0.3 "sigmoid + Xavier test accuracy after one epoch"
at_least "$(metric "$work/relu_he.out" test.accuracy)" 0.75 "ReLU + He test accuracy after one epoch"
at_least "$(metric "$work/relu_residual.out" test.accuracy)" 0.75 "ReLU + residual test accuracy after one epoch"
at_least "$(metric "$work/sigmoid_bn.out" test.accuracy)" 0.75 "sigmoid + batch norm test accuracy after one epoch"

# an unwritable log: one line, exit 3, before any training
"$work/relu_he" train --data-dir "$work/data" --log-grad-norms "$work/no/such/dir.csv" >"$work/bad.out" 2>&1
st=$?
[ $st -eq 3 ] && [ "$(wc -l <"$work/bad.out")" -eq 1 ] && grep -q "gradient-norm log" "$work/bad.out" ||
	{ cat "$work/bad.out"; die "unwritable --log-grad-norms: exit $st, expected 3 and one line"; }
echo "ok: unwritable --log-grad-norms: $(cat "$work/bad.out")"

# nnc-gradplot: usage errors are 2, unreadable logs 3, a missing gnuplot
# names its package
expect_status() {   # STATUS WHAT COMMAND...
	want=$1 what=$2
	shift 2
	"$@" >"$work/plot.err" 2>&1
	st=$?
	[ $st -eq "$want" ] || { cat "$work/plot.err"; die "nnc-gradplot $what: exit $st, expected $want"; }
	echo "ok: nnc-gradplot $what: exit $st: $(head -n 1 "$work/plot.err")"
}
expect_status 2 "without -o" "$gradplot" "$work/relu_he.csv"
expect_status 2 "-o x.pdf" "$gradplot" -o "$work/x.pdf" "$work/relu_he.csv"
expect_status 2 "with a step not logged" "$gradplot" -s 0,5000 -o "$work/x.svg" "$work/relu_he.csv"
expect_status 3 "with a missing file" "$gradplot" -o "$work/x.svg" "$work/missing.csv"
expect_status 3 "with a file that is not a log" "$gradplot" -o "$work/x.svg" "$work/relu_he.out"
expect_status 3 "without gnuplot" env GNUPLOT=/nonexistent/gnuplot "$gradplot" -o "$work/x.svg" "$work/relu_he.csv"
grep -q gnuplot-nox "$work/plot.err" || die "nnc-gradplot without gnuplot does not name the package gnuplot-nox"

if ! command -v gnuplot >/dev/null 2>&1; then
	echo "skip: gnuplot is not installed, so no plot is drawn (apt-get install gnuplot-nox)"
	exit 0
fi
"$gradplot" -o "$work/lab.svg" sigmoid="$work/sigmoid_xavier.csv" "$work/relu_he.csv" "$work/relu_residual.csv" \
	"$work/sigmoid_bn.csv" ||
	die "nnc-gradplot failed"
[ -s "$work/lab.svg" ] && grep -q '<svg' "$work/lab.svg" || die "nnc-gradplot wrote no SVG"
for title in "sigmoid, step 0" "sigmoid, step 100" "relu_he, step 10" "relu_residual, step 0"; do
	grep -q "$title" "$work/lab.svg" || die "lab.svg has no line titled '$title'"
done
echo "ok: nnc-gradplot drew $(wc -c <"$work/lab.svg") bytes of SVG: 4 variants at steps 0, 10, 100"
