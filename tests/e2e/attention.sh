#!/bin/sh
# attention.sh — stdlib/attention.nn end to end.  A two-block causal
# Transformer learns to copy: each line of the text is 4 random letters of
# "abcd", '|', the same 4 letters and a newline.  The first four cost 2
# bits each and everything else is determined, but only by looking 5
# characters back: a model that sees one character cannot go below 16 bits
# a line of 10, 1.6 bpc (a bigram embedding trained as below reaches 2.45);
# one that copies reaches 0.8.  Then
# the mistakes a user makes with the library (heads that do not divide the
# width, a sequence longer than the positions table) are errors that name
# the user's own line, below the library's.
. "$(dirname "$0")/lib.sh"

mkdir "$work/data"
awk 'BEGIN { srand(7); for (i = 0; i < 6000; i++) { s = ""
	for (j = 0; j < 4; j++) s = s substr("abcd", int(rand() * 4) + 1, 1)
	printf "%s|%s\n", s, s } }' >"$work/data/copy.txt"
cat >"$work/gpt.nn" <<'NN'
import layers
import attention

model gpt(x: i32[B, 32]) -> f32[B, 32, 6] {
    param E: float[6, 32] = normal(std: 0.1)
    h = learned_positions(gather(E, x), 32)
    h = encoder_block(h, 2, 64, causal_mask(32))
    h = encoder_block(h, 2, 64, causal_mask(32))
    return layer_norm(h) @ transpose(E, [1, 0])
}

train gpt {
    data train = text("copy.txt", length: 32, split: 0.9)
    data valid = text("copy.txt", length: 32, split: 0.9, part: "validation")
    loss = cross_entropy(gpt(train.x), train.y)
    optimizer = adamw(lr: 0.01, clip: 1.0)
    batch 16
    epochs 6
    seed 1
    report loss, bpc on valid
}
NN
compile gpt "$work/gpt.nn"
"$work/gpt" train --data-dir "$work/data" >"$work/train.out" 2>&1 || { cat "$work/train.out"; die "training failed"; }
cat "$work/train.out"
at_most "$(metric "$work/train.out" valid.bpc)" 1.2 "valid.bpc of the copying Transformer (without looking back: >= 1.6)"

# show: the attention weights are probed, one per block; a head's matrix
# of a sample is causal (nothing above the diagonal) and each row sums to 1
"$work/gpt" train -q --data-dir "$work/data" --epochs 1 --save "$work/g.safetensors" || die "training to a checkpoint failed"
"$work/gpt" show --load "$work/g.safetensors" --data-dir "$work/data" >"$work/list" || die "show failed"
[ "$(grep -c 'attention_1.weights  \[2, 32, 32\]' "$work/list")" = 2 ] || { cat "$work/list"; die "show does not list 2 probes [2, 32, 32]"; }
echo "ok: show lists the 2 blocks' attention weights"
"$work/gpt" show --load "$work/g.safetensors" --data-dir "$work/data" --probe encoder_block_2 --at 1 --index 3 >"$work/m" ||
	die "show --probe failed"
awk '{ s = 0; for (i = 1; i <= NF; i++) { s += $i; if (i > NR && $i != 0) bad = 1 } if (s < 0.9999 || s > 1.0001) bad = 1 }
	END { exit !(NR == 32 && !bad) }' "$work/m" || { head -3 "$work/m"; die "the head's weights are not 32 causal rows summing to 1"; }
echo "ok: head 1 of block 2, sample 3: 32 rows, each summing to 1, zero above the diagonal"
if command -v gnuplot >/dev/null; then
	"$work/gpt" show --load "$work/g.safetensors" --data-dir "$work/data" --probe 1 --png "$work/a.png" >/dev/null ||
		die "show --png failed"
	[ "$(head -c 4 "$work/a.png" | od -An -c | tr -d ' ')" = '211PNG' ] || die "show --png did not write a PNG"
	echo "ok: show --png draws a PNG"
fi
g="$work/gpt show --load $work/g.safetensors --data-dir $work/data"
one_line 2 "an unknown probe" "no such probe" $g --probe nowhere
one_line 2 "a part of two names" "names more than one probe" $g --probe attention
one_line 2 "--at out of range" "index 2 of axis 1 is outside \[0, 2)" $g --probe 1 --at 2
one_line 2 "--at with too much" "1 leading axes to fix, no more" $g --probe 1 --at 0,0
one_line 2 "--index past the source" "--index 99999: valid has" $g --probe 1 --index 99999

# heads that do not divide the width: the library's line, then the calls
# that led there from the user's file
cat >"$work/heads.nn" <<'NN'
import attention
model m(x: f32[B, 64]) -> f32[B, 16, 4] {
    h = reshape(x, [B, 16, 4])
    return self_attention(h, 3)
}
train m {
    data train = random(count: 8)
    loss = mean(m(train.x))
    optimizer = sgd(lr: 0.1)
}
NN
"$NNC" "$work/heads.nn" -o "$work/heads" 2>"$work/err" && die "3 heads of a width of 4 compiled"
grep -q "attention.nn:[0-9]*:[0-9]*: error: a dimension must be an integer, not 1.33333" "$work/err" || { cat "$work/err"; die "heads: no error on the library's line"; }
grep -q "heads.nn:4:12: note: in call 1 of 'self_attention'" "$work/err" || { cat "$work/err"; die "heads: no note at the user's call"; }
echo "ok: 3 heads of a width of 4: error at the split, note at heads.nn:4:12"

sed -e 's/h = reshape(x, \[B, 16, 4\])/h = learned_positions(reshape(x, [B, 16, 4]), 8)/' -e 's/, 3)/, 2)/' \
	"$work/heads.nn" >"$work/long.nn"
"$NNC" "$work/long.nn" -o "$work/long" 2>"$work/err" && die "16 positions from a table of 8 compiled"
grep -q "error: slice \[0, 16) of an axis of 8" "$work/err" && grep -q "long.nn:3:9: note: in call 1 of 'learned_positions'" "$work/err" ||
	{ cat "$work/err"; die "long: no error naming the table and the user's call"; }
echo "ok: 16 positions from a table of 8: error, note at long.nn:3:9"
