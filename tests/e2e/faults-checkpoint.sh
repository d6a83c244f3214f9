#!/bin/sh
# faults-checkpoint.sh — checkpoints that cannot be read (missing,
# truncated, not safetensors, another model, damaged data: exit 3 and one
# line naming the file and the first problem), and saves that cannot be
# written (no such directory, a file where the directory should be, every
# write failing in turn with ENOSPC or EIO, a full tmpfs): exit 3, one
# line, and the previous checkpoint byte-identical and still loadable.
. "$(dirname "$0")/lib.sh"

cat >"$work/tiny.nn" <<'EOF'
import layers
model tiny(x: f32[B, 8]) -> f32[B, 3] {
    h = relu(dense(x, 16))
    return dense(h, 3)
}
train tiny {
    data train = random(count: 200, classes: 3)
    loss = cross_entropy(tiny(train.x), train.y)
    optimizer = adam(lr: 0.01)
    batch 16
    epochs 2
    seed 3
    report accuracy on train
}
EOF
sed -e 's/dense(x, 16)/dense(x, 12)/' "$work/tiny.nn" >"$work/wide.nn"
compile tiny "$work/tiny.nn"
compile wide "$work/wide.nn"
T=$work/tiny
n=0

# refused STATUS NAME PATTERN CMD...: one_line, counted
refused() { one_line "$@"; n=$((n + 1)); }

$T train -q --save "$work/good.st" || die "training the tiny model failed"
$T eval --load "$work/good.st" >/dev/null || die "the good checkpoint does not load"

# ---- reading ----
refused 3 missing "cannot read checkpoint $work/none.st: No such file" $T eval --load "$work/none.st"
size=$(wc -c <"$work/good.st")
for cut in 0 4 8 20 200 $((size / 2)) $((size - 1)); do
	head -c "$cut" "$work/good.st" >"$work/cut.st"
	refused 3 "truncated to $cut bytes" "$work/cut.st: " $T eval --load "$work/cut.st"
done
printf 'this is not a checkpoint at all, just text\n' >"$work/text.st"
refused 3 "not safetensors (text)" "$work/text.st: not a safetensors file" $T eval --load "$work/text.st"
head -c 4096 /dev/urandom >"$work/random.st" 2>/dev/null || dd if=/dev/urandom of="$work/random.st" bs=4096 count=1 2>/dev/null
refused 3 "not safetensors (random bytes)" "$work/random.st: " $T eval --load "$work/random.st"
printf '\010\000\000\000\000\000\000\000[1,2,3]\n' >"$work/array.st"
refused 3 "not safetensors (JSON array)" "$work/array.st: malformed header" $T eval --load "$work/array.st"
"$work/wide" train -q --save "$work/wide.st" || die "training the wide model failed"
refused 3 "another model (other widths)" "$work/wide.st: tensor tiny.dense_1.W has shape \[8,12\], the model wants \[8,16\]" \
	$T eval --load "$work/wide.st"
refused 3 "another model (loaded the other way)" "$work/good.st: tensor tiny.dense_1.W has shape \[8,16\], the model wants \[8,12\]" \
	"$work/wide" train --load "$work/good.st"
if /usr/bin/python3 -c 'import json' 2>/dev/null; then
	# flip one data byte, rename a tensor, change a dtype: rewrite the file in Python
	/usr/bin/python3 - "$work/good.st" "$work" <<'PY' || die "python could not rewrite the checkpoint"
import json, struct, sys
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
head, data = json.loads(raw[8:8 + n]), raw[8 + n:]
def write(name, h, d):
    b = json.dumps(h).encode()
    b += b" " * (-len(b) % 8)
    open(sys.argv[2] + "/" + name, "wb").write(struct.pack("<Q", len(b)) + b + d)
