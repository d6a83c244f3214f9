#!/bin/sh
# End-to-end runs under valgrind: nnc compiling xor.nn, and its trainer
# training, saving, loading, predicting, checking gradients, tracing a
# step and refusing bad files.  Each run must end with its expected status,
# no memory error and no definite leak.  The code is generated for plain x86-64 (-march=x86-64):
# valgrind does not decode AVX-512, which -march=native may use.
. "$(dirname "$0")/lib.sh"
[ "${SANITIZED:-no}" = yes ] && { echo "SKIP: a sanitizer build (AddressSanitizer covers these runs)"; exit 77; }
command -v valgrind >/dev/null || { echo "SKIP: valgrind is not installed"; exit 77; }
vg="valgrind -q --error-exitcode=99 --leak-check=full --errors-for-leak-kinds=definite"

# check STATUS WHAT CMD...: CMD under valgrind exits STATUS
check() {
	want=$1 what=$2; shift 2
	$vg "$@" >"$work/out" 2>"$work/err"; rc=$?
	[ $rc -ne 99 ] || { cat "$work/err"; die "$what: valgrind found errors"; }
	[ $rc -eq "$want" ] || { cat "$work/err"; die "$what: exit $rc, expected $want"; }
	echo "ok: $what (exit $rc, valgrind clean)"
}

check 0 "nnc compiles xor.nn" "$NNC" -march=x86-64 "$SRCDIR/examples/xor.nn" -o "$work/xor"
mkdir -p "$work/data"
cp "$SRCDIR/examples/data/xor.csv" "$work/data/"
t="$work/xor"
check 0 "train 50 epochs and save" $t train --epochs 50 --data-dir "$work" --save "$work/ck.safetensors"
check 0 "eval a loaded checkpoint" $t eval --data-dir "$work" --load "$work/ck.safetensors"
check 0 "predict" $t predict --data-dir "$work" --load "$work/ck.safetensors"
check 0 "resume training" $t train --epochs 60 --data-dir "$work" --load "$work/ck.safetensors"
check 0 "gradcheck" $t gradcheck --data-dir "$work"
check 0 "trace a loaded checkpoint's next step" $t trace --data-dir "$work" --load "$work/ck.safetensors"
check 3 "a missing checkpoint" $t eval --data-dir "$work" --load "$work/none.safetensors"
head -c 100 "$work/ck.safetensors" >"$work/short.safetensors"
check 3 "a truncated checkpoint" $t eval --data-dir "$work" --load "$work/short.safetensors"
printf '0,0,0\n0,x,1\n' >"$work/data/xor.csv"
check 3 "a CSV file with a bad row" $t train --data-dir "$work"
check 2 "an unknown option" $t train --bogus
