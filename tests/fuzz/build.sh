#!/bin/sh
# build.sh — build the libFuzzer targets tests/fuzz/fuzz_compile (a .nn
# source through the pipeline) and tests/fuzz/fuzz_read (an IR listing
# through the reader and the passes) with clang's fuzzer, address and
# undefined-behaviour sanitizers.
#
#   tests/fuzz/build.sh [BUILDDIR]      (default: tests/fuzz/build)
#
# The sources are libnnc.a's, as Makefile.am lists them, so a stage added
# there is fuzzed without a change here.  The parser and scanner are
# generated into BUILDDIR, so the autotools build tree is left alone.  The
# targets stop short of code generation, but pipeline.c names the emit
# stage, so they link LLVM (llvm-config-19).
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$top/tests/fuzz/build}
mkdir -p "$out"
CC=${CC:-$(command -v clang-14 || command -v clang)}
LLVM_CONFIG=${LLVM_CONFIG:-$(command -v llvm-config-19 || command -v llvm-config)}

bison -o "$out/parser.c" --header="$out/parser.h" "$top/grammar/parser.y"
flex -o "$out/lexer.c" "$top/grammar/lexer.l"

# libnnc_a_SOURCES of Makefile.am with its $(VARIABLES) expanded: the .c files
srcs=$(awk '
	{ line = line $0 }
	/\\$/ { sub(/\\$/, " ", line); next }
	{ if (match(line, /^[A-Za-z_]+[ \t]*\+?=/)) {
		name = line; sub(/[ \t]*\+?=.*/, "", name)
		value = line; sub(/^[^=]*=/, "", value)
		val[name] = (line ~ /^[A-Za-z_]+[ \t]*\+=/ ? val[name] " " : "") value
	  }
	  line = "" }
	function expand(s,   v) {
		while (match(s, /\$\([A-Za-z_]+\)/)) {
			v = substr(s, RSTART + 2, RLENGTH - 3)
			s = substr(s, 1, RSTART - 1) val[v] substr(s, RSTART + RLENGTH)
		}
		return s
	}
	END { n = split(expand(val["libnnc_a_SOURCES"]), f, /[ \t]+/)
	      for (i = 1; i <= n; i++) if (f[i] ~ /\.c$/) print f[i] }' "$top/Makefile.am")
[ -n "$srcs" ] || { echo "build.sh: no libnnc_a_SOURCES in $top/Makefile.am" >&2; exit 1; }
lib=""
for f in $srcs; do lib="$lib $top/$f"; done

for target in fuzz_compile fuzz_read; do
	# -fno-sanitize-recover: a UB report is a crash the fuzzer keeps
	$CC -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=all -fno-omit-frame-pointer \
		-DFUZZ_STDLIB="\"$top/stdlib\"" -I"$out" -I"$top/grammar" -I"$top/compiler" -I"$top/compiler/ir" \
		-I"$top/compiler/lower" -I"$top/compiler/passes" -I"$top/compiler/codegen" -I"$top/runtime" \
		$("$LLVM_CONFIG" --cflags | sed 's/-std=[^ ]*//') \
		-o "$out/$target" "$top/tests/fuzz/$target.c" "$out/parser.c" "$out/lexer.c" $lib \
		$("$LLVM_CONFIG" --ldflags) $("$LLVM_CONFIG" --link-shared --libs core analysis target passes native) \
		$("$LLVM_CONFIG" --link-shared --system-libs) -lm
	echo "built $out/$target"
done
