#!/bin/sh
# Every number nnc accepts in a train block, the trainer accepts: programs
# with values at the ends of runtime/nnrt_vocab.h's ranges (the least
# subnormal number above an open 0, the largest double, the integer
# limits) compile, and their trainers read the descriptor (`info`) and,
# where the data is small, train one step.  Before the table was shared,
# subnormal numbers compiled and then every trainer command exited 70.
. "$(dirname "$0")/lib.sh"
MIN=4.9406564584124654e-324      # the least positive double (subnormal)
MAX=1.7976931348623157e308       # the largest
n=0

# limit NAME STEP INIT DATA OPTIMIZER SCHEDULE SETTINGS: STEP 1 trains one step
limit() {
	name=$1 step=$2
	n=$((n + 1))
	cat >"$work/$name.nn" <<EOF2
model m(x: f32[B, 4]) -> f32[B, 3] {
    param W: float[4, 3] = $3
    return x @ W
}
train m {
    data train = $4
    loss = cross_entropy(m(train.x), train.y)
    optimizer = $5
    schedule = $6
$(printf '%s\n' "$7" | tr ';' '\n')
}
EOF2
	compile "$name" "$work/$name.nn"
	"$work/$name" info >"$work/$name.info" 2>&1 || { cat "$work/$name.info"; die "$name: 'info' refused what nnc accepted"; }
	if [ "$step" = 1 ]; then
		"$work/$name" train --quiet --no-check-numerics --epochs 1 >"$work/$name.train" 2>&1 ||
			{ cat "$work/$name.train"; die "$name: one training step failed"; }
	fi
	echo "ok: $name"
}

R8='random(count: 8, classes: 3)'
limit sgd-low 1 zeros "$R8" "sgd(lr: $MIN, momentum: 0.999999, nesterov: 1, weight_decay: 1e6)" constant "batch 8"
limit sgd-high 1 zeros "$R8" "sgd(lr: 1e6, momentum: $MIN, weight_decay: $MIN)" "constant(warmup: $MIN)" "batch 8"
limit adam-low 1 zeros "$R8" "adam(lr: 1e-310, beta1: 0.999999, beta2: 0.999999999, eps: $MIN, weight_decay: 1e-310)" constant "batch 8"
limit adamw-high 1 zeros "$R8" "adamw(lr: 0.001, beta1: $MIN, beta2: $MIN, eps: 1)" constant "batch 8"
limit step-low 1 zeros "$R8" sgd "step(warmup: 1e9, every: $MIN, gamma: $MIN)" "batch 8"
limit step-high 1 zeros "$R8" sgd "step(every: 1e9, gamma: 1)" "batch 8"
limit cosine 1 zeros "$R8" "sgd(lr: $MIN)" "cosine(warmup: $MIN, min_lr: $MIN)" "batch 8"
limit init-constant 1 "constant($MIN)" "$R8" sgd constant "batch 8"
limit init-constant-max 1 "constant(-$MAX)" "$R8" sgd constant "batch 8"
limit init-normal 1 "normal(1e-310, $MIN)" "$R8" sgd constant "batch 8"
limit init-uniform 1 "uniform(-$MIN, $MIN)" "$R8" sgd constant "batch 8"
limit init-xavier 1 "xavier_uniform(gain: $MIN)" "$R8" sgd constant "batch 8"
limit init-he 1 "he_normal(gain: $MAX)" "$R8" sgd constant "batch 8"
limit random-low 1 zeros "random(count: 1, classes: 1)" sgd constant "batch 1;epochs 1;seed 0"
limit random-high 0 zeros "random(count: 1000000000, classes: 3)" sgd constant "batch 1048576;epochs 1000000;seed 9007199254740992"
limit csv-low 0 zeros "csv(\"none.csv\", label: -1000000000, header: 1000000000, scale: $MIN, shape: [1, 1, 4], crop: 0, flip: $MIN, noise: $MIN)" sgd constant "batch 1"
limit idx-high 0 zeros "idx(\"none.gz\", scale: $MAX, shape: [2, 2, 1], crop: 1, flip: 1, noise: $MAX)" sgd constant "batch 1"
echo "ok: $n programs at the limits compiled and their trainers ran"
