#!/bin/sh
# stages.sh — training stages declared in the train block (nn(5),
# docs/design.md): two RBMs pretrained greedily, then a classifier over
# them fine-tuned, on 200 generated binary samples.  The stages run in
# order; a stage leaves the parameters it does not update as they were;
# --stage runs one at a time to the bytes of a straight run; a run
# interrupted mid-stage and resumed writes the same bytes; bad checkpoints
# and options are refused in one line with the file left as it was.
. "$(dirname "$0")/lib.sh"

# 16 binary pixels, 3 classes: pixel j is on with probability 0.8 when
# j % 3 is the class, else 0.2
awk 'BEGIN { srand(3); for (i = 0; i < 200; i++) { c = i % 3; s = ""
	for (j = 0; j < 16; j++) s = s ((rand() < (j % 3 == c ? 0.8 : 0.2)) ? 1 : 0) ","
	print s c } }' >"$work/d.csv"
cat >"$work/s.nn" <<'NN'
import rbm
import layers

model r1(v: f32[B, 16]) -> f32[B] {
    param W: f32[16, 8] = normal(0, 0.1)
    param b: f32[16] = zeros
    param c: f32[8] = zeros
    return free_energy(v, W, b, c)
}

# the second RBM's visible units are the first one's hidden probabilities
model r2(v: f32[B, 16]) -> f32[B] {
    param W: f32[8, 4] = normal(0, 0.1)
    param b: f32[8] = zeros
    param c: f32[4] = zeros
    return free_energy(hidden_probs(v, r1.W, r1.c), W, b, c)
}

model net(x: f32[B, 16]) -> f32[B, 3] {
    return dense(hidden_probs(hidden_probs(x, r1.W, r1.c), r2.W, r2.c), 3)
}

train net {
    data train = csv("d.csv", label: -1)
    optimizer = sgd(lr: 0.1, momentum: 0.5)
    batch 10
    seed 1
    stage first {
        model r1
        loss = mean(r1(train.x)) - mean(r1(stop_gradient(gibbs(train.x, r1.W, r1.b, r1.c))))
        epochs 2
    }
    stage second {
        model r2
        loss = mean(r2(train.x)) - mean(free_energy(stop_gradient(gibbs(hidden_probs(train.x, r1.W, r1.c),
               r2.W, r2.b, r2.c)), r2.W, r2.b, r2.c))
        epochs 2
    }
    stage tune {
        update [r1.W, r1.c, r2.W, r2.c, net]
        loss = cross_entropy(net(train.x), train.y)
        epochs 3
        report loss, accuracy on train
    }
}
NN
compile s "$work/s.nn"
s=$work/s

# each stage a model of its own: what it does not update is a buffer of it
"$NNC" --emit=desc --stage second "$work/s.nn" >"$work/second.desc" 2>/dev/null || die "--emit=desc --stage second"
grep -q '^model r2$' "$work/second.desc" && grep -q '^tensor r2.W param ' "$work/second.desc" &&
	grep -q '^tensor r1.W buffer ' "$work/second.desc" || { cat "$work/second.desc"; die "stage second: r2 trained, r1 frozen"; }
"$NNC" --emit=desc "$work/s.nn" 2>/dev/null | grep -q '^model net$' || die "--emit=desc prints the last stage"
echo "ok: --emit=desc --stage second: model r2, r2.W a parameter, r1.W a frozen buffer; the last stage by default"

# tensor FILE NAME: the checksum of a tensor's bytes in a safetensors file
tensor() {
	n=$(od -An -tu8 -N8 "$1" | tr -d ' ')
	set -- "$1" "$2" "$n" "$(dd if="$1" bs=1 skip=8 count="$n" 2>/dev/null |
		sed -n "s/.*\"$2\":{[^}]*\"data_offsets\":\[\([0-9]*\),\([0-9]*\)\].*/\1 \2/p")"
	[ -n "$4" ] || die "no tensor $2 in $1"
	set -- "$1" "$2" "$3" $4
	tail -c +$((8 + $3 + $4 + 1)) "$1" | head -c $(($5 - $4)) | cksum
}

# in order, each with its own model and epochs
"$s" train --save "$work/straight.st" >"$work/train.out" 2>&1 || { cat "$work/train.out"; die "training failed"; }
grep '^stage' "$work/train.out" >"$work/order"
printf '%s\n' "stage first (1 of 3): model r1, 2 epochs" "stage second (2 of 3): model r2, 2 epochs" \
	"stage tune (3 of 3): model net, 3 epochs" | cmp -s - "$work/order" || { cat "$work/order"; die "stage order"; }
[ "$(grep -c '^epoch' "$work/train.out")" -eq 7 ] || die "2 + 2 + 3 epochs expected"
echo "ok: the stages run in order, each for its own epochs"
"$s" train -q --epochs 1 --log "$work/run.csv" || die "--log"
for st in first second tune; do
	[ "$(grep -vc '^#' "$work/run.$st.csv")" -eq 2 ] || die "run.$st.csv: a header and one epoch's row expected"
