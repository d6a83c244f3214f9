#!/bin/sh
# run.sh — fuzz the compiler for SECONDS (default 60) with one process.
#
#   tests/fuzz/run.sh [SECONDS] [extra libFuzzer flags...]
#
# Builds the target if needed (tests/fuzz/build.sh), then runs it over a
# working copy of the corpus: new interesting inputs go to
# tests/fuzz/build/work (commit them only after minimising with
# tests/fuzz/merge.sh); crashes land in tests/fuzz/crashes/.  The last
# line libFuzzer prints ("#N DONE cov: ...") is the run's summary.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
secs=${1:-60}
[ $# -gt 0 ] && shift
bin=$here/build/fuzz_compile
[ -x "$bin" ] || "$here/build.sh" >/dev/null
mkdir -p "$here/build/work" "$here/crashes"
export NNC_STDLIB="$here/../../stdlib"
# -close_fd_mask=3: the compiler's diagnostics would drown the log;
# sanitizer and libFuzzer reports still reach the original stderr.
exec "$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 \
	-dict="$here/nn.dict" -close_fd_mask=3 -print_final_stats=1 \
	-artifact_prefix="$here/crashes/" "$@" "$here/build/work" "$here/corpus"
