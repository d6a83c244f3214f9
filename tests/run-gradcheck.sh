#!/bin/sh
# run-gradcheck.sh — every op's float64 gradient check: compile each
# tests/gradcheck/*.nn, run the trainer's gradcheck on a generated batch, and
# require a worst relative error <= 1e-6 against central differences.
set -u
NNC=${NNC:-./nnc}
SRCDIR=${SRCDIR:-.}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
fail=0 n=0
for f in "$SRCDIR"/tests/gradcheck/*.nn; do
	name=$(basename "$f" .nn)
	n=$((n + 1))
	if ! "$NNC" "$f" -o "$out/$name" 2>"$out/$name.err"; then
		echo "FAIL $name: does not compile"; sed 's/^/    /' "$out/$name.err"; fail=$((fail + 1)); continue
	fi
	if "$out/$name" gradcheck --all --tol 1e-6 >"$out/$name.out" 2>&1; then
		echo "PASS $name: $(grep -i worst "$out/$name.out" | head -1)"
	else
		echo "FAIL $name:"; sed 's/^/    /' "$out/$name.out"; fail=$((fail + 1))
	fi
done
echo "$((n - fail)) of $n gradient checks passed"
[ "$fail" -eq 0 ]
