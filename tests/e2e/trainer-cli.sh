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
# The strict check: the same network declared f64, on a real batch of
# Fashion-MNIST, against central differences at the default 1e-6.
sed 's/f32/f64/g' "$SRCDIR/examples/mlp.nn" >"$work/mlp64.nn"
compile mlp64 "$work/mlp64.nn"
"$work/mlp64" gradcheck --batch 16 --data-dir /usr/share/datasets/fashion-mnist >"$work/gc" 2>&1 ||
	{ cat "$work/gc"; die "f64 gradcheck of the compiled MLP on a real batch failed"; }
cat "$work/gc"
[ "$(grep -c 'max_rel_err' "$work/gc")" -eq 6 ] || die "gradcheck did not report all six parameter tensors"
# The f32 trainer itself: finite differences in f32 resolve derivatives to
# about 1e-3 (man nnc-trainer), so here only the report is checked.
$t gradcheck --batch 16 >"$work/gc32" 2>&1; rc=$?
[ $rc -le 1 ] || { cat "$work/gc32"; die "f32 gradcheck exited $rc"; }
[ "$(grep -c 'max_rel_err' "$work/gc32")" -eq 6 ] && grep -q '^worst ' "$work/gc32" || { cat "$work/gc32"; die "f32 gradcheck report incomplete"; }
echo "ok: gradcheck of the compiled MLP on a real batch (f64 strict; f32 reported)"
$t info >"$work/info" 2>&1 || die "info failed"
grep -q 235146 "$work/info" || { cat "$work/info"; die "info does not give the MLP's 235146 parameters"; }
echo "ok: info counts 235146 parameters"
