/* shard.c — the gradients of a training batch as the sum of its shards:
 * --shards S in one process, or one shard per rank under mpirun (mpi.c),
 * the one place where the ranks' gradients meet, between the compiled
 * step's nnm_grad and nnm_update.
 *
 * The rule that makes `mpirun -np P ./m train` write the bytes of
 * `./m train --shards P`:
 *   1. a batch of n samples (in the epoch's order) is cut into S shards,
 *      shard j the samples [j n / S, (j+1) n / S); each shard's gradient
 *      is one nnm_grad call on its samples alone, the mean over them as
 *      the compiled loss defines it (augmentation drawn per sample
 *      position, as for the whole batch);
 *   2. the batch's gradient is, per element, the left fold in shard order
 *      acc = 0, then acc += (n_j / n) * g_j in double, for every shard
 *      that has samples, rounded once to the gradient's type; the loss
 *      likewise;
 *   3. one process folds its shards one after another; P ranks (S = P)
 *      cut the gradient vector into P parts, rank j receives part j of
 *      every rank's shard gradient (an all-to-all), folds them in rank
 *      order, and every rank receives every folded part (an all-gather).
 * Each element is the same fold of the same values in both, so the
 * bytes agree; the exchange moves 2 (P-1)/P of the gradient's bytes per
 * rank, what a ring all-reduce moves (docs/scale.md), and is exact where
 * MPI_SUM would add in an order MPI leaves unspecified.
 *
 * Shards are not the whole batch: a convolution's or a dense layer's
 * GEMM sums a shard's samples, and the fold sums the shards, so --shards
 * 2 and --shards 1 differ in rounding (as a batch of 64 and two of 32
 * do), and dropout draws the same masks in each shard (random.c keys them
 * by step and index).  Batch norm normalizes by the statistics of the
 * whole batch and moves running statistics every step, and a stateful
 * scan carries its state row by row from batch to batch: shards cannot
 * keep these, so such models train in one shard. */
#include <string.h>
#include "nnrt_internal.h"

static struct {
	int64_t elems, elem;         /* gradient elements in all, bytes of one */
	RtDType dt;
	double *acc;                 /* the fold: all elements, or this rank's part */
	char *vec;                   /* one shard's gradients, packed in tensor order */
	char *pieces;                /* under mpirun: every rank's values of this rank's part */
	int64_t *lo;                 /* under mpirun: bytes [lo[j], lo[j+1]) are rank j's part */
} sh;

/* Refuses what shards cannot compute; sizes the buffers, before the first step. */
void rt_shards_check(const RtTrainer *t)
{
	const RtDesc *d = t->d;
	int64_t shards = t->opt.shards;
	if (rt_ranks() > 1 && shards != rt_ranks())
		rt_fatal(RT_EXIT_USAGE, "--shards %lld: under mpirun the shards are the ranks, %d here",
		         (long long)shards, rt_ranks());
	if (shards == 1)
		return;
	const char *how = rt_ranks() > 1 ? rt_printf("mpirun -np %d", rt_ranks()) : rt_printf("--shards %lld", (long long)shards);
	if (d->carry_batch)
		rt_fatal(RT_EXIT_USAGE, "%s: the stateful scan or persistent chain%s%s carries its state from one batch to the next, row by row, "
		         "in one buffer that shards of the batch would each move: train this model in one process "
		         "without --shards", how, d->carry_batch_at ? " at " : "", d->carry_batch_at ? d->carry_batch_at : "");
	int batch_stats = d->min_batch > 1;
	for (int i = 0; i < d->ntensor; i++)
		batch_stats |= d->tensor[i].role == RT_BUFFER;   /* running statistics */
	if (batch_stats)
		rt_fatal(RT_EXIT_USAGE, "%s: the batch norm or nt_xent%s%s reads the whole batch at once (its statistics, "
			         "or every sample against every other), which shards of it do not have: train this model "
			         "in one process without --shards",
			         how, d->min_batch_at ? " at " : "", d->min_batch_at ? d->min_batch_at : "");
	if (t->opt.batch < shards)
		rt_fatal(RT_EXIT_USAGE, "%s: --batch %lld leaves shards without samples; use --batch %lld or more",
		         how, (long long)t->opt.batch, (long long)shards);
	sh.dt = d->precision;
	sh.elem = rt_dtype_size(sh.dt);
	for (int i = 0; i < d->ntensor; i++) {
		if (d->tensor[i].role != RT_GRAD)
			continue;
		if (d->tensor[i].dt != sh.dt)
			rt_fatal(RT_EXIT_INTERNAL, "gradient %s is %s in a %s model", d->tensor[i].name,
			         rt_dtype_name(d->tensor[i].dt), rt_dtype_name(sh.dt));
		sh.elems += d->tensor[i].count;
	}
	int p = rt_ranks();
	sh.vec = rt_alloc_aligned((size_t)(sh.elems * sh.elem));
	sh.lo = rt_alloc(sizeof(int64_t) * (size_t)(p + 1));
	for (int j = 0; j <= p; j++)
		sh.lo[j] = sh.elems * j / p * sh.elem;
	int64_t part = (sh.lo[rt_rank() + 1] - sh.lo[rt_rank()]) / sh.elem;
	sh.acc = rt_alloc_aligned(sizeof(double) * (size_t)(part ? part : 1));
	if (p > 1)
		sh.pieces = rt_alloc_aligned((size_t)(p * part * sh.elem + 1));
}

