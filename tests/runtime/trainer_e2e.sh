#!/bin/sh
# trainer_e2e.sh — end-to-end tests of libnnrt's trainer, linked with the
# hand-written fixture model (tests/runtime/fixture_model.c): training
# lowers the loss, save + resume equals a straight run byte for byte,
# gradcheck, option errors, checkpoint errors, predict, CSV data.
# Environment: BUILDDIR (where tests/runtime/fixture_trainer is built).
set -u
B=${BUILDDIR:-.}/tests/runtime
T=$B/fixture_trainer
C=$B/fixture_csv_trainer
W=$(mktemp -d /tmp/nnrt-e2e-XXXXXX)
fails=0
fail() { echo "FAIL: $*" >&2; fails=$((fails + 1)); }
# expect STATUS CMD...: the command exits with STATUS
expect() {
	want=$1; shift
	"$@" >"$W/out" 2>"$W/err"; got=$?
	[ "$got" -eq "$want" ] || fail "'$*' exited $got, want $want: $(cat "$W/err")"
}

# training lowers the loss (first vs last epoch of the metrics log)
expect 0 "$T" train --epochs 10 --log "$W/m.csv" --quiet
first=$(grep -v '^#' "$W/m.csv" | sed -n 2p | cut -d, -f4)
last=$(grep -v '^#' "$W/m.csv" | tail -n 1 | cut -d, -f4)
awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a) }' || fail "loss did not fall: $first -> $last"
grep -q '^# optimizer sgd lr=0.05' "$W/m.csv" || fail "log header lacks the optimizer"
grep -q '^epoch,step,lr,train_loss,test.accuracy,test.loss,seconds$' "$W/m.csv" || fail "log columns"
[ "$(grep -vc '^#' "$W/m.csv")" -eq 11 ] || fail "log rows"

# 2 epochs + save + resume to 4 == 4 straight, byte for byte
expect 0 "$T" train --epochs 2 --save "$W/a.st" -q
expect 0 "$T" train --epochs 4 --load "$W/a.st" --save "$W/a.st" -q
expect 0 "$T" train --epochs 4 --save "$W/b.st" -q
cmp -s "$W/a.st" "$W/b.st" || fail "resumed checkpoint differs from a straight run"
expect 0 "$T" train --epochs 4 --save "$W/c.st" --save-every 1 -q
cmp -s "$W/c.st" "$W/b.st" || fail "--save-every changed the final checkpoint"
[ ! -e "$W/a.st.tmp" ] || fail "temporary checkpoint left behind"
expect 0 "$T" train --epochs 4 --seed 8 --save "$W/d.st" -q
cmp -s "$W/d.st" "$W/b.st" && fail "another seed gave the same checkpoint"
expect 0 "$T" train --load "$W/b.st" --epochs 4
grep -q 'nothing to do' "$W/out" || fail "resume past the end should say so"

# eval and predict from a checkpoint
expect 0 "$T" eval --load "$W/b.st"
grep -q '^test.accuracy 0\.[0-9]' "$W/out" || fail "eval output: $(cat "$W/out")"
expect 0 "$T" predict --load "$W/b.st"
[ "$(wc -l <"$W/out")" -eq 50 ] || fail "predict printed $(wc -l <"$W/out") lines, want 50"
grep -qv '^[0-2]$' "$W/out" && fail "predict printed a class outside [0,3)"

# gradcheck: passes at the default tolerance, fails at an absurd one
expect 0 "$T" gradcheck
grep -q '^fixture.dense_1.W *max_rel_err .*(12 entries)' "$W/out" || fail "gradcheck line: $(cat "$W/out")"
expect 1 "$T" gradcheck --tol 1e-300

# usage errors: one line on stderr, exit 2
for args in "train --batch 0" "train --lr -1" "train --epochs x" "train --bogus" "train --save" \
            "fly" "" "train --threads 0" "train --save-every 2" "eval --lr=abc"; do
	# shellcheck disable=SC2086
	expect 2 "$T" $args
	[ "$(wc -l <"$W/err")" -eq 1 ] || fail "'$args': error is not one line"
done

# checkpoint errors: exit 3
expect 3 "$T" eval --load "$W/missing.st"
head -c 100 "$W/b.st" >"$W/trunc.st"
expect 3 "$T" eval --load "$W/trunc.st"
printf 'garbage' >"$W/garbage.st"
expect 3 "$T" train --load "$W/garbage.st"

# the checkpoint is safetensors that NumPy reads (manual parse)
if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
	/usr/bin/python3 - "$W/b.st" <<'PY' || fail "numpy could not read the checkpoint"
import json, struct, sys, numpy as np
raw = open(sys.argv[1], "rb").read()
n = struct.unpack("<Q", raw[:8])[0]
h = json.loads(raw[8:8 + n])
meta = h.pop("__metadata__")
assert meta["model"] == "fixture" and meta["epoch"] == "4" and meta["step"] == "52", meta
assert set(h) == {"fixture.dense_1.W", "fixture.dense_1.b",
                  "fixture.dense_1.W.momentum", "fixture.dense_1.b.momentum"}, h
e = h["fixture.dense_1.W"]
assert e["dtype"] == "F64" and e["shape"] == [4, 3]
a, b = e["data_offsets"]
w = np.frombuffer(raw[8 + n + a: 8 + n + b], dtype="<f8").reshape(4, 3)
assert np.all(np.isfinite(w)) and np.abs(w).max() > 0
PY
fi

# info, help, version
expect 0 "$T" info
grep -q '^total  *15$' "$W/out" || fail "info total"
expect 0 "$T" --help
grep -q 'default 3)' "$W/out" || fail "--help lacks the descriptor's epochs"
expect 0 "$T" --version

# CSV data found through --data-dir; a missing file names the places tried
{ echo "a,b,c,d,label"; i=0; while [ $i -lt 60 ]; do echo "$i,1,-1,0.5,$((i % 3))"; i=$((i + 1)); done; } >"$W/fixture.csv"
expect 0 "$C" train --data-dir "$W" --epochs 1 --lr 0.001
mkdir "$W/empty"
expect 3 "$C" train --data-dir "$W/empty"
grep -q "tried $W/empty/fixture.csv" "$W/err" || fail "missing data error: $(cat "$W/err")"
expect 3 "$C" train --data-dir "$W/nowhere"
grep -q "nowhere.*No such file" "$W/err" || fail "missing data dir error: $(cat "$W/err")"
echo "1,2,3,4,1" >>"$W/fixture.csv"; echo "1,2,x,4,1" >>"$W/fixture.csv"
expect 3 "$C" train --data-dir "$W"
grep -q "row 63, column 3" "$W/err" || fail "bad CSV cell error: $(cat "$W/err")"
printf '1,2,3,4,0\n1,2,3,4,7\n' >"$W/fixture.csv"
expect 3 "$C" train --data-dir "$W"
grep -q "label 7 is not an integer in \[0, 3)" "$W/err" || fail "label range error: $(cat "$W/err")"

# a hand-edited descriptor whose adding samples do not fit the model input
expect 3 "$B/fixture_adding_trainer" train --epochs 1
grep -q "adding(length: 3) makes samples of 6 values, but the model input takes 4" "$W/err" \
	|| fail "adding length error: $(cat "$W/err")"
rm -rf "$W"
[ "$fails" -eq 0 ] || { echo "$fails failure(s)" >&2; exit 1; }
