#!/bin/sh
# bert.sh — BERT's two stages end to end (docs/attention.md, BERT): a
# masked-language model pretrained on a generated corpus of two "fortunes"
# files, then a classifier of the file a text came from, started from it
# with --init.  Checked: the masked-token accuracy beats the unigram
# baseline (always the most frequent character) by far; --init reads
# exactly the encoder's values, leaves the head and the optimizer state
# as a fresh run has them, and refuses what cannot be meant; the loss of
# masked labels is the mean over the chosen positions only (PyTorch's
# ignore_index), against its closed form.  The same two stages as one
# program with stages (examples/bert.nn's form) hand the encoder on.
. "$(dirname "$0")/lib.sh"
PY=/usr/bin/python3
$PY -c 'import json, struct' 2>/dev/null || { echo "no python3: skipped"; exit 77; }

# Each line counts on from a random letter: "defgha..." in file one over
# a-h, "vwxyzs..." in file two over s-z, one fortune per line.  A masked
# letter follows from its neighbours; alone, the most frequent character
# is right about 1 time in 9.
mkdir "$work/data"
awk -v seed=3 -v abc=abcdefgh -v n=500 -f /dev/stdin >"$work/data/one" <<'AWK'
BEGIN { srand(seed); for (i = 0; i < n; i++) { s = ""; k = int(rand() * 8); len = 8 + int(rand() * 24)
	for (j = 0; j < len; j++) s = s substr(abc, (k + j) % 8 + 1, 1)
	print s; print "%" } }
AWK
sed 'y/abcdefgh/stuvwxyz/' "$work/data/one" | head -n 800 >"$work/data/two"
chars=$(cat "$work/data/one" "$work/data/two" | wc -c)

cat >"$work/mlm.nn" <<'NN'
import layers
import attention

fn encoder(x: i32[B, T], E: float[V, D]) -> float[B, T, D] {
    h = learned_positions(gather(E, x), 32)
    return layer_norm(encoder_block(h, 2, 64))
}

model mlm(x: i32[B, 32]) -> f32[B, 32, 20] {
    param E: float[20, 32] = normal(std: 0.1)
    return encoder(x, E) @ transpose(E, [1, 0])
}

train mlm {
    data train = text("data", length: 32, mask: 0.15)
    data valid = text("data", length: 32, mask: 0.15, part: "validation")
    loss = cross_entropy(mlm(train.x), train.y)
    optimizer = adamw(lr: 0.003)
    batch 8
    epochs 12
    seed 1
    report loss, accuracy on valid
}
NN
sed -e 's/model mlm(x: i32\[B, 32\]) -> f32\[B, 32, 20\]/model cls(x: i32[B, 32]) -> f32[B, 2]/' \
    -e 's/return encoder(x, E) @ transpose(E, \[1, 0\])/return dense(mean(encoder(x, E), axis: 1), 2)/' \
    -e 's/train mlm/train cls/' -e 's/mlm(train.x)/cls(train.x)/' -e 's/mask: 0.15/labels: "files"/' \
    -e 's/epochs 12/epochs 1/' -e 's/report loss, accuracy on valid/report accuracy on valid/' "$work/mlm.nn" >"$work/cls.nn"
grep -q 'dense(mean(encoder' "$work/cls.nn" && grep -q 'labels: "files"' "$work/cls.nn" || die "cls.nn was not derived"
compile mlm "$work/mlm.nn"
compile cls "$work/cls.nn"

# ---- stage one: masked-language model against the unigram baseline ----
"$work/mlm" train --data-dir "$work" --save "$work/p.st" >"$work/mlm.out" 2>&1 || { cat "$work/mlm.out"; die "pretraining failed"; }
cat "$work/mlm.out"
unigram=$($PY - "$work/data" <<'PY'
import collections, os, sys
text = "".join(open(os.path.join(sys.argv[1], n)).read() for n in sorted(os.listdir(sys.argv[1])))
part = text[int(0.9 * len(text)):]          # the validation part: the most frequent character's share
print(collections.Counter(part).most_common(1)[0][1] / len(part))
PY
)
acc=$(metric "$work/mlm.out" valid.accuracy)
echo "unigram baseline $unigram, masked-token accuracy $acc"
at_least "$acc" "$(awk -v u="$unigram" 'BEGIN { print 5 * u }')" "masked-token accuracy (5x the unigram baseline $unigram)"