/* Gradients in and out of the state block, in tensor order. */
static void pack(const RtTrainer *t, int out)
{
	char *v = sh.vec;
	for (int i = 0; i < t->d->ntensor; i++) {
		const RtTensor *g = &t->d->tensor[i];
		if (g->role != RT_GRAD)
			continue;
		size_t bytes = (size_t)(g->count * sh.elem);
		if (out)
			memcpy(v, t->state + g->offset, bytes);
		else
			memcpy(t->state + g->offset, v, bytes);
		v += bytes;
	}
}

/* acc[i] += w * values[i] for n values (rule 2) */
static void fold(double *acc, const char *values, int64_t n, double w)
{
	if (sh.dt == RT_F32)
		for (int64_t i = 0; i < n; i++)
			acc[i] += w * (double)((const float *)values)[i];
	else
		for (int64_t i = 0; i < n; i++)
			acc[i] += w * ((const double *)values)[i];
}

static void round_into(char *values, const double *acc, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		if (sh.dt == RT_F32)
			((float *)values)[i] = (float)acc[i];
		else
			((double *)values)[i] = acc[i];
}

/* Shard j of a batch of n: its first sample and its size (rule 1). */
static int64_t shard_lo(int64_t n, int64_t j, int64_t shards) { return n * j / shards; }
static int64_t shard_size(int64_t n, int64_t j, int64_t shards)
{
	return shard_lo(n, j + 1, shards) - shard_lo(n, j, shards);
}

void rt_batch_prepare(RtTrainer *t, const RtData *data, int64_t first, int64_t count, double lr, nnrt_step *s)
{
	rt_step_prepare(t, s, data, data->ordered ? NULL : t->perm, first, count);   /* text streams stay in order */
	if (t->augment && count > 0)   /* training batches only: never eval, predict or gradcheck */
		rt_augment_batch(t->augment, data->x_dt, t->io[t->x->io], count, (uint64_t)t->opt.seed, t->epoch,
		                 first);
	if (data->mask_rate > 0 && count > 0)   /* masks drawn anew each epoch, as augmentation */
		rt_text_remask(data, t->io[t->x->io], t->y ? t->io[t->y->io] : NULL, count, (uint64_t)t->opt.seed,
		               t->epoch, first);
	rt_set_hyper(t, s, lr, 1);
}

/* nnm_grad on count samples of the epoch's order from first */
static void grad_on(RtTrainer *t, const RtData *data, int64_t first, int64_t count, double lr, nnrt_step *s)
{
	rt_batch_prepare(t, data, first, count, lr, s);
	if (count > 0)
		t->model->grad(s);
}

static int agreed_signal;       /* under mpirun: the largest SIGINT/SIGTERM any rank had seen */

/* The signal to stop on after this step: under mpirun, what every rank
 * saw at the last exchange, so all stop at one step (a signal that comes
 * later is seen at the next); else this process's. */
int rt_stop_agreed(void)
{
	return rt_ranks() > 1 ? agreed_signal : rt_stop_signal;
}

/* Every rank's shard gradient folded by the ranks that own its parts
 * (rule 3); losses, and the signals seen, gathered: three collectives a
 * step, each a wait for the slowest rank. */
static double exchange(RtTrainer *t, int64_t n, double loss)
{
	int p = rt_ranks(), r = rt_rank();
	int64_t part = (sh.lo[r + 1] - sh.lo[r]) / sh.elem;
	double mine[2] = {loss, (double)rt_stop_signal}, all[2 * p];
	rt_mpi_to_owners(sh.vec, sh.lo, sh.pieces);
	rt_mpi_allgather(mine, 2, all);
	memset(sh.acc, 0, sizeof(double) * (size_t)part);
	double sum = 0;
	for (int j = 0; j < p; j++) {
		if (all[2 * j + 1] > agreed_signal)
			agreed_signal = (int)all[2 * j + 1];
		int64_t size = shard_size(n, j, p);
		if (size == 0)
			continue;
		fold(sh.acc, sh.pieces + j * part * sh.elem, part, (double)size / (double)n);
		sum += (double)size / (double)n * all[2 * j];
	}
	round_into(sh.vec + sh.lo[r], sh.acc, part);
	rt_mpi_from_owners(sh.vec, sh.lo);
	pack(t, 0);
	return sum;
}

/* The training step's gradients of the batch of count samples at first,
 * in the state block, and its loss; s is ready for nnm_update. */
double rt_shards_grad(RtTrainer *t, const RtData *data, int64_t first, int64_t count, double lr, nnrt_step *s)
{
	int64_t shards = t->opt.shards;
	if (shards == 1) {
		grad_on(t, data, first, count, lr, s);
		return s->loss;
	}
	if (rt_ranks() > 1) {
		int64_t j = rt_rank(), size = shard_size(count, j, shards);
		grad_on(t, data, first + shard_lo(count, j, shards), size, lr, s);
		if (size > 0)
			pack(t, 1);
		else
			memset(sh.vec, 0, (size_t)(sh.elems * sh.elem));
		return exchange(t, count, size > 0 ? s->loss : 0);
	}
	double loss = 0;
	memset(sh.acc, 0, sizeof(double) * (size_t)sh.elems);
	for (int64_t j = 0; j < shards; j++) {
		int64_t size = shard_size(count, j, shards);
		if (size == 0)
			continue;
		grad_on(t, data, first + shard_lo(count, j, shards), size, lr, s);
		pack(t, 1);
		fold(sh.acc, sh.vec, sh.elems, (double)size / (double)count);
		loss += (double)size / (double)count * s->loss;
	}
	round_into(sh.vec, sh.acc, sh.elems);
	pack(t, 0);
	return loss;
}
