#!/bin/sh
# One table of exit codes: the same in nnc(1) and nnc-trainer(1), the same
# values as the compiler's and the runtime's enums, and what nnc returns.
# (The trainers' codes 2-5 and 130/143 are exercised by trainer-cli.sh and
# the faults-*.sh tests.)
. "$(dirname "$0")/lib.sh"
table() { sed -n '/^\.SH EXIT STATUS/,/^\.TE/p' "$1" | sed -n '/^\.TS/,/^\.TE/p'; }
table "$SRCDIR/man/nnc.1" >"$work/nnc.tab"
table "$SRCDIR/man/nnc-trainer.1" >"$work/trainer.tab"
[ -s "$work/nnc.tab" ] || die "nnc(1) has no exit status table"
cmp -s "$work/nnc.tab" "$work/trainer.tab" || { diff "$work/nnc.tab" "$work/trainer.tab"; die "the exit tables of nnc(1) and nnc-trainer(1) differ"; }
echo "ok: nnc(1) and nnc-trainer(1) give the same table"
for f in compiler/util.h runtime/nnrt_internal.h; do
	for v in $(sed -n 's/^[[:space:]]*\(RT_\)\{0,1\}EXIT_[A-Z]* = \([0-9]*\),.*/\2/p' "$SRCDIR/$f"); do
		grep -q "^$v[[:space:],]" "$work/nnc.tab" || die "$f uses exit status $v, which the table lacks"
	done
done
echo "ok: every exit status of compiler/util.h and runtime/nnrt_internal.h is in the table"

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