# training draws the masks anew each epoch from (seed, epoch, position):
# 1 + 1 epochs resumed write the bytes of 2 straight
"$work/mlm" train -q --data-dir "$work" --epochs 2 --save "$work/s2.st" || die "2 epochs"
"$work/mlm" train -q --data-dir "$work" --epochs 1 --save "$work/r.st" || die "1 epoch"
"$work/mlm" train -q --data-dir "$work" --epochs 2 --load "$work/r.st" --save "$work/r.st" || die "resumed"
cmp -s "$work/s2.st" "$work/r.st" || die "a resumed masked-language run differs from a straight one"
echo "ok: 1 + 1 resumed epochs of masked batches = 2 straight, byte for byte"

# ---- stage two: --init reads the encoder, the head starts afresh ----
"$work/cls" train --data-dir "$work" --init "$work/p.st" --save "$work/c.st" >"$work/cls.out" 2>&1 ||
	{ cat "$work/cls.out"; die "fine-tuning failed"; }
cat "$work/cls.out"
grep -q "^--init $work/p.st (model 'mlm'): 20 of 22 parameters (10272 of 10338 values) loaded by name; kept their initializer: cls.dense_1.W, cls.dense_1.b$" \
	"$work/cls.out" || die "--init did not say which parameters it read"
grep -q "^data 'train': text $work/data by file (train part: 810 of 900 texts, 2 classes, 0 longer than 32 characters and cut)$" "$work/cls.out" ||
	die "the category source did not report its classes and samples"
at_least "$(metric "$work/cls.out" valid.accuracy)" 0.95 "fine-tuned accuracy on two files of other letters"
"$work/cls" train -q --data-dir "$work" --init "$work/p.st" --epochs 0 --save "$work/init.st" || die "--init, 0 epochs"
"$work/cls" train -q --data-dir "$work" --epochs 0 --save "$work/fresh.st" || die "a fresh run, 0 epochs"
$PY - "$work/p.st" "$work/init.st" "$work/fresh.st" <<'PY' || die "--init did not read the right values"
import json, struct, sys
def read(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    head = json.loads(raw[8:8 + n])
    meta = head.pop("__metadata__")
    return meta, {k: raw[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]] for k, v in head.items()}
(pm, p), (im, i), (fm, f) = read(sys.argv[1]), read(sys.argv[2]), read(sys.argv[3])
assert im["step"] == "0" and im["epoch"] == "0", "a fresh run's position"
state = [k for k in i if k.rsplit(".", 1)[0] in i]          # the optimizer's: X.m, X.v
loaded = [k for k in i if k not in state and "mlm." + k[len("cls."):] in p]
kept = [k for k in i if k not in state and k not in loaded]
assert len(loaded) == 20 and kept == ["cls.dense_1.W", "cls.dense_1.b"] and state, (loaded, kept, state)
for k in loaded:
    assert i[k] == p["mlm." + k[len("cls."):]], k + ": not the pretrained value"
    assert i[k] != f[k], k + ": the pretrained value is the fresh one"
for k in kept + state:
    assert i[k] == f[k], k + ": not what a fresh run has"
print("ok: %d tensors hold the pretrained values; %s and the %d optimizer tensors are a fresh run's"
      % (len(loaded), ", ".join(kept), len(state)))
PY

# ---- both stages in one file (examples/bert.nn): the encoder a model of
# its own, which the stages' models call, so both name its parameters enc.*
cat >"$work/one.nn" <<'NN'
import layers
import attention

