#!/bin/sh
# build.sh — build the libFuzzer target tests/fuzz/fuzz_compile with
# clang's fuzzer, address and undefined-behaviour sanitizers.
#
#   tests/fuzz/build.sh [BUILDDIR]      (default: tests/fuzz/build)
#
# The parser and scanner are generated into BUILDDIR, so the autotools
# build tree is left alone.  No LLVM, no runtime: the target stops short
# of code generation.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out=${1:-$top/tests/fuzz/build}
mkdir -p "$out"
CC=${CC:-$(command -v clang-14 || command -v clang)}

bison -o "$out/parser.c" --header="$out/parser.h" "$top/grammar/parser.y"
flex -o "$out/lexer.c" "$top/grammar/lexer.l"

# every compiler stage the target calls; not main, llvm*, link, interp
srcs="$top/tests/fuzz/fuzz_compile.c $out/parser.c $out/lexer.c $top/grammar/front.c"
for f in arena diag ir/ir ir/print ir/verify lower/lower lower/lower_builtins lower/lower_train \
	lower/lower_types lower/lower_vision lower/lower_norm lower/lower_parts autodiff/grad autodiff/optim \
	autodiff/mode passes/rewrite passes/simplify passes/cse passes/dce passes/convfuse passes/fuse \
	passes/plan codegen/desc; do
	srcs="$srcs $top/compiler/$f.c"
done
srcs="$srcs $top/grammar/ast.c"
# -fno-sanitize-recover: a UB report is a crash the fuzzer keeps
$CC -std=c11 -D_GNU_SOURCE -g -O1 -fsanitize=fuzzer,address,undefined \
	-fno-sanitize-recover=all -fno-omit-frame-pointer \
	-DFUZZ_STDLIB="\"$top/stdlib\"" -I"$out" -I"$top/grammar" -I"$top/compiler" -I"$top/compiler/ir" -I"$top/compiler/lower" -I"$top/compiler/passes" \
	-o "$out/fuzz_compile" $srcs -lm
echo "built $out/fuzz_compile"
