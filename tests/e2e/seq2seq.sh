#!/bin/sh
# seq2seq.sh — the sequences source and `decode` end to end
# (docs/attention.md, seq2seq).  A one-block encoder-decoder learns to sort
# 6 digits from 8000 generated strings in seconds; greedy decoding of the
# held-out strings (which training never sees) must be exact for at least
# 98% of them, where the same model untrained gets none right.  Then
# decode on standard input and from a file, checked against sort(1), and
# the input it refuses: one line on stderr and a non-zero exit each.
. "$(dirname "$0")/lib.sh"

cat >"$work/s2s.nn" <<'NN'
import layers
import attention

model s2s(x: i32[B, 12]) -> f32[B, 6, 11] {
    param E: float[11, 32] = normal(std: 0.1)
    memory = learned_positions(gather(E, slice(x, 1, 0, 6)), 6)
    memory = layer_norm(encoder_block(memory, 2, 64))
    h = learned_positions(gather(E, slice(x, 1, 6, 12)), 6)
    h = decoder_block(h, memory, 2, 64)
    return layer_norm(h) @ transpose(E, [1, 0])
}

train s2s {
    data train = sequences("sort", length: 6, count: 8000)
    data heldout = sequences("sort", length: 6, count: 1000, part: "heldout")
    loss = cross_entropy(s2s(train.x), train.y)
    optimizer = adamw(lr: 0.005, clip: 1.0)
    batch 32
    epochs 8
    seed 1
    report loss on heldout
}
NN
compile s2s "$work/s2s.nn"
s2s=$work/s2s

"$s2s" train -q --epochs 0 --save "$work/init.st" || die "saving the untrained model failed"
"$s2s" decode --eval --load "$work/init.st" >"$work/init.out" || die "decode --eval (untrained) failed"
at_most "$(metric "$work/init.out" exact_match)" 0.05 "exact match of the untrained model"
"$s2s" train --save "$work/s2s.st" >"$work/train.out" 2>&1 || { cat "$work/train.out"; die "training failed"; }
tail -2 "$work/train.out"
"$s2s" decode --eval --load "$work/s2s.st" >"$work/eval.out" || die "decode --eval failed"
cat "$work/eval.out"
grep -q "^exact_match [01]\.[0-9]\{4\} ([0-9]* of 1000 sequences of 'heldout')$" "$work/eval.out" ||
	die "decode --eval: not one line 'exact_match X (N of 1000 sequences of 'heldout')'"
at_least "$(metric "$work/eval.out" exact_match)" 0.98 "held-out exact match of the sorting Transformer"

# standard input and --input: 200 strings, one answer a line, the same
# from both, and right as sort(1) sorts them (the model, 98%+ exact on
# strings it never saw, may miss a few of these)
awk 'BEGIN { srand(11); for (i = 0; i < 200; i++) { s = ""
	for (j = 0; j < 6; j++) s = s int(rand() * 10); print s } }' >"$work/in.txt"
while read -r s; do echo "$s" | fold -w1 | sort | tr -d '\n'; echo; done <"$work/in.txt" >"$work/want.txt"
"$s2s" decode --load "$work/s2s.st" <"$work/in.txt" >"$work/stdin.out" || die "decode on stdin failed"
"$s2s" decode --load "$work/s2s.st" --input "$work/in.txt" --batch 7 >"$work/file.out" || die "decode --input failed"
cmp -s "$work/stdin.out" "$work/file.out" || die "decode: stdin and --input (at another batch) differ"
[ "$(wc -l <"$work/stdin.out")" -eq 200 ] || die "decode: $(wc -l <"$work/stdin.out") lines for 200 inputs"
right=$(paste "$work/stdin.out" "$work/want.txt" | awk '$1 == $2' | wc -l)
at_least "$right" 190 "sorted right by decode, of 200 strings on stdin"
printf '999000\n' | "$s2s" decode --load "$work/s2s.st" >"$work/one.out"
[ "$(cat "$work/one.out")" = "000999" ] || die "decode 999000: '$(cat "$work/one.out")'"
echo "ok: decode 999000 -> 000999"

# the input decode refuses, and the commands that do not fit
bad_input() { printf "$1" >"$work/bad.txt"; }
bad_input '123456\n12x456\n'
one_line 3 "a character outside the vocabulary" \
	"^s2s: standard input:2: character 3, 'x' (U+0078), is not in the model's vocabulary \"0123456789\"$" \
	sh -c '"$1" decode --load "$2" <"$3"' sh "$s2s" "$work/s2s.st" "$work/bad.txt"
bad_input '1234567\n'
one_line 3 "a line too long" "^s2s: .*bad.txt:1: 7 characters, but the model reads sequences of exactly 6$" \
	"$s2s" decode --load "$work/s2s.st" --input "$work/bad.txt"
bad_input '123456\n\n123456\n'
one_line 3 "an empty line" "bad.txt:2: 0 characters, but the model reads sequences of exactly 6$" \
	"$s2s" decode --load "$work/s2s.st" --input "$work/bad.txt"
bad_input '12345\303\n'
one_line 3 "bytes that are not UTF-8" "bad.txt:1: not UTF-8 text: byte 6 (0xc3) starts no valid character$" \
	"$s2s" decode --load "$work/s2s.st" --input "$work/bad.txt"
bad_input ''
one_line 3 "no input" "bad.txt holds no sequence to decode" "$s2s" decode --load "$work/s2s.st" --input "$work/bad.txt"
one_line 3 "a missing input file" "cannot read .*nowhere.txt" \
	"$s2s" decode --load "$work/s2s.st" --input "$work/nowhere.txt"
one_line 2 "decode without a checkpoint" "decode needs --load FILE" "$s2s" decode
one_line 2 "--eval with --input" "--eval is decode's, without --input" \
	"$s2s" decode --eval --load "$work/s2s.st" --input "$work/in.txt"
one_line 2 "--eval elsewhere" "--eval is decode's" "$s2s" eval --eval --load "$work/s2s.st"
one_line 2 "sample on an encoder-decoder" "sample needs a language model" "$s2s" sample --load "$work/s2s.st"

# a checkpoint whose vocabulary has no start mark (here edited in place:
# '!' for U+0002) is refused, not decoded through the wrong characters
LC_ALL=C sed 's/U+0002 U+0030/U+0021 U+0030/' "$work/s2s.st" >"$work/edited.st"
cmp -s "$work/s2s.st" "$work/edited.st" && die "the checkpoint's vocabulary is not 'U+0002 U+0030 ...'"
one_line 3 "a vocabulary without the start mark" "edited.st has no vocabulary that starts with the start mark U+0002" \
	"$s2s" decode --load "$work/edited.st" --input "$work/in.txt"

# a language model (ids in, logits at every position out) is not an
# encoder-decoder
cat >"$work/lm.nn" <<'NN'
model lm(x: i32[B, 8]) -> f32[B, 8, 11] {
    param E: float[11, 4] = normal(std: 0.1)
    return gather(E, x) @ transpose(E, [1, 0])
}
train lm {
    data train = text("c.txt", length: 8)
    loss = cross_entropy(lm(train.x), train.y)
}
NN
compile lm "$work/lm.nn"
mkdir "$work/data"
printf 'abcdefghij\n%.0s' $(seq 40) >"$work/data/c.txt"
"$work/lm" train -q --data-dir "$work/data" --save "$work/lm.st" || die "training the language model failed"
one_line 2 "decode on a language model" "decode needs an encoder-decoder" "$work/lm" decode --load "$work/lm.st"
