#!/bin/sh
# Data-parallel training under mpirun (runtime/shard.c, mpi.c): 2 ranks
# write the bytes one process writes with --shards 2 (mlp and lenet of
# examples/ on random samples); a resume under mpirun equals the straight
# run; only rank 0 writes; a rank that fails or is killed ends the job
# with a non-zero exit, a message naming it and the checkpoint intact.
# Skipped (77) when libnnrt was built without MPI.
. "$(dirname "$0")/lib.sh"
[ "${HAVE_MPI:-no}" = yes ] || { echo "SKIP: libnnrt was built without MPI (configure found none)"; exit 77; }
command -v mpirun >/dev/null || { echo "SKIP: no mpirun"; exit 77; }
# As root Open MPI needs --allow-run-as-root; 2 ranks on fewer cores, --oversubscribe.
mpi() { mpirun -np 2 --allow-run-as-root --oversubscribe "$@"; }
# In a sanitized build, LeakSanitizer reports what Open MPI's own libraries
# keep after MPI_Finalize (allocations from libmpi and its plugins, not from
# nnc); the ranks' leak check is off, every other sanitizer check stays on.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
export ASAN_OPTIONS
# rank1 VAR=VALUE CMD...: CMD with VAR=VALUE in rank 1's environment only
cat >"$work/rank1" <<'SH'
#!/bin/sh
setting=$1; shift
[ "${OMPI_COMM_WORLD_RANK:-0}" = 1 ] && exec env "$setting" "$@"
exec "$@"
SH
chmod +x "$work/rank1"

for ex in mlp lenet; do
	on_random $ex 1024
	t="$work/$ex"
	mpi "$t" train --epochs 2 --save "$work/$ex.mpi.st" >"$work/out" 2>&1 || { cat "$work/out"; die "$ex: mpirun -np 2 failed"; }
	cat "$work/out"
	[ "$(grep -c '^epoch 2/2' "$work/out")" = 1 ] || die "$ex: the epoch line is not printed once (by rank 0 alone)"
	"$t" train -q --epochs 2 --shards 2 --save "$work/$ex.one.st" >"$work/out" 2>&1 || { cat "$work/out"; die "$ex --shards 2 failed"; }
	cmp "$work/$ex.mpi.st" "$work/$ex.one.st" || die "$ex: mpirun -np 2 and --shards 2 wrote different checkpoints"
	echo "ok: $ex: mpirun -np 2 writes the bytes of one process with --shards 2"
done

t="$work/mlp"
# SIGINT in rank 1 at step 20: every rank stops at one step, rank 0 saves
# mid-epoch, and resuming under mpirun finishes with the straight run's
# bytes (the cosine schedule needs the same --epochs in both).
mpi "$work/rank1" NNRT_FAULT_SIGNAL=20 "$t" train -q --epochs 2 --save "$work/int.st" >"$work/out" 2>&1
rc=$?
[ $rc -ne 0 ] || die "mpirun with a SIGINT in rank 1 exited 0"
grep -q "interrupted by SIGINT after step" "$work/out" || { cat "$work/out"; die "rank 0 did not save on the SIGINT"; }
mpi "$t" train -q --epochs 2 --load "$work/int.st" --save "$work/int2.st" >"$work/out" 2>&1 || { cat "$work/out"; die "resume after SIGINT failed"; }
cmp "$work/int2.st" "$work/mlp.mpi.st" || die "mpirun: interrupted and resumed differs from straight"
echo "ok: mpirun: a SIGINT in rank 1 stops every rank (exit $rc); resumed == straight"

# A rank that dies (SIGKILL at step 25) or fails (an allocation) ends the
# job non-zero, named; the checkpoint being resumed and replaced stays intact.
cp "$work/int.st" "$work/half.st"
cp "$work/int.st" "$work/keep.st"
mpi "$work/rank1" NNRT_FAULT_SIGNAL=25:KILL "$t" train -q --epochs 2 --load "$work/half.st" --save "$work/half.st" >"$work/out" 2>&1
rc=$?
[ $rc -ne 0 ] || die "a killed rank 1: mpirun exited 0"
grep -q "rank 1.*signal 9" "$work/out" || { cat "$work/out"; die "a killed rank 1 is not named"; }
cmp "$work/half.st" "$work/keep.st" || die "a killed rank 1 changed the checkpoint"
echo "ok: rank 1 killed: exit $rc, '$(grep -o 'process rank 1.*' "$work/out")', checkpoint intact"
mpi "$work/rank1" NNRT_FAIL_ALLOC=40 "$t" train -q --epochs 2 --load "$work/half.st" --save "$work/half.st" >"$work/out" 2>&1
rc=$?
[ $rc -eq 4 ] || { cat "$work/out"; die "rank 1 out of memory: mpirun exited $rc, want 4"; }
grep -q "mlp: rank 1: out of memory" "$work/out" || { cat "$work/out"; die "the failing rank 1 is not named"; }
cmp "$work/half.st" "$work/keep.st" || die "a failed rank 1 changed the checkpoint"
echo "ok: rank 1 fails: exit $rc, '$(grep -o 'mlp: rank 1.*' "$work/out")', checkpoint intact"

# Only train runs on several ranks; --shards must be the ranks.
mpi "$t" eval >"$work/out" 2>&1 && die "mpirun eval exited 0"
grep -q "only 'train' runs" "$work/out" || { cat "$work/out"; die "mpirun eval: no clear refusal"; }
mpi "$t" train --shards 3 >"$work/out" 2>&1 && die "mpirun --shards 3 exited 0"
grep -q "the shards are the ranks" "$work/out" || { cat "$work/out"; die "mpirun --shards 3: no clear refusal"; }
echo "ok: mpirun refuses eval and --shards other than the ranks"
