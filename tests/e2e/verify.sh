#!/bin/sh
# verify.sh — nnc --verify on every example and every gradient-check
# source: ir_verify after each stage of pipeline.c, lower to describe,
# must find nothing (a failure is an internal error, exit 70).  The IR
# stages end at describe (--emit=desc); emit is checked by LLVM's own
# verifier on every compile, and examples.sh compiles every example.
. "$(dirname "$0")/lib.sh"
n=0
for f in "$SRCDIR"/examples/*.nn "$SRCDIR"/examples/*/*.nn "$SRCDIR"/tests/gradcheck/*.nn; do
	[ -e "$f" ] || continue
	"$NNC" --verify --emit=desc "$f" >"$work/desc" 2>"$work/err"
	rc=$?
	[ $rc -eq 0 ] || { cat "$work/err"; die "nnc --verify ${f#"$SRCDIR"/} exited $rc"; }
	grep -q . "$work/desc" || die "nnc --verify ${f#"$SRCDIR"/} printed no descriptor"
	n=$((n + 1))
done
[ $n -ge 40 ] || die "only $n sources found"
echo "ok: nnc --verify accepts every stage of $n sources"
