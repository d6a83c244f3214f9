#!/bin/sh
# The OpenBLAS kernels a trainer runs (runtime/blas.c): a user's
# OPENBLAS_CORETYPE is obeyed; unset, the kernel family is at least the
# widest this CPU's flags (/proc/cpuinfo) support, whatever OpenBLAS's own
# table says of the model; and a trainer whose kernels were switched that
# way computes what one on OpenBLAS's generic SSE3 kernels computes.
. "$(dirname "$0")/lib.sh"
mkdir "$work/src"
cat >"$work/src/wide.nn" <<'NN'
import layers
model wide(x: f32[B, 256]) -> f32[B, 8] {
    return dense(relu(dense(relu(dense(x, 512)), 512)), 8)
}
train wide {
    data train = random(count: 1024)
    loss = mse(wide(train.x), train.y)
    optimizer = sgd(lr: 0.01, momentum: 0.9)
    batch 64
    epochs 2
}
NN
compile wide "$work/src/wide.nn"

# The environment may set OPENBLAS_CORETYPE already; "unset" means unset here.
unset OPENBLAS_CORETYPE
note() { "$work/wide" info | sed -n 's/^blas  //p'; }
forced=$(OPENBLAS_CORETYPE=Prescott note)
[ "$forced" = "OpenBLAS kernel Prescott (OPENBLAS_CORETYPE)" ] || die "OPENBLAS_CORETYPE=Prescott not obeyed: '$forced'"
echo "ok: OPENBLAS_CORETYPE=Prescott: $forced"

chosen=$(note)
echo "unset: $chosen"
kernel=$(echo "$chosen" | awk '{ print $3 }')
tier() {
	case "$1" in
	SkylakeX | Cooperlake | SapphireRapids) echo 3 ;;
	Haswell | Zen | Excavator) echo 2 ;;
	Sandybridge | Bulldozer | Piledriver | Steamroller) echo 1 ;;
	*) echo 0 ;;
	esac
}
flags=" $(sed -n 's/^flags\s*: //p' /proc/cpuinfo | head -1) "
has() { for f; do case "$flags" in *" $f "*) ;; *) return 1 ;; esac; done; }
if has avx512f avx512bw avx512vl avx512dq avx512cd; then want=3
elif has avx2 fma; then want=2
elif has avx; then want=1
else want=0; fi
[ "$(tier "$kernel")" -ge "$want" ] || die "kernel $kernel is below what this CPU runs (family tier $want)"
echo "ok: kernel $kernel, tier $(tier "$kernel") >= $want from the CPU flags"

# The same two epochs on both kernels: the losses agree to f32 rounding.
loss() { "$work/wide" train --log "$work/$1.csv" -q >/dev/null 2>&1 || die "training on $1 failed"; tail -1 "$work/$1.csv" | cut -d, -f4; }
a=$(OPENBLAS_CORETYPE=Prescott loss prescott)
b=$(loss chosen)
echo "loss after 2 epochs: Prescott $a, $kernel $b"
awk -v a="$a" -v b="$b" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(a != "" && b != "" && d <= 1e-4 * (a < 0 ? -a : a)) }' ||
	die "the losses differ by more than 1e-4 relative"
echo "ok: the two kernels train to the same loss"
