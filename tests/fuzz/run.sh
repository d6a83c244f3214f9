#!/bin/sh
# run.sh — fuzz the compiler for SECONDS (default 60) with one process.
#
#   tests/fuzz/run.sh [SECONDS] [extra libFuzzer flags...]
#   FUZZ_TARGET=fuzz_read tests/fuzz/run.sh [SECONDS] ...
#   tests/fuzz/run.sh --programs [COUNT] [SEED]   generated programs through
#                                                 codegen and a run (programs.sh)
#
# Builds the targets if needed (tests/fuzz/build.sh), then runs one over
# a working copy of its corpus: fuzz_compile (the default) a .nn source,
# seeded from corpus/; fuzz_read an IR listing, seeded from the listings
# the tests keep (tests/ir/*.ir, tests/golden/*.txt).  New interesting
# inputs go to tests/fuzz/build/work (or work-read; commit them only after
# minimising with tests/fuzz/merge.sh); crashes land in tests/fuzz/crashes/.
# The last line libFuzzer prints ("#N DONE cov: ...") is the run's summary.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
if [ "${1:-}" = --programs ]; then
	# generated programs against the oracles instead (programs.sh), with the
	# compiler and interp_eval of an in-tree build unless NNC/BUILDDIR say
	shift
	export NNC="${NNC:-$here/../../nnc}" BUILDDIR="${BUILDDIR:-$here/../..}"
	exec sh "$here/programs.sh" "$@"
fi
secs=${1:-60}
[ $# -gt 0 ] && shift
target=${FUZZ_TARGET:-fuzz_compile}
bin=$here/build/$target
[ -x "$bin" ] || "$here/build.sh" >/dev/null
mkdir -p "$here/crashes"
export NNC_STDLIB="$here/../../stdlib"
case $target in
fuzz_compile)
	work=$here/build/work
	set -- -dict="$here/nn.dict" "$@" "$work" "$here/corpus" ;;
fuzz_read)
	# the dictionary: every op's name, from ops.def, and the listing's words
	work=$here/build/work-read
	dict=$here/build/ir.dict
	sed -n 's/^OP(\([a-z_]*\),.*/"\1"/p' "$here/../../compiler/ir/ops.def" >"$dict"
	for w in fn params '(' ')' ': ' ', ' '%' ' = ' store ' -> ' f32[ f64[ i32[ B ']' '; backward' \
		matmul.nt matmul.tn matmul.tt alpha= k= stream= width= axis= at= stride= pad= dilation= fill= \
		axes= perm= x '@+B*' buf home= of '.grad' '.momentum' loss out lr step; do
		printf '"%s"\n' "$w"
	done >>"$dict"
	seed=$here/build/seed-read
	rm -rf "$seed" && mkdir -p "$seed"
	cp "$here"/../ir/*.ir "$here"/../golden/*.txt "$seed"/
	set -- -dict="$dict" -max_len=65536 "$@" "$work" "$seed" ;;
*)
	echo "run.sh: FUZZ_TARGET is fuzz_compile or fuzz_read, not '$target'" >&2; exit 2 ;;
esac
mkdir -p "$work"
# -close_fd_mask=3: the compiler's diagnostics would drown the log;
# sanitizer and libFuzzer reports still reach the original stderr.
exec "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-close_fd_mask=3 -print_final_stats=1 -artifact_prefix="$here/crashes/" "$@"
