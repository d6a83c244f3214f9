# bench/lib.sh — what the benchmarks share, sourced from the tree's root by
# bench/*.sh after `set -eu`: the checks that a built tree and Debian's
# python3-torch are there (torch not, where the script sets no_torch=1), a
# scratch directory $work removed on exit, and the lines that say which
# machine and OpenBLAS kernel a figure came from.
bench=$(basename "$0")
[ -x ./nnc ] || { echo "$bench: build first (./quickstart --build-only)" >&2; exit 2; }
[ -n "${no_torch:-}" ] || /usr/bin/python3 -c 'import torch' 2>/dev/null ||
	{ echo "$bench: needs Debian's python3-torch" >&2; exit 2; }
# nnc links trainers with libnnrt.a from here when it is not installed
export NNC_RUNTIME_DIR="${NNC_RUNTIME_DIR:-$PWD}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# openblas_core: the kernel OpenBLAS picked for this CPU, and its build
openblas_core() {
	cat >"$work/core.c" <<'C'
#include <stdio.h>
char *openblas_get_corename(void);
char *openblas_get_config(void);
int main(void) { printf("%s (%s)\n", openblas_get_corename(), openblas_get_config()); return 0; }
C
	cc "$work/core.c" $(pkg-config --libs openblas) -o "$work/core" && "$work/core"
}

# same_kernel: unless OPENBLAS_CORETYPE is set, export the kernel family
# nnc's trainers run (runtime/blas.c, which may choose better than
# OpenBLAS's own CPU table), so that torch, whose dense layers call the same
# OpenBLAS, and the GEMM bound run on it too
same_kernel() {
	[ -n "${OPENBLAS_CORETYPE:-}" ] && return
	./nnc examples/xor.nn -o "$work/probe"
	OPENBLAS_CORETYPE=$("$work/probe" info | sed -n 's/^blas  OpenBLAS kernel \([A-Za-z0-9]*\).*/\1/p')
	export OPENBLAS_CORETYPE
}

# print_machine: the lines every result starts with
print_machine() {
	echo "machine: $(nproc) cores, $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)"
	echo "OpenBLAS kernel: $(openblas_core); OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
}

# seconds_since START: wall seconds since START, a `date +%s.%N`
seconds_since() { echo "$(date +%s.%N) - $1" | bc; }

# rss FILE: peak RSS in KiB from a `/usr/bin/time -v` log
rss() { sed -n 's/.*Maximum resident set size (kbytes): //p' "$1"; }

# nnc_rate FILE: samples/s from a trainer's summary line (--quiet prints none)
nnc_rate() { sed -n 's/.*(\([0-9]*\) samples\/s.*/\1/p' "$1"; }

# torch_rate FILE: samples/s from a bench/*_torch.py line
torch_rate() { sed -n 's/.*samples_per_s=\([0-9]*\).*/\1/p' "$1"; }

# fortunes_corpus FILES: sets $corpus to a directory of those files of
# /usr/share/games/fortunes copied under $work/data (what --data-dir
# $work/data finds as "fortunes"), or to the whole corpus for "all"
fortunes_corpus() {
	corpus=$work/data/fortunes
	mkdir -p "$corpus"
	if [ "$1" = all ]; then
		corpus=/usr/share/games/fortunes
	else
		for f in $1; do cp "/usr/share/games/fortunes/$f" "$corpus/"; done
	fi
}
