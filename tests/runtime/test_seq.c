/* test_seq.c — the sequences source against docs/attention.md's rules:
 * each sample's layout (the input, the start mark, the target shifted
 * right; the target), the answers of both tasks checked by a naive
 * solver, the held-out rule that keeps the parts apart, and the same
 * samples for the same seed.  The refusals end the process and are
 * tested by tests/e2e/seq2seq.sh. */
#include <stdlib.h>
#include <string.h>
#include "nnrt_internal.h"
#include "check.h"

enum { L = 8 };

static RtData *load(const char *name, const char *task, const char *part, double count, uint64_t seed)
{
	RtSource s = {.name = (char *)name, .kind = NNRT_SOURCE_SEQUENCES, .narg = 4};
	RtKeyVal args[4] = {{"task", (char *)task, 0, 1}, {"length", "", L, 0}, {"count", "", count, 0},
	                    {"part", (char *)part, 0, 1}};
	s.arg = args;
	RtDataSpec spec = {.x_dt = RT_I32, .x_per = 2 * L, .has_y = 1, .y_dt = RT_I32, .y_per = L,
	                   .classes = 11, .seed = seed, .batch = 4};
	return rt_data_load(&s, &spec);
}

/* Selection sort of the digits, or the digits backwards: not the
 * source's counting sort. */
static void naive(int sort, const int32_t *in, int32_t *out)
{
	for (int i = 0; i < L; i++)
		out[i] = sort ? in[i] : in[L - 1 - i];
	for (int i = 0; sort && i < L; i++)
		for (int j = i + 1; j < L; j++)
			if (out[j] < out[i]) {
				int32_t t = out[i];
				out[i] = out[j];
				out[j] = t;
			}
}

/* Every sample well formed, right, and in its part. */
static int well_formed(const RtData *d, int sort, int heldout)
{
	for (int64_t i = 0; i < d->n; i++) {
		const int32_t *x = (const int32_t *)d->x + i * 2 * L, *y = (const int32_t *)d->y + i * L;
		int32_t want[L];
		naive(sort, x, want);
		for (int t = 0; t < L; t++)
			if (x[t] < 1 || x[t] > 10)
				return 0;
		if (memcmp(y, want, sizeof want) || x[L] != 0 || memcmp(x + L + 1, y, sizeof *y * (L - 1))
		    || rt_seq_heldout(x, L) != heldout)
			return 0;
	}
	return 1;
}

static void test_samples(void)
{
	RtData *tr = load("train", "sort", "train", 500, 1), *ho = load("heldout", "sort", "heldout", 200, 1);
	CHECK(tr->n == 500 && tr->x_per == 2 * L && tr->y_per == L && tr->vocab == &rt_seq_vocab);
	CHECK(rt_seq_vocab.n == 11 && rt_seq_vocab.cp[0] == RT_SEQ_START && rt_seq_vocab.cp[1] == '0');
	CHECK(well_formed(tr, 1, 0));
	CHECK(well_formed(ho, 1, 1));
	CHECK(well_formed(load("r", "reverse", "train", 100, 1), 0, 0));
	CHECK(well_formed(load("r", "reverse", "heldout", 100, 1), 0, 1));
}

/* A function of (seed, name, i): the same seed and name, the same bytes;
 * a larger count appends; another seed, other samples. */
static void test_determinism(void)
{
	RtData *a = load("train", "sort", "train", 300, 5), *b = load("train", "sort", "train", 600, 5);
	RtData *c = load("train", "sort", "train", 300, 6);
	CHECK(!memcmp(a->x, b->x, sizeof(int32_t) * 300 * 2 * L));
	CHECK(!memcmp(a->y, b->y, sizeof(int32_t) * 300 * L));
	CHECK(memcmp(a->x, c->x, sizeof(int32_t) * 300 * 2 * L) != 0);
}

/* The held-out rule by hand: FNV-1a of the digits' characters, 0 mod 10. */
static void test_rule(void)
{
	int held = 0;
	for (int32_t v = 0; v < 10000; v++) {
		int32_t ids[L];
		uint64_t h = 1469598103934665603ULL;
		for (int t = 0, r = v; t < L; t++, r /= 10) {
			ids[t] = 1 + r % 10;
			h = (h ^ (uint64_t)('0' + r % 10)) * 1099511628211ULL;
		}
		CHECK(rt_seq_heldout(ids, L) == (h % 10 == 0));
		held += rt_seq_heldout(ids, L);
	}
	CHECK(held > 800 && held < 1200);   /* about a tenth */
}

int main(void)
{
	test_samples();
	test_determinism();
	test_rule();
	return CHECK_DONE();
}
