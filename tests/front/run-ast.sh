#!/bin/sh
# run-ast.sh — golden tests of the front end: each tests/front/NAME.nn is
# parsed with `nnc --emit=ast -I modules` (from tests/front, so paths in
# the output are short and stable) and compared with NAME.ast.
# usage: tests/front/run-ast.sh [NNC]     (default $NNC, else ./nnc)
#        UPDATE=1 tests/front/run-ast.sh  rewrites the .ast files
here=$(cd "$(dirname "$0")" && pwd)
nnc=${1:-${NNC:-./nnc}}
case $nnc in /*) ;; *) nnc=$(pwd)/$nnc ;; esac
[ -x "$nnc" ] || { echo "run-ast.sh: no compiler at '$nnc'" >&2; exit 2; }
cd "$here" || exit 2
out=$(mktemp "${TMPDIR:-/tmp}/nnc-ast.XXXXXX") || exit 2
trap 'rm -f "$out"' EXIT
failures=0
for f in *.nn; do
	name=${f%.nn}
	if ! timeout 20 "$nnc" --emit=ast -I modules "$f" >"$out" 2>&1; then
		printf 'FAIL %s: nnc failed: %s\n' "$name" "$(head -n 1 "$out")"
		failures=$((failures + 1))
	elif [ -n "$UPDATE" ]; then
		cp "$out" "$name.ast" && echo "UPDATED $name"
	elif ! diff -u "$name.ast" "$out" >/dev/null 2>&1; then
		printf 'FAIL %s: output differs from %s.ast:\n' "$name" "$name"
		diff -u "$name.ast" "$out" | head -n 20
		failures=$((failures + 1))
	else
		echo "PASS $name"
	fi
done
[ $failures -eq 0 ]
