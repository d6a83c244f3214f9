#!/bin/sh
# bench/cnn.sh — examples/lenet.nn and examples/alexnet.nn compiled by nnc
# against the same networks in PyTorch (CPU, Debian's python3-torch,
# bench/cnn_torch.py), at 1 and 2 threads, in one run.  Each figure is one
# epoch over the same first N Fashion-MNIST training images (written as IDX
# files by bench/idxfile.py), batch 64, SGD with momentum 0.9 and each
# train block's lr, weight decay and cosine schedule; the test accuracy
# after it (first 1,000 test images) shows both trained the same network.
# Prints training samples/s of each (evaluation not counted), their ratio,
# both peak RSS figures, nnc's best / torch's best per network, and nnc's
# compile time of each example.
#
#   bench/cnn.sh [LENET_SAMPLES [ALEXNET_SAMPLES]]    (default 12800 and 3200)
# Run from a built tree (./quickstart --build-only).
set -eu
cd "$(dirname "$0")/.."
lenet_samples=${1:-12800}
alexnet_samples=${2:-3200}
. bench/lib.sh

fmnist=/usr/share/datasets/fashion-mnist
[ -r "$fmnist/train-images-idx3-ubyte.gz" ] || { echo "$bench: needs $fmnist (dataset-fashion-mnist)" >&2; exit 2; }

# subset N: a data directory with the first N training and 1,000 test samples
subset() {
	bench/idxfile.py head "$1" "$work/data$1" "$fmnist"/train-*-ubyte.gz
	bench/idxfile.py head 1000 "$work/data$1" "$fmnist"/t10k-*-ubyte.gz
	echo "$work/data$1"
}

# timed NAME COMMAND...: runs COMMAND with its output in $work/NAME.out and
# /usr/bin/time's log in $work/NAME.time; shows both and stops if it fails
timed() {
	name=$1
	shift
	/usr/bin/time -v "$@" >"$work/$name.out" 2>"$work/$name.time" ||
		{ cat "$work/$name.out" "$work/$name.time"; exit 1; }
}

# bench_net NAME SAMPLES: compile examples/NAME.nn, then a row per thread count
bench_net() {
	if [ ! -r "examples/$1.nn" ]; then
		echo "$1: skipped, examples/$1.nn is not in this tree"
		return
	fi
	start=$(date +%s.%N)
	./nnc "examples/$1.nn" -o "$work/$1"
	printf '%s: nnc compile time of examples/%s.nn: %.2f s; one epoch of %s samples per figure\n' \
		"$1" "$1" "$(seconds_since "$start")" "$2"
	data=$(subset "$2")
	printf '%-8s %-8s %12s %12s %8s %8s %8s %10s %10s\n' \
		net threads nnc_samp/s torch_samp/s ratio nnc_acc torch_acc nnc_rss torch_rss
	best_n=0 best_t=0
	for t in 1 2; do
		timed n "$work/$1" train --epochs 1 --threads $t --data-dir "$data"
		timed t /usr/bin/python3 bench/cnn_torch.py --net "$1" --threads $t --data "$data"
		n=$(nnc_rate "$work/n.out") p=$(torch_rate "$work/t.out")
		printf '%-8s %-8s %12s %12s %8.2f %8s %8s %9sK %9sK\n' "$1" $t "$n" "$p" "$(echo "$n / $p" | bc -l)" \
			"$(sed -n 's/.*test\.accuracy \([0-9.]*\).*/\1/p' "$work/n.out")" \
			"$(sed -n 's/.*test_accuracy=\([0-9.]*\).*/\1/p' "$work/t.out")" \
			"$(rss "$work/n.time")" "$(rss "$work/t.time")"
		[ "$n" -gt "$best_n" ] && best_n=$n
		[ "$p" -gt "$best_t" ] && best_t=$p
	done
	printf '%s: best nnc %s / best torch %s = %.2f\n' "$1" "$best_n" "$best_t" "$(echo "$best_n / $best_t" | bc -l)"
}

same_kernel
print_machine
echo "batch 64, SGD momentum 0.9 (lenet lr 0.05; alexnet lr 0.02, weight decay 0.0005), cosine schedule"
bench_net lenet "$lenet_samples"
bench_net alexnet "$alexnet_samples"
