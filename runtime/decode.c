/* decode.c — `decode`: greedy decoding by an encoder-decoder trained on
 * a sequences source (docs/attention.md, seq2seq), with nothing but the
 * checkpoint (its parameters and its vocabulary, whose id 0 is the start
 * mark).  The model reads x i32[B, S + T] — the S input ids, then the
 * decoder's T ids: the start mark and the output so far — and returns
 * logits [B, T, K].  A batch of inputs is decoded in T runs of the
 * compiled evaluation: run t reads the logits at decoder position t (the
 * decoder is causal, so the ids after it cannot change them), takes the
 * likeliest id other than the start mark, and writes it at position t + 1.
 *
 * Input: one sequence a line (--input FILE, or standard input); every
 * character in the vocabulary, exactly S of them.  With --eval, the
 * held-out source's sequences instead, and the fraction decoded exactly. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "nnrt_internal.h"

typedef struct Geometry { int64_t S, T, K, V; } Geometry;

/* The model reads ids i32[B, S + T] and returns logits [B, T, K], K >= V,
 * and the checkpoint's vocabulary starts with the start mark. */
static Geometry check_seq2seq(const RtTrainer *t)
{
	const RtShape *x = &t->x->shape, *o = t->out ? &t->out->shape : NULL;
	if (t->x->dt != RT_I32 || x->ndim != 2 || !o || o->ndim != 3 || o->dim[1] >= x->dim[1])
		rt_fatal(RT_EXIT_USAGE, "decode needs an encoder-decoder, which reads ids i32[B, S + T] (the input, "
		         "then the decoder's) and returns logits [B, T, K]; this one does not");
	Geometry g = {.T = o->dim[1], .S = x->dim[1] - o->dim[1], .K = o->dim[2]};
	if (!t->vocab || t->vocab->cp[0] != RT_SEQ_START)
		rt_fatal(RT_EXIT_IO, "%s has no vocabulary that starts with the start mark U+0002: it was not saved "
		         "by training on a sequences source", t->opt.load);
	g.V = t->vocab->n;
	if (g.V > g.K)
		rt_fatal(RT_EXIT_IO, "%s: the vocabulary has %lld symbols, but the model has %lld classes",
		         t->opt.load, (long long)g.V, (long long)g.K);
	return g;
}

/* The likeliest id but the start mark at decoder position `at` of row. */
static int32_t likeliest(const RtTrainer *t, const Geometry *g, int64_t row, int64_t at)
{
	const char *base = (const char *)t->io[t->out->io];
	int64_t first = (row * g->T + at) * g->K;
	int32_t best = 1;
	double top = -INFINITY;
	for (int32_t j = 1; j < g->V; j++) {
		double v = t->out->dt == RT_F32 ? ((const float *)base)[first + j] : ((const double *)base)[first + j];
		if (!isfinite(v))
			rt_fatal(RT_EXIT_NUMERIC, "the model's logit for %s is %g: the checkpoint holds non-finite "
			         "parameters or the model overflows", rt_char_name(t->vocab->cp[j]), v);
		if (v > top)
			top = v, best = j;
	}
	return best;
}

/* Decodes n <= max_batch inputs src[n][S] into out[n][T]. */
static void decode_batch(RtTrainer *t, const Geometry *g, const int32_t *src, int64_t n, int32_t *out)
{
	int64_t W = g->S + g->T;
	int32_t *x = t->io[t->x->io];
	memset(x, 0, sizeof *x * (size_t)(n * W));   /* id 0: the start mark, at decoder position 0 */
	for (int64_t r = 0; r < n; r++)
		memcpy(x + r * W, src + r * g->S, sizeof *x * (size_t)g->S);
	if (t->y)
		memset(t->io[t->y->io], 0, (size_t)(t->y->per_sample * n * rt_dtype_size(t->y->dt)));
	nnrt_step s = {.batch = n, .state = t->state, .scratch = t->scratch};
	for (int i = 0; i < NNRT_MAX_IO; i++)
		s.io[i] = t->io[i];
	s.hyper[t->d->hyper_step >= 0 ? t->d->hyper_step : NNRT_HYPER_STEP] = -1.0;   /* as eval's */
	for (int64_t at = 0; at < g->T; at++) {
		t->model->eval(&s);
		for (int64_t r = 0; r < n; r++) {
			int32_t id = likeliest(t, g, r, at);
			out[r * g->T + at] = id;
			if (at + 1 < g->T)
				x[r * W + g->S + at + 1] = id;
		}
	}
}

static int64_t vocab_id(const RtVocab *v, int32_t cp)
{
	for (int64_t i = 1; i < v->n; i++)   /* the start mark (id 0) is never an input */
		if (v->cp[i] == cp)
			return i;
	return -1;
}

static const char *vocab_text(const RtVocab *v)
{
	char *s = rt_alloc((size_t)v->n * 4 + 1), *o = s;
	for (int64_t i = 1; i < v->n; i++)
		o += rt_utf8_encode(v->cp[i], o);
	return s;
}

/* One line's ids into ids[S]; a character outside the vocabulary or a
 * line of another length ends the run, naming the line. */
