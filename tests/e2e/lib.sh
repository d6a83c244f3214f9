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

# be32 N: N as four big-endian bytes, as IDX headers hold counts
be32() {
	printf "$(printf '\\%03o\\%03o\\%03o\\%03o' $(($1 >> 24 & 255)) $(($1 >> 16 & 255)) \
		$(($1 >> 8 & 255)) $(($1 & 255)))"
}

# fashion_subset SET N DIR: the first N images and labels of Fashion-MNIST's
# SET (train or t10k) as IDX files in DIR, under their usual names
fashion_subset() {
	fm=/usr/share/datasets/fashion-mnist
	mkdir -p "$3"
	{ printf '\000\000\010\003'; be32 "$2"; be32 28; be32 28
	  gzip -dc "$fm/$1-images-idx3-ubyte.gz" | tail -c +17 | head -c $(($2 * 784)); } |
		gzip -1 >"$3/$1-images-idx3-ubyte.gz"
	{ printf '\000\000\010\001'; be32 "$2"
	  gzip -dc "$fm/$1-labels-idx1-ubyte.gz" | tail -c +9 | head -c "$2"; } |
		gzip -1 >"$3/$1-labels-idx1-ubyte.gz"
}
