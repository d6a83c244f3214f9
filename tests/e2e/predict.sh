#!/bin/sh
# predict.sh — predict reads --input once, from its start, so that
# standard input (--input -), a pipe, a FIFO and gzip through any of them
# give the same predictions as the plain file, for CSV and IDX alike; an
# empty stream or a directory is one line and exit 3.  --output class,
# probs, logits print what the loss makes of the output: softmax of
# cross_entropy's logits, binary_cross_entropy's probabilities and their
# log-odds; probs of an mse model is refused.
. "$(dirname "$0")/lib.sh"

awk 'BEGIN { for (i = 0; i < 40; i++) printf "%d,%d,%d,%d,%d\n", i % 5, i % 7, i % 3, (i * 13) % 11, i % 3 }' >"$work/d.csv"
cut -d, -f1-4 "$work/d.csv" >"$work/x.csv"
cat >"$work/m.nn" <<'EOF'
import layers
model m(x: f32[B, 4]) -> f32[B, 3] {
    return dense(relu(dense(x, 8)), 3)
}
train m {
    data train = csv("d.csv", label: -1)
    loss = cross_entropy(m(train.x), train.y)
    optimizer = adam(lr: 0.05)
    batch 8
    epochs 20
    seed 2
}
EOF
compile m "$work/m.nn"
M=$work/m
$M train -q --data-dir "$work" --save "$work/m.st" || die "training failed"
p() { $M predict --data-dir "$work" --load "$work/m.st" "$@"; }
p --input "$work/x.csv" >"$work/ref" 2>"$work/err" || { cat "$work/err"; die "predict from the file failed"; }
[ "$(wc -l <"$work/ref")" -eq 40 ] || die "predict printed $(wc -l <"$work/ref") lines for 40 samples"
grep -qv '^[0-2]$' "$work/ref" && die "predict printed something other than a class"

# same NAME: the predictions just made equal the reference
same() {
	cmp -s "$work/got" "$work/ref" || { head -3 "$work/got" "$work/err"; die "$1: other predictions than from the file"; }
	echo "ok: $1 predicts as the file does"
}
p --input - <"$work/x.csv" >"$work/got" 2>"$work/err"; same "--input - from a redirected file"
cat "$work/x.csv" | p --input - >"$work/got" 2>"$work/err"; same "--input - from a pipe"
p --input - <"$work/d.csv" >"$work/got" 2>"$work/err"; same "--input - with the label column still in it"
gzip -c "$work/x.csv" | p --input - >"$work/got" 2>"$work/err"; same "gzip CSV through a pipe"
mkfifo "$work/fifo" || die "mkfifo failed"
cat "$work/x.csv" >"$work/fifo" &
p --input "$work/fifo" >"$work/got" 2>"$work/err"; same "a FIFO (as <(...) gives)"
wait
gzip -c "$work/x.csv" >"$work/fifo" &
p --input "$work/fifo" >"$work/got" 2>"$work/err"; same "gzip CSV through a FIFO"
wait
if [ -x /usr/bin/python3 ]; then
	/usr/bin/python3 - "$work/x.csv" "$work/x.idx" <<'PY' || die "could not write the IDX file"
import struct, sys
rows = [[int(v) for v in line.split(",")] for line in open(sys.argv[1])]
open(sys.argv[2], "wb").write(bytes([0, 0, 8, 2]) + struct.pack(">II", len(rows), 4)
                              + bytes(v for r in rows for v in r))
PY
	p --input - <"$work/x.idx" >"$work/got" 2>"$work/err"; same "IDX on standard input"
	gzip -c "$work/x.idx" | p --input - >"$work/got" 2>"$work/err"; same "gzip IDX through a pipe"
fi

one_line 3 "empty standard input" "standard input: no data rows" p --input - </dev/null
printf '1,2,3,4\n5,x,7,8\n' >"$work/bad.csv"
one_line 3 "a bad cell on standard input" "standard input: row 2, column 2: 'x' is not a finite number" \
	p --input - <"$work/bad.csv"
