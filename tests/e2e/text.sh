#!/bin/sh
# text.sh — the text source and the trainer's language-model features on a
# model without loops (a bigram model: an embedding of each character's id
# read as the logits of the next): training on a generated text reaches
# the bits per character its transitions allow; the validation loss is
# reported as loss and bpc; `sample` draws from the checkpoint alone,
# the same bytes for the same seed; and every bad input (not UTF-8, an
# empty corpus, a text too short, a missing corpus, a vocabulary that is
# not the checkpoint's, a prompt outside the vocabulary) is one line and
# a documented exit status.  Then a recurrent model (rnn on scan) on the
# same batches beats what a bigram can reach; last, the real fortunes
# corpus resolves and an untrained bigram scores exactly log2(K) bits on it.
. "$(dirname "$0")/lib.sh"

# "abcab\n" repeated: after b comes c or a newline (one bit), every other
# transition is certain, so the best a bigram can do is 2 bits per 6
# characters, 1/3 bpc; starting from uniform logits it is log2(4) = 2.
mkdir "$work/data" "$work/other" "$work/empty" "$work/bad" "$work/short" "$work/dir"
awk 'BEGIN { for (i = 0; i < 2000; i++) printf "abcab\n" }' >"$work/data/rep.txt"
cat >"$work/bigram.nn" <<'EOF'
import layers

model bigram(x: i32[B, 16]) -> f32[B, 16, 4] {
    return embedding(x, 4, 4, init: zeros())
}

train bigram {
    data train = text("rep.txt", length: 16, split: 0.9)
    data valid = text("rep.txt", length: 16, split: 0.9, part: "validation")
    loss = cross_entropy(bigram(train.x), train.y)
    optimizer = adam(lr: 0.1)
    batch 8
    epochs 3
    report loss, bpc on valid
}
EOF
compile bigram "$work/bigram.nn"
m="$work/bigram"
"$m" eval --data-dir "$work/data" >"$work/untrained" 2>/dev/null || die "eval of the untrained model failed"
[ "$(metric "$work/untrained" valid.bpc)" = 2 ] || die "uniform logits over 4 classes: bpc $(metric "$work/untrained" valid.bpc), expected exactly 2"
echo "ok: uniform logits over 4 classes score 2 bits per character"
"$m" train --data-dir "$work/data" --save "$work/m.safetensors" >"$work/train.out" 2>&1 || { cat "$work/train.out"; die "training failed"; }
cat "$work/train.out"
bpc=$(metric "$work/train.out" valid.bpc)
at_most "$bpc" 0.36 "valid.bpc after 3 epochs"
at_least "$bpc" 0.32 "valid.bpc (1/3 is the least a bigram can reach; a loss summed over T, not averaged, would not fit)"
loss=$(metric "$work/train.out" valid.loss)
awk -v l="$loss" -v b="$bpc" 'BEGIN { exit !(b > 0 && (l / log(2) - b) ^ 2 < 1e-8) }' || die "bpc $bpc is not loss $loss / ln 2"
echo "ok: bpc = loss / ln 2"

# the batches come in the same order every epoch, so 2 epochs and a
# resumed 2 more are the checkpoint of 4 straight, byte for byte
"$m" train -q --data-dir "$work/data" --epochs 2 --save "$work/two.safetensors" || die "2 epochs failed"
"$m" train -q --data-dir "$work/data" --epochs 4 --load "$work/two.safetensors" --save "$work/resumed.safetensors" || die "resuming failed"
"$m" train -q --data-dir "$work/data" --epochs 4 --save "$work/four.safetensors" || die "4 epochs failed"
cmp -s "$work/resumed.safetensors" "$work/four.safetensors" || die "2 + 2 resumed epochs differ from 4 straight"
grep -q '"vocabulary":"U+000A U+0061 U+0062 U+0063"' "$work/four.safetensors" || die "the checkpoint lacks the vocabulary metadata"
echo "ok: 2 epochs resumed to 4 give the checkpoint of 4 straight, with its vocabulary"
# interrupted at step 100, 16 batches into epoch 2 (84 a epoch): resumed,
# it goes on with batch 17 of the streams
rc=0
NNRT_FAULT_SIGNAL=100 "$m" train -q --data-dir "$work/data" --epochs 4 --save "$work/cut.safetensors" 2>"$work/cut.err" || rc=$?
[ "$rc" = 130 ] || { cat "$work/cut.err"; die "the interrupted run exited $rc, expected 130"; }
"$m" train -q --data-dir "$work/data" --epochs 4 --load "$work/cut.safetensors" --save "$work/cut.safetensors" || die "resuming mid-epoch failed"
cmp -s "$work/cut.safetensors" "$work/four.safetensors" || die "a run interrupted mid-epoch and resumed differs from a straight one"
echo "ok: interrupted mid-epoch and resumed, the same checkpoint as a straight run"

