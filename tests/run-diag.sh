#!/bin/sh
# run-diag.sh — diagnostics tests: bad .nn files and what nnc must say.
#
# usage: tests/run-diag.sh [NNC] [DIR...]
#   NNC  the compiler (default $NNC, else ./nnc)
#   DIR  directories of cases (default: tests/diag/syntax and tests/diag/sema)
#
# Each case FILE.nn starts with comment lines:
#   # expect: 3:7: error: expected ')'
#   # args: --emit=ir                (optional; the default is --emit=ast)
#   # hint: write '3 * x'            (optional; stderr must say "hint: write '3 * x'")
# The case passes when nnc exits with status 1 (not a signal, not a
# timeout), stderr contains "FILE:3:7: error: expected ')'", and stderr
# quotes the line with a caret.  Inputs that need raw bytes (NUL, invalid
# UTF-8, megabyte lines, deep nesting) are generated below into a
# temporary directory, each with its expectation here.
# Prints PASS/FAIL per case; exits 1 when any case fails.
#
# With VALGRIND=1 every run goes through valgrind, and a memory error or a
# definite leak fails the case (valgrind exits 99); with VALGRIND_EVERY=N only
# every Nth file case runs (all generated cases still do), since loading
# libLLVM under valgrind costs seconds per run.