static void line_ids(const RtTrainer *t, const Geometry *g, const char *name, int64_t line,
                     const unsigned char *p, size_t len, int32_t *ids)
{
	int64_t n = 0;
	for (size_t i = 0; i < len;) {
		int32_t cp;
		int k = rt_utf8_decode(p + i, len - i, &cp);
		if (k == 0)
			rt_fatal(RT_EXIT_IO, "%s:%lld: not UTF-8 text: byte %zu (0x%02x) starts no valid character",
			         name, (long long)line, i + 1, p[i]);
		int64_t id = vocab_id(t->vocab, cp);
		if (id < 0)
			rt_fatal(RT_EXIT_IO, "%s:%lld: character %lld, %s, is not in the model's vocabulary \"%s\"",
			         name, (long long)line, (long long)n + 1, rt_char_name(cp), vocab_text(t->vocab));
		if (n < g->S)
			ids[n] = (int32_t)id;
		n++;
		i += (size_t)k;
	}
	if (n != g->S)
		rt_fatal(RT_EXIT_IO, "%s:%lld: %lld characters, but the model reads sequences of exactly %lld",
		         name, (long long)line, (long long)n, (long long)g->S);
}

/* Every line of the input as S ids each; *n lines. */
static int32_t *read_inputs(const RtTrainer *t, const Geometry *g, const char *path, int64_t *n)
{
	char err[512];
	RtBytes b;
	if (rt_read_whole(path, 0, &b, err, sizeof err) < 0)
		rt_fatal(RT_EXIT_IO, "cannot read %s", err);
	const char *name = rt_input_name(path);
	int64_t cap = 64;
	int32_t *ids = rt_alloc(sizeof *ids * (size_t)(cap * g->S));
	*n = 0;
	for (size_t at = 0; at < b.n;) {
		const char *nl = memchr(b.p + at, '\n', b.n - at);
		size_t len = nl ? (size_t)(nl - (b.p + at)) : b.n - at;
		if (*n == cap) {
			cap *= 2;
			ids = rt_realloc(ids, sizeof *ids * (size_t)(cap * g->S));
		}
		line_ids(t, g, name, *n + 1, (const unsigned char *)b.p + at, len, ids + *n * g->S);
		++*n;
		at += len + 1;
	}
	free(b.p);
	if (*n == 0)
		rt_fatal(RT_EXIT_IO, "%s holds no sequence to decode (one a line)", name);
	return ids;
}

static int decode_lines(RtTrainer *t, const Geometry *g)
{
	int64_t n, B = t->opt.batch;
	int32_t *src = read_inputs(t, g, t->opt.input ? t->opt.input : "-", &n);
	int32_t *out = rt_alloc(sizeof *out * (size_t)(B * g->T));
	char buf[4];
	for (int64_t start = 0; start < n; start += B) {
		int64_t count = n - start < B ? n - start : B;
		decode_batch(t, g, src + start * g->S, count, out);
		for (int64_t i = 0; i < count * g->T; i++) {
			fwrite(buf, 1, (size_t)rt_utf8_encode(t->vocab->cp[out[i]], buf), stdout);
			if ((i + 1) % g->T == 0)
				putchar('\n');
		}
	}
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : RT_EXIT_IO;
}

/* The held-out source: the first report source that is not the training
 * source. */
static const char *heldout_source(const RtDesc *d)
{
	for (int i = 0; i < d->nreport; i++)
		if (!d->train_source || strcmp(d->report_source[i], d->train_source))
			return d->report_source[i];
	rt_fatal(RT_EXIT_USAGE, "decode --eval needs a held-out source, a report source other than the training "
	         "source '%s'; this model has none", d->train_source ? d->train_source : "?");
}

static int decode_eval(RtTrainer *t, const Geometry *g)
{
	RtDataSpec spec = rt_trainer_spec(t);
	RtData *data = rt_data_load(rt_desc_source(t->d, heldout_source(t->d)), &spec);
	if (data->x_dt != RT_I32 || data->x_per != g->S + g->T || !data->y || data->y_per != g->T || !data->vocab
	    || data->vocab->n != g->V || memcmp(data->vocab->cp, t->vocab->cp, sizeof *t->vocab->cp * (size_t)g->V))
		rt_fatal(RT_EXIT_IO, "data source '%s' (%s) does not hold sequences of the model's geometry and "
		         "vocabulary", data->name, data->origin);
	int64_t B = t->opt.batch, exact = 0;
	int32_t *src = rt_alloc(sizeof *src * (size_t)(B * g->S)), *out = rt_alloc(sizeof *out * (size_t)(B * g->T));
	for (int64_t start = 0; start < data->n; start += B) {
		int64_t count = data->n - start < B ? data->n - start : B;
		for (int64_t r = 0; r < count; r++)
			memcpy(src + r * g->S, (const int32_t *)data->x + (start + r) * data->x_per, sizeof *src * (size_t)g->S);
		decode_batch(t, g, src, count, out);
		for (int64_t r = 0; r < count; r++)
			exact += !memcmp(out + r * g->T, (const int32_t *)data->y + (start + r) * g->T,
			                 sizeof *out * (size_t)g->T);
	}
	printf("exact_match %.4f (%lld of %lld sequences of '%s')\n", (double)exact / (double)data->n,
	       (long long)exact, (long long)data->n, data->name);
	return fflush(stdout) == 0 && !ferror(stdout) ? 0 : RT_EXIT_IO;
}

int rt_decode(RtTrainer *t)
{
	Geometry g = check_seq2seq(t);
	return t->opt.eval ? decode_eval(t, &g) : decode_lines(t, &g);
}
