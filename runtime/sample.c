/* sample.c — `sample`: text drawn from a language model, one character
 * at a time, with nothing but the checkpoint (its parameters and its
 * vocabulary; no corpus).  Each character runs the compiled evaluation
 * at batch 1 on the last T ids — a shorter text sits at the start of the
 * window, the rest filled with id 0, and the logits are read at its last
 * character: the model is causal, so what follows cannot change them.
 * The draw: softmax of logits / temperature over the vocabulary's ids,
 * the top-k of them kept, one uniform number from the seeded RNG (same
 * seed, same text). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "nnrt_internal.h"

static const uint64_t STREAM_SAMPLE = 0x73616d706c65;   /* "sample": a stream no other draw uses */

typedef struct Ids { int32_t *v; int64_t n, cap; } Ids;

static void ids_push(Ids *a, int32_t id)
{
	if (a->n == a->cap) {
		a->cap = a->cap ? 2 * a->cap : 256;
		a->v = rt_realloc(a->v, sizeof *a->v * (size_t)a->cap);
	}
	a->v[a->n++] = id;
}

static int64_t vocab_id(const RtVocab *v, int32_t cp)
{
	int64_t lo = 0, hi = v->n;   /* ascending: binary search */
	while (lo < hi) {
		int64_t mid = (lo + hi) / 2;
		if (v->cp[mid] < cp)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < v->n && v->cp[lo] == cp ? lo : -1;
}

/* The prompt's ids: every character must be in the vocabulary. */
static Ids prompt_ids(const RtTrainer *t, const char *prompt)
{
	Ids ids = {0};
	const unsigned char *p = (const unsigned char *)prompt;
	size_t len = strlen(prompt);
	for (size_t i = 0; i < len;) {
		int32_t cp;
		int n = rt_utf8_decode(p + i, len - i, &cp);
		if (n == 0)
			rt_fatal(RT_EXIT_USAGE, "--prompt is not UTF-8 text: byte offset %zu (0x%02x) starts no valid "
			         "character", i, p[i]);
		int64_t id = vocab_id(t->vocab, cp);
		if (id < 0)
			rt_fatal(RT_EXIT_USAGE, "--prompt: character %lld, %s, is not in the vocabulary of %s "
			         "(%lld characters)", (long long)ids.n + 1, rt_char_name(cp), t->vocab_from,
			         (long long)t->vocab->n);
		ids_push(&ids, (int32_t)id);
		i += (size_t)n;
	}
	return ids;
}

/* With no --prompt: a newline, where a text starts; else the first
 * character of the vocabulary. */
static Ids default_prompt(const RtTrainer *t)
{
	Ids ids = {0};
	int64_t nl = vocab_id(t->vocab, '\n');
	ids_push(&ids, (int32_t)(nl >= 0 ? nl : 0));
	return ids;
}

/* The logits at the last of the window's ids, the first V of them. */
static const void *next_logits(RtTrainer *t, const Ids *ids, int64_t T, int64_t K)
{
	int64_t start = ids->n > T ? ids->n - T : 0, w = ids->n - start;
	int32_t *x = t->io[t->x->io];
	memset(x, 0, sizeof *x * (size_t)T);
	memcpy(x, ids->v + start, sizeof *x * (size_t)w);
	if (t->y)
		memset(t->io[t->y->io], 0, (size_t)(t->y->per_sample * rt_dtype_size(t->y->dt)));
	nnrt_step s = {.batch = 1, .state = t->state, .scratch = t->scratch};
	for (int i = 0; i < NNRT_MAX_IO; i++)
		s.io[i] = t->io[i];
	s.hyper[t->d->hyper_step >= 0 ? t->d->hyper_step : NNRT_HYPER_STEP] = -1.0;   /* as eval's */
	t->model->eval(&s);
	const char *out = t->io[t->out->io];
	return out + (size_t)((w - 1) * K * rt_dtype_size(t->out->dt));
}

static int descending(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x > y ? -1 : x < y;
}

/* Keeps the k heaviest ids, among equal weights the lower ids, zeroing
 * the others. */
static void keep_top(double *w, double *sorted, int64_t V, int64_t k)
{
	if (k <= 0 || k >= V)
		return;
	memcpy(sorted, w, sizeof *w * (size_t)V);
	qsort(sorted, (size_t)V, sizeof *sorted, descending);
	double kth = sorted[k - 1];
	int64_t above = 0;
	for (int64_t j = 0; j < V; j++)
		above += w[j] > kth;
	for (int64_t j = 0, ties = k - above; j < V; j++)
		if (w[j] < kth || (w[j] == kth && ties-- <= 0))
			w[j] = 0;
}

/* One id drawn from the logits: weights exp((z - max z) / temperature),
 * the top k kept, the first id (in id order) whose running sum of weights
 * passes u times their total. */
static int32_t draw(const RtTrainer *t, const void *logits, int64_t V, double *w, double *sorted, RtRng *rng)
{
	int f32 = t->out->dt == RT_F32;
	double top = -INFINITY, total = 0;
	for (int64_t j = 0; j < V; j++) {
		w[j] = f32 ? ((const float *)logits)[j] : ((const double *)logits)[j];
		if (!isfinite(w[j]))
			rt_fatal(RT_EXIT_NUMERIC, "the model's logit for %s is %g: the checkpoint holds non-finite "
			         "parameters or the model overflows", rt_char_name(t->vocab->cp[j]), w[j]);
		top = fmax(top, w[j]);
	}
	for (int64_t j = 0; j < V; j++)
		w[j] = exp((w[j] - top) / t->opt.temperature);
	keep_top(w, sorted, V, t->opt.top_k);
	for (int64_t j = 0; j < V; j++)
		total += w[j];
	double u = rt_rng_uniform(rng) * total, sum = 0;
	int32_t last = 0;
	for (int64_t j = 0; j < V; j++) {
		if (w[j] == 0)
			continue;
		sum += w[j];
		last = (int32_t)j;
		if (sum > u)
			return last;
	}
	return last;   /* u * total rounded up to the sum itself */
}

/* The model reads i32[B, T] ids and returns [B, T, K] logits, K >= V. */
static void check_language_model(const RtTrainer *t, int64_t *T, int64_t *K)
{
	const RtShape *x = &t->x->shape, *o = t->out ? &t->out->shape : NULL;
	if (t->x->dt != RT_I32 || x->ndim != 2 || !o || o->ndim != 3 || o->dim[1] != x->dim[1])
		rt_fatal(RT_EXIT_USAGE, "sample needs a language model, which reads character ids i32[B, T] and "
		         "returns logits [B, T, K]; this one does not");
	*T = x->dim[1];
	*K = o->dim[2];
	if (!t->vocab)
		rt_fatal(RT_EXIT_IO, "%s has no vocabulary (metadata 'vocabulary'): it was not saved by training on "
		         "a text source", t->opt.load);
	if (t->vocab->n > *K)
		rt_fatal(RT_EXIT_IO, "%s: the vocabulary has %lld characters, but the model has %lld classes",
		         t->opt.load, (long long)t->vocab->n, (long long)*K);
}

int rt_sample(RtTrainer *t)
{
	int64_t T, K, V;
	check_language_model(t, &T, &K);
	V = t->vocab->n;
	Ids ids = t->opt.prompt ? prompt_ids(t, t->opt.prompt) : default_prompt(t);
	if (ids.n == 0)
		rt_fatal(RT_EXIT_USAGE, "--prompt is empty: the model needs at least one character to go on from");
	RtRng rng;
	rt_rng_seed(&rng, (uint64_t)t->opt.seed, STREAM_SAMPLE);
	double *w = rt_alloc(sizeof *w * (size_t)V);
	double *sorted = rt_alloc(sizeof *sorted * (size_t)V);
	char buf[4];
	int32_t last = '\n';
	int64_t total = ids.n + t->opt.sample_length;
	for (int64_t i = 0; i < total; i++) {
		if (i >= ids.n)   /* the prompt is printed as given, then each character drawn */
			ids_push(&ids, draw(t, next_logits(t, &ids, T, K), V, w, sorted, &rng));
		last = t->vocab->cp[ids.v[i]];
		fwrite(buf, 1, (size_t)rt_utf8_encode(last, buf), stdout);
	}
	if (last != '\n')
		putchar('\n');
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : RT_EXIT_IO;
}
