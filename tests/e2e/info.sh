#!/bin/sh
# `trainer info`: the layer table.  For examples/mlp.nn, three dense layers
# and two relus with their output shapes and parameters, and the forward
# FLOPs by the counting rule of compiler/ir/summary.c, computed here from the
# layer sizes; the training step from the compiled grad and update.  Then
# a model with its own operators, a fn of the main file and an unused
# parameter.  No data is read, so the data set need not be installed.
. "$(dirname "$0")/lib.sh"
compile mlp "$SRCDIR/examples/mlp.nn"
"$work/mlp" info >"$work/info" 2>&1 || { cat "$work/info"; die "info failed"; }
cat "$work/info"
sed -n '/^layer /,/^total /p' "$work/info" >"$work/layers"

# row N NAME SHAPE PARAMS: line N of the table (1 = the first layer); the
# last three columns are the shape, the parameters and the FLOPs
row() {
	line=$(sed -n "$(($1 + 1))p" "$work/layers")
	case "$line" in "$2 "*) ;; *) die "layer $1: '$line', expected $2 $3 $4" ;; esac
	[ "$(echo "$line" | awk '{ print $(NF - 2), $(NF - 1) }')" = "$3 $4" ] ||
		die "layer $1: '$line', expected $2 $3 $4"
	echo "ok: layer $1: $2 $3 $4"
}
row 1 "dense(x, 256, init: he)" "[B,256]" 200960
row 2 "relu(dense(...))" "[B,256]" 0
row 3 "dense(h, 128, init: he)" "[B,128]" 32896
row 4 "relu(dense(...))" "[B,128]" 0
row 5 "dense(h, 10)" "[B,10]" 1290
[ "$(wc -l <"$work/layers")" -eq 7 ] || die "the table has other rows than 5 layers and the total"
[ "$(grep -c '^dense(' "$work/layers")" -eq 3 ] || die "expected 3 dense layers"
tail -1 "$work/layers" | grep -qE '^total +235146 ' || die "the layers' total is not the 235146 parameters"
echo "ok: the layers hold the 235146 parameters"

# The rule: a matmul [B,I]x[I,O] is 2*I*O per sample, the bias add O, a relu O.
flops=0
set -- 784 256 128 10
while [ $# -ge 2 ]; do
	flops=$((flops + 2 * $1 * $2 + $2))
	[ $# -gt 2 ] && flops=$((flops + $2))
	shift
done
grep -q "^forward: $flops FLOPs per sample, " "$work/info" || die "forward FLOPs are not $flops per sample"
echo "ok: forward $flops FLOPs per sample"

# Training: each dense's backward is two matmuls (dX, dW), but the first
# layer needs no dX, so grad is a little over 2x forward (with the loss),
# plus the update; at another batch the line follows --batch.
ratio=$(sed -n 's/^training step at batch 64: .*, \([0-9.]*\)x the forward$/\1/p' "$work/info")
at_least "$ratio" 2.0 "training step / forward at batch 64"
at_most "$ratio" 2.5 "training step / forward at batch 64"
"$work/mlp" info --batch 1000 | grep -q '^training step at batch 1000: ' || die "info ignores --batch"
echo "ok: info --batch 1000"

mkdir "$work/src"
cat >"$work/src/net.nn" <<'EOF'
import layers

fn block(x: f32[B, 16]) -> f32[B, 16] {
    return relu(dense(x, 16)) + x
}

model net(x: f32[B, 8]) -> f32[B, 4] {
    param W: f32[8, 16] = he
    param spare: f32[3] = zeros
    h = x @ W
    h = block(h)
    return dense(layer_norm(h), 4)
}

train net {
    data train = random(count: 6)
    loss = mse(net(train.x), train.y)
    optimizer = adam(lr: 0.01)
}
EOF
compile net "$work/src/net.nn"
"$work/net" info >"$work/info" 2>&1 || { cat "$work/info"; die "info of net.nn failed"; }
sed -n '/^layer /,/^total /p' "$work/info" >"$work/layers"
cat "$work/layers"
row 1 "net.nn:10: matmul" "[B,16]" 128
row 2 "dense(x, 16)" "[B,16]" 272
row 3 "relu(dense(...))" "[B,16]" 0
row 4 "block(h)" "[B,16]" 0
row 5 "layer_norm(h)" "[B,16]" 32
row 6 "dense(layer_norm(...), 4)" "[B,4]" 68
row 7 "(unused by the model output)" "[]" 3
tail -1 "$work/layers" | grep -qE '^total +503 ' || die "net.nn's layers do not hold its 503 parameters"
sed -n 2p "$work/layers" | grep -qE ' 256$' || die "the model's own x @ W is not 2*8*16 FLOPs per sample"
echo "ok: net.nn: its own operators, a fn of the main file, an unused parameter"
