/* data_text_tasks.c — the text source's data for BERT (Devlin et al.
 * 2019): masked-language-model targets (`mask: 0.15`) and the category of
 * a text (`labels: "files"`).  docs/text.md states the rules exactly; in
 * short, with V the vocabulary's size:
 *
 *   mask    the batches of data_text.c, but y is x itself at a chosen
 *           position and -1 elsewhere; each position is chosen with
 *           probability `mask`, and a chosen one is replaced in x by the
 *           id V ([MASK]) with probability 0.8, by an id uniform in
 *           [0, V) with 0.1, and kept with 0.1.  Sample j draws from its
 *           own stream (seed, source name + j) as the source loads: the
 *           masks that reports, eval and gradcheck see.  Training draws
 *           them anew for every batch from (seed, epoch, position), as
 *           augmentation does (rt_text_remask): each epoch other masks,
 *           a resumed run the same.
 *   labels  one sample per fortune (the text between lines holding only
 *           '%'), x its first `length` ids padded with the id V, y the
 *           index of its file in the corpus's name order; of each file's
 *           fortunes the first floor(split * n) train, the rest validate.
 *
 * Both need an embedding table of V + 1 rows: id V is the mask and the
 * padding. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "nnrt_internal.h"

enum { MASK_OF_TEN = 8, RANDOM_OF_TEN = 1 };   /* of the chosen positions: 80% [MASK], 10% random */
static const uint64_t STREAM_MASK = 0x6d61736b00000000ULL;   /* "mask": training's draws */

/* One sample's T positions: draws u (chosen?) and, when chosen, w (how). */
static void mask_sample(int32_t *x, int32_t *y, int64_t T, int64_t vocab, double rate, RtRng *r)
{
	for (int64_t t = 0; t < T; t++) {
		int32_t id = x[t];
		if (y)
			y[t] = -1;
		if (rt_rng_uniform(r) >= rate)
			continue;
		if (y)
			y[t] = id;
		double w = rt_rng_uniform(r) * 10;
		if (w < MASK_OF_TEN)
			x[t] = (int32_t)vocab;
		else if (w < MASK_OF_TEN + RANDOM_OF_TEN)
			x[t] = (int32_t)rt_rng_below(r, (uint64_t)vocab);
	}
}

void rt_text_mask(RtData *d, const RtSource *s, const RtDataSpec *spec, int64_t vocab, double rate)
{
	int64_t T = d->x_per;
	if (spec->has_y && !d->y) {   /* rt_text_load allocates it; a caller of its own may not */
		d->y_per = T;
		d->y_dt = RT_I32;
		d->y = rt_alloc(sizeof(int32_t) * (size_t)(d->n * T));
	}
	d->unmasked = rt_alloc(sizeof(int32_t) * (size_t)(d->n * T));
	memcpy(d->unmasked, d->x, sizeof(int32_t) * (size_t)(d->n * T));
	d->mask_rate = rate;
	uint64_t stream = rt_name_stream(s->name);
	for (int64_t j = 0; j < d->n; j++) {
		RtRng r;
		rt_rng_seed(&r, spec->seed, stream + (uint64_t)j);
		mask_sample((int32_t *)d->x + j * T, d->y ? (int32_t *)d->y + j * T : NULL, T, vocab, rate, &r);
	}
}

void rt_text_remask(const RtData *d, int32_t *x, int32_t *y, int64_t count, uint64_t seed, int64_t epoch,
                    int64_t first)
{
	int64_t T = d->x_per;
	for (int64_t i = 0; i < count; i++) {
		RtRng r;
		/* a text source is in order: position first + i is sample first + i */
		rt_rng_seed(&r, seed, STREAM_MASK ^ (uint64_t)epoch * 0x9E3779B97F4A7C15ULL ^ (uint64_t)(first + i));
		memcpy(x + i * T, d->unmasked + (first + i) * T, sizeof *x * (size_t)T);
		mask_sample(x + i * T, y ? y + i * T : NULL, T, d->vocab->n, d->mask_rate, &r);
	}
}

/* ---- labels: "files" ------------------------------------------------------- */

typedef struct Piece { int64_t start, len, file; } Piece;
typedef struct Pieces { Piece *p; int64_t n, cap; } Pieces;

static void add_piece(Pieces *ps, int64_t start, int64_t end, int64_t file)
{
	if (end <= start)   /* nothing between two separators: no fortune */
		return;
	if (ps->n == ps->cap) {
		ps->cap = ps->cap ? 2 * ps->cap : 1024;
		ps->p = rt_realloc(ps->p, sizeof *ps->p * (size_t)ps->cap);
	}
	ps->p[ps->n++] = (Piece){start, end - start, file};
}

