#!/bin/sh
# wmodel.sh — the -Wmodel warnings (docs/language.md, nnc(1)): each one is
# given with file:line:col, a caret and a "why:" line; -Wno-model silences
# it; a warning changes neither the exit status nor what nnc writes; the
# corrected program gets no warning.  Also: a hand-written loss that reads
# train.y trains to the loss mse gives.
. "$(dirname "$0")/lib.sh"

head='model m(x: f32[B, 4]) -> f32[B, 3] {'
tail='train m {
    data train = random(count: 16, classes: 3)'

# case NAME LOC MESSAGE: $work/NAME.nn must warn MESSAGE at LOC
warns() {
	f=$work/$1.nn
	"$NNC" --emit=ir "$f" >"$work/$1.ir" 2>"$work/$1.err" || { cat "$work/$1.err"; die "$1: nnc failed"; }
	grep -qF "$f:$2: warning: $3" "$work/$1.err" || { cat "$work/$1.err"; die "$1: no warning '$3' at $2"; }
	grep -q "warning: .*\[-Wmodel\]$" "$work/$1.err" || die "$1: the warning does not name -Wmodel"
	grep -q "^  *\^" "$work/$1.err" || die "$1: no caret line"
	grep -qF "$f:$2: why: " "$work/$1.err" || die "$1: no 'why:' line at $2"
	"$NNC" -Wno-model --emit=ir "$f" >"$work/$1.quiet.ir" 2>"$work/$1.quiet.err" || die "$1: -Wno-model fails"
	[ ! -s "$work/$1.quiet.err" ] || { cat "$work/$1.quiet.err"; die "$1: -Wno-model still prints"; }
	cmp -s "$work/$1.ir" "$work/$1.quiet.ir" || die "$1: the warning changed the IR"
	echo "ok: $1 warns at $2: $3"
}

# quiet NAME: $work/NAME.nn compiles without any warning
quiet() {
	"$NNC" --emit=ir "$work/$1.nn" >/dev/null 2>"$work/$1.err" || { cat "$work/$1.err"; die "$1: nnc failed"; }
	[ ! -s "$work/$1.err" ] || { cat "$work/$1.err"; die "$1: unexpected warning"; }
	echo "ok: $1 compiles without a warning"
}

# sigmoid layers: six in a row warn at the sixth; five, or six with
# normalization or a residual connection, do not
stack() { # stack NAME N BODY-OF-hidden
	{
		echo 'import layers'
		echo "fn hidden(x: float[B, N]) -> float[B, 8] {"
		echo "    $3"
		echo '}'
		echo 'model m(x: f32[B, 4]) -> f32[B, 3] {'
		echo '    h = dense(x, 8)'
		i=0
		while [ $i -lt "$2" ]; do echo '    h = hidden(h)'; i=$((i + 1)); done
		echo '    return dense(h, 3)'
		echo '}'
		echo "$tail"
		echo '    loss = cross_entropy(m(train.x), train.y)'
		echo '}'
	} >"$work/$1.nn"
}
stack sigmoid6 6 'return sigmoid(dense(x, 8))'
warns sigmoid6 3:12 "sigmoid and tanh layers stacked 6 deep at this sigmoid"
stack tanh7 7 'return tanh(dense(x, 8))'
warns tanh7 3:12 "sigmoid and tanh layers stacked 6 deep at this tanh"
stack sigmoid5 5 'return sigmoid(dense(x, 8))'
quiet sigmoid5
stack normed 8 'return sigmoid(layer_norm(dense(x, 8)))'
quiet normed
stack residual 8 'return x + sigmoid(dense(x, 8))'
quiet residual

# softmax into cross_entropy, which applies log_softmax itself
cat >"$work/softmax.nn" <<EOF
$head
    param W: f32[4, 3] = xavier
    return softmax(x @ W)
}
$tail
    loss = cross_entropy(m(train.x), train.y)
}
EOF
warns softmax 3:12 "the result of this softmax is passed to cross_entropy at 7:12, which expects logits"
sed 's/softmax(x @ W)/x @ W/' "$work/softmax.nn" >"$work/logits.nn"
quiet logits

# a parameter of one value spread over a whole axis
cat >"$work/widened.nn" <<EOF
$head
    param W: f32[4, 3] = xavier
    param b: f32[1] = zeros
    return x @ W + b
}
$tail
    loss = cross_entropy(m(train.x), train.y)
}
EOF
warns widened 3:11 "parameter 'm.b' f32[1] is widened by broadcasting to f32[B,3] at 4:18"
sed 's/b: f32\[1\]/b: f32[3]/' "$work/widened.nn" >"$work/bias.nn"
quiet bias

