#!/bin/sh
# The same bytes at any thread count (runtime/gemm.c, pool.c): mlp and
# lenet of examples/ write byte-identical checkpoints at --threads 1, 2
# and 3, on 2048 random samples for 2 epochs (64 steps: every GEMM and
# convolution of a step, the optimizer and a resume's path).  --shards
# changes the arithmetic (runtime/shard.c) and is as deterministic;
# batch norm and a stateful scan refuse it.
. "$(dirname "$0")/lib.sh"
for ex in mlp lenet; do
	on_random $ex 2048
	for t in 1 2 3; do
		"$work/$ex" train -q --epochs 2 --threads $t --save "$work/$ex.$t.st" >"$work/out" 2>&1 ||
			{ cat "$work/out"; die "$ex --threads $t failed"; }
	done
	cmp "$work/$ex.1.st" "$work/$ex.2.st" || die "$ex: --threads 1 and 2 wrote different checkpoints"
	cmp "$work/$ex.1.st" "$work/$ex.3.st" || die "$ex: --threads 1 and 3 wrote different checkpoints"
	echo "ok: $ex: --threads 1, 2 and 3 write the same bytes"
	for t in 1 2; do
		"$work/$ex" train -q --epochs 2 --threads $t --shards 3 --save "$work/$ex.s$t.st" >"$work/out" 2>&1 ||
			{ cat "$work/out"; die "$ex --shards 3 --threads $t failed"; }
	done
	cmp "$work/$ex.s1.st" "$work/$ex.s2.st" || die "$ex: --shards 3 at --threads 1 and 2 differ"
	cmp -s "$work/$ex.1.st" "$work/$ex.s1.st" && die "$ex: --shards 3 wrote the bytes of one shard"
	echo "ok: $ex: --shards 3 writes the same bytes at --threads 1 and 2"
done

# Batch norm's statistics are the whole batch's: shards are refused.
cat >"$work/bn.nn" <<'NN'
import layers
model bn(x: f32[B, 16]) -> f32[B, 4] {
    return dense(relu(batch_norm(dense(x, 8))), 4)
}
train bn {
    data train = random(count: 256, classes: 4)
    loss = cross_entropy(bn(train.x), train.y)
    optimizer = sgd(lr: 0.1)
    batch 32
    epochs 1
}
NN
compile bn "$work/bn.nn"
one_line 2 "batch norm under --shards" "batch norm.*whole batch" "$work/bn" train --shards 2
one_line 2 "--shards above --batch" "leaves shards without samples" "$work/mlp" train --shards 65 --batch 64

# same_bytes NAME LABEL T...: the trainer NAME writes the same checkpoint
# after 2 epochs at each --threads T as at the first.
same_bytes() {
	name=$1 label=$2
	shift 2
	for t in "$@"; do
		"$work/$name" train -q --epochs 2 --threads $t --save "$work/$name.$t.st" >"$work/out" 2>&1 ||
			{ cat "$work/out"; die "$name --threads $t failed"; }
		cmp "$work/$name.$1.st" "$work/$name.$t.st" || die "$label: --threads $1 and $t wrote different checkpoints"
	done
	echo "ok: $label: --threads $* write the same bytes"
}

# A stateful scan carries its state row by row across batches: refused
# too; at any --threads its bytes are the same.
cat >"$work/st.nn" <<'NN'
import layers
import recurrent
model m(x: f32[B, 12]) -> f32[B, 2] {
    return dense(last_step(lstm(reshape(x, [B, 4, 3]), 8, stateful: 1)), 2)
}
train m {
    data train = random(count: 96, classes: 2)
    loss = cross_entropy(m(train.x), train.y)
    optimizer = adam(lr: 0.01)
    batch 12
}
NN
compile st "$work/st.nn"
same_bytes st "a stateful lstm" 1 2
one_line 2 "a stateful scan under --shards" "carries its state" "$work/st" train --shards 2

# Attention's softmax shares its rows among the threads (runtime/softmax.c)
# and its batched products their heads (runtime/gemm.c): the same bytes at
# --threads 1, 2 and 3.
cat >"$work/at.nn" <<'NN'
import layers
import attention
model at(x: f32[B, 64]) -> f32[B, 2] {
    h = encoder_block(reshape(x, [B, 16, 4]), 2, 8, causal_mask(16))
    return dense(reshape(h, [B, 64]), 2)
}
train at {
    data train = random(count: 256, classes: 2)
    loss = cross_entropy(at(train.x), train.y)
    optimizer = adam(lr: 0.01)
    batch 32
}
NN
compile at "$work/at.nn"
same_bytes at "attention" 1 2 3
