#!/bin/sh
# merge.sh — fold what run.sh found (tests/fuzz/build/work) into the
# committed corpus, keeping only inputs that add coverage (-merge=1), so
# tests/fuzz/corpus stays a few hundred small files.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
bin=$here/build/fuzz_compile
[ -x "$bin" ] || "$here/build.sh" >/dev/null
new=$here/build/merged
rm -rf "$new" && mkdir -p "$new" "$here/build/work"
export NNC_STDLIB="$here/../../stdlib"
# -max_len and -use_counters=0 (edges, not hit counts) keep the committed
# corpus to a few hundred small files
"$bin" -merge=1 -use_counters=0 -max_len=2048 -timeout=10 -rss_limit_mb=2048 -close_fd_mask=3 \
	"$new" "$here/corpus" "$here/build/work"
rm -rf "$here/corpus" && mv "$new" "$here/corpus"
echo "corpus: $(ls "$here/corpus" | wc -l) files, $(du -sk "$here/corpus" | cut -f1) KiB"
