#!/bin/sh
# docs.sh — the listings in the docs are what the compiler prints.  In
# docs/tutorial.md and docs/autodiff.md a marker line
#
#   <!-- output: COMMAND -->
#
# is followed by a fenced block that must be, line for line, what COMMAND
# prints.  COMMAND runs under sh in docs/tutorial (where the pages'
# programs are), with this build's nnc first on the PATH and $TMP a
# scratch directory; it fails the test if it fails.  UPDATE=1 rewrites
# the blocks from the real output (look at `git diff docs` before you
# commit it).
. "$(dirname "$0")/lib.sh"
mkdir -p "$work/bin" "$work/tmp"
ln -s "$NNC" "$work/bin/nnc"
fail=0
for page in tutorial autodiff; do
	md="$SRCDIR/docs/$page.md"
	[ -f "$md" ] || die "no $md"
	# The page with each marked block's body replaced by @@OUTPUT N@@,
	# and each marker's command in $work/cmd.N.
	awk -v dir="$work" '
		fence && /^```/ { fence = 0; print "@@OUTPUT " n "@@" }
		fence { next }
		want_fence { if (!/^```/) { print "FAIL: " FILENAME ":" NR ": a marker is not followed by a fenced block"; bad = 1 }
		             want_fence = 0; fence = 1 }
		/^<!-- output: .* -->$/ {
			n++; cmd = $0; sub(/^<!-- output: /, "", cmd); sub(/ -->$/, "", cmd)
			print cmd > (dir "/cmd." n); close(dir "/cmd." n); want_fence = 1
		}
		{ print }
		END { if (fence || want_fence) { print "FAIL: " FILENAME ": a marked block is not closed"; bad = 1 }
		      exit bad }' "$md" >"$work/skeleton" || { grep '^FAIL' "$work/skeleton"; exit 1; }
	n=0
	while [ -f "$work/cmd.$((n + 1))" ]; do
		n=$((n + 1))
		cmd=$(cat "$work/cmd.$n")
		(cd "$SRCDIR/docs/tutorial" && PATH="$work/bin:$PATH" TMP="$work/tmp" sh -c "$cmd") >"$work/out.$n" 2>"$work/err.$n" ||
			{ cat "$work/err.$n"; die "docs/$page.md: '$cmd' failed"; }
		[ -s "$work/out.$n" ] || die "docs/$page.md: '$cmd' printed nothing"
	done
	[ $n -gt 0 ] || die "docs/$page.md has no marked output"
	awk -v dir="$work" '
		/^@@OUTPUT [0-9]+@@$/ { k = $2; sub(/@@$/, "", k); f = dir "/out." k
		                        while ((getline l < f) > 0) print l; close(f); next }
		{ print }' "$work/skeleton" >"$work/$page.md"
	rm -f "$work"/cmd.*
	if [ "${UPDATE:-0}" = 1 ]; then cp "$work/$page.md" "$md"; fi
	if diff -u "$md" "$work/$page.md" >"$work/diff"; then echo "ok: docs/$page.md: $n outputs as the compiler prints them"
	else echo "FAIL: docs/$page.md differs from the compiler's output:"; head -60 "$work/diff"; fail=1; fi
done
exit $fail
