/* rng.c — the runtime's only source of randomness: xoshiro256** seeded
 * through splitmix64.  Every draw is a pure function of (seed, stream,
 * position), so runs are reproducible on every platform: no libc rand(),
 * no cached second Box-Muller value hidden outside the state. */
#include <math.h>
#include "nnrt_internal.h"

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Independent streams (parameter init, each epoch's permutation, each
 * random data source) are separate seedings, so using one never shifts
 * another: resuming at epoch 3 draws exactly what a straight run draws. */
void rt_rng_seed(RtRng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1342543de82ef95ULL);
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t rt_rng_next(RtRng *r)
{
	uint64_t *s = r->s;
	uint64_t result = rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return result;
}

double rt_rng_uniform(RtRng *r)
{
	return (double)(rt_rng_next(r) >> 11) * 0x1.0p-53;
}

double rt_rng_normal(RtRng *r)
{
	double u1 = 1.0 - rt_rng_uniform(r);   /* (0, 1]: log stays finite */
	double u2 = rt_rng_uniform(r);
	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

uint64_t rt_rng_below(RtRng *r, uint64_t n)
{
	/* Rejection keeps the result unbiased: drop the top partial bucket. */
	uint64_t limit = UINT64_MAX - UINT64_MAX % n;
	uint64_t x;
	do
		x = rt_rng_next(r);
	while (x >= limit);
	return x % n;
}

void rt_rng_permutation(RtRng *r, int64_t *perm, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		perm[i] = i;
	for (int64_t i = n - 1; i > 0; i--) {   /* Fisher-Yates */
		int64_t j = (int64_t)rt_rng_below(r, (uint64_t)i + 1);
		int64_t tmp = perm[i];
		perm[i] = perm[j];
		perm[j] = tmp;
	}
}
