#!/bin/sh
# emit-after.sh — nnc --emit-after=PASS for every pass pipeline.c names:
# it prints what the pass changed and stops; after lower, plan_state and
# describe that is what --emit=ir, opt and desc print; a pass run twice
# (dce) prints after each run; an unknown pass is a usage error that
# lists the passes.  And where the trainer goes: '-o -' is refused, as is
# an output that is the source itself, and neither leaves a file behind.
. "$(dirname "$0")/lib.sh"
xor=$SRCDIR/examples/xor.nn
"$NNC" --emit-after=nosuch "$xor" >"$work/out" 2>"$work/err"
[ $? -eq 2 ] || die "--emit-after=nosuch should exit 2"
passes=$(sed -n "s/.*unknown pass 'nosuch' for --emit-after (\(.*\))$/\1/p" "$work/err" | tr -d ,)
[ -n "$passes" ] || { cat "$work/err"; die "the usage error does not list the passes"; }
echo "ok: unknown pass: exit 2, the passes listed: $passes"
for p in $passes; do
	"$NNC" --emit-after=$p "$xor" >"$work/$p" 2>"$work/err" || { cat "$work/err"; die "--emit-after=$p failed"; }
	[ -s "$work/$p" ] || die "--emit-after=$p printed nothing"
done
for pair in "lower ir" "plan_state opt" "describe desc"; do
	set -- $pair
	"$NNC" --emit=$2 "$xor" >"$work/emit" || die "--emit=$2 failed"
	cmp -s "$work/$1" "$work/emit" || die "--emit-after=$1 differs from --emit=$2"
done
echo "ok: --emit-after=lower, plan_state, describe print what --emit=ir, opt, desc print"
# eval, grad and update each after simplify; after dce (run twice) each twice
[ "$(grep -c '^fn ' "$work/simplify")" = 3 ] || die "--emit-after=simplify should print eval, grad and update"
[ "$(grep -c '^fn eval' "$work/dce")" = 2 ] || die "--emit-after=dce should print eval after each of its two runs"
grep -q '^fn grad' "$work/grad" && ! grep -q '^fn eval' "$work/grad" || die "--emit-after=grad should print grad alone"
grep -q ' g[0-9]' "$work/fuse" || die "--emit-after=fuse shows no groups"
echo "ok: per-function passes print each function after each run"
"$NNC" --emit=ir --emit-after=cse "$xor" >/dev/null 2>&1
[ $? -eq 2 ] || die "--emit with --emit-after should be a usage error"

cd "$work" || exit 1
cp "$xor" same.nn
"$NNC" same.nn -o - >out 2>err
[ $? -eq 2 ] && grep -q "standard output" err || { cat err; die "'-o -' should be refused with exit 2"; }
"$NNC" -c same.nn -o - >out 2>err
[ $? -eq 2 ] || die "'-c -o -' should be refused with exit 2"
[ ! -e ./- ] && [ -z "$(ls | grep '^-\.')" ] && [ ! -s out ] || die "'-o -' left a file or wrote to stdout"
echo "ok: '-o -' refused: $(head -1 err)"
"$NNC" same.nn -o ./same.nn >out 2>err
[ $? -eq 2 ] && cmp -s same.nn "$xor" || { cat err; die "an output that is the input should be refused, the input kept"; }
echo "ok: output = input refused: $(head -1 err)"