# learning rates a factor of ten or more away from the usual ones
lr() { # lr NAME OPTIMIZER
	cat >"$work/$1.nn" <<EOF
$head
    param W: f32[4, 3] = xavier
    return x @ W
}
$tail
    loss = cross_entropy(m(train.x), train.y)
    optimizer = $2
}
EOF
}
lr sgd-high 'sgd(lr: 10)'
warns sgd-high 8:25 "learning rate 10 is outside the usual range of sgd, [0.0001, 1]"
lr sgd-low 'sgd(lr: 0.00001)'
warns sgd-low 8:25 "learning rate 1e-05 is outside the usual range of sgd, [0.0001, 1]"
lr adam-high 'adam(lr: 0.5)'
warns adam-high 8:26 "learning rate 0.5 is outside the usual range of adam, [1e-05, 0.1]"
lr adamw-low 'adamw(lr: 1e-7)'
warns adamw-low 8:27 "learning rate 1e-07 is outside the usual range of adamw, [1e-05, 0.1]"
lr sgd-ok 'sgd(lr: 0.1, momentum: 0.9)'
quiet sgd-ok
lr adam-ok 'adam(lr: 0.001)'
quiet adam-ok

# nothing to train
cat >"$work/noparams.nn" <<EOF
model m(x: f32[B, 4]) -> f32[B, 4] {
    return x * 2
}
train m {
    data train = random(count: 8)
    loss = mse(m(train.x), train.y)
}
EOF
warns noparams 1:7 "model 'm' has no parameters: training has nothing to change"

# the lab that stacks sigmoids on purpose warns; its batch-norm variant not
"$NNC" --emit=ir "$SRCDIR/examples/vanishing/sigmoid_xavier.nn" 2>&1 >/dev/null | grep -q "stacked 6 deep" \
	|| die "examples/vanishing/sigmoid_xavier.nn: no warning about its sigmoid stack"
"$NNC" --emit=ir "$SRCDIR/examples/vanishing/sigmoid_bn.nn" 2>&1 >/dev/null | grep -q "warning" \
	&& die "examples/vanishing/sigmoid_bn.nn: a warning, though it normalizes"
echo "ok: the vanishing lab warns for sigmoid_xavier only"

# a warning changes neither the exit status nor the trainer nnc writes
"$NNC" "$work/softmax.nn" -o "$work/loud" 2>/dev/null || die "softmax.nn: compiling the trainer failed"
"$NNC" -Wno-model "$work/softmax.nn" -o "$work/still" || die "softmax.nn: -Wno-model failed"
cmp -s "$work/loud" "$work/still" || die "the warning changed the trainer"
echo "ok: the same trainer with and without the warning"

# the custom loss: mean((m(train.x) - train.y) ** 2) is mse, step for step
cat >"$work/mse.nn" <<EOF
model m(x: f32[B, 4]) -> f32[B, 2] {
    param W: f32[4, 2] = xavier
    return tanh(x @ W)
}
train m {
    data train = random(count: 64)
    loss = mse(m(train.x), train.y)
    optimizer = sgd(lr: 0.1)
    epochs 3
    batch 16
}
EOF
sed 's/loss = mse(m(train.x), train.y)/loss = mean((m(train.x) - train.y) ** 2)/' "$work/mse.nn" >"$work/custom.nn"
grep -q 'mean((m' "$work/custom.nn" || die "custom.nn: the loss was not replaced"
compile mse "$work/mse.nn"
compile custom "$work/custom.nn"
"$work/mse" train >"$work/mse.out" 2>&1 || { cat "$work/mse.out"; die "mse training failed"; }
"$work/custom" train >"$work/custom.out" 2>&1 || { cat "$work/custom.out"; die "custom-loss training failed"; }
for e in 1 2 3; do
	a=$(sed -n "s/^epoch $e\/3 loss \([^ ]*\).*/\1/p" "$work/mse.out")
	b=$(sed -n "s/^epoch $e\/3 loss \([^ ]*\).*/\1/p" "$work/custom.out")
	awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d <= 1e-5 * (a < 0 ? -a : a)) }' \
		|| die "epoch $e: mse loss '$a', hand-written loss '$b'"
	echo "ok: epoch $e loss $a (mse) = $b (hand-written)"
done
