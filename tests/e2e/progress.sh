#!/bin/sh
# The progress bar leaves the terminal's last line unended; an error in
# mid-epoch must start its own line below it, not continue the bar's.
# Needs a terminal: script(1) gives the trainer one (skipped without it).
. "$(dirname "$0")/lib.sh"
command -v script >/dev/null || { echo "SKIP: no script(1) to run a trainer on a terminal"; exit 77; }
compile xor "$SRCDIR/examples/xor.nn"
mkdir -p "$work/data" && cp "$SRCDIR/examples/data/xor.csv" "$work/data/"
# batch 1: four steps an epoch, the bar drawn after the first, the loss
# non-finite at the second (exit 5, a fatal message in mid-epoch)
script -qec "'$work/xor' train --lr 1e300 --batch 1 --epochs 3 --data-dir '$work'" /dev/null >"$work/tty" 2>&1
rc=$?
[ $rc -eq 5 ] || { cat -v "$work/tty"; die "expected exit 5 from a non-finite loss, got $rc"; }
grep -q 'epoch 1/3 \[' "$work/tty" || { cat -v "$work/tty"; die "no progress bar was drawn"; }
tr -d '\r' <"$work/tty" | grep -q '^xor: non-finite loss' ||
	{ cat -v "$work/tty"; die "the error message does not start its own line"; }
echo "ok: the error starts the line below the progress bar"
