#!/bin/sh
# embedding.sh — the stdlib's embedding on gather: an id outside the table
# ends the run with exit 3 and a message naming the id; the same model with
# a table that holds every id trains.  (Its gradient is checked by
# tests/gradcheck/embedding.nn, its values by tests/codegen/test_codegen.)
. "$(dirname "$0")/lib.sh"
src="$SRCDIR/tests/gradcheck/embedding.nn"
sed 's/embedding(ids, 5, 5)/embedding(ids, 4, 5)/' "$src" >"$work/small.nn"
grep -q 'embedding(ids, 4, 5)' "$work/small.nn" || die "the test's edit of embedding.nn did not apply"
"$NNC" "$work/small.nn" -o "$work/small" || die "small.nn does not compile"
rc=0
"$work/small" train --epochs 1 >"$work/out" 2>&1 || rc=$?
[ "$rc" = 3 ] || die "an id outside the table: exit $rc, expected 3"
grep -q 'id 4 .*outside the table of 4 rows' "$work/out" || die "no message naming the id: $(cat "$work/out")"
"$NNC" "$src" -o "$work/full" || die "embedding.nn does not compile"
"$work/full" train --epochs 3 >"$work/out" 2>&1 || die "training with every id in the table failed: $(cat "$work/out")"
echo "ok: an id outside the table exits 3 naming it; ids inside train"
