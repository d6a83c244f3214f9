/* data_seq.c — the sequences source: generated sequence-to-sequence
 * tasks over digit strings, for an encoder-decoder trained with teacher
 * forcing (docs/attention.md, "seq2seq", states every rule):
 *
 *   task        sort: the digits in ascending order; reverse: backwards
 *   vocabulary  the start mark U+0002 (id 0), then '0'..'9' (ids 1..10)
 *   sample      x = the L input ids, the start mark, the first L - 1
 *               target ids (the decoder's input: the target shifted
 *               right); y = the L target ids
 *   parts       an input is held out when the FNV-1a hash of its digits
 *               is 0 mod 10, whatever the seed: part "heldout" draws only
 *               such inputs, part "train" never, so no held-out sequence
 *               is ever trained on
 *
 * Sample i is a pure function of (seed, source name, i), as the adding
 * problem's: a larger count only appends. */
#include <string.h>
#include "nnrt_internal.h"

enum { DIGITS = 10, HELDOUT_ONE_IN = 10 };

static const int32_t seq_code_points[1 + DIGITS] = {
	RT_SEQ_START, '0', '1', '2', '3', '4', '5', '6', '7', '8', '9',
};

const RtVocab rt_seq_vocab = { 1 + DIGITS, (int32_t *)seq_code_points };

int rt_seq_heldout(const int32_t *ids, int64_t n)
{
	uint64_t h = 1469598103934665603ULL;   /* FNV-1a over the digits' characters */
	for (int64_t i = 0; i < n; i++)
		h = (h ^ (uint64_t)seq_code_points[ids[i]]) * 1099511628211ULL;
	return h % HELDOUT_ONE_IN == 0;
}

/* out[0, n): in's ids sorted (a counting sort) or reversed. */
static void solve(int sort, const int32_t *in, int32_t *out, int64_t n)
{
	if (!sort) {
		for (int64_t i = 0; i < n; i++)
			out[i] = in[n - 1 - i];
		return;
	}
	int64_t count[1 + DIGITS] = {0}, k = 0;
	for (int64_t i = 0; i < n; i++)
		count[in[i]]++;
	for (int32_t id = 1; id <= DIGITS; id++)
		for (int64_t c = 0; c < count[id]; c++)
			out[k++] = id;
}

static uint64_t name_stream(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return h;
}

/* One sample: inputs drawn until one falls in the part. */
static void seq_sample(RtData *d, int64_t i, int64_t L, int sort, int heldout, uint64_t seed, uint64_t stream)
{
	RtRng rng;
	rt_rng_seed(&rng, seed, stream + (uint64_t)i);
	int32_t *x = (int32_t *)d->x + i * 2 * L;
	do {
		for (int64_t t = 0; t < L; t++)
			x[t] = 1 + (int32_t)rt_rng_below(&rng, DIGITS);
	} while (rt_seq_heldout(x, L) != heldout);
	int32_t *target = x + L + 1;   /* solved into the decoder's input, the last one spilling into y */
	int32_t *y = d->y ? (int32_t *)d->y + i * L : NULL;
	int32_t out[256];
	solve(sort, x, out, L);
	x[L] = 0;
	memcpy(target, out, sizeof *out * (size_t)(L - 1));
	if (y)
		memcpy(y, out, sizeof *out * (size_t)L);
}

static double num_arg(const RtSource *s, const char *key, double dflt)
{
	const RtKeyVal *kv = rt_source_arg(s, key);
	return kv && !kv->is_str ? kv->num : dflt;
}

/* nnc has checked the model against the source; a descriptor written by
 * hand has not. */
static void check_model(const RtSource *s, const RtDataSpec *spec, int64_t L)
{
	if (spec->x_dt != RT_I32 || spec->x_per != 2 * L || (spec->has_y && (spec->y_dt != RT_I32 || spec->y_per != L)))
		rt_fatal(RT_EXIT_IO, "data source '%s': sequences(length: %lld) gives x i32[B, %lld] (the input, "
		         "the start mark, the target shifted right) and y i32[B, %lld]; the model does not read them so",
		         s->name, (long long)L, 2 * (long long)L, (long long)L);
	if (spec->classes > 0 && spec->classes < 1 + DIGITS)
		rt_fatal(RT_EXIT_IO, "data source '%s': the model's output has %lld classes, but the sequences' "
		         "vocabulary has %d", s->name, (long long)spec->classes, 1 + DIGITS);
}

RtData *rt_seq_load(const RtSource *s, const RtDataSpec *spec)
{
	const RtKeyVal *task = rt_source_arg(s, "task"), *part = rt_source_arg(s, "part");
	int64_t L = (int64_t)num_arg(s, "length", 0), n = (int64_t)num_arg(s, "count", 1000);
	if (!task || !task->is_str || L < 4 || L > 256)
		rt_fatal(RT_EXIT_INTERNAL, "data source '%s': sequences needs a task and a length in [4, 256]", s->name);
	check_model(s, spec, L);
	int sort = !strcmp(task->str, "sort"), heldout = part && !strcmp(part->str, "heldout");
	RtData *d = rt_alloc(sizeof *d);
	d->name = rt_strdup(s->name);
	d->n = n;
	d->x_per = 2 * L;
	d->x_dt = RT_I32;
	d->x = rt_alloc(sizeof(int32_t) * (size_t)(n * 2 * L));
	if (spec->has_y) {
		d->y_per = L;
		d->y_dt = RT_I32;
		d->y = rt_alloc(sizeof(int32_t) * (size_t)(n * L));
	}
	uint64_t stream = name_stream(s->name);
	for (int64_t i = 0; i < n; i++)
		seq_sample(d, i, L, sort, heldout, spec->seed, stream);
	d->vocab = &rt_seq_vocab;
	d->origin = rt_printf("sequences %s (%s part: %lld sequences of %lld digits)", task->str,
	                      heldout ? "heldout" : "train", (long long)n, (long long)L);
	return d;
}
