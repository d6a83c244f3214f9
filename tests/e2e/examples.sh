#!/bin/sh
# Every example compiles, and its trainer describes itself: `info` lists the
# layers and parameters.  (Training runs are in xor.sh, mlp.sh, lenet.sh,
# vanishing.sh; the long ones, AlexNet and ResNet, are measured in
# docs/cnn.md.)
. "$(dirname "$0")/lib.sh"
n=0
for f in "$SRCDIR"/examples/*.nn "$SRCDIR"/examples/*/*.nn; do
	[ -e "$f" ] || continue
	name=$(basename "$f" .nn)
	compile "$name" "$f"
	"$work/$name" info >"$work/$name.info" 2>&1 || { cat "$work/$name.info"; die "$name info failed"; }
	grep -q '^total' "$work/$name.info" || { cat "$work/$name.info"; die "$name info has no total"; }
	n=$((n + 1))
	echo "ok: $name: $(grep '^total' "$work/$name.info" | head -1 | tr -s ' ')"
done
[ "$n" -ge 9 ] || die "only $n examples found"
# the parameter counts of the classic networks, as their papers' designs give them
grep -q '^total *61706$' "$work/lenet.info" || die "LeNet-5 should have 61706 parameters"
grep -q '^total *272186$' "$work/resnet.info" || die "this ResNet-20 should have 272186 parameters"

# convfuse.c: in each training step every convolution is a conv and a
# conv_dw, every image gradient a conv_dx, and no patch matrix is left (a
# window with zero fill; max pooling's fill with -inf).  LeNet: 2
# convolutions, the first on the data, which needs no image gradient.
# ResNet-20: 21 convolutions (with the two 1x1 projections), the first on
# the data.
# conv_counts NAME: "conv conv_dw conv_dx zero-fill-windows" of its grad
conv_counts() {
	"$NNC" "$SRCDIR/examples/$1.nn" --emit=opt | awk '
		/^fn / { g = /^fn grad/ }
		g && / = conv / { c++ } g && / = conv_dw / { w++ } g && / = conv_dx / { x++ }
		g && / = window / && !/fill=/ { z++ }
		END { printf "%d %d %d %d\n", c, w, x, z }'
}
for want in "lenet 2 2 1 0" "resnet 21 21 20 0"; do
	set -- $want
	got=$(conv_counts "$1")
	[ "$got" = "$2 $3 $4 $5" ] || die "$1: conv, conv_dw, conv_dx, zero-fill windows: $got, expected $2 $3 $4 $5"
	echo "ok: $1: $2 conv, $3 conv_dw, $4 conv_dx, $5 zero-fill windows"
done
