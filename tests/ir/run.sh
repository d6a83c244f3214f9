#!/bin/sh
# run.sh — the IR tests (docs/passes.md): each tests/ir/*.ir is a listing
# with the commands that check it in ';' comments, as LLVM's lit runs them:
#
#   ; RUN: run-pass %s cse | FileCheck %s
#   ; RUN: not run-pass %s 2>&1 | FileCheck %s --check-prefix=ERR
#
# %s is the .ir file and %t a scratch directory of its own (split-file
# %s %t splits a file of several listings).  run-pass is
# tests/ir/run-pass; FileCheck, not and split-file are LLVM 19's
# (llvm-19-tools).  A RUN line ending in '\' goes on in the next one.
# Each command runs under bash -o pipefail, so every command of a pipe
# must succeed.  A file without a RUN line fails.
#
# usage: tests/ir/run.sh [FILE.ir]...     (default: every tests/ir/*.ir)
set -u
SRCDIR=$(cd "${SRCDIR:-.}" && pwd)
BUILDDIR=$(cd "${BUILDDIR:-.}" && pwd)
tools=/usr/lib/llvm-19/bin
bin=$(mktemp -d) || exit 2
trap 'rm -rf "$bin"' EXIT
for t in FileCheck not split-file; do
	for cand in "$tools/$t" "$(command -v $t-19)"; do
		[ -x "$cand" ] && ln -s "$cand" "$bin/$t" && break
	done
	[ -e "$bin/$t" ] || { echo "run.sh: LLVM's $t not found: install the Debian package llvm-19-tools" >&2; exit 2; }
done
ln -s "$BUILDDIR/tests/ir/run-pass" "$bin/run-pass"
[ -x "$BUILDDIR/tests/ir/run-pass" ] || { echo "run.sh: no $BUILDDIR/tests/ir/run-pass (make check builds it)" >&2; exit 2; }
[ $# -gt 0 ] || set -- "$SRCDIR"/tests/ir/*.ir
pass=0 fail=0
for f in "$@"; do
	name=$(basename "$f")
	f=$(cd "$(dirname "$f")" && pwd)/$name
	tmp="$bin/$name.d"
	mkdir -p "$tmp"
	runs=$(awk '/^; RUN: / { l = substr($0, 8); if (sub(/\\$/, "", l)) { acc = acc l; next } print acc l; acc = "" }' "$f")
	if [ -z "$runs" ]; then
		echo "FAIL: $name: no '; RUN:' line"; fail=$((fail + 1)); continue
	fi
	ok=1
	while IFS= read -r cmd; do
		cmd=$(printf '%s\n' "$cmd" | sed "s|%s|$f|g; s|%t|$tmp|g")
		if ! (cd "$tmp" && PATH="$bin:$PATH" bash -o pipefail -c "$cmd") >"$tmp/out" 2>&1; then
			echo "FAIL: $name: $cmd"; sed 's/^/    /' "$tmp/out" | head -30; ok=0; break
		fi
	done <<RUNS
$runs
RUNS
	if [ $ok = 1 ]; then echo "PASS: $name"; pass=$((pass + 1)); else fail=$((fail + 1)); fi
done
echo "run.sh: $pass passed, $fail failed"
[ $fail -eq 0 ] && [ $pass -gt 0 ]
