#!/bin/sh
# make install into a DESTDIR, then the installed nnc (finding its standard
# library and runtime relative to itself) compiles and runs an example outside
# the build tree.
. "$(dirname "$0")/lib.sh"
BUILDDIR=${BUILDDIR:-$PWD}
make -C "$BUILDDIR" install DESTDIR="$work/root" >"$work/install.log" 2>&1 || { tail -20 "$work/install.log"; die "make install failed"; }
prefix=$(sed -n 's/^prefix=//p' "$BUILDDIR/nnrt.pc")
root="$work/root$prefix"
for f in bin/nnc lib/libnnrt.a include/nnrt.h lib/pkgconfig/nnrt.pc share/nnc/stdlib/layers.nn \
	share/man/man1/nnc.1 share/man/man5/nn.5 share/man/man1/nnc-trainer.1 bin/nnc-gradplot share/man/man1/nnc-gradplot.1; do
	[ -f "$root/$f" ] || die "$f was not installed"
done
echo "ok: installed files present under DESTDIR"
# nnrt.h makes its prototypes from nnrt_kernels.def: the installed pair
# declares every kernel on its own, and the declarations are C11
printf '#include <nnrt.h>\nvoid (*f)(const float *, const float *, float *, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, int64_t, const nnrt_window *, float *) = nnrt_conv_f32;\n' >"$work/hdr.c"
${CC:-cc} -std=c11 -Wall -Werror -pedantic -c -I"$root/include" "$work/hdr.c" -o "$work/hdr.o" || die "the installed nnrt.h does not compile on its own"
echo "ok: the installed nnrt.h declares the kernels"
"$root/bin/nnc-gradplot" --help >/dev/null || die "the installed nnc-gradplot does not run"
mkdir "$work/elsewhere" && cp "$SRCDIR/examples/xor.nn" "$work/elsewhere/" && mkdir "$work/elsewhere/data" && cp "$SRCDIR/examples/data/xor.csv" "$work/elsewhere/data/"
cd "$work/elsewhere"
env -u NNC_STDLIB -u NNC_RUNTIME_DIR "$root/bin/nnc" xor.nn -o xor || die "the installed nnc failed to compile xor.nn"
./xor train >train.out 2>&1 || { cat train.out; die "the trainer built by the installed nnc failed"; }
echo "ok: the installed nnc built a trainer that trains: $(tail -1 train.out)"
