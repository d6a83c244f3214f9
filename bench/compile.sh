#!/bin/sh
# bench/compile.sh — how nnc's compile time and memory grow with the size
# of the program.  Runs nnc only (no trainer, no PyTorch), on programs
# generated here at several sizes:
#   chain N   one model of N chained tanh: one long elementwise chain
#   tree N    a binary tree of fn calls, N leaf calls in all, each a tanh
#             with a parameter of its own
#   dense N   N stacked dense layers of width 8 (about 7 ops each)
# For each it prints the CPU seconds and the peak resident memory of
#   nnc --emit=grad FILE            the front end, lowering and autodiff alone
#   nnc -O0 FILE -o TRAINER         the whole compilation, LLVM without optimization
#   nnc -O3 FILE -o TRAINER         the whole compilation as nnc does by default
#
# usage: bench/compile.sh [KIND...]       (default: chain tree dense)
#   NNC          the compiler (default ./nnc)
#   SIZES_chain, SIZES_tree, SIZES_dense   the sizes, e.g. SIZES_dense="500 1000"
#   O3_MAX_OPS   skip -O3 above this many ops (default: none skipped; each
#                distinct kernel costs LLVM milliseconds at -O3, and a
#                program of many distinct kernels can take minutes)
set -u
NNC=${NNC:-./nnc}
[ -x "$NNC" ] || { echo "compile.sh: no compiler at $NNC (run from a built tree)" >&2; exit 2; }
command -v /usr/bin/time >/dev/null || { echo "compile.sh: needs /usr/bin/time (GNU time)" >&2; exit 2; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

train_block() {
	printf 'train m {\n    data train = random(count: 64)\n    loss = mean(m(train.x) * m(train.x))\n'
	printf '    optimizer = sgd(lr: 0.01)\n}\n'
}

gen_chain() { # N tanh in a row
	printf 'model m(x: f32[B, 16]) -> f32[B, 16] {\n    h = x\n'
	awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) print "    h = tanh(h)" }'
	printf '    return h\n}\n'
	train_block
}

gen_tree() { # t0 is a scaled tanh with its own parameter; t(k+1) calls t(k)
	# twice, so N = 2^depth leaf calls, each distinct (CSE merges none)
	awk -v n="$1" 'BEGIN { d = 0; for (m = 1; m < n; m *= 2) d++
		print "fn t0(x) {\n    param s: float[16] = ones\n    return tanh(x * s)\n}"
		for (k = 1; k <= d; k++) printf "fn t%d(x) {\n    return t%d(x) + t%d(x)\n}\n", k, k - 1, k - 1
		printf "model m(x: f32[B, 16]) -> f32[B, 16] {\n    return t%d(x)\n}\n", d }'
	train_block
}

gen_dense() { # N dense layers of width 8 with tanh between
	printf 'import layers\nmodel m(x: f32[B, 8]) -> f32[B, 8] {\n    h = x\n'
	awk -v n="$1" 'BEGIN { for (i = 0; i < n; i++) print "    h = tanh(dense(h, 8))" }'
	printf '    return h\n}\n'
	train_block
}

# measure ARGS...: "seconds peak_MiB" of one nnc run; the seconds are CPU
# time (user + system, nnc and the linker it runs), which other jobs on the
# machine disturb less than the wall clock
measure() {
	/usr/bin/time -f '%U %S %M' -o "$work/time" "$NNC" "$@" >/dev/null 2>"$work/err" ||
		{ echo "compile.sh: nnc $* failed:" >&2; head -5 "$work/err" >&2; echo "fail -"; return; }
	awk '{ printf "%.2f %d", $1 + $2, $3 / 1024 }' "$work/time"
}

: "${SIZES_chain:=128 256 512 1024}"
: "${SIZES_tree:=128 256 512 1024}"
: "${SIZES_dense:=250 500 1000 2000 4000}"
: "${O3_MAX_OPS:=1000000000}"
[ $# -eq 0 ] && set -- chain tree dense
echo "nnc: $NNC; machine: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
echo "columns: ops in the forward listing; CPU seconds and peak MiB of --emit=grad, of a whole"
echo "compilation at -O0 and at -O3 (the default; '-' above O3_MAX_OPS=$O3_MAX_OPS ops)"
printf '%-6s %6s %7s %8s %8s %8s %8s %8s %8s\n' kind size ops grad_s grad_MiB O0_s O0_MiB O3_s O3_MiB
for kind in "$@"; do
	eval "sizes=\$SIZES_$kind"
	for n in $sizes; do
		f=$work/$kind-$n.nn
		"gen_$kind" "$n" >"$f"
		ops=$("$NNC" --emit=ir "$f" 2>/dev/null | grep -c '^ *%')
		grad=$(measure --emit=grad "$f")
		o0=$(measure -O0 "$f" -o "$work/trainer")
		o3="- -"
		[ "$ops" -le "$O3_MAX_OPS" ] && o3=$(measure -O3 "$f" -o "$work/trainer")
		# shellcheck disable=SC2086
		printf '%-6s %6d %7d %8s %8s %8s %8s %8s %8s\n' "$kind" "$n" "$ops" $grad $o0 $o3
	done
done