done
[ ! -e "$work/run.csv" ] || die "--log wrote run.csv besides the stages' files"
echo "ok: --epochs 1 --log run.csv: one row in each of run.first.csv, run.second.csv, run.tune.csv"

# one stage at a time, each from the last one's checkpoint
"$s" train -q --stage first --save "$work/1.st" || die "--stage first"
"$s" train -q --stage second --load "$work/1.st" --save "$work/2.st" || die "--stage second"
"$s" train -q --stage tune --load "$work/2.st" --save "$work/3.st" || die "--stage tune"
cmp "$work/3.st" "$work/straight.st" || die "the stages one by one differ from a straight run"
echo "ok: --stage first, second, tune, each from the last checkpoint: the bytes of a straight run"

# a stage leaves what it does not update alone
for p in r2.W r2.c; do
	[ "$(tensor "$work/1.st" $p)" != "$(tensor "$work/2.st" $p)" ] || die "stage second left its own $p unchanged"
done
for p in r1.W r1.b r1.c net.dense_1.W; do
	[ "$(tensor "$work/1.st" $p)" = "$(tensor "$work/2.st" $p)" ] || die "stage second changed $p, which it does not update"
done
[ "$(tensor "$work/2.st" r1.W)" != "$(tensor "$work/3.st" r1.W)" ] || die "fine-tuning left r1.W unchanged"
[ "$(tensor "$work/2.st" r1.b)" = "$(tensor "$work/3.st" r1.b)" ] || die "fine-tuning changed r1.b, not in its update list"
echo "ok: stage second trains r2 and leaves r1 and the classifier as stage first left them; tune updates r1.W, not r1.b"

# interrupted mid-stage (step 50 of tune's 60) and resumed: the same bytes
NNRT_FAULT_SIGNAL=50 "$s" train -q --save "$work/int.st" 2>/dev/null
[ $? -eq 130 ] || die "the interrupted run did not exit 130"
grep -q '"stage":"tune"' "$work/int.st" || die "the interrupted checkpoint does not say it stopped in stage tune"
"$s" train -q --load "$work/int.st" --save "$work/resumed.st" || die "resume failed"
cmp "$work/resumed.st" "$work/straight.st" || die "resumed mid-stage differs from a straight run"
echo "ok: interrupted in stage tune at step 50, resumed: the bytes of a straight run"

# a checkpoint of another layout of stages, or of none: refused, untouched
sed 's/stage second/stage other/' "$work/s.nn" >"$work/o.nn"
compile o "$work/o.nn"
cp "$work/straight.st" "$work/keep.st"
one_line 3 "another layout" "a checkpoint of the stages 'first second tune', but this trainer's are 'first other tune'" \
	"$work/o" train --load "$work/keep.st" --save "$work/keep.st"
cmp "$work/keep.st" "$work/straight.st" || die "the refused checkpoint was changed"
one_line 3 "another layout, eval" "another layout" "$work/o" eval --load "$work/keep.st"
sed 's/update \[r1.W, r1.c, r2.W, r2.c, net\]/update [net]/' "$work/s.nn" >"$work/u.nn"
grep -q 'update \[net\]' "$work/u.nn" || die "u.nn was not derived"
compile u "$work/u.nn"
one_line 3 "a stage that updates other parameters" "as another program declares them" \
	"$work/u" train --load "$work/keep.st" --save "$work/keep.st"
cmp "$work/keep.st" "$work/straight.st" || die "the refused checkpoint was changed"
cat >"$work/plain.nn" <<'NN'
import layers
model net(x: f32[B, 16]) -> f32[B, 3] {
    return dense(x, 3)
}
train net {
    data train = csv("d.csv", label: -1)
    loss = cross_entropy(net(train.x), train.y)
}
NN
compile plain "$work/plain.nn"
"$work/plain" train -q --save "$work/plain.st" || die "the model without stages failed to train"
one_line 3 "no stages" "a checkpoint of model 'net' without stages" "$s" train --load "$work/plain.st"
one_line 2 "unknown stage" "--stage third: no such stage (the stages: first second tune)" "$s" train --stage third
one_line 2 "--stage without stages" "this model has no training stages" "$work/plain" train --stage first
[ ! -e "$work/x.st" ] || die "a refused run wrote a checkpoint"

# eval and predict use the whole network, from the checkpoint of every stage
"$s" eval --load "$work/straight.st" >"$work/eval.out" 2>&1 || { cat "$work/eval.out"; die "eval failed"; }
want=$(metric "$work/train.out" train.loss) got=$(metric "$work/eval.out" train.loss)
[ -n "$want" ] && [ "$want" = "$got" ] || die "eval --load of the staged checkpoint: train.loss '$got', training's last '$want'"
echo "ok: eval from the checkpoint of every stage: the train.loss tune's last epoch reported ($got)"
