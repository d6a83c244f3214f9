#!/bin/sh
# Parameter names and inputs that were once merged or duplicated:
# a model's calls share one set of parameters wherever they are made (the
# loss, a helper fn, another model); calls are numbered in the order they
# are written, an enclosing call before the calls in its arguments; one
# data field passed to two model inputs is one input.
. "$(dirname "$0")/lib.sh"

# params FILE: the descriptor's parameter tensors, "NAME SHAPE" per line
params() {
	"$NNC" --emit=desc "$1" 2>"$work/err" | awk '$1 == "tensor" && $3 == "param" { print $2, $5 }' ||
		{ cat "$work/err"; die "nnc --emit=desc $1 failed"; }
}

expect_params() { # expect_params WHAT FILE WANT
	got=$(params "$2" | sort | tr '\n' ';')
	[ "$got" = "$3" ] || die "$1: parameters '$got', expected '$3'"
	echo "ok: $1: $got"
}

# The trained model through a helper, and another model called twice:
# one 'enc.W', one 'm.s' (not 'helper_1.m_1.s' for the helper's call
# nor 'm.enc_K.W' for each call of enc).
cat >"$work/shared.nn" <<'NN'
model enc(x: f32[B, 4]) -> f32[B, 4] {
    param W: f32[4, 4] = normal(std: 0.5)
    return x @ W
}
model m(x: f32[B, 4]) -> f32[B, 4] {
    param s: f32[4] = ones
    return enc(enc(x)) * s
}
fn helper(x) {
    return m(x)
}
train m {
    data train = random(count: 8)
    loss = mean(m(train.x) * helper(train.x))
}
NN
expect_params "models share their parameters wherever called" "$work/shared.nn" "enc.W [4,4];m.s [4];"

# Numbered as written: in f(f(x, 3), 5) the enclosing call is f_1 (its W
# is [3, 5]) and the one in its argument f_2 (W [4, 3]); keyword
# arguments in the order written, not the order of the parameters.
cat >"$work/order.nn" <<'NN'
fn f(x: float[B, N], out: int) {
    param W: float[N, out] = normal(std: 0.5)
    return x @ W
}
fn g(a, b) {
    return a + b
}
model m(x: f32[B, 4]) -> f32[B, 2] {
    h = f(f(x, 3), 5)
    return g(b: f(h, 2), a: f(h, 1))
}
train m {
    data train = random(count: 8)
    loss = mean(m(train.x))
}
NN
expect_params "calls numbered in reading order" "$work/order.nn" \
	"m.f_1.W [3,5];m.f_2.W [4,3];m.f_3.W [5,2];m.f_4.W [5,1];"
# the same rule for a builtin that keeps state: batch_norm_1 encloses
cat >"$work/bn.nn" <<'NN'
model m(x: f32[B, 4]) -> f32[B, 4] {
    return batch_norm(batch_norm(x, momentum: 0.5))
}
train m {
    data train = random(count: 8)
    loss = mean(m(train.x))
}
NN
"$NNC" --emit=ir "$work/bn.nn" >"$work/bn.ir" || die "bn.nn"
grep -q 'param m.batch_norm_2.running_mean .*batch_norm(x, momentum: 0.5)$' "$work/bn.ir" ||
	die "the batch_norm in the argument is not batch_norm_2: $(grep running_mean "$work/bn.ir" | head -2)"
echo "ok: batch_norm(batch_norm(x)): the inner call is batch_norm_2"

# One field, two inputs: m(train.x, train.x) is 2x + x.
cat >"$work/twice.nn" <<'NN'
model m(a: f64[B, 3], b: f64[B, 3]) -> f64[B, 3] {
    return a * 2 + b
}
train m {
    data train = random(count: 8)
    loss = mean(m(train.x, train.x))
}
NN
compile twice "$work/twice.nn"
printf '1,2,3\n-0.5,0.25,4\n' >"$work/in.csv"
"$work/twice" predict --input "$work/in.csv" >"$work/out" 2>"$work/err" || { cat "$work/err"; die "predict"; }
[ "$(tr '\n' ' ' <"$work/out")" = "3 6 9 -1.5 0.75 12 " ] || die "m(train.x, train.x): got $(cat "$work/out")"
echo "ok: m(train.x, train.x) = $(tr '\n' ' ' <"$work/out")"