model enc(x: i32[B, 32]) -> f32[B, 32, 32] {
    param E: float[20, 32] = normal(std: 0.1)
    h = learned_positions(gather(E, x), 32)
    return layer_norm(encoder_block(h, 2, 64))
}
model mlm(x: i32[B, 32]) -> f32[B, 32, 20] {
    return enc(x) @ transpose(enc.E, [1, 0])
}
model cls(x: i32[B, 32]) -> f32[B, 2] {
    return dense(mean(enc(x), axis: 1), 2)
}
train cls {
    optimizer = adamw(lr: 0.003)
    batch 8
    seed 1
    stage pretrain {
        model mlm
        update [enc]
        data train = text("data", length: 32, mask: 0.15)
        data valid = text("data", length: 32, mask: 0.15, part: "validation")
        loss = cross_entropy(mlm(train.x), train.y)
        epochs 12
        report loss, accuracy on valid
    }
    stage finetune {
        update [enc, cls]
        data train = text("data", length: 32, labels: "files")
        data valid = text("data", length: 32, labels: "files", part: "validation")
        loss = cross_entropy(cls(train.x), train.y)
        epochs 1
        report accuracy on valid
    }
}
NN
compile one "$work/one.nn"
"$work/one" train --data-dir "$work" --save "$work/o.st" >"$work/one.out" 2>&1 || { cat "$work/one.out"; die "one file: training failed"; }
grep '^stage' "$work/one.out"
sed -n '/^stage pretrain/,/^stage finetune/p' "$work/one.out" >"$work/one.pre"
at_least "$(metric "$work/one.pre" valid.accuracy)" "$(awk -v u="$unigram" 'BEGIN { print 5 * u }')" \
	"one file: masked-token accuracy of stage pretrain (5x the unigram baseline $unigram)"
at_least "$(metric "$work/one.out" valid.accuracy)" 0.95 "one file: fine-tuned accuracy of stage finetune"
"$work/one" train -q --data-dir "$work" --stage pretrain --save "$work/o1.st" || die "one file: --stage pretrain"
"$work/one" train -q --data-dir "$work" --stage finetune --load "$work/o1.st" --epochs 0 --save "$work/o2.st" ||
	die "one file: --stage finetune, 0 epochs"
"$work/one" train -q --data-dir "$work" --stage finetune --epochs 0 --save "$work/o0.st" || die "one file: fresh"
$PY - "$work/o1.st" "$work/o2.st" "$work/o0.st" <<'PY' || die "one file: fine-tuning does not start from the pretrained encoder"
import json, struct, sys
def read(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    head = json.loads(raw[8:8 + n])
    head.pop("__metadata__")
    return {k: raw[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]] for k, v in head.items()}
p, f, z = (read(a) for a in sys.argv[1:4])
enc = [k for k in p if k.startswith("enc.") and not k.endswith((".m", ".v"))]
assert len(enc) == 20, enc
for k in enc:
    assert f[k] == p[k], k + ": not the pretrained value"
    assert z[k] != p[k], k + ": the pretrained value is the fresh one"
print("ok: one file: stage finetune starts from the %d encoder tensors stage pretrain wrote" % len(enc))
PY

# ---- refusals: one line, exit 3 (data) or 2 (usage) ----
sed 's/float\[20, 32\]/float[20, 16]/' "$work/cls.nn" >"$work/narrow.nn"
compile narrow "$work/narrow.nn"
one_line 3 "a same-named parameter of another shape" \
	"--init $work/p.st: its mlm.E is this model's cls.E by name, but tensor cls.E has shape \[20,32\], the model wants \[20,16\]" \
	"$work/narrow" train --data-dir "$work" --init "$work/p.st"
sed 's/encoder(/body(/g' "$work/cls.nn" >"$work/other.nn"
sed -i 's/param E:/param F:/; s/body(x, E)/body(x, F)/' "$work/other.nn"
compile other "$work/other.nn"
one_line 3 "no parameter in common" "--init $work/p.st: none of the 22 parameters of model 'cls' is in it by name" \
	"$work/other" train --data-dir "$work" --init "$work/p.st"
one_line 2 "--init with --load" "--init FILE starts a fresh training run" \
	"$work/cls" train --data-dir "$work" --init "$work/p.st" --load "$work/c.st"
