#!/bin/sh
# bench/mlp.sh — examples/mlp.nn compiled by nnc against the same MLP in
# PyTorch (CPU, Debian's python3-torch), same data, batch 64, SGD with
# momentum, at 1 and 2 threads, in one run.  Prints samples/s of each, their
# ratio, the OpenBLAS-only bound for the step's eight GEMMs, nnc's compile
# time and both peak RSS figures.
#
#   bench/mlp.sh [EPOCHS]        (default 1 epoch per measurement)
# Run from a built tree (./quickstart --build-only).
set -eu
cd "$(dirname "$0")/.."
epochs=${1:-1}
. bench/lib.sh

cc -O2 bench/gemm_bound.c $(pkg-config --cflags --libs openblas) -o "$work/gemm_bound"

start=$(date +%s.%N)
./nnc examples/mlp.nn -o "$work/mlp"
compile=$(seconds_since "$start")

same_kernel
print_machine
echo "nnc compile time of examples/mlp.nn: ${compile} s"
echo "batch 64, SGD momentum 0.9, lr 0.05, $epochs epoch(s) of 60000 samples per figure"
printf '%-8s %12s %12s %8s %12s %8s %10s %10s\n' threads nnc_samp/s torch_samp/s ratio gemm_bound nnc/bound nnc_rss torch_rss
best_n=0 best_t=0
for t in 1 2; do
	/usr/bin/time -v "$work/mlp" train --epochs "$epochs" --threads $t >"$work/n.out" 2>"$work/n.time" || { cat "$work/n.out" "$work/n.time"; exit 1; }
	n=$(nnc_rate "$work/n.out")
	/usr/bin/time -v /usr/bin/python3 bench/mlp_torch.py --threads $t --epochs "$epochs" >"$work/t.out" 2>"$work/t.time" || { cat "$work/t.out" "$work/t.time"; exit 1; }
	p=$(torch_rate "$work/t.out")
	g=$("$work/gemm_bound" 64 $t 3 784 256 128 10)
	printf '%-8s %12s %12s %8.2f %12s %8.2f %9sK %9sK\n' $t "$n" "$p" "$(echo "$n / $p" | bc -l)" "$g" \
		"$(echo "$n / $g" | bc -l)" "$(rss "$work/n.time")" "$(rss "$work/t.time")"
	[ "$n" -gt "$best_n" ] && best_n=$n
	[ "$p" -gt "$best_t" ] && best_t=$p
done
printf 'best nnc %s / best torch %s = %.2f\n' "$best_n" "$best_t" "$(echo "$best_n / $best_t" | bc -l)"
