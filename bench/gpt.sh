#!/bin/sh
# bench/gpt.sh — examples/char_gpt.nn compiled by nnc against the same
# network in PyTorch (bench/torch_gpt.py: the same layers, initial scales,
# AdamW, clipping, corpus read the same way and the same batches in the
# same order), at 1 and 2 threads in one run.  Prints training tokens/s of
# each (steps only), their ratio, the validation loss after the same
# number of steps, and peak RSS; then sample's characters/s (each runs
# the evaluation over the last 128 characters at batch 1: no key/value
# cache yet, so its cost per character is constant, not growing).
#
#   bench/gpt.sh [FILES]   the corpus: these files of /usr/share/games/fortunes
#                          (default "computers cookie definitions": one nnc
#                          epoch is 145 steps; "all" for the whole corpus)
# Run from a built tree (./quickstart --build-only).
set -eu
cd "$(dirname "$0")/.."
files=${1:-computers cookie definitions}
. bench/lib.sh

fortunes_corpus "$files"
same_kernel
print_machine
echo "corpus: $corpus ($files); batch 32, T 128, 4 blocks of d 128, 4 heads, ff 512, AdamW 0.001, clip 1.0"
printf '%-8s %6s %12s %12s %7s %9s %9s %10s %10s\n' threads steps nnc_tok/s torch_tok/s ratio nnc_val torch_val nnc_rss torch_rss
./nnc examples/char_gpt.nn -o "$work/gpt"
best_n=0 best_t=0
for t in 1 2; do
	/usr/bin/time -v "$work/gpt" train --data-dir "$work/data" --epochs 1 --threads $t --save "$work/g.st" \
		>"$work/n.out" 2>"$work/n.time" || { cat "$work/n.out" "$work/n.time"; exit 1; }
	steps=$(($(sed -n 's/^trained \([0-9]*\) samples.*/\1/p' "$work/n.out") / 32))
	n=$(($(nnc_rate "$work/n.out") * 128))
	nval=$(sed -n 's/.*valid.loss \([0-9.]*\).*/\1/p' "$work/n.out" | tail -1)
	(cd bench && /usr/bin/time -v /usr/bin/python3 torch_gpt.py --steps $steps --threads $t --data "$corpus") \
		>"$work/t.out" 2>"$work/t.time" || { cat "$work/t.out" "$work/t.time"; exit 1; }
	p=$(sed -n 's/.* s, \([0-9]*\) tokens\/s/\1/p' "$work/t.out")
	tval=$(sed -n 's/.*loss \([0-9.]*\) nats.*/\1/p' "$work/t.out")
	printf '%-8s %6s %12s %12s %7.2f %9s %9s %9sK %9sK\n' $t $steps "$n" "$p" \
		"$(echo "$n / $p" | bc -l)" "$nval" "$tval" "$(rss "$work/n.time")" "$(rss "$work/t.time")"
	[ "$n" -gt "$best_n" ] && best_n=$n
	[ "$p" -gt "$best_t" ] && best_t=$p
done
printf 'char_gpt: best nnc %s / best torch %s tokens/s = %.2f\n' "$best_n" "$best_t" "$(echo "$best_n / $best_t" | bc -l)"
start=$(date +%s.%N)
"$work/gpt" sample --load "$work/g.st" --length 500 --seed 3 >"$work/sample.txt"
echo "sample: 500 characters in $(seconds_since "$start") s"