here=$(cd "$(dirname "$0")" && pwd)
nnc=${1:-${NNC:-./nnc}}
[ $# -gt 0 ] && shift
[ $# -eq 0 ] && set -- "$here/diag/syntax" "$here/diag/sema"
case $nnc in /*) ;; *) nnc=$(pwd)/$nnc ;; esac
if [ ! -x "$nnc" ]; then
	echo "run-diag.sh: no compiler at '$nnc'" >&2
	exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/nnc-diag.XXXXXX") || exit 2
trap 'rm -rf "$tmp"' EXIT
failures=0
total=0
wrap="timeout 20"
if [ "${VALGRIND:-0}" = 1 ]; then
	wrap="timeout 300 valgrind -q --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=99"
fi
every=${VALGRIND_EVERY:-1}
index=0

fail() { printf 'FAIL %s: %s\n' "$1" "$2"; failures=$((failures + 1)); }

# run NAME FILE EXPECT [ARGS...]: nnc must fail with EXPECT after "FILE:".
status=1   # expected exit status: a source error; 3 where the file cannot be read
run() {
	name=$1 file=$2 expect=$3
	shift 3
	total=$((total + 1))
	$wrap "$nnc" "$@" "$file" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 124 ]; then fail "$name" "timed out"; return; fi
	if [ $rc -gt 128 ]; then fail "$name" "killed by signal $((rc - 128))"; return; fi
	if [ $rc -eq 99 ]; then fail "$name" "valgrind: $(grep -m1 '==' "$tmp/err")"; return; fi
	if [ $rc -ne "$status" ]; then fail "$name" "exit status $rc, expected $status"; return; fi
	if ! grep -qF -- "$file:$expect" "$tmp/err"; then
		fail "$name" "stderr lacks '$file:$expect'; it says: $(head -c 300 "$tmp/err" | head -n 1)"
		return
	fi
	if [ -n "$hint" ] && ! grep -qF -- "hint: $hint" "$tmp/err"; then
		fail "$name" "stderr lacks 'hint: $hint'"
		return
	fi
	# a located error quotes its line and puts a caret under the spot
	case $expect in
	[0-9]*) if ! grep -q '^ *\^' "$tmp/err"; then fail "$name" "no caret line"; return; fi ;;
	esac
	echo "PASS $name"
}

# ---- cases from files ----------------------------------------------------
for dir in "$@"; do
	[ -d "$dir" ] || continue
	for f in "$dir"/*.nn; do
		[ -e "$f" ] || continue
		expect=$(sed -n '1,5s/^# expect: //p' "$f" | head -n 1)
		args=$(sed -n '1,5s/^# args: //p' "$f" | head -n 1)
		hint=$(sed -n '1,5s/^# hint: //p' "$f" | head -n 1)
		name=$(basename "$dir")/$(basename "$f" .nn)
		index=$((index + 1))
		[ $((index % every)) -eq 0 ] || continue
		if [ -z "$expect" ]; then
			total=$((total + 1))
			fail "$name" "no '# expect:' line"
			continue
		fi
		# word splitting of $args is wanted: it holds options
		# shellcheck disable=SC2086
		run "$name" "$f" "$expect" ${args:---emit=ast}
	done
done
hint=

# ---- generated cases -----------------------------------------------------
g=$tmp/gen
mkdir -p "$g/mods" "$g/cycle"
rep() { # rep N TEXT: TEXT N times, without newlines
	yes "$2" | head -n "$1" | tr -d '\n'
}

printf 'model m(x) {\n  return x\000\n}\n' >"$g/nul.nn"
run gen/nul-byte "$g/nul.nn" "2:11: error: NUL byte" --emit=ast

printf 'model m(x) {\n  # fine: \303\251\n  a = "\342\202"\n}\n' >"$g/utf8.nn"
run gen/invalid-utf8 "$g/utf8.nn" "3:8: error: invalid UTF-8" --emit=ast

printf 'model m(x) {\n  a = \303\251\n}\n' >"$g/nonascii.nn"
run gen/non-ascii-outside-string "$g/nonascii.nn" "2:7: error: non-ASCII character" --emit=ast

{ printf 'model m(x) {\n  return '; rep 250000 'x + '; printf 'x )\n}\n'; } >"$g/mbline.nn"
run gen/megabyte-line "$g/mbline.nn" "2:1000012: error: ')' without a matching '('" --emit=ast

# a quarter million '+' parse fine but would overflow later recursive walks
{ printf 'model m(x) {\n  return '; rep 250000 'x + '; printf 'x\n}\n'; } >"$g/longsum.nn"
run gen/deep-left-sum "$g/longsum.nn" "2:996014: error: expression nested too deeply (more than 1000 levels)" --emit=ast

{ printf 'model m(x) {\n  return '; rep 1000000 a; printf '\n}\n'; } >"$g/mbident.nn"
run gen/megabyte-identifier "$g/mbident.nn" "2:10: error: identifier too long" --emit=ast

{ printf 'model m(x) {\n  return '; rep 257 a; printf '\n}\n'; } >"$g/longident.nn"
run gen/identifier-257-bytes "$g/longident.nn" "2:10: error: identifier too long (257 bytes" --emit=ast

{ printf 'model m(x) {\n  return '; rep 10000 '('; printf 'x'; rep 10000 ')'; printf '\n}\n'; } >"$g/nest.nn"
run gen/nested-10000-parens "$g/nest.nn" "2:265: error: brackets nested too deeply" --emit=ast

{ printf 'model m(x) {\n  return '; rep 10000 '['; printf '\n}\n'; } >"$g/nestb.nn"
run gen/nested-10000-brackets "$g/nestb.nn" "2:265: error: brackets nested too deeply" --emit=ast

{ printf 'model m(x) {\n  return '; rep 1000000 '-'; printf 'x\n}\n'; } >"$g/neg.nn"
run gen/million-unary-minus "$g/neg.nn" "2:9998: error: expression nested too deeply" --emit=ast

printf 'model m(x) {\n  return "abc' >"$g/unterm.nn"
run gen/unterminated-string-at-eof "$g/unterm.nn" "2:10: error: unterminated string" --emit=ast

printf 'model m(x) {\n  return x # no newline at the end' >"$g/eofbrace.nn"
run gen/eof-in-model "$g/eofbrace.nn" "2:35: error: unexpected end of file: expected '}' to close 'model' at 1:1" --emit=ast

: >"$g/empty.nn"
run gen/empty-file "$g/empty.nn" "1:1: error: empty program" --emit=ast

printf '\n# nothing but a comment\n\n' >"$g/comment-only.nn"
run gen/comment-only "$g/comment-only.nn" "1:1: error: empty program" --emit=ast

status=3
run gen/missing-file "$g/no-such-file.nn" " No such file or directory" --emit=ast
run gen/directory "$g/mods" " is a directory, not a .nn file" --emit=ast
status=1

printf 'import nosuchmodule\nmodel m(x) { return x }\n' >"$g/nomod.nn"
run gen/missing-module "$g/nomod.nn" "1:8: error: cannot find module 'nosuchmodule' (looked in: $g/mods" -I "$g/mods" --emit=ast

# a module's own errors point into the module
printf 'fn f(x) {\n  return x +\n}\n' >"$g/mods/broken.nn"
printf 'import broken\nmodel m(x) { return f(x) }\n' >"$g/usebroken.nn"
total=$((total + 1))
if $wrap "$nnc" -I "$g/mods" --emit=ast "$g/usebroken.nn" 2>&1 >/dev/null \
	| grep -qF "$g/mods/broken.nn:3:1: error: expected an expression, found '}'"; then
	echo "PASS gen/error-in-module"
else
	fail gen/error-in-module "the error is not reported in broken.nn at 3:1"
fi

# two imported modules defining one name: an error naming both files, not
# the first import silently winning (a's fa would call b's h, or not,
# depending on the order of the imports)
printf 'fn h(x) {\n  return x * 2\n}\nfn fa(x) {\n  return h(x)\n}\n' >"$g/mods/clash_a.nn"
printf '# b\nfn h(x) {\n  return x * 3\n}\n' >"$g/mods/clash_b.nn"
printf 'import clash_a\nimport clash_b\nmodel m(x: f32[B, 4]) -> f32[B, 4] {\n  return fa(x)\n}\n' >"$g/clash.nn"
printf 'train m {\n  data train = random(count: 8)\n  loss = mean(m(train.x))\n}\n' >>"$g/clash.nn"
total=$((total + 1))
$wrap "$nnc" -I "$g/mods" --emit=ir "$g/clash.nn" >/dev/null 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ] && grep -qF "$g/mods/clash_b.nn:2:4: error: 'h' is defined in two imported modules, 'clash_a' ($g/mods/clash_a.nn) and 'clash_b' ($g/mods/clash_b.nn)" "$tmp/err" \
	&& grep -qF "$g/mods/clash_a.nn:1:4: note: 'h' is defined here, in module 'clash_a'" "$tmp/err"; then
	echo "PASS gen/import-name-clash"
else
	fail gen/import-name-clash "exit $rc; $(head -c 300 "$tmp/err")"
fi

# an import cycle reads each module once and succeeds
printf 'import b\nfn f(x) { return x }\n' >"$g/cycle/a.nn"
printf 'import a\nfn g(x) { return f(x) }\n' >"$g/cycle/b.nn"
printf 'import a\nimport b\nmodel m(x) { return g(x) }\n' >"$g/cycle.nn"
total=$((total + 1))
# depth first: a reads b, b's import of a finds it taken; then the main file
order=$($wrap "$nnc" -I "$g/cycle" --emit=ast "$g/cycle.nn" 2>"$tmp/err" \
	| sed -n 's/^(\(fn\|model\|train\) \([A-Za-z_0-9]*\) .*/\2/p' | tr '\n' ' ')
if [ "$order" = "g f m " ]; then
	echo "PASS gen/import-cycle"
else
	fail gen/import-cycle "expected declarations g f m once each, got '$order' $(head -c 200 "$tmp/err")"
fi

echo "$((total - failures))/$total diagnostics cases passed"
[ $failures -eq 0 ]
