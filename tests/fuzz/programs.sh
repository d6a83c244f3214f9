#!/bin/sh
# programs.sh — generated programs through every stage, code generation
# and a run, against the oracles of docs/fuzzing.md.
#
#   tests/fuzz/programs.sh [COUNT] [SEED]     COUNT programs from seeds SEED,
#                                             SEED+1, ... (default 30 from 1)
#   tests/fuzz/programs.sh --check FILE.nn... every oracle on each FILE (the
#                                             regression inputs of regress.sh)
#   tests/fuzz/programs.sh --fails ORACLE:KIND FILE.nn
#                                             exit 0 when FILE.nn still fails
#                                             that way (what reduce.py asks)
#
# One line per failure, `FAIL seed S ORACLE (KIND): what [kept as ...]`,
# the program kept in $FUZZ_FAILURES (default tests/fuzz/failures under
# the build directory) as ORACLE-S.nn and, reduced by reduce.py, as
# ORACLE-S.min.nn; then `N programs, K failures by oracle: ...`.  Exit 1
# when any failed.  Every fourth seed (S % 4 == 3) is an f32 program.
#
# Environment: NNC (default ./nnc), BUILDDIR (for tests/fuzz/interp_eval),
# PYTHON (default /usr/bin/python3), FUZZ_ALLOW (classes for gen_program.py
# --allow: known bugs, off by default), FUZZ_REDUCE=0 to keep failures
# unreduced.
set -u
here=$(cd "$(dirname "$0")" && pwd)
nnc=${NNC:-./nnc}
case $nnc in /*) ;; *) nnc=$(pwd)/$nnc ;; esac
build=${BUILDDIR:-$(pwd)}
interp=$build/tests/fuzz/interp_eval
: "${NNC_STDLIB:=$here/../../stdlib}"
export NNC_STDLIB
ORACLES="compile verify train O0_O3 batch gradcheck interp"
# the system's Python 3 (only its standard library is used): a version
# manager's shim on PATH can cost half a second a call
py=${PYTHON:-$(command -v /usr/bin/python3 || command -v python3)}

for tool in "$nnc" "$interp"; do
	if [ ! -x "$tool" ]; then
		echo "programs.sh: no executable '$tool' (make check builds interp_eval)" >&2
		exit 2
	fi
done

# Tolerances, relative to max(1, |a|, |b|).  f64: predict prints 9
# significant digits, eval 6; checkpoints hold every bit, and only -O3's
# reassociated reductions separate the two builds.  f32: a few ulps of
# float (1.2e-7) per op, over a dozen ops and a training run.
tolerances() {
	if grep -q '^# gen_program.py [0-9]* --f32' "$1"; then
		RTOL=1e-4 CKPT_RTOL=1e-4 EVAL_RTOL=1e-4 F32=1
	else
		RTOL=1e-7 CKPT_RTOL=1e-9 EVAL_RTOL=1e-5 F32=
	fi
}

# fail ORACLE KIND WHAT: one failure of the program being checked
fail() {
	echo "$1 $2 $3" >>"$w/failed"
}

firstline() {   # the first line of $w/err that is not the no-checkpoint warning
	grep -v 'warning: no --load' "$w/err" | head -1 | cut -c1-300
}

# check FILE: every oracle on FILE in the work folder $w; failures go to
# $w/failed.  A stage that fails stops the oracles that need its output.
check() {
	f=$1
	: >"$w/failed"
	: >"$w/notes"
	rm -f "$w/ck3" "$w/ck0" "$w/again"
	tolerances "$f"
	LOGITS=
	grep -q '^ *loss = cross_entropy(' "$f" && LOGITS='--output logits'
	cols=$(sed -n 's/^# input per sample: //p' "$f")
	"$py" "$here/compare.py" inputs "${cols:-1}" 7 1 >"$w/in.csv"
	timeout 120 "$nnc" --verify -O3 "$f" -o "$w/m3" >/dev/null 2>"$w/err"
	rc=$?
	if [ $rc -eq 1 ]; then
		fail compile rejected "nnc rejects it: $(grep -m1 error "$w/err")"; return
	elif [ $rc -ne 0 ]; then
		fail verify exit$rc "nnc --verify -O3 exits $rc: $(firstline)"; return
	fi
	timeout 120 "$nnc" -O0 "$f" -o "$w/m0" >/dev/null 2>"$w/err"
	rc=$?
	[ $rc -eq 0 ] || { fail verify exit$rc "nnc -O0 exits $rc: $(firstline)"; return; }
	for o in 3 0 3; do
		ck=$w/ck$o
		[ -e "$ck" ] && ck=$w/again
		timeout 60 "$w/m$o" train -q --save "$ck" >/dev/null 2>"$w/err"
		rc=$?
		[ $rc -eq 0 ] || { fail train exit$rc "-O$o train exits $rc: $(firstline)"; return; }
	done
	cmp -s "$w/ck3" "$w/again" || fail train bytes "two -O3 runs of the same seed give different checkpoints"
	oracle_o0_o3
	oracle_batch
	[ -n "$F32" ] || oracle_gradcheck
	oracle_interp
}

# predict OPT BATCH: $w/pOPT_BATCH, from the -O3 checkpoint: the output as
# computed, which for integer labels takes --output logits (their default
# is the class; for a model of probabilities logits would be log(p/(1-p)))
predict() {
	timeout 60 "$w/m$1" predict --load "$w/ck3" --input "$w/in.csv" --batch "$2" $LOGITS \
		>"$w/p$1_$2" 2>"$w/err"
}

differs() {   # differs MODE A B RTOL: they differ; $why says where
	! why=$("$py" "$here/compare.py" "$@")
}

oracle_o0_o3() {
	# Adam and AdamW divide each gradient by its own running size: a
	# gradient that is zero but for rounding (a parameter batch norm
	# cancels) moves by lr with the sign of the rounding, which -O3's
	# reassociated sums may flip.  Their checkpoints are not compared.
	if ! grep -q '^ *optimizer = adam' "$f"; then
		differs ckpt "$w/ck0" "$w/ck3" $CKPT_RTOL && fail O0_O3 ckpt "checkpoints after training differ: $why"
	fi
	if ! predict 3 5 || ! predict 0 5; then
		fail O0_O3 exit "predict exits non-zero: $(firstline)"; return
	fi
	differs text "$w/p0_5" "$w/p3_5" $RTOL && fail O0_O3 predict "predict differs: $why"
	for o in 0 3; do
		timeout 60 "$w/m$o" eval --load "$w/ck3" >"$w/e$o" 2>"$w/err" ||
			{ fail O0_O3 exit "-O$o eval exits non-zero: $(firstline)"; return; }
	done
	differs text "$w/e0" "$w/e3" $EVAL_RTOL && fail O0_O3 eval "eval differs: $why"
}

oracle_batch() {
	if ! predict 3 1; then
		fail batch exit "predict --batch 1 exits non-zero: $(firstline)"
	elif [ -s "$w/p3_5" ] && differs text "$w/p3_1" "$w/p3_5" $RTOL; then
		fail batch differs "predict --batch 1 vs --batch 5: $why"
	fi
}

# The whole training source as the batch (gradcheck takes at most 32 and
# the sources hold 4 to 12): more rows of patches, so a convolution's
# kernels in runtime/conv.c work in more than one block more often.
oracle_gradcheck() {
	timeout 60 "$w/m3" gradcheck --all --tol 1e-6 --batch 32 >"$w/gc" 2>&1
	rc=$?
	if [ $rc -eq 1 ] && grep -q '^worst' "$w/gc"; then
		fail gradcheck tol "$(grep '^worst' "$w/gc"), on $(sort -k3 -g "$w/gc" | grep max_rel_err | tail -1 | cut -d' ' -f1)"
	elif [ $rc -eq 1 ] && grep -q 'sits on a kink' "$w/gc"; then
		# No finite difference can check that parameter: not a failure,
		# but said (steps that differ run to run show here too, and in the
		# train oracle's byte comparison).  gradcheck stops there; the
		# parameters it checked before must still pass.
		echo "gradcheck $(grep -o 'every checked entry.*kink' "$w/gc")" >>"$w/notes"
		over=$(awk '$2 == "max_rel_err" && $3 > 1e-6 { print $1 " " $3; exit }' "$w/gc")
		[ -z "$over" ] || fail gradcheck tol "max_rel_err $over before a parameter on kinks"
	elif [ $rc -ne 0 ]; then
		fail gradcheck exit$rc "gradcheck exits $rc: $(grep -v '^m\.\|^gradcheck on' "$w/gc" | head -1 | cut -c1-300)"
	fi
}

oracle_interp() {
	if ! timeout 60 "$interp" "$f" "$w/ck3" "$w/in.csv" >"$w/pi" 2>"$w/err"; then
		fail interp exit "interp_eval fails: $(firstline)"
	elif [ -s "$w/p3_5" ] && differs text "$w/pi" "$w/p3_5" $RTOL; then
		fail interp differs "interpreter vs -O3 predict --batch 5: $why"
	fi
}

tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT
w=$tmp

if [ "${1:-}" = --fails ]; then
	[ $# -eq 3 ] || { echo "usage: programs.sh --fails ORACLE:KIND FILE.nn" >&2; exit 2; }
	check "$3"
	grep -q "^${2%%:*} ${2#*:} " "$w/failed"
	exit $?
fi
if [ "${1:-}" = --check ]; then
	shift
	bad=0
	for f in "$@"; do
		check "$f"
		while read -r o kind what; do
			echo "FAIL $(basename "$f") $o ($kind): $what"
			bad=1
		done <"$w/failed"
		sed "s/^/NOTE $(basename "$f") inconclusive: /" "$w/notes"
		[ -s "$w/failed" ] || echo "PASS $(basename "$f"): every oracle"
	done
	exit $bad
fi

count=${1:-30}
seed=${2:-1}
out=${FUZZ_FAILURES:-$build/tests/fuzz/failures}
mkdir -p "$out" || exit 2
for o in $ORACLES; do eval "n_$o=0"; done
i=0 notes=0
while [ $i -lt "$count" ]; do
	s=$((seed + i))
	i=$((i + 1))
	f32=
	[ $((s % 4)) -eq 3 ] && f32=--f32
	"$py" "$here/gen_program.py" $s $f32 ${FUZZ_ALLOW:+--allow "$FUZZ_ALLOW"} >"$tmp/p.nn" || exit 2
	check "$tmp/p.nn"
	while read -r o kind what; do
		eval "n_$o=\$((n_$o + 1))"
		kept=$out/$o-$s.nn
		cp "$tmp/p.nn" "$kept"
		if [ "${FUZZ_REDUCE:-1}" != 0 ] && [ $o != compile ] &&
		   "$py" "$here/reduce.py" "$kept" "$out/$o-$s.min.nn" sh "$0" --fails "$o:$kind" </dev/null >/dev/null 2>&1; then
			kept="$kept, reduced $out/$o-$s.min.nn"
		fi
		echo "FAIL seed $s $o ($kind): $what [$kept]"
	done <"$tmp/failed"
	while read -r o what; do
		notes=$((notes + 1))
		echo "NOTE seed $s $o inconclusive: $what"
	done <"$tmp/notes"
done
total=0 by=
for o in $ORACLES; do
	eval "k=\$n_$o"
	total=$((total + k))
	by="$by $o $k,"
done
echo "$count programs, $total failures by oracle:${by%,}; $notes gradchecks inconclusive"
[ $total -eq 0 ]
