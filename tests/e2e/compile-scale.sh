#!/bin/sh
# Compile time and memory that grow with the program, not its square
# (bench/compile.sh draws the curve; this guards it without timing runs
# too closely on a shared machine):
#   - 4,000 stacked dense layers through --emit=grad in 1 GiB of address
#     space (it once took 4.3 GB: slot lookups and the listing header);
#   - 80,000 statements of one body lowered within a minute (a scan of
#     every binding per name made it quadratic);
#   - a chain of 300 tanh fuses into groups of at most 128 members (one
#     LLVM loop body for the whole chain grew superlinearly);
#   - a step function of more than 256 nodes is emitted in pieces, and its
#     float64 gradients still match finite differences;
#   - a repeated layer's kernels are written once: 40 and 80 dense layers
#     compile to the same number of kernel functions, and 2,000 layers
#     (24,000 ops) compile at the default -O3 within a minute (each layer
#     compiled on its own took about a minute per 1,000 layers).
. "$(dirname "$0")/lib.sh"

train_block() {
	printf 'train m {\n    data train = random(count: 8)\n    loss = mean(m(train.x) * m(train.x))\n'
	printf '    optimizer = sgd(lr: 0.01)\n    batch 4\n}\n'
}

# dense N DTYPE: N layers of tanh(dense(h, 8))
dense() {
	printf 'import layers\nmodel m(x: %s[B, 8]) -> %s[B, 8] {\n    h = x\n' "$2" "$2"
	awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) print "    h = tanh(dense(h, 8))" }'
	printf '    return h\n}\n'
	train_block
}

if [ "${SANITIZED:-no}" = yes ]; then
	echo "skip: the address-space bound (a sanitizer reserves terabytes)"
else
	dense 4000 f32 >"$work/dense4000.nn"
	(ulimit -v 1048576 && timeout 120 "$NNC" --emit=grad "$work/dense4000.nn" >/dev/null 2>"$work/err") ||
		{ head -3 "$work/err"; die "4,000 dense layers: --emit=grad did not fit 1 GiB in 2 minutes"; }
	echo "ok: 4,000 dense layers, --emit=grad within 1 GiB"
fi

{ printf 'model m(x: f32[B, 8]) -> f32[B, 8] {\n    h = x\n'
  awk 'BEGIN { for (i = 0; i < 80000; i++) print "    h = h * x" }'
  printf '    return h\n}\n'; train_block; } >"$work/long.nn"
timeout 60 "$NNC" --emit=ir "$work/long.nn" >/dev/null 2>"$work/err" ||
	{ head -3 "$work/err"; die "80,000 statements: not lowered within a minute"; }
echo "ok: 80,000 statements lowered"

{ printf 'model m(x: f32[B, 16]) -> f32[B, 16] {\n    h = x\n'
  awk 'BEGIN { for (i = 0; i < 300; i++) print "    h = tanh(h)" }'
  printf '    return h\n}\n'; train_block; } >"$work/chain.nn"
"$NNC" --emit=opt "$work/chain.nn" >"$work/chain.opt" || die "chain: --emit=opt failed"
largest=$(awk '/^fn /{ fn = $2 } { for (i = 1; i <= NF; i++) if ($i ~ /^g[0-9]+$/) n[fn " " $i]++ }
	END { m = 0; for (k in n) if (n[k] > m) m = n[k]; print m }' "$work/chain.opt")
[ "$largest" -le 128 ] && [ "$largest" -ge 100 ] || die "chain of 300 tanh: largest group has $largest members, expected 100 to 128"
echo "ok: 300 chained tanh, largest fusion group $largest members"

dense 40 f64 >"$work/deep.nn"
"$NNC" -O0 --emit=llvm "$work/deep.nn" >"$work/deep.ll" || die "deep: --emit=llvm failed"
pieces=$(grep -c '^define internal .*@nnm_grad\.piece' "$work/deep.ll")
[ "$pieces" -ge 2 ] || die "40 dense layers: nnm_grad in $pieces pieces, expected 2 or more"
compile deep "$work/deep.nn"
"$work/deep" gradcheck --all --tol 1e-6 >"$work/gc" 2>&1 || { cat "$work/gc"; die "40 dense layers in pieces: gradcheck"; }
echo "ok: 40 dense layers, nnm_grad in $pieces pieces, $(grep -i worst "$work/gc" | head -1)"

# kernel functions left at -O0 (singletons are inlined there too)
kernels() {
	dense "$1" f64 >"$work/k$1.nn"
	"$NNC" -O0 --emit=llvm "$work/k$1.nn" >"$work/k$1.ll" || die "$1 dense layers: --emit=llvm failed"
	grep -c '^define internal .*@nnm_[a-z]*\.k[0-9]' "$work/k$1.ll"
}
k40=$(kernels 40)
k80=$(kernels 80)
[ "$k40" -ge 3 ] && [ "$k40" -eq "$k80" ] || die "kernel functions: $k40 for 40 dense layers, $k80 for 80 (expected the same, 3 or more)"
grep -q 'nnm.calls' "$work/k80.ll" || die "80 dense layers: no run of calls became a loop over a table"
echo "ok: 40 and 80 dense layers, $k40 kernel functions each, runs of calls as loops"

dense 2000 f32 >"$work/dense2000.nn"
timeout 60 "$NNC" "$work/dense2000.nn" -o "$work/dense2000" 2>"$work/err" ||
	{ head -3 "$work/err"; die "2,000 dense layers: not compiled at -O3 within a minute"; }
"$work/dense2000" train --epochs 1 >"$work/out" 2>&1 || { tail -3 "$work/out"; die "2,000 dense layers: train failed"; }
echo "ok: 2,000 dense layers compiled at -O3 and trained an epoch"
