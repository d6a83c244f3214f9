#!/bin/sh
# The conv kernels' patch block comes from the memory plan (plan.c), not
# from an allocation in runtime/conv.c: in --emit=opt every conv, conv_dw
# and conv_dx shows the one patch block of its function, in the fixed
# scratch; --verify checks each block is as large as its convolutions need
# (nnrt_conv_block_bytes) and shares no byte with a value.
. "$(dirname "$0")/lib.sh"
for f in examples/lenet.nn examples/resnet.nn examples/alexnet.nn tests/gradcheck/conv2d_fused.nn; do
	name=$(basename "$f" .nn)
	"$NNC" --emit=opt "$SRCDIR/$f" >"$work/$name.opt" 2>&1 || { cat "$work/$name.opt"; die "$f: --emit=opt failed"; }
	# per function: convolutions, those showing patches=, distinct blocks
	awk '/^fn / { fn = $2; sub(/\(.*/, "", fn) }
	     / = conv(_dw|_dx)? / { n[fn]++; if (match($0, /patches=buf[0-9]+@\+[0-9]+/)) { p[fn]++; b[fn, substr($0, RSTART, RLENGTH)] = 1 } }
	     END { for (f in n) { k = 0; for (x in b) { split(x, y, SUBSEP); if (y[1] == f) k++ }
	                          printf "%s %d %d %d\n", f, n[f], p[f], k } }' "$work/$name.opt" >"$work/$name.count"
	[ -s "$work/$name.count" ] || die "$f: no convolution in --emit=opt"
	while read -r fn convs shown blocks; do
		[ "$convs" = "$shown" ] || die "$f: $fn has $convs convolutions, $shown show their patch block"
		[ "$blocks" = 1 ] || die "$f: $fn has $blocks patch blocks, expected one shared"
		echo "ok: $name $fn: $convs convolutions share one planned patch block"
	done <"$work/$name.count"
	"$NNC" --verify "$SRCDIR/$f" -o "$work/$name" >"$work/$name.verify" 2>&1 ||
		{ cat "$work/$name.verify"; die "$f: --verify failed"; }
	echo "ok: $name: --verify accepts the plan"
done
