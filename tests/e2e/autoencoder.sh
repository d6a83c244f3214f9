#!/bin/sh
# autoencoder.sh — examples/autoencoder_2d.nn (the deep autoencoder with a
# 2-D code) on 2000 Fashion-MNIST images: the test reconstruction error
# falls below the untrained network's, and the pictures of a model's
# outputs — `reconstructions` (inputs beside outputs) and `scatter` (2-D
# codes by class) — are drawn, or refused with one clear line.
. "$(dirname "$0")/lib.sh"
[ -r /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || { echo "SKIP: dataset-fashion-mnist is not installed"; exit 77; }
fashion_subset train 2000 "$work/data"
fashion_subset t10k 1000 "$work/data"
compile ae "$SRCDIR/examples/autoencoder_2d.nn"
ae() { "$work/ae" "$@" --data-dir "$work/data"; }

ae eval -q >"$work/eval0.out" 2>/dev/null || die "eval of the untrained autoencoder failed"
ae train --epochs 3 --save "$work/ae.st" >"$work/train.out" 2>&1 || { cat "$work/train.out"; die "training failed"; }
cat "$work/train.out"
e0=$(metric "$work/eval0.out" test.loss)
e3=$(metric "$work/train.out" test.loss)
# the untrained net outputs about 0.5 everywhere (mse near 0.17); the mean
# image alone scores about 0.09
at_most "$e3" 0.095 "test reconstruction error after 3 epochs (untrained: $e0)"

if command -v gnuplot >/dev/null; then
	ae reconstructions "$work/rec.png" --load "$work/ae.st" >"$work/out" || die "reconstructions failed"
	grep -q "wrote .*rec.png (8x8 tiles)" "$work/out" || die "reconstructions: $(cat "$work/out")"
	ae scatter "$work/codes.png" --probe code --count 600 --load "$work/ae.st" >"$work/out" || die "scatter failed"
	grep -q "wrote .*codes.png (600 points, 10 classes)" "$work/out" || die "scatter: $(cat "$work/out")"
	for p in rec codes; do
		[ "$(head -c 4 "$work/$p.png" | tail -c 3)" = PNG ] || die "$p.png is not a PNG"
	done
	echo "ok: rec.png and codes.png drawn"
fi

one_line 2 "scatter of the 784-value output" "choose a 2-D code with --probe" ae scatter "$work/x.png" --load "$work/ae.st"
one_line 2 "scatter of an unknown probe" "no such probe" ae scatter "$work/x.png" --probe nothing --load "$work/ae.st"
one_line 2 "scatter without a file" "scatter needs the PNG file" ae scatter --probe code --load "$work/ae.st"
one_line 2 "scatter --count 0" "count" ae scatter "$work/x.png" --count 0 --probe code --load "$work/ae.st"
# a test source without labels has nothing to colour by
sed 's/"t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"/"t10k-images-idx3-ubyte.gz"/' \
	"$SRCDIR/examples/autoencoder_2d.nn" >"$work/nolabels.nn"
grep -q 'idx("t10k-images-idx3-ubyte.gz", scale' "$work/nolabels.nn" || die "nolabels.nn: the edit did not apply"
compile nolabels "$work/nolabels.nn"
one_line 2 "scatter without labels" "needs integer labels" "$work/nolabels" scatter "$work/x.png" --probe code \
	--load "$work/ae.st" --data-dir "$work/data"
# a classifier's output is not an image of its input
compile mlp "$SRCDIR/examples/mlp.nn"
"$work/mlp" reconstructions "$work/x.png" --data-dir "$work/data" 2>"$work/err"
rc=$?
[ $rc -eq 2 ] && grep -q "reconstructions needs a model whose output has its input's shape" "$work/err" ||
	{ cat "$work/err"; die "reconstructions of a classifier: exit $rc, want 2 and the reason"; }
echo "ok: reconstructions of a classifier -> exit 2: $(tail -1 "$work/err")"
[ ! -e "$work/x.png" ] && [ ! -e "$work/x.png.part" ] || die "a refused picture left a file"
echo "ok: refused pictures leave no file"
