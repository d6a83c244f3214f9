#!/bin/sh
# Gradient clipping by global norm (optimizer clip:): one sgd step from a
# known start (W all 3, b zero) with gradients of norm about 12.  With
# clip c below that norm the parameters move by exactly lr * c in global
# L2 norm, along the unclipped step; with c above it they move bit for
# bit as without clip.  The checkpoint records clip, also after a resume.
. "$(dirname "$0")/lib.sh"
command -v /usr/bin/python3 >/dev/null || { echo "SKIP: python3 reads the checkpoints"; exit 77; }

# big OPTIMIZER: a .nn file whose one step has large gradients
big() {
	cat <<NN
import layers
model big(x: f32[B, 8]) -> f32[B, 4] {
    return dense(x, 4, init: constant(3.0))
}
train big {
    data train = random(count: 16, classes: 4)
    loss = cross_entropy(big(train.x) * 20.0, train.y)
    optimizer = $1
    batch 16
    epochs 1
    seed 3
}
NN
}
# step NAME OPTIMIZER: compile and train one step, saving $work/NAME.st
step() {
	big "$2" >"$work/$1.nn"
	compile "$1" "$work/$1.nn"
	"$work/$1" train -q --save "$work/$1.st" --log-grad-norms "$work/$1.norms" >"$work/$1.out" 2>&1 \
		|| { cat "$work/$1.out"; die "training $1 failed"; }
}
step plain "sgd(lr: 0.1)"
step small "sgd(lr: 0.1, clip: 2.5)"
step large "sgd(lr: 0.1, clip: 1000)"

# The unclipped gradients' global norm, from the per-parameter norms the
# trainer logs before the update (the same in all three runs)
n=$(awk -F, 'NR > 1 { s += $4 * $4 } END { printf "%.9g", sqrt(s) }' "$work/plain.norms")
at_least "$n" 5 "global gradient norm"
cmp -s "$work/plain.norms" "$work/small.norms" || die "clip changed the gradients the trainer logs"

/usr/bin/python3 - "$work" "$n" <<'PY' || die "the clipped step is wrong"
import json, math, struct, sys
work, n = sys.argv[1], float(sys.argv[2])
def load(name):
    b = open(f"{work}/{name}.st", "rb").read()
    k = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + k])
    t = {}
    for key, v in h.items():
        if key != "__metadata__":
            lo, hi = v["data_offsets"]
            t[key] = struct.unpack(f"<{(hi - lo) // 4}f", b[8 + k + lo:8 + k + hi])
    return h["__metadata__"], t
def moved(t):   # the step from the known start: W all 3, b zero
    return [x - (3.0 if key.endswith(".W") else 0.0) for key in sorted(t) for x in t[key]]
def norm(v):
    return math.sqrt(sum(x * x for x in v))
_, plain = load("plain")
meta, small = load("small")
meta_l, large = load("large")
dp, ds = moved(plain), moved(small)
lr, c = 0.1, 2.5
print(f"step norms: unclipped step norm {norm(dp):.7g} (lr * n = {lr * n:.7g}), clipped {norm(ds):.7g} (lr * c = {lr * c:.7g})")
assert abs(norm(dp) - lr * n) <= 1e-5 * lr * n, "the unclipped step is not lr * n"
assert abs(norm(ds) - lr * c) <= 1e-5 * lr * c, "the clipped step's norm is not lr * clip"
f = c / (n + 1e-6)
worst = max(abs(s - f * p) for s, p in zip(ds, dp))
assert worst <= 1e-5 * max(abs(p) for p in dp), f"the clipped step is not the unclipped one times {f}"
assert large == plain, "clip above the norm changed the step"
assert " clip=2.5" in meta["optimizer"] and " clip=1000" in meta_l["optimizer"], "clip not recorded"
print(f"ok: clipped step = {f:.7g} * unclipped within {worst:.2g}; clip 1000 moves bit for bit as sgd")
PY
echo "ok: checkpoint optimizer records clip"

# A resumed run keeps the bound and records it again
"$work/small" train -q --load "$work/small.st" --epochs 2 --save "$work/resumed.st" >"$work/resume.out" 2>&1 \
	|| { cat "$work/resume.out"; die "resume failed"; }
grep -a -q '"optimizer":"sgd lr=0.10000000000000001 [^"]* clip=2.5"' "$work/resumed.st" \
	|| die "the resumed checkpoint does not record clip=2.5"
echo "ok: resumed checkpoint records clip=2.5"

# adam and adamw take clip too, and the listing shows the clipping nodes;
# without clip, nothing of it appears
for o in "adam(lr: 0.01, clip: 1)" "adamw(lr: 0.01, clip: 1)"; do
	big "$o" >"$work/a.nn"
	"$NNC" "$work/a.nn" --emit=grad >"$work/a.ir" 2>&1 || { cat "$work/a.ir"; die "nnc $o failed"; }
	grep -q "clip factor min(1, 1 / (n + 1e-6))" "$work/a.ir" || die "$o: no clip factor in the listing"
	[ "$(grep -c 'g \* clip factor' "$work/a.ir")" -eq 2 ] || die "$o: not both gradients scaled"
done
"$NNC" "$work/plain.nn" --emit=grad >"$work/p.ir" 2>&1 || die "nnc plain failed"
! grep -q "clip" "$work/p.ir" || die "the listing without clip mentions clipping"
echo "ok: adam and adamw listings clip both gradients; sgd without clip has no clipping"
