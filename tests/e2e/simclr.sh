#!/bin/sh
# simclr.sh — contrastive learning end to end on 1,024 Fashion-MNIST
# images: examples/simclr.nn trains (NT-Xent over two augmented views
# falls below its value at the start, log(2B - 1) for codes that tell
# nothing apart); examples/simclr_probe.nn reads its encoder by name
# (--init), trains only its head, and leaves the frozen encoder's bytes
# as loaded; stop_gradient on purpose draws no "does not affect the loss"
# warning, an unused parameter still does.
. "$(dirname "$0")/lib.sh"
[ -r /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ] || { echo "SKIP: dataset-fashion-mnist is not installed"; exit 77; }
fashion_subset train 1024 "$work/data"
fashion_subset t10k 500 "$work/data"
compile simclr "$SRCDIR/examples/simclr.nn"
"$NNC" "$SRCDIR/examples/simclr_probe.nn" -o "$work/probe" 2>"$work/probe.cc" || { cat "$work/probe.cc"; die "simclr_probe.nn does not compile"; }
[ -s "$work/probe.cc" ] && { cat "$work/probe.cc"; die "simclr_probe.nn: warnings, though its encoder is frozen on purpose"; }
echo "ok: the probe's frozen encoder draws no warning"

"$work/simclr" train --data-dir "$work/data" --epochs 3 --batch 128 --save "$work/s.st" >"$work/s.out" 2>&1 ||
	{ cat "$work/s.out"; die "simclr training failed"; }
cat "$work/s.out"
first=$(sed -n 's/^epoch 1\/3 loss \([0-9.]*\).*/\1/p' "$work/s.out")
last=$(sed -n 's/^epoch 3\/3 loss \([0-9.]*\).*/\1/p' "$work/s.out")
# 255 other codes per view: a code that tells nothing apart scores log 255 = 5.54
at_most "$last" 5.2 "NT-Xent after 3 epochs (log 255 = 5.54 for codes that tell nothing apart)"
at_most "$last" "$first" "NT-Xent after 3 epochs against after 1 ($first)"

"$work/probe" train --data-dir "$work/data" --epochs 6 --init "$work/s.st" --save "$work/p.st" >"$work/p.out" 2>&1 ||
	{ cat "$work/p.out"; die "the probe failed"; }
cat "$work/p.out"
# the six encoder tensors are the simclr checkpoint's, byte for byte
/usr/bin/python3 - "$work/s.st" "$work/p.st" <<'PY' || die "the frozen encoder changed, or was not loaded"
import json, struct, sys
def tensors(path):
    raw = open(path, "rb").read()
    n = struct.unpack("<Q", raw[:8])[0]
    head = json.loads(raw[8:8 + n])
    return {k.split(".", 1)[1]: raw[8 + n + v["data_offsets"][0]:8 + n + v["data_offsets"][1]]
            for k, v in head.items() if k != "__metadata__"}
s, p = tensors(sys.argv[1]), tensors(sys.argv[2])
enc = [k for k in p if k.startswith("encoder_1.") and "." in k and not k.endswith((".m", ".v", ".momentum"))]
enc = [k for k in enc if k in s]
print(f"{len(enc)} encoder tensors compared")
sys.exit(0 if len(enc) == 6 and all(s[k] == p[k] for k in enc) else 1)
PY
echo "ok: the probe trained its head and left the encoder's bytes as simclr wrote them"
acc=$(metric "$work/p.out" test.accuracy)
at_least "$acc" 0.35 "the probe's test accuracy after 6 epochs of 1,024 images (chance: 0.1)"

# an unused parameter still warns
cat >"$work/unused.nn" <<'NN'
model m(x: f32[B, 4]) -> f32[B, 4] {
    param a: f32[4] = zeros
    param b: f32[4] = zeros
    return x * a
}
train m {
    data train = random(count: 8)
    loss = mse(m(train.x), train.y)
}
NN
"$NNC" "$work/unused.nn" -o "$work/unused" 2>"$work/err" || die "unused.nn does not compile"
grep -q "warning: parameter 'm.b' does not affect the loss" "$work/err" || die "no warning for an unused parameter: $(cat "$work/err")"
echo "ok: an unused parameter still warns"
