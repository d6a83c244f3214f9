#!/bin/sh
# roundtrip.sh — every listing nnc prints reads back as the same text:
# for each example and gradient-check source, --emit=ir, grad and opt,
# read by tests/ir/run-pass and printed again, are byte for byte what nnc
# printed.  And a pass run on a listing is the pass nnc runs: the listing
# after simplify, put through cse by run-pass, is nnc's listing after cse;
# after fuse, put through plan, nnc's after plan.  (tests/ir/test_read
# compares the same round trip node by node.)
. "$(dirname "$0")/../e2e/lib.sh"
RUNPASS=${RUNPASS:-${BUILDDIR:-.}/tests/ir/run-pass}
[ -x "$RUNPASS" ] || die "no run-pass at $RUNPASS"
n=0
for f in "$SRCDIR"/examples/*.nn "$SRCDIR"/examples/*/*.nn "$SRCDIR"/tests/gradcheck/*.nn; do
	[ -e "$f" ] || continue
	name=${f#"$SRCDIR"/}
	for stage in ir grad opt; do
		"$NNC" --emit=$stage "$f" >"$work/printed" 2>"$work/err" || { cat "$work/err"; die "nnc --emit=$stage $name failed"; }
		"$RUNPASS" "$work/printed" >"$work/read" 2>"$work/err" || { cat "$work/err"; die "run-pass cannot read $name's --emit=$stage"; }
		cmp -s "$work/printed" "$work/read" || { diff "$work/printed" "$work/read" | head -20; die "$name: --emit=$stage read back differs"; }
	done
	for pair in "simplify cse" "fuse plan"; do
		set -- $pair
		"$NNC" --emit-after=$1 "$f" >"$work/before" 2>"$work/err" || { cat "$work/err"; die "nnc --emit-after=$1 $name failed"; }
		"$NNC" --emit-after=$2 "$f" >"$work/want" 2>"$work/err" || { cat "$work/err"; die "nnc --emit-after=$2 $name failed"; }
		"$RUNPASS" "$work/before" $2 >"$work/got" 2>"$work/err" || { cat "$work/err"; die "run-pass $2 on $name failed"; }
		cmp -s "$work/want" "$work/got" || { diff "$work/want" "$work/got" | head -20; die "$name: $2 by run-pass differs from nnc's"; }
	done
	n=$((n + 1))
done
[ $n -ge 40 ] || die "only $n sources found"
echo "ok: $n sources: --emit=ir, grad and opt read back as printed; cse and plan on a listing are nnc's"