static int32_t id_of(const RtVocab *v, int32_t cp)
{
	for (int64_t i = 0; i < v->n; i++)
		if (v->cp[i] == cp)
			return (int32_t)i;
	return -1;
}

/* The fortunes of file f, [from, to) of the ids: a line holding only '%'
 * ends one (its newline too); the file's end ends the last. */
static void fortunes_of(const int32_t *id, int64_t from, int64_t to, int64_t f, int32_t pct, int32_t nl,
                        Pieces *ps)
{
	int64_t start = from;
	for (int64_t line = from; line < to;) {
		int64_t end = line;
		while (end < to && id[end] != nl)
			end++;
		if (end - line == 1 && id[line] == pct) {
			add_piece(ps, start, line, f);
			start = end < to ? end + 1 : to;
		}
		line = end + 1;
	}
	add_piece(ps, start, to, f);
}

/* The part's samples: of each file's n fortunes, the first floor(split n)
 * train and the rest validate. */
static void select_part(const Pieces *all, double split, int validation, Pieces *part)
{
	for (int64_t i = 0; i < all->n;) {
		int64_t j = i;
		while (j < all->n && all->p[j].file == all->p[i].file)
			j++;
		int64_t ntrain = (int64_t)floor(split * (double)(j - i));
		for (int64_t k = validation ? i + ntrain : i; k < (validation ? j : i + ntrain); k++)
			add_piece(part, all->p[k].start, all->p[k].start + all->p[k].len, all->p[k].file);
		i = j;
	}
}

static void check_model(const RtSource *s, const RtDataSpec *spec, int64_t T, int64_t classes, const char *path)
{
	if (spec->x_dt != RT_I32 || spec->x_per != T || (spec->has_y && (spec->y_dt != RT_I32 || spec->y_per != 1)))
		rt_fatal(RT_EXIT_INTERNAL, "data source '%s': the model does not read i32[B, %lld] character ids "
		         "and one i32 label a sample", s->name, (long long)T);
	if (spec->classes > 0 && classes > spec->classes)
		rt_fatal(RT_EXIT_IO, "text corpus %s has %lld files, but the model's output has %lld classes: "
		         "labels: \"files\" needs one class per file (%lld or more)", path, (long long)classes,
		         (long long)spec->classes, (long long)classes);
}

static void fill_samples(RtData *d, const Pieces *part, const int32_t *id, int64_t T, int32_t pad)
{
	for (int64_t j = 0; j < part->n; j++) {
		const Piece *p = &part->p[j];
		int32_t *x = (int32_t *)d->x + j * T;
		for (int64_t t = 0; t < T; t++)
			x[t] = t < p->len ? id[p->start + t] : pad;
		if (d->y)
			((int32_t *)d->y)[j] = (int32_t)p->file;
	}
}

RtData *rt_text_categories(const RtSource *s, const RtDataSpec *spec, const RtText *t, const RtVocab *v,
                           const char *path)
{
	const RtKeyVal *part_arg = rt_source_arg(s, "part"), *split_arg = rt_source_arg(s, "split");
	const char *part = part_arg ? part_arg->str : "train";
	int64_t T = (int64_t)rt_source_arg(s, "length")->num;
	double split = split_arg ? split_arg->num : 0.9;
	check_model(s, spec, T, t->nfile, path);
	Pieces all = {0}, mine = {0};
	int32_t pct = id_of(v, '%'), nl = id_of(v, '\n');
	for (int64_t f = 0; f < t->nfile; f++)
		fortunes_of(t->cp, f ? t->file_end[f - 1] : 0, t->file_end[f], f, pct, nl, &all);
	select_part(&all, split, !strcmp(part, "validation"), &mine);
	int64_t longer = 0;
	for (int64_t j = 0; j < mine.n; j++)
		longer += mine.p[j].len > T;
	RtData *d = rt_alloc(sizeof *d);
	d->name = rt_strdup(s->name);
	d->n = mine.n;
	d->x_per = T;
	d->x_dt = RT_I32;
	d->x = rt_alloc(sizeof(int32_t) * (size_t)(d->n * T + 1));
	if (spec->has_y) {
		d->y_per = 1;
		d->y_dt = RT_I32;
		d->y = rt_alloc(sizeof(int32_t) * (size_t)(d->n + 1));
	}
	fill_samples(d, &mine, t->cp, T, (int32_t)v->n);
	d->vocab = v;
	d->origin = rt_printf("text %s by file (%s part: %lld of %lld texts, %lld classes, %lld longer than %lld "
	                      "characters and cut)", path, part, (long long)mine.n, (long long)all.n,
	                      (long long)t->nfile, (long long)longer, (long long)T);
	if (!spec->quiet)
		printf("data '%s': %s\n", s->name, d->origin);
	free(all.p);
	free(mine.p);
	return d;
}