# sample: the checkpoint alone (no --data-dir: the corpus is not read)
"$m" sample --load "$work/m.safetensors" --seed 7 --prompt abc >"$work/s1" || die "sample failed"
"$m" sample --load "$work/m.safetensors" --seed 7 --prompt abc >"$work/s2" || die "sample failed the second time"
"$m" sample --load "$work/m.safetensors" --seed 8 --prompt abc >"$work/s3" || die "sample with seed 8 failed"
cmp -s "$work/s1" "$work/s2" || die "the same seed printed different text"
cmp -s "$work/s1" "$work/s3" && die "seeds 7 and 8 printed the same text"
[ "$(head -c 3 "$work/s1")" = abc ] || die "the sample does not start with its prompt: $(head -c 20 "$work/s1")"
[ "$(tr -d 'abc\n' <"$work/s1" | wc -c)" = 0 ] || die "the sample holds characters outside the vocabulary"
[ "$(tr -d '\n' <"$work/s1" | wc -c)" -ge 160 ] || die "the sample is shorter than the 200 characters asked (less its newlines)"
echo "ok: sample with seed 7 twice prints the same $(wc -c <"$work/s1") bytes; seed 8 others"
# Cold and with the top 2 only, the certain transitions hold at every
# place: the logits are read at the window's last character, also once
# the text outgrows the window of 16 (the prompt alone is 40)
"$m" sample --load "$work/m.safetensors" --temperature 0.2 --top-k 2 --length 300 \
	--prompt "$(awk 'BEGIN { for (i = 0; i < 8; i++) printf "abcab\n" }' | head -c 40)" >"$work/cold" || die "cold sample failed"
tr -d '\n' <"$work/cold" | grep -q 'a[^b]\|c[^a]' && die "a cold sample breaks the text's certain transitions: $(head -c 80 "$work/cold")"
[ "$(tr -d '\n' <"$work/cold" | wc -c)" -ge 280 ] || die "the cold sample is short"
echo "ok: a cold top-2 sample keeps a->b and c->a everywhere"
"$m" sample --load "$work/m.safetensors" --length 5 >"$work/dflt" || die "sample without a prompt failed"
[ "$(head -c 1 "$work/dflt" | od -An -tx1 | tr -d ' ')" = 0a ] || die "the default prompt is not a newline"
echo "ok: without --prompt the sample starts from a newline"

one_line 2 "a prompt character outside the vocabulary" "character 3, 'z' (U+007A), is not in the vocabulary" \
	"$m" sample --load "$work/m.safetensors" --prompt abz
one_line 2 "predict on a model of character ids" "draw text from it with 'sample'" \
	"$m" predict --load "$work/m.safetensors" --data-dir "$work/data"
one_line 2 "sample without --load" "sample needs --load FILE" "$m" sample
one_line 2 "an empty prompt" "--prompt is empty" "$m" sample --load "$work/m.safetensors" --prompt ''
one_line 2 "a temperature of 0" "--temperature: '0' is not a positive" "$m" sample --load "$work/m.safetensors" --temperature 0

# a corpus of other characters against the checkpoint's vocabulary
awk 'BEGIN { for (i = 0; i < 2000; i++) printf "abdab\n" }' >"$work/other/rep.txt"
one_line 3 "a vocabulary that differs from the checkpoint's" \
	"vocabulary of the checkpoint .* differs from that of data source 'train' .*id 3 is 'c' (U+0063) in the first, 'd' (U+0064)" \
	"$m" train --epochs 4 --load "$work/m.safetensors" --data-dir "$work/other"

# bad corpora: each one line and exit 3
printf 'abcab\nab\303\251\377cab\n' >"$work/bad/rep.txt"
one_line 3 "a file that is not UTF-8" "bad/rep.txt: not UTF-8 text: byte offset 10 (0xff)" "$m" train --data-dir "$work/bad"
: >"$work/empty/rep.txt"
one_line 3 "an empty corpus" "empty/rep.txt is empty" "$m" train --data-dir "$work/empty"
awk 'BEGIN { for (i = 0; i < 20; i++) printf "abcab\n" }' >"$work/short/rep.txt"
one_line 3 "a text shorter than batch x (length + 1)" "the train part (108 of 120 characters, split 0.9) is too short for length 16 at batch 8" \
	"$m" train --data-dir "$work/short"
one_line 3 "a validation part too short" "the validation part (12 of 120 characters" "$m" eval --load "$work/m.safetensors" --batch 1 --data-dir "$work/short"
one_line 3 "a missing corpus" "text corpus 'rep.txt' not found (tried .*/dir/rep.txt, /usr/share/games/rep.txt" \
	"$m" train --data-dir "$work/dir"
mkdir "$work/dir/rep.txt"
printf 'abc' >"$work/dir/rep.txt/with.dot"
one_line 3 "a corpus directory without a file to read" "the directory holds no file to read" "$m" train --data-dir "$work/dir"
sed 's/batch 8/batch 4/; s/embedding(x, 4, 4/embedding(x, 3, 3/; s/16, 4]/16, 3]/' "$work/bigram.nn" >"$work/narrow.nn"
compile narrow "$work/narrow.nn"
one_line 3 "a model with fewer classes than characters" "has 4 distinct characters, but the model's output has 3 classes" \
	"$work/narrow" train --data-dir "$work/data"