flipped = bytearray(data); flipped[len(data) // 2] ^= 0x01
write("flipped.st", head, bytes(flipped))
renamed = dict(head); renamed["tiny.dense_9.b"] = renamed.pop("tiny.dense_2.b")
write("renamed.st", renamed, data)
retyped = json.loads(json.dumps(head)); retyped["tiny.dense_1.b"]["dtype"] = "I32"
write("retyped.st", retyped, data)
nosum = json.loads(json.dumps(head)); del nosum["__metadata__"]["checksum"]
write("nosum.st", nosum, data)
PY
	refused 3 "damaged data" "$work/flipped.st: checksum mismatch: the data has crc32:[0-9a-f]*, the header says crc32:" \
		$T eval --load "$work/flipped.st"
	refused 3 "renamed tensor" "$work/renamed.st: tensor tiny.dense_2.b is missing" $T eval --load "$work/renamed.st"
	refused 3 "another dtype" "$work/retyped.st: tensor tiny.dense_1.b has dtype I32, the model wants F32" \
		$T eval --load "$work/retyped.st"
	$T eval --load "$work/nosum.st" >/dev/null 2>&1 || die "a checkpoint without a checksum (another tool's) should load"
	echo "ok: a checkpoint without a checksum (written by another tool) loads"
fi

# ---- writing: the previous checkpoint survives every failure ----
cp "$work/good.st" "$work/keep.st"
intact() {
	cmp -s "$work/keep.st" "$work/good.st" || die "$1: the previous checkpoint changed"
	$T eval --load "$work/keep.st" >/dev/null 2>&1 || die "$1: the previous checkpoint no longer loads"
	[ ! -e "$work/keep.st.tmp" ] || die "$1: left $work/keep.st.tmp behind"
}
refused 3 "--save into a missing directory" "cannot use the directory $work/nodir: No such file" \
	$T train -q --save "$work/nodir/x.st"
refused 3 "--save under a regular file" "$work/keep.st is not a directory" $T train -q --save "$work/keep.st/x.st"
refused 3 "--save onto a directory" "is a directory" $T train -q --save "$work"
w=1
while :; do
	NNRT_FAULT_WRITE=$w $T train -q --save "$work/keep.st" >"$work/out" 2>"$work/err"; rc=$?
	[ $rc -eq 0 ] && break
	[ $rc -eq 3 ] || { cat "$work/err"; die "write $w failing: exit $rc, want 3"; }
	[ "$(wc -l <"$work/err")" -eq 1 ] || die "write $w failing: the error is not one line"
	grep -q "cannot write checkpoint $work/keep.st: No space left on device (the previous checkpoint was left as it was)" "$work/err" \
		|| die "write $w failing: $(cat "$work/err")"
	intact "write $w failing with ENOSPC"
	NNRT_FAULT_WRITE=$w:EIO $T train -q --save "$work/keep.st" 2>"$work/err"
	grep -q "Input/output error" "$work/err" || die "write $w failing with EIO: $(cat "$work/err")"
	intact "write $w failing with EIO"
	n=$((n + 2)); w=$((w + 1))
	[ $w -lt 100 ] || die "NNRT_FAULT_WRITE never stopped failing"
done
echo "ok: each of the $((w - 1)) writes of a save failing (ENOSPC, EIO): exit 3, previous checkpoint intact"
cp "$work/good.st" "$work/keep.st"

# a real full file system, where mounting one is allowed (root, no container limits)
mnt=$work/mnt
mkdir "$mnt"
if mount -t tmpfs -o size=64k tmpfs "$mnt" 2>/dev/null; then
	trap 'umount "$mnt" 2>/dev/null; rm -rf "$work"' EXIT
	cp "$work/good.st" "$mnt/keep.st"
	dd if=/dev/zero of="$mnt/filler" bs=1k count=64 2>/dev/null
	refused 3 "full tmpfs" "cannot write checkpoint $mnt/keep.st: No space left on device" \
		$T train -q --save "$mnt/keep.st"
	cmp -s "$mnt/keep.st" "$work/good.st" || die "full tmpfs: the previous checkpoint changed"
	[ ! -e "$mnt/keep.st.tmp" ] || die "full tmpfs: left keep.st.tmp behind"
	umount "$mnt"
else
	echo "note: cannot mount a tmpfs here; the full disk is covered by NNRT_FAULT_WRITE above"
fi
echo "ok: $n checkpoint faults, each refused cleanly"
