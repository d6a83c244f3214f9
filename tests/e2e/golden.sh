#!/bin/sh
# Golden listings: --emit=ir and --emit=grad of xor.nn and mlp.nn, and
# --emit=opt (after every pass and the memory plan) of mlp.nn, lenet.nn
# and resnet.nn must match tests/golden/EXAMPLE.STAGE.txt exactly.
# UPDATE=1 rewrites the expectations.
. "$(dirname "$0")/lib.sh"
fail=0
for case in "xor ir" "xor grad" "mlp ir" "mlp grad" "mlp opt" "lenet opt" "resnet opt"; do
	set -- $case
	ex=$1 stage=$2
	want="$SRCDIR/tests/golden/$ex.$stage.txt"
	(cd "$SRCDIR/examples" && "$NNC" --emit=$stage $ex.nn) >"$work/got" 2>&1 || { cat "$work/got"; die "nnc --emit=$stage $ex.nn failed"; }
	if [ "${UPDATE:-0}" = 1 ]; then cp "$work/got" "$want"; fi
	if diff -u "$want" "$work/got" >"$work/diff"; then echo "ok: $ex --emit=$stage"
	else echo "FAIL: $ex --emit=$stage differs:"; head -40 "$work/diff"; fail=1; fi
done
exit $fail
