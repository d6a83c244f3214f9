#!/bin/sh
# scan.sh — the loop over time: its listing holds the step once whatever
# the number of steps; a stateful scan (truncated BPTT) keeps its state in
# the checkpoint, so a resumed run writes the bytes an uninterrupted one
# does, its gradients check in float64 from a trained state, and another
# training batch size is refused.  (Each cell's gradient from a zero state
# is checked by tests/gradcheck/{rnn,lstm,gru,rnn_cell}.nn.)
. "$(dirname "$0")/lib.sh"

# steps T: an LSTM over T steps of 4 features
steps() {
	cat >"$work/t$1.nn" <<EOT
import layers
import recurrent
model m(x: f32[B, $(($1 * 4))]) -> f32[B, 2] {
    return dense(last_step(lstm(reshape(x, [B, $1, 4]), 8)), 2)
}
train m {
    data train = random(count: 8, classes: 2)
    loss = cross_entropy(m(train.x), train.y)
    optimizer = sgd(lr: 0.1)
    batch 4
}
EOT
	"$NNC" "$work/t$1.nn" --emit=grad >"$work/t$1.grad" || die "T=$1 does not compile"
}
steps 4
steps 256
n4=$(wc -l <"$work/t4.grad") n256=$(wc -l <"$work/t256.grad")
[ "$n4" -eq "$n256" ] || die "the listing at T=256 has $n256 lines, at T=4 $n4: the step is not printed once"
[ "$(grep -c ' = scan ' "$work/t256.grad")" -eq 2 ] || die "expected the forward scan and its reverse in grad"
grep -q 'steps=256 reverse=1' "$work/t256.grad" || die "no reversed scan over 256 steps in the backward"
echo "ok: grad at T=4 and T=256 both list $n4 lines: a forward and a reversed scan, each body once"

cat >"$work/st.nn" <<'EOT'
import layers
import recurrent
model m(x: f64[B, 12]) -> f64[B, 2] {
    return dense(last_step(lstm(reshape(x, [B, 4, 3]), 3, stateful: 1)), 2)
}
train m {
    data train = random(count: 24, classes: 2)
    loss = cross_entropy(m(train.x), train.y)
    optimizer = adam(lr: 0.01)
    batch 6
    seed 5
}
EOT
compile st "$work/st.nn"
"$work/st" train --epochs 3 --save "$work/straight.safetensors" >/dev/null 2>&1 || die "straight run failed"
"$work/st" train --epochs 1 --save "$work/one.safetensors" >/dev/null 2>&1 || die "first epoch failed"
"$work/st" train --epochs 3 --load "$work/one.safetensors" --save "$work/resumed.safetensors" >/dev/null 2>&1 ||
	die "resumed run failed"
cmp -s "$work/straight.safetensors" "$work/resumed.safetensors" || die "resumed checkpoint differs from the straight run's"
echo "ok: 1 epoch + resume to 3 writes the bytes of 3 straight epochs"
"$NNC" "$work/st.nn" --emit=desc | grep -q '^tensor m.lstm_1.lstm_states_1.scan_1.state buffer f64 \[6,6\]' ||
	die "the carried state is not a [6,6] buffer in the descriptor"
"$work/st" gradcheck --load "$work/one.safetensors" --all --tol 1e-6 >"$work/gc" 2>&1 ||
	{ cat "$work/gc"; die "gradcheck from a trained, carried state failed"; }
echo "ok: gradcheck from a carried state: $(grep worst "$work/gc")"
one_line 2 "another batch size" "carries its state from one batch to the next" "$work/st" train --batch 4
