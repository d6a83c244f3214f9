# lib.sh — shared by the end-to-end tests: where nnc and the sources are,
# a scratch directory removed on exit, and small assertions.
set -u
NNC=${NNC:-$PWD/nnc}
SRCDIR=${SRCDIR:-$PWD}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

die() { echo "FAIL: $*"; exit 1; }

# compile NAME FILE.nn: compile into $work/NAME or fail the test
compile() {
	"$NNC" "$2" -o "$work/$1" 2>"$work/$1.cc.err" || { cat "$work/$1.cc.err"; die "nnc $2 failed"; }
}

# metric FILE KEY: the last value printed for KEY (e.g. test.accuracy)
metric() {
	sed -n "s/.*$2 \([-0-9.eE+naif]*\).*/\1/p" "$1" | tail -1
}

# at_least VALUE BOUND WHAT / at_most VALUE BOUND WHAT
at_least() { awk -v v="$1" -v b="$2" 'BEGIN { exit !(v != "" && v + 0 >= b + 0) }' || die "$3 = '$1', expected >= $2"; echo "ok: $3 = $1 (>= $2)"; }
at_most() { awk -v v="$1" -v b="$2" 'BEGIN { exit !(v != "" && v + 0 <= b + 0) }' || die "$3 = '$1', expected <= $2"; echo "ok: $3 = $1 (<= $2)"; }

# one_line STATUS NAME PATTERN CMD...: CMD exits with STATUS and exactly one
# line on stderr that matches PATTERN (its stdout is left in $work/out)
one_line() {
	want=$1 name=$2 pat=$3; shift 3
	"$@" >"$work/out" 2>"$work/err"; rc=$?
	[ $rc -eq "$want" ] || { cat "$work/err"; die "$name: exit $rc, want $want"; }
	[ "$(wc -l <"$work/err")" -eq 1 ] || { cat "$work/err"; die "$name: the error is not one line"; }
	grep -q -- "$pat" "$work/err" || die "$name: '$(cat "$work/err")' does not match '$pat'"
	echo "ok: $name -> exit $want: $(cat "$work/err")"
}

# on_random EXAMPLE N: examples/EXAMPLE.nn with N random samples to train
# on and N/4 to report on in place of its idx files, compiled into $work/EXAMPLE
on_random() {
	sed -e "s/idx(\"train-images[^)]*)/random(count: $2, classes: 10)/" \
	    -e "s/idx(\"t10k[^)]*)/random(count: $(($2 / 4)), classes: 10)/" "$SRCDIR/examples/$1.nn" >"$work/$1.nn"
	grep -q "random(count: $2," "$work/$1.nn" || die "examples/$1.nn: its training source is no longer idx(...)"
	compile "$1" "$work/$1.nn"
}
