#!/bin/sh
# predict-input.sh — predict reads --input once, from its start, so that
# standard input (--input -), a pipe, a FIFO and gzip through any of them
# give the same predictions as the plain file, for CSV and IDX alike; an
# empty stream or a directory is one line and exit 3.
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
