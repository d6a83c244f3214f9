#!/bin/sh
# bench/rnn.sh — examples/char_lstm.nn and char_gru.nn compiled by nnc
# against the same networks in PyTorch (nn.LSTM, nn.GRU; bench/torch_char.py),
# same corpus read the same way (docs/text.md), same batches in the same
# order, Adam 0.002, clipping at 1.0, truncated BPTT with the state carried
# across batches, at 1 and 2 threads in one run.  Prints training tokens/s
# of each (steps only), their ratio, the validation loss after the same
# number of steps (each validation batch from a zero state on both sides,
# as nnc evaluates), and peak RSS.
#
#   bench/rnn.sh [FILES]   the corpus: these files of /usr/share/games/fortunes
#                          (default "computers cookie definitions": one nnc
#                          epoch is 290 steps; "all" for the whole corpus,
#                          1,132 steps an epoch)
# Run from a built tree (./quickstart --build-only).
set -eu
cd "$(dirname "$0")/.."
files=${1:-computers cookie definitions}
. bench/lib.sh

fortunes_corpus "$files"
same_kernel
print_machine
echo "corpus: $corpus ($files); batch 32, T 64, embedding 64, hidden 256, Adam 0.002, clip 1.0"
printf '%-5s %-8s %6s %12s %12s %7s %9s %9s %10s %10s\n' cell threads steps nnc_tok/s torch_tok/s ratio nnc_val torch_val nnc_rss torch_rss
for cell in lstm gru; do
	./nnc examples/char_$cell.nn -o "$work/$cell"
	best_n=0 best_t=0
	for t in 1 2; do
		/usr/bin/time -v "$work/$cell" train --data-dir "$work/data" --epochs 1 --threads $t \
			>"$work/n.out" 2>"$work/n.time" || { cat "$work/n.out" "$work/n.time"; exit 1; }
		steps=$(sed -n 's/^trained \([0-9]*\) samples.*/\1/p' "$work/n.out")
		steps=$((steps / 32))
		n=$(($(nnc_rate "$work/n.out") * 64))
		nval=$(sed -n 's/.*valid.loss \([0-9.]*\).*/\1/p' "$work/n.out" | tail -1)
		/usr/bin/time -v /usr/bin/python3 bench/torch_char.py --cell $cell --steps $steps --threads $t \
			--data "$corpus" --fresh-validation >"$work/t.out" 2>"$work/t.time" || { cat "$work/t.out" "$work/t.time"; exit 1; }
		p=$(sed -n 's/.* s, \([0-9]*\) tokens\/s/\1/p' "$work/t.out")
		tval=$(sed -n 's/.*loss \([0-9.]*\) nats.*/\1/p' "$work/t.out")
		printf '%-5s %-8s %6s %12s %12s %7.2f %9s %9s %9sK %9sK\n' $cell $t $steps "$n" "$p" \
			"$(echo "$n / $p" | bc -l)" "$nval" "$tval" "$(rss "$work/n.time")" "$(rss "$work/t.time")"
		[ "$n" -gt "$best_n" ] && best_n=$n
		[ "$p" -gt "$best_t" ] && best_t=$p
	done
	printf '%s: best nnc %s / best torch %s tokens/s = %.2f\n' $cell "$best_n" "$best_t" "$(echo "$best_n / $best_t" | bc -l)"
done