one_line 2 "--init with eval" "it goes with 'train' and without --load" "$work/cls" eval --data-dir "$work" --init "$work/p.st"
one_line 3 "a missing --init file" "cannot read checkpoint $work/none.st" "$work/cls" train --data-dir "$work" --init "$work/none.st"
head -c 100 "$work/p.st" >"$work/short.st"
one_line 3 "a cut --init file" "$work/short.st: not a safetensors file" "$work/cls" train --data-dir "$work" --init "$work/short.st"

sed 's/f32\[B, 2\]/f32[B, 1]/; s/axis: 1), 2)/axis: 1), 1)/' "$work/cls.nn" >"$work/one.nn"
compile one "$work/one.nn"
one_line 3 "more files than classes" "text corpus $work/data has 2 files, but the model's output has 1 classes" \
	"$work/one" train --data-dir "$work"
sed 's/float\[20, 32\]/float[18, 32]/; s/f32\[B, 32, 20\]/f32[B, 32, 18]/' "$work/mlm.nn" >"$work/small.nn"
compile small "$work/small.nn"
one_line 3 "a table without the [MASK] row" "id 18 (at position [0-9]* of the batch) is outside the table of 18 rows" \
	"$work/small" train --data-dir "$work"

# ---- the loss of masked labels against its closed form ----
# logits = row x of E = 2 I: a chosen position scores ln(e^2 + K - 1) - 2
# when x kept its character (the argmax is then right), ln(e^2 + K - 1)
# otherwise; over the chosen positions alone, loss = ln(e^2 + 19) - 2 acc.
# One validation batch, so the reports' loss and accuracy mean over the
# same positions.  A mean over all positions would be some 6 times smaller.
cat >"$work/eye.nn" <<'NN'
model eye(x: i32[B, 32]) -> f32[B, 32, 20] {
    param E: float[20, 20] = zeros()
    return gather(E, x)
}
train eye {
    data train = text("data", length: 32, mask: 0.15)
    data valid = text("data", length: 32, mask: 0.15, split: SPLIT, part: "validation")
    loss = cross_entropy(eye(train.x), train.y)
    optimizer = sgd(lr: 0.1)
    batch 8
    report loss, accuracy on valid
}
NN
# 400 validation characters: 8 streams of 50, one batch of 32
sed -i "s/SPLIT/$(awk -v n="$chars" 'BEGIN { printf "%.6f", 1 - 400 / n }')/" "$work/eye.nn"
compile eye "$work/eye.nn"
$PY - "$work/eye2.st" <<'PY' || die "could not write the table"
import json, struct, sys
data = b"".join(struct.pack("<f", 2.0 if r == c else 0.0) for r in range(20) for c in range(20))
head = json.dumps({"__metadata__": {"model": "eye"}, "eye.E": {"dtype": "F32", "shape": [20, 20],
                   "data_offsets": [0, len(data)]}}).encode()
head += b" " * (-len(head) % 8)
open(sys.argv[1], "wb").write(struct.pack("<Q", len(head)) + head + data)
PY
"$work/eye" train -q --data-dir "$work" --init "$work/eye2.st" --epochs 0 --save "$work/eye.st" || die "eye: --init"
"$work/eye" eval --data-dir "$work" --load "$work/eye.st" >"$work/eye.out" 2>&1 || { cat "$work/eye.out"; die "eye: eval"; }
cat "$work/eye.out"
loss=$(metric "$work/eye.out" valid.loss) acc=$(metric "$work/eye.out" valid.accuracy)
awk -v l="$loss" -v a="$acc" 'BEGIN { w = log(exp(2) + 19) - 2 * a; d = l - w
	exit !(a > 0 && a < 0.5 && d < 2e-5 && d > -2e-5) }' ||
	die "masked loss $loss, accuracy $acc: not ln(e^2 + 19) - 2 accuracy"
echo "ok: masked loss $loss = ln(e^2 + 19) - 2 x $acc over the chosen positions"
