#!/bin/sh
# regress.sh — every input the fuzzer ever crashed the compiler with
# (tests/fuzz/regress/*.nn, the first line says what it found) must now
# compile or be rejected cleanly: nnc exits 0 or 1, never a signal,
# never 70 (internal error), never a timeout; both with the full
# pipeline to a trainer and with --emit=opt.  Those written as generated
# programs (tests/fuzz/programs.sh) also pass every oracle.
#
# usage: tests/fuzz/regress.sh [NNC]   (default $NNC, else ./nnc)
here=$(cd "$(dirname "$0")" && pwd)
nnc=${1:-${NNC:-./nnc}}
case $nnc in /*) ;; *) nnc=$(pwd)/$nnc ;; esac
if [ ! -x "$nnc" ]; then
	echo "regress.sh: no compiler at '$nnc'" >&2
	exit 2
fi
: "${NNC_STDLIB:=$here/../../stdlib}"
export NNC_STDLIB
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
fail=0 n=0
for f in "$here"/regress/*.nn; do
	[ -e "$f" ] || continue
	for mode in --emit=opt full; do
		n=$((n + 1))
		if [ $mode = full ]; then
			timeout 120 "$nnc" -O0 -o "$tmp/trainer" "$f" >/dev/null 2>"$tmp/err"
		else
			timeout 60 "$nnc" $mode "$f" >/dev/null 2>"$tmp/err"
		fi
		rc=$?
		case $rc in
		0|1) echo "PASS: $(basename "$f") ($mode, exit $rc)" ;;
		*)   echo "FAIL: $(basename "$f") ($mode): exit $rc"; sed 's/^/  /' "$tmp/err" | head -5; fail=1 ;;
		esac
		rm -f "$tmp/trainer"
	done
done
# inputs in gen_program.py's form (an `# input per sample:` line) found a
# wrong result, not a crash: every oracle of programs.sh must pass on them
for f in "$here"/regress/*.nn; do
	grep -q '^# input per sample: ' "$f" || continue
	n=$((n + 1))
	sh "$here/programs.sh" --check "$f" || fail=1
done
echo "regress.sh: $n runs"
[ $n -gt 0 ] || { echo "regress.sh: no regression inputs in $here/regress" >&2; exit 1; }
exit $fail
