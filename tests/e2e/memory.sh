#!/bin/sh
# memory.sh — the memory lab (docs/memory.md), measured: on the adding
# problem over T = 100 steps, an LSTM learns to add the two marked numbers
# (test MSE < 0.01) where a tanh RNN of the same size, trained as long,
# stays at the 0.167 of always answering 1; and, at the last training
# step, the RNN's gradient with respect to its first step's state is
# orders of magnitude below that of its last (the vanishing gradient
# through time, from --log-grad-norms).  The first hundred steps are not
# asserted on: while the RNN first fits the mean its gradients still swing
# (|dL/dh_0| was 0.59 at step 100 in one build, 0 in another).
. "$(dirname "$0")/lib.sh"
ex="$SRCDIR/examples/memory"

compile lstm "$ex/lstm_100.nn"
"$work/lstm" train --log-grad-norms "$work/lstm.csv" >"$work/lstm.out" 2>&1 || { cat "$work/lstm.out"; die "lstm_100 failed"; }
at_most "$(metric "$work/lstm.out" test.loss)" 0.01 "LSTM, T=100: test MSE after 4 epochs"

compile rnn "$ex/rnn_100.nn"
"$work/rnn" train --log-grad-norms "$work/rnn.csv" >"$work/rnn.out" 2>&1 || { cat "$work/rnn.out"; die "rnn_100 failed"; }
mse=$(metric "$work/rnn.out" test.loss)
at_least "$mse" 0.12 "tanh RNN, T=100: test MSE after 4 epochs"
at_most "$mse" 0.25 "tanh RNN, T=100: test MSE after 4 epochs"

# through_time FILE: |d loss/d h_0| / |d loss/d h_99| at the log's last step
through_time() {
	awk -F, 'NR > 1 && $3 ~ /dh_norm\[0\]$/ { first = $4 } NR > 1 && $3 ~ /dh_norm\[99\]$/ { last = $4; step = $1 }
	         END { if (last == "") exit 1; printf "%g (step %d: %g / %g)\n", (last > 0 ? first / last : 1), step, first, last }' "$1"
}
rnn_ratio=$(through_time "$work/rnn.csv") || die "no dh_norm rows in the RNN's gradient-norm log"
lstm_ratio=$(through_time "$work/lstm.csv") || die "no dh_norm rows in the LSTM's gradient-norm log"
echo "LSTM at its last step: |dL/dh_0| / |dL/dh_99| = $lstm_ratio"
at_most "${rnn_ratio%% *}" 0.001 "tanh RNN at its last step: |dL/dh_0| / |dL/dh_99| = $rnn_ratio;"
