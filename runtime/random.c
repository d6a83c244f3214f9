/* random.c — the random numbers compiled code asks for (OP_uniform in
 * compiler/ops.def: dropout masks).
 *
 * Each value is a hash of (seed, stream, step, index), not the next draw
 * of a generator: the values of a step do not depend on what ran before,
 * so a run resumed from a checkpoint at step k draws what the
 * uninterrupted run drew, a gradient check that repeats one step sees one
 * mask, and two dropout layers (two streams) never share one. */
#include "nnrt.h"
#include "nnrt_internal.h"

static uint64_t run_seed;

void rt_set_random_seed(uint64_t seed) { run_seed = seed; }

static uint64_t mix(uint64_t h)
{
	h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9u;
	h = (h ^ (h >> 27)) * 0x94d049bb133111ebu;
	return h ^ (h >> 31);
}

/* The base hash of one (stream, step); index i is mixed in per value. */
static uint64_t base(int64_t stream, double step)
{
	return mix(mix(run_seed ^ 0x6a09e667f3bcc909u) ^ mix((uint64_t)stream + 0x9e3779b97f4a7c15u)
	           ^ (uint64_t)(int64_t)step * 0xd1b54a32d192ed03u);   /* eval's steps are negative */
}

void nnrt_uniform_f32(float *y, int64_t n, int64_t stream, double step)
{
	uint64_t b = base(stream, step);
	for (int64_t i = 0; i < n; i++)   /* 24 random bits: every value a float represents exactly */
		y[i] = (float)(mix(b + (uint64_t)i * 0x9e3779b97f4a7c15u) >> 40) * 0x1.0p-24f;
}

void nnrt_uniform_f64(double *y, int64_t n, int64_t stream, double step)
{
	uint64_t b = base(stream, step);
	for (int64_t i = 0; i < n; i++)
		y[i] = (double)(mix(b + (uint64_t)i * 0x9e3779b97f4a7c15u) >> 11) * 0x1.0p-53;
}
