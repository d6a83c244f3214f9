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
