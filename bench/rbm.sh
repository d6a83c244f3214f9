#!/bin/sh
# bench/rbm.sh — examples/rbm.nn (784-500 binary RBM, CD-1) compiled by nnc
# against the same training in PyTorch (bench/torch_rbm.py: the free-energy
# loss through autograd, the Gibbs step without gradient), at 1 and 2
# threads in one run: one epoch over the first N binarized Fashion-MNIST
# training images, batch 64, SGD lr 0.05 momentum 0.5.  Prints training
# samples/s of each (evaluation not counted), their ratio, the test
# reconstruction error after the epoch (first 1,000 test images; both
# sides initialise from their own random streams, so compare, not match)
# and peak RSS.
#
#   bench/rbm.sh [SAMPLES]    (default 12800)
# Run from a built tree (./quickstart --build-only).
set -eu
cd "$(dirname "$0")/.."
samples=${1:-12800}
. bench/lib.sh

fmnist=/usr/share/datasets/fashion-mnist
[ -r "$fmnist/train-images-idx3-ubyte.gz" ] || { echo "$bench: needs $fmnist (dataset-fashion-mnist)" >&2; exit 2; }
bench/idxfile.py head "$samples" "$work/data" "$fmnist"/train-*-ubyte.gz
bench/idxfile.py head 1000 "$work/data" "$fmnist"/t10k-*-ubyte.gz

same_kernel
print_machine
echo "784-500 RBM, CD-1, batch 64, SGD lr 0.05 momentum 0.5; one epoch of $samples samples per figure"
./nnc examples/rbm.nn -o "$work/rbm"
printf '%-8s %12s %12s %7s %9s %9s %10s %10s\n' threads nnc_samp/s torch_samp/s ratio nnc_rec torch_rec nnc_rss torch_rss
best_n=0 best_t=0
for t in 1 2; do
	/usr/bin/time -v "$work/rbm" train --data-dir "$work/data" --epochs 1 --threads $t \
		>"$work/n.out" 2>"$work/n.time" || { cat "$work/n.out" "$work/n.time"; exit 1; }
	n=$(nnc_rate "$work/n.out")
	nrec=$(sed -n 's/.*test.reconstruction \([0-9.]*\).*/\1/p' "$work/n.out" | tail -1)
	/usr/bin/time -v /usr/bin/python3 bench/torch_rbm.py --threads $t --data "$work/data" \
		>"$work/t.out" 2>"$work/t.time" || { cat "$work/t.out" "$work/t.time"; exit 1; }
	p=$(torch_rate "$work/t.out")
	trec=$(sed -n 's/.*reconstruction=\([0-9.]*\).*/\1/p' "$work/t.out")
	printf '%-8s %12s %12s %7.2f %9s %9s %9sK %9sK\n' $t "$n" "$p" "$(echo "$n / $p" | bc -l)" "$nrec" "$trec" \
		"$(rss "$work/n.time")" "$(rss "$work/t.time")"
	[ "$n" -gt "$best_n" ] && best_n=$n
	[ "$p" -gt "$best_t" ] && best_t=$p
done
printf 'rbm: best nnc %s / best torch %s samples/s = %.2f\n' "$best_n" "$best_t" "$(echo "$best_n / $best_t" | bc -l)"
