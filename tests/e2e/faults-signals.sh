#!/bin/sh
# faults-signals.sh — SIGINT and SIGTERM during training save a checkpoint
# at the end of the current step and exit 130 / 143; resuming it gives the
# same final checkpoint, byte for byte, as a run never interrupted (also
# mid-epoch).  Then SIGKILL at random moments of a run that saves every
# epoch, KILLS times (default 100): the checkpoint on disk always loads.
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
    epochs 4
    seed 3
    report accuracy on train
}
EOF
compile tiny "$work/tiny.nn"
T=$work/tiny
$T train -q --save "$work/straight.st" || die "the straight run failed"

# 13 steps an epoch: step 13 ends epoch 1, 20 is mid-epoch 2, 52 the last
for at in 1 13 20 33:TERM 51; do
	rm -f "$work/int.st"
	NNRT_FAULT_SIGNAL=$at $T train -q --save "$work/int.st" >"$work/out" 2>"$work/err"; rc=$?
	case $at in *TERM) want=143 sig=SIGTERM ;; *) want=130 sig=SIGINT ;; esac
	[ $rc -eq $want ] || { cat "$work/err"; die "$sig at step $at: exit $rc, want $want"; }
	grep -q "interrupted by $sig after step ${at%:*} .*saved $work/int.st; resume with --load $work/int.st" "$work/err" \
		|| die "$sig at step $at: $(cat "$work/err")"
	$T train -q --load "$work/int.st" --save "$work/int.st" || die "resuming after step $at failed"
	cmp -s "$work/int.st" "$work/straight.st" || die "interrupted at step $at and resumed: the checkpoint differs"
	echo "ok: $sig at step ${at%:*} -> exit $want, saved; resumed to the same bytes as a straight run"
done

# without --save, the checkpoint goes to a default path named in the message
(cd "$work" && NNRT_FAULT_SIGNAL=5 ./tiny train -q >/dev/null 2>"$work/err"); rc=$?
[ $rc -eq 130 ] && [ -f "$work/tiny.interrupted.safetensors" ] || die "no default checkpoint: $(cat "$work/err")"
grep -q "saved tiny.interrupted.safetensors" "$work/err" || die "the default path is not named: $(cat "$work/err")"
echo "ok: without --save: $(cat "$work/err")"

# mid-epoch resume at another batch size is refused, not silently wrong
NNRT_FAULT_SIGNAL=20 $T train -q --save "$work/mid.st" 2>/dev/null
$T train -q --load "$work/mid.st" --batch 8 2>"$work/err"; rc=$?
[ $rc -eq 2 ] && grep -q "resume with --batch 16" "$work/err" || die "batch change mid-epoch: exit $rc: $(cat "$work/err")"
echo "ok: resuming mid-epoch with another --batch -> exit 2: $(cat "$work/err")"

# a real signal from outside, at whatever step the trainer has reached
sed -e 's/count: 200/count: 300000/' -e 's/epochs 4/epochs 2/' "$work/tiny.nn" >"$work/slow.nn"
compile slow "$work/slow.nn"
"$work/slow" train -q --save "$work/slow-straight.st" || die "the slow straight run failed"
"$work/slow" train -q --save "$work/slow.st" 2>"$work/err" &
pid=$!
sleep 0.3
kill -INT $pid
wait $pid; rc=$?
if [ $rc -eq 130 ]; then
	"$work/slow" train -q --load "$work/slow.st" --save "$work/slow.st" || die "resuming after kill -INT failed"
	cmp -s "$work/slow.st" "$work/slow-straight.st" || die "kill -INT and resume: the checkpoint differs"
	echo "ok: kill -INT from outside: $(cat "$work/err"); resumed to the same bytes"
else
	[ $rc -eq 0 ] || die "kill -INT: exit $rc: $(cat "$work/err")"
	echo "note: the run ended before kill -INT arrived"
fi

# SIGKILL at random moments while saving every epoch: the file on disk
# is always a whole checkpoint (FILE.tmp, fsync, rename)
sed -e 's/epochs 4/epochs 100000/' -e 's/count: 200/count: 16/' "$work/tiny.nn" >"$work/long.nn"
compile long "$work/long.nn"
"$work/long" train -q --epochs 1 --save "$work/k.st" || die "the first save failed"
kills=${KILLS:-100}
i=0 loaded=0
while [ $i -lt "$kills" ]; do
	delay=$(awk -v s="$i" 'BEGIN { srand(s + 1); printf "%.3f", 0.02 + rand() * 0.2 }')
	timeout -s KILL "$delay" "$work/long" train -q --load "$work/k.st" --save "$work/k.st" --save-every 1 \
		>/dev/null 2>"$work/err"
	rc=$?
	[ $rc -eq 137 ] || [ $rc -eq 124 ] || { cat "$work/err"; die "kill $i: exit $rc"; }
	"$work/long" eval --load "$work/k.st" >/dev/null 2>"$work/err" || die "after SIGKILL $i (at ${delay}s) the checkpoint does not load: $(cat "$work/err")"
	loaded=$((loaded + 1)); i=$((i + 1))
done
epoch=$(/usr/bin/python3 -c 'import json,struct,sys; r=open(sys.argv[1],"rb").read(); print(json.loads(r[8:8+struct.unpack("<Q",r[:8])[0]])["__metadata__"]["epoch"])' "$work/k.st" 2>/dev/null || echo "?")
echo "ok: $kills SIGKILLs during saves; the checkpoint loaded after every one (it reached epoch $epoch)"