# A recurrent model (stdlib/recurrent.nn's rnn, on scan) on the same
# batches: it sees what came two characters back, so it tells "ab" + "c"
# from "ab" + newline and goes far below the bigram's 1/3 bit; its sample
# is the text itself.
cat >"$work/rnn.nn" <<'EOF'
import layers
import recurrent

model m(x: i32[B, 16]) -> f32[B, 16, 4] {
    h = rnn(embedding(x, 4, 8), 16)
    param Wo: f32[16, 4] = xavier_uniform
    param bo: f32[4] = zeros
    return h @ Wo + bo
}

train m {
    data train = text("rep.txt", length: 16, split: 0.9)
    data valid = text("rep.txt", length: 16, split: 0.9, part: "validation")
    loss = cross_entropy(m(train.x), train.y)
    optimizer = adam(lr: 0.01)
    batch 8
    epochs 5
    report loss, bpc on valid
}
EOF
compile rnn "$work/rnn.nn"
"$work/rnn" train --data-dir "$work/data" --save "$work/rnn.safetensors" >"$work/rnn.out" 2>&1 || { cat "$work/rnn.out"; die "training the rnn failed"; }
at_most "$(metric "$work/rnn.out" valid.bpc)" 0.05 "the rnn's valid.bpc (the bigram's bound is 1/3)"
"$work/rnn" sample --load "$work/rnn.safetensors" --length 60 --seed 1 >"$work/rnn.sample" || die "rnn sample failed"
awk 'BEGIN { printf "\n"; for (i = 0; i < 10; i++) printf "abcab\n" }' | cmp -s - "$work/rnn.sample" ||
	die "the rnn's sample is not the text: $(cat "$work/rnn.sample")"
echo "ok: the rnn samples the text itself"

# The real corpus: /usr/share/games/fortunes, found by name (Debian's
# fortunes and fortunes-min); 113 distinct characters fit 128 classes,
# and zero logits score log2(128) = 7 bits exactly on its validation part.
if [ -d /usr/share/games/fortunes ]; then
	sed 's/"rep.txt", length: 16/"fortunes", length: 64/g; s/16, 4]/64, 128]/; s/\[B, 16\]/[B, 64]/; s/embedding(x, 4, 4/embedding(x, 128, 128/; s/batch 8/batch 32/' \
		"$work/bigram.nn" >"$work/fortunes.nn"
	compile fort "$work/fortunes.nn"   # not "fortunes": the .nn file's directory is searched first
	"$work/fort" eval >"$work/f.out" 2>"$work/f.err" || { cat "$work/f.err"; die "eval on the fortunes corpus failed"; }
	[ "$(metric "$work/f.out" valid.bpc)" = 7 ] || die "fortunes: zero logits over 128 classes score $(metric "$work/f.out" valid.bpc) bits, expected 7"
	echo "ok: the fortunes corpus resolves; zero logits over 128 classes score 7 bits per character"
else
	echo "skip: /usr/share/games/fortunes is not installed (apt-get install fortunes fortunes-min)"
fi
echo "ok: text source, bpc and sample"

# A stateful rnn carries its state across batches, but each epoch starts
# the streams again from the zero state: resuming at an epoch's end from
# the checkpoint as saved, or with its carried state zeroed, gives the same
# bytes (the state it ended the epoch with is not zero, or the check
# could not fail).
sed -e 's/rnn(embedding(x, 4, 8), 16)/rnn(embedding(x, 4, 8), 16, stateful: 1)/' "$work/rnn.nn" >"$work/srnn.nn"
compile srnn "$work/srnn.nn"
"$work/srnn" train -q --data-dir "$work/data" --epochs 1 --save "$work/s1.st" || die "stateful rnn: 1 epoch failed"
/usr/bin/python3 - "$work/s1.st" "$work/z1.st" <<'PY' || die "python could not zero the carried state"
import json, struct, sys, zlib
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
head, data = json.loads(raw[8:8 + n]), bytearray(raw[8 + n:])
states = [k for k in head if k.endswith(".state")]
assert states, "no carried state in the checkpoint"
for k in states:
    a, b = head[k]["data_offsets"]
    assert any(data[a:b]), k + " is zero after an epoch"
    data[a:b] = bytes(b - a)
head["__metadata__"]["checksum"] = "crc32:%08x" % zlib.crc32(bytes(data))
h = json.dumps(head).encode()
h += b" " * (-len(h) % 8)
open(sys.argv[2], "wb").write(struct.pack("<Q", len(h)) + h + bytes(data))
PY
"$work/srnn" train -q --data-dir "$work/data" --epochs 2 --load "$work/s1.st" --save "$work/s2.st" || die "resuming failed"
"$work/srnn" train -q --data-dir "$work/data" --epochs 2 --load "$work/z1.st" --save "$work/z2.st" || die "resuming the zeroed failed"
cmp -s "$work/s2.st" "$work/z2.st" || die "the second epoch depends on the state the first ended with"
echo "ok: each epoch starts the carried state from zero"
