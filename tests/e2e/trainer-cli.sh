#!/bin/sh
# The trainer's command line: --help shows the .nn file's defaults, bad
# options exit 2 with one line, gradcheck on a real batch, info.
. "$(dirname "$0")/lib.sh"
[ -r /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || { echo "SKIP: dataset-fashion-mnist is not installed"; exit 77; }
compile mlp "$SRCDIR/examples/mlp.nn"
t="$work/mlp"
$t --help >"$work/help" 2>&1 || die "--help failed"
for word in train eval predict gradcheck --epochs --batch --lr --seed --threads --save --load --data-dir --log; do
	grep -q -- "$word" "$work/help" || die "--help does not mention $word"
done
grep -E -- '--epochs.*10' "$work/help" >/dev/null || die "--help does not show the default of 10 epochs from mlp.nn"
grep -E -- '--batch.*64' "$work/help" >/dev/null || die "--help does not show the default batch 64 from mlp.nn"
echo "ok: --help lists every option with the .nn file's defaults"
$t --version >/dev/null 2>&1 || die "--version failed"
for bad in "train --batch 0" "train --lr -1" "train --epochs x" "train --bogus" "train --seed" "frobnicate" "train --threads 0"; do
	$t $bad >"$work/out" 2>"$work/err"; rc=$?
	[ $rc -eq 2 ] || die "'$bad' exited $rc, expected 2"
	[ "$(wc -l <"$work/err")" -ge 1 ] || die "'$bad' printed no error"
	echo "ok: '$bad' -> exit 2: $(head -1 "$work/err")"
done
$t train --load "$work/missing.safetensors" >"$work/out" 2>"$work/err"; rc=$?
[ $rc -eq 3 ] || die "a missing checkpoint exited $rc, expected 3"
echo "ok: missing checkpoint -> exit 3: $(head -1 "$work/err")"
$t train --data-dir "$work/nowhere" >"$work/out" 2>"$work/err"; rc=$?
[ $rc -eq 3 ] || die "a missing data directory exited $rc, expected 3"
$t gradcheck --batch 16 >"$work/gc" 2>&1 || { cat "$work/gc"; die "f32 gradcheck of the compiled MLP on a real batch failed"; }
cat "$work/gc"
$t info >"$work/info" 2>&1 || die "info failed"
grep -q 235146 "$work/info" || { cat "$work/info"; die "info does not give the MLP's 235146 parameters"; }
echo "ok: info counts 235146 parameters"
