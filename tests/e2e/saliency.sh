#!/bin/sh
# Input gradients (nn(5) grad) and examples/saliency.nn: the saliency map
# of a linear model x @ W is the column of W of the class it picks, read
# through `show` and compared with the checkpoint's W (with dropout, which
# is the identity in evaluation, so the map must be the gradient of what
# evaluation computes, not of a training mask); the example trains a
# little on generated data and draws its map with gnuplot.
. "$(dirname "$0")/lib.sh"
command -v /usr/bin/python3 >/dev/null || { echo "SKIP: python3 reads the checkpoints"; exit 77; }

cat >"$work/lin.nn" <<'NN'
model lin(x: f32[B, 6]) -> f32[B, 3] {
    param W: f32[6, 3] = normal(std: 1)
    return dropout(x, p: 0.5) @ W
}
fn top_score(x: f32[B, 6]) { return sum(max(lin(x), axis: 1)) }
model sal(x: f32[B, 6]) -> f32[B, 3] {
    s = probe(grad(top_score)(x), "map")
    return lin(x)
}
train sal {
    data train = random(count: 32, classes: 3)
    loss = cross_entropy(sal(train.x), train.y)
    batch 8
    epochs 3
    seed 2
}
NN
compile lin "$work/lin.nn"
"$work/lin" train -q --save "$work/lin.st" >"$work/train.out" 2>&1 || { cat "$work/train.out"; die "training lin"; }
printf '0.5,-1,2,0.3,0.1,-0.7\n1,1,1,1,1,1\n-2,0.5,0.25,1,-1,3\n0,0,-1,2,0.5,0.5\n' >"$work/in.csv"
for i in 0 1 2 3; do
	"$work/lin" show --load "$work/lin.st" --probe map --input "$work/in.csv" --index $i >"$work/map$i" 2>"$work/err" ||
		{ cat "$work/err"; die "show --probe map --index $i"; }
done
/usr/bin/python3 - "$work" <<'PY' || die "the saliency of x @ W is not W's column of the class picked"
import json, struct, sys
work = sys.argv[1]
b = open(f"{work}/lin.st", "rb").read()
k = struct.unpack("<Q", b[:8])[0]
h = json.loads(b[8:8 + k])
lo, hi = h["lin.W"]["data_offsets"]
W = struct.unpack("<18f", b[8 + k + lo:8 + k + hi])          # [6, 3], row-major
rows = [[float(v) for v in line.split(",")] for line in open(f"{work}/in.csv")]
picked = set()
for i, x in enumerate(rows):
    z = [sum(x[r] * W[3 * r + c] for r in range(6)) for c in range(3)]
    c = max(range(3), key=lambda j: z[j])
    picked.add(c)
    want = [W[3 * r + c] for r in range(6)]
    got = [float(v) for v in open(f"{work}/map{i}").read().split()]
    worst = max(abs(g - w) for g, w in zip(got, want))
    assert len(got) == 6 and worst <= 1e-5 * max(1, max(map(abs, want))), f"sample {i}: {got} != W[:, {c}] = {want}"
    print(f"ok: sample {i}: class {c}, map = W[:, {c}] within {worst:.1e}")
assert len(picked) > 1, "every sample picked one class: the test would not tell the columns apart"
PY

# the example, on generated data in place of Fashion-MNIST: a map of 28 x 28
on_random saliency 256
"$work/saliency" train -q --epochs 1 --save "$work/s.st" >"$work/train.out" 2>&1 || { cat "$work/train.out"; die "training saliency"; }
"$work/saliency" show --load "$work/s.st" --probe saliency --index 3 >"$work/map" 2>"$work/err" || { cat "$work/err"; die "show"; }
awk 'NF != 28 { bad = 1 } { for (i = 1; i <= NF; i++) if ($i < 0) bad = 1 } END { exit bad || NR != 28 }' "$work/map" ||
	{ head -3 "$work/map"; die "the map is not 28 x 28 values of |d score/d pixel|"; }
echo "ok: examples/saliency.nn shows a 28 x 28 map of |d score/d pixel|"
if command -v gnuplot >/dev/null; then
	"$work/saliency" show --load "$work/s.st" --probe saliency --index 3 --png "$work/s.png" >"$work/out" 2>&1 ||
		{ cat "$work/out"; die "show --png"; }
	grep -q "wrote .*s.png: 28 x 28" "$work/out" && [ "$(head -c 4 "$work/s.png" | tail -c 3)" = PNG ] ||
		{ cat "$work/out"; die "no PNG written"; }
	echo "ok: show --png draws it"
fi
