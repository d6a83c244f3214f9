#!/bin/sh
# Constant folding of elementwise functions of plain numbers: the values in
# the IR are the functions' values (the gradient check of the same file, in
# tests/gradcheck, cannot see a wrong constant: it is consistent with itself).
. "$(dirname "$0")/lib.sh"
f="$SRCDIR/tests/gradcheck/folded_consts.nn"
"$NNC" --emit=ir "$f" >"$work/ir" 2>&1 || { cat "$work/ir"; die "nnc --emit=ir failed"; }
# leaky_relu(-2.0) = -0.02; elu(-1.0, alpha: 2.0) = 2 (e^-1 - 1); softplus(0.0)
# = ln 2.  Listings print a constant with the digits that read it back
# exactly, so these are the doubles' shortest round-trip forms (as Python's
# repr(2 * (math.exp(-1) - 1)), repr(math.log(2)) give them).
for want in "const -0.02 " "const -1.2642411176571153 " "const 0.6931471805599453 "; do
	grep -q -- "$want" "$work/ir" || { cat "$work/ir"; die "no '$want' in the IR"; }
	echo "ok: folded $want"
done
compile folded "$f"
"$work/folded" gradcheck >"$work/gc" 2>&1 || { cat "$work/gc"; die "gradcheck failed"; }
echo "ok: $(tail -1 "$work/gc")"
