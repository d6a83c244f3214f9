#!/bin/sh
# Golden listings: --emit=ir and --emit=grad of xor.nn and mlp.nn must match
# tests/golden/*.txt exactly.  UPDATE=1 rewrites the expectations.
. "$(dirname "$0")/lib.sh"
fail=0
for ex in xor mlp; do
	for stage in ir grad; do
		want="$SRCDIR/tests/golden/$ex.$stage.txt"
		(cd "$SRCDIR/examples" && "$NNC" --emit=$stage $ex.nn) >"$work/got" 2>&1 || { cat "$work/got"; die "nnc --emit=$stage $ex.nn failed"; }
		if [ "${UPDATE:-0}" = 1 ]; then cp "$work/got" "$want"; fi
		if diff -u "$want" "$work/got" >"$work/diff"; then echo "ok: $ex --emit=$stage"
		else echo "FAIL: $ex --emit=$stage differs:"; head -40 "$work/diff"; fail=1; fi
	done
done
exit $fail
