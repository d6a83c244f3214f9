#!/bin/sh
# memory.sh — the memory lab (docs/memory.md), measured: on the adding
# problem over T = 100 steps, an LSTM learns to add the two marked numbers
# (test MSE < 0.01) where a tanh RNN of the same size, trained as long,
# stays at the 0.167 of always answering 1; and the RNN's gradient with
# respect to its first step's state is orders of magnitude below that of
# its last (the vanishing gradient through time, from --log-grad-norms).
. "$(dirname "$0")/lib.sh"
ex="$SRCDIR/examples/memory"

compile lstm "$ex/lstm_100.nn"
"$work/lstm" train >"$work/lstm.out" 2>&1 || { cat "$work/lstm.out"; die "lstm_100 failed"; }
at_most "$(metric "$work/lstm.out" test.loss)" 0.01 "LSTM, T=100: test MSE after 4 epochs"

compile rnn "$ex/rnn_100.nn"
"$work/rnn" train --log-grad-norms "$work/rnn.csv" >"$work/rnn.out" 2>&1 || { cat "$work/rnn.out"; die "rnn_100 failed"; }
mse=$(metric "$work/rnn.out" test.loss)
at_least "$mse" 0.12 "tanh RNN, T=100: test MSE after 4 epochs"
at_most "$mse" 0.25 "tanh RNN, T=100: test MSE after 4 epochs"

# |d loss/d h_t| at training step 100, first step against last
first=$(awk -F, '$1 == 100 && $3 ~ /dh_norm\[0\]$/ { print $4 }' "$work/rnn.csv")
last=$(awk -F, '$1 == 100 && $3 ~ /dh_norm\[99\]$/ { print $4 }' "$work/rnn.csv")
[ -n "$first" ] && [ -n "$last" ] || die "no dh_norm rows at step 100 in the RNN's gradient-norm log"
ratio=$(awk -v a="$first" -v b="$last" 'BEGIN { print (b > 0 ? a / b : 1) }')
at_most "$ratio" 0.001 "tanh RNN at step 100: |dL/dh_0| / |dL/dh_99|"