one_line 3 "a directory" "cannot read $work: Is a directory" p --input "$work"
one_line 3 "a missing file" "cannot read $work/none.csv: No such file or directory" p --input "$work/none.csv"

# ---- --output ----
p --output class --input "$work/x.csv" >"$work/got" 2>"$work/err"; same "--output class (the default here)"
p --output logits --input "$work/x.csv" >"$work/logits" || die "--output logits failed"
p --output probs --input "$work/x.csv" >"$work/probs" || die "--output probs failed"
# each probs row: the softmax of the logits row, whose argmax is the class
paste -d' ' "$work/logits" "$work/probs" "$work/ref" | awk 'NF != 7 { print "fields: " $0; exit 1 }
	{ m = $1; a = 0; for (j = 2; j <= 3; j++) if ($j > m) { m = $j; a = j - 1 }
	  s = 0; for (j = 1; j <= 3; j++) s += exp($j - m)
	  for (j = 1; j <= 3; j++) { q = exp($j - m) / s; d = q - $(j + 3); if (d < 0) d = -d
	    if (d > 1e-6 || $(j + 3) < 0 || $(j + 3) > 1) { print "row " NR ": " $0; exit 1 } }
	  if (a != $7) { print "row " NR ": argmax " a ", class " $7; exit 1 } }' \
	|| die "--output probs is not the softmax of --output logits, or its argmax not the class"
echo "ok: --output probs is the softmax of --output logits; their argmax is the class"

# binary_cross_entropy of a sigmoid: the output is a probability
awk -F, '{ print $1 "," $2 "," $3 "," $4 "," ($5 == 1 ? 1 : 0) }' "$work/d.csv" >"$work/b.csv"
sed -e 's/f32\[B, 3\]/f32[B, 1]/' -e 's/relu(dense(x, 8)), 3)/relu(dense(x, 8)), 1))/' -e 's/return dense(/return sigmoid(dense(/' \
	-e 's/csv("d.csv"/csv("b.csv"/' -e 's/cross_entropy(/binary_cross_entropy(/' "$work/m.nn" >"$work/b.nn"
sed -e 's/binary_cross_entropy(/mse(/' "$work/b.nn" >"$work/r.nn"
compile b "$work/b.nn"
compile r "$work/r.nn"
for k in b r; do "$work/$k" train -q --data-dir "$work" --save "$work/$k.st" || die "training $k failed"; done
q() { m=$1; shift; "$work/$m" predict --data-dir "$work" --load "$work/$m.st" --input "$work/x.csv" "$@"; }
q b >"$work/p" && q b --output probs >"$work/got" || die "predict of the bce model failed"
cmp -s "$work/got" "$work/p" || die "bce: --output probs is not the output as computed"
q b --output logits >"$work/l" && q b --output class >"$work/c" || die "bce: --output logits or class failed"
paste -d' ' "$work/p" "$work/l" "$work/c" | awk '{ d = log($1 / (1 - $1)) - $2; if (d < 0) d = -d
	if (d > 1e-5 * (1 + ($2 < 0 ? -$2 : $2)) || $3 != ($1 > 0.5)) { print "row " NR ": " $0; exit 1 } }' \
	|| die "bce: --output logits is not log(p/(1-p)), or class not p > 0.5"
grep -qv '^[01]$' "$work/c" && die "bce: --output class printed something other than 0 or 1"
echo "ok: binary_cross_entropy: probs as computed, logits their log-odds, class p > 0.5"
q r >"$work/p" && q r --output logits >"$work/got" || die "predict of the mse model failed"
cmp -s "$work/got" "$work/p" || die "mse: --output logits is not the output as computed"
one_line 2 "mse: --output probs" "--output probs: the loss at $work/r.nn:[0-9]* reads the model's output neither as logits" q r --output probs
one_line 2 "mse: --output class of one output" "--output class: the model has one output" q r --output class
one_line 2 "--output prob" "--output: 'prob' is not one of class, probs, logits" q r --output prob
