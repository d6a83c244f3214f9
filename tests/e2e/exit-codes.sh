#!/bin/sh
# One table of exit codes: the same in nnc(1) and nnc-trainer(1), the same
# values as runtime/nnrt_exit.h (which the compiler and the runtime both
# use), and what nnc returns.
# (The trainers' codes 2-5 and 130/143 are exercised by trainer-cli.sh and
# the faults-*.sh tests.)
. "$(dirname "$0")/lib.sh"
table() { sed -n '/^\.SH EXIT STATUS/,/^\.TE/p' "$1" | sed -n '/^\.TS/,/^\.TE/p'; }
table "$SRCDIR/man/nnc.1" >"$work/nnc.tab"
table "$SRCDIR/man/nnc-trainer.1" >"$work/trainer.tab"
[ -s "$work/nnc.tab" ] || die "nnc(1) has no exit status table"
cmp -s "$work/nnc.tab" "$work/trainer.tab" || { diff "$work/nnc.tab" "$work/trainer.tab"; die "the exit tables of nnc(1) and nnc-trainer(1) differ"; }
echo "ok: nnc(1) and nnc-trainer(1) give the same table"
# runtime/nnrt_exit.h is the one table in C: its statuses are the man
# pages' (but success and the signals' 128 + N), and the compiler and the
# runtime name its values without numbers of their own
codes=$(sed -n 's/^[[:space:]]*NNRT_EXIT_[A-Z]* = \([0-9]*\),.*/\1/p' "$SRCDIR/runtime/nnrt_exit.h")
[ -n "$codes" ] || die "runtime/nnrt_exit.h lists no exit statuses"
for v in $codes; do
	grep -q "^$v[[:space:],]" "$work/nnc.tab" || die "runtime/nnrt_exit.h has exit status $v, which the table lacks"
done
for v in $(cut -f1 "$work/nnc.tab" | grep '^[0-9][0-9]*$'); do
	[ "$v" = 0 ] || echo "$codes" | grep -qx "$v" || die "the table's exit status $v is not in runtime/nnrt_exit.h"
done
for f in compiler/util.h runtime/nnrt_internal.h; do
	grep -q '^#include "nnrt_exit.h"' "$SRCDIR/$f" || die "$f does not include nnrt_exit.h"
	! grep -n 'EXIT_[A-Z]* = [0-9]' "$SRCDIR/$f" || die "$f numbers exit statuses of its own"
done
echo "ok: runtime/nnrt_exit.h, used by compiler/util.h and runtime/nnrt_internal.h, holds the table's statuses"

# expect STATUS CMD...: run nnc and check its status
expect() {
	want=$1; shift
	"$@" >"$work/out" 2>"$work/err"; rc=$?
	[ $rc -eq "$want" ] || { cat "$work/err"; die "'$*' exited $rc, expected $want"; }
	echo "ok: exit $rc: $* $(head -1 "$work/err")"
}
printf 'model m(x: f32[B, 2]) -> f32[B, 1] {\n    return x @ nowhere\n}\n' >"$work/bad.nn"
expect 0 "$NNC" --emit=ir "$SRCDIR/examples/xor.nn"
expect 1 "$NNC" "$work/bad.nn"
expect 2 "$NNC" --frobnicate "$SRCDIR/examples/xor.nn"
expect 2 "$NNC"
expect 2 "$NNC" -march=pentium4 "$SRCDIR/examples/xor.nn"
expect 3 "$NNC" "$work/missing.nn"
expect 3 "$NNC" "$SRCDIR/examples/xor.nn" -o "$work/no/such/dir/xor"
# a trainer's gradcheck above its tolerance is a failed check: 1
compile xor "$SRCDIR/examples/xor.nn"
mkdir -p "$work/data" && cp "$SRCDIR/examples/data/xor.csv" "$work/data/"
expect 1 "$work/xor" gradcheck --tol 1e-300 --data-dir "$work"
