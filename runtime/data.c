/* data.c — data sources (idx, csv, random, adding; text in data_text.c, sequences in data_seq.c) turned into RtData: inputs in
 * the program's float type times `scale`, targets in the target io's
 * dtype; plus path resolution and batch gathering.
 *
 * CSV targets: with an i32 target, column `label` (negative counts from
 * the end; default -1) is the integer label and every other column is
 * input.  With a float target of k values per sample, the k columns
 * starting at `label` are the target (label=-1 means the last k columns).
 * Without a target io every column is input. */
#include <math.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "nnrt_internal.h"

#define DEFAULT_DATA_DIR "/usr/share/datasets/fashion-mnist"

static double arg_num(const RtSource *s, const char *key, double dflt)
{
	const RtKeyVal *kv = rt_source_arg(s, key);
	if (!kv)
		return dflt;
	if (kv->is_str)
		rt_fatal(RT_EXIT_INTERNAL, "data source '%s': %s must be a number", s->name, key);
	return kv->num;
}

/* A line or column count: an integer, 64-bit, never cast through int. */
static int64_t count_arg(const RtSource *s, const char *key)
{
	double v = arg_num(s, key, 0);
	if (v != floor(v) || v < 0 || v >= 0x1p63)
		rt_fatal(RT_EXIT_INTERNAL, "data source '%s': %s=%g is not a count", s->name, key, v);
	return (int64_t)v;
}

static const char *arg_str(const RtSource *s, const char *key)
{
	const RtKeyVal *kv = rt_source_arg(s, key);
	if (!kv || !kv->is_str)
		rt_fatal(RT_EXIT_INTERNAL, "data source '%s' (%s) lacks the string argument %s",
		         s->name, nnrt_source_word[s->kind], key);
	return kv->str;
}

/* A directory passes access(R_OK) but reads as an empty file. */
static char *readable_file(char *path)
{
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
		rt_fatal(RT_EXIT_IO, "%s is a directory, not a data file", path);
	return path;
}

/* name as given when absolute, else under --data-dir (or the .nn file's
 * directory), then under dflt; `what` names it in messages and accept
 * refuses what it cannot read. */
static char *resolve(const char *name, const RtDataSpec *spec, const char *dflt, const char *what,
                     char *(*accept)(char *))
{
	if (name[0] == '/') {
		if (access(name, R_OK) == 0)
			return accept(rt_strdup(name));
		rt_fatal(RT_EXIT_IO, "cannot read %s %s: %s", what, name, strerror(errno));
	}
	const char *dirs[2] = {spec->data_dir ? spec->data_dir : spec->source_dir, dflt};
	char tried[2048] = "";
	size_t n = 0;
	for (int i = 0; i < 2; i++) {
		if (!dirs[i])
			continue;
		char *p = rt_printf("%s/%s", dirs[i], name);
		if (access(p, R_OK) == 0)
			return accept(p);
		n += (size_t)snprintf(tried + n, n < sizeof tried ? sizeof tried - n : 0, "%s%s", n ? ", " : "", p);
		if (n >= sizeof tried)
			n = sizeof tried - 1;
	}
	rt_fatal(RT_EXIT_IO, "%s '%s' not found (tried %s; use --data-dir DIR)", what, name, tried);
}

char *rt_resolve_path(const char *name, const RtDataSpec *spec)
{
	return resolve(name, spec, DEFAULT_DATA_DIR, "data file", readable_file);
}

static char *any_entry(char *path)
{
	return path;
}

/* Debian's fortunes package keeps its text in /usr/share/games/fortunes. */
char *rt_resolve_corpus(const char *name, const RtDataSpec *spec)
{
	return resolve(name, spec, "/usr/share/games", "text corpus", any_entry);
}

static RtData *new_data(const char *name, const RtDataSpec *spec, int64_t n, int has_y)
{
	RtData *d = rt_alloc(sizeof *d);
	d->name = rt_strdup(name);
	d->n = n;
	d->x_per = d->image_per = spec->x_per;
	d->views = 1;
	d->x_dt = spec->precision;
	if (has_y && spec->has_y) {
		d->y_per = spec->y_per;
		d->y_dt = spec->y_dt;
		d->y = rt_alloc((size_t)(n * d->y_per * rt_dtype_size(d->y_dt)));
	}
	return d;
}

static void alloc_x(RtData *d)
{
	d->x = rt_alloc((size_t)(d->n * d->x_per * rt_dtype_size(d->x_dt)));
}

static void put(void *base, RtDType dt, int64_t i, double v)
{
	if (dt == RT_F32) ((float *)base)[i] = (float)v;
	else if (dt == RT_F64) ((double *)base)[i] = v;
	else ((int32_t *)base)[i] = (int32_t)v;
}

static double stored(const void *base, RtDType dt, int64_t i)
{
	return dt == RT_F32 ? ((const float *)base)[i] : ((const double *)base)[i];
}

/* Stores input value i of sample `sample`, already scaled.  A NaN or an
 * infinity in the data (an IDX file of floats; a value past the float
 * type's range) would surface as a non-finite loss that no learning rate
 * explains, so it is refused here, where the file and place are known. */
static void bad_input(const RtData *d, int64_t i, double v, const char *where, int64_t sample)
{
	if (!isfinite(v))
		rt_fatal(RT_EXIT_IO, "%s: sample %lld, value %lld is %g: inputs must be finite", where,
		         (long long)sample, (long long)(i % d->x_per), v);
	rt_fatal(RT_EXIT_IO, "%s: sample %lld, value %lld: %g (after scale) overflows %s", where,
	         (long long)sample, (long long)(i % d->x_per), v, rt_dtype_name(d->x_dt));
}

static void put_input(RtData *d, int64_t i, double v, const char *where, int64_t sample)
{
	put(d->x, d->x_dt, i, v);
	if (!isfinite(stored(d->x, d->x_dt, i)))
		bad_input(d, i, v, where, sample);
}

RtInputMap rt_input_map(const RtSource *s)
{
	const RtKeyVal *b = rt_source_arg(s, "binarize");
	return (RtInputMap){ arg_num(s, "scale", 1), b ? b->num : 0, b != NULL };
}

static double mapped(const RtInputMap *m, double v)
{
	v *= m->scale;
	return m->binary ? (double)(v > m->threshold) : v;
}

/* Inputs from an IDX file: u8 images keep their bytes (img->raw is taken
 * over) and a table of the 256 mapped values (scaled, binarized if
 * asked), each the same float that put_input would store; other element
 * types are converted now.  Returns whether img->raw was taken. */
static int idx_inputs(RtData *d, RtIdx *img, const RtInputMap *map, const char *where)
{
	if (img->type != 0x08) {
		alloc_x(d);
		for (int64_t i = 0; i < img->n * img->per; i++)
			put_input(d, i, mapped(map, rt_idx_get(img, i)), where, i / img->per);
		return 0;
	}
	d->x_lut = rt_alloc(256 * (size_t)rt_dtype_size(d->x_dt));
	for (int b = 0; b < 256; b++)
		put(d->x_lut, d->x_dt, b, mapped(map, (double)b));
	for (int64_t i = 0; i < img->n * img->per; i++)
		if (!isfinite(stored(d->x_lut, d->x_dt, img->raw[i])))
			bad_input(d, i, mapped(map, (double)img->raw[i]), where, i / img->per);
	d->x_u8 = img->raw;
	return 1;
}

/* Stores a label, checking it is an integer in [0, classes) for i32
 * targets, and finite for float ones. */
static void put_label(RtData *d, int64_t i, double v, const RtDataSpec *spec, const char *where, int64_t row)
{
	if (d->y_dt == RT_I32) {
		if (v != floor(v) || v < 0 || (spec->classes > 0 && v >= (double)spec->classes))
			rt_fatal(RT_EXIT_IO, "%s: sample %lld: label %g is not an integer in [0, %lld)",
			         where, (long long)row, v, (long long)spec->classes);
	}
	put(d->y, d->y_dt, i, v);
	if (d->y_dt != RT_I32 && !isfinite(stored(d->y, d->y_dt, i)))
		rt_fatal(RT_EXIT_IO, "%s: sample %lld: target %g is not a finite %s", where, (long long)row, v,
		         rt_dtype_name(d->y_dt));
}

/* The image geometry that crop and flip need (augment.c): the source's
 * shape (height=, width=, channels=) if given, else an IDX file's
 * [N, rows, cols] or [N, rows, cols, channels]; otherwise unknown (0). */
static void set_geometry(RtData *d, const RtSource *s, const RtIdx *img)
{
	if (img && (img->ndim == 3 || img->ndim == 4)) {
		d->height = img->dim[1];
		d->width = img->dim[2];
		d->channels = img->ndim == 4 ? img->dim[3] : 1;
	}
	if (!rt_source_arg(s, "height"))
		return;
	d->height = (int64_t)arg_num(s, "height", 0);
	d->width = (int64_t)arg_num(s, "width", 0);
	d->channels = (int64_t)arg_num(s, "channels", 0);
	if (d->height * d->width * d->channels != d->x_per)
		rt_fatal(RT_EXIT_INTERNAL, "data source '%s': shape %lldx%lldx%lld does not hold the %lld values "
		         "of a sample", s->name, (long long)d->height, (long long)d->width,
		         (long long)d->channels, (long long)d->x_per);
}

static RtData *load_idx(const RtSource *s, const RtDataSpec *spec)
{
	char err[512];
	RtInputMap map = rt_input_map(s);
	char *ipath = rt_resolve_path(arg_str(s, "0"), spec);
	RtIdx img, lab = {0};
	if (rt_idx_read(ipath, &img, err, sizeof err) < 0)
		rt_fatal(RT_EXIT_IO, "%s", err);
	if (img.per != spec->x_per)
		rt_fatal(RT_EXIT_IO, "%s: %lld elements per sample, but the model input takes %lld",
		         ipath, (long long)img.per, (long long)spec->x_per);
	int labels = spec->has_y && rt_source_arg(s, "1");
	if (spec->has_y && !labels)
		rt_fatal(RT_EXIT_INTERNAL, "data source '%s' has no label file but the model has a target", s->name);
	char *lpath = labels ? rt_resolve_path(arg_str(s, "1"), spec) : NULL;
	if (labels && rt_idx_read(lpath, &lab, err, sizeof err) < 0)
		rt_fatal(RT_EXIT_IO, "%s", err);
	if (labels && lab.n != img.n)
		rt_fatal(RT_EXIT_IO, "%s has %lld samples but %s has %lld labels", ipath,
		         (long long)img.n, lpath, (long long)lab.n);
	if (labels && lab.per != spec->y_per)
		rt_fatal(RT_EXIT_IO, "%s: %lld values per label, but the model target takes %lld",
		         lpath, (long long)lab.per, (long long)spec->y_per);
	RtData *d = new_data(s->name, spec, img.n, labels);
	if (idx_inputs(d, &img, &map, ipath))
		img.raw = NULL;
	for (int64_t i = 0; labels && i < lab.n * lab.per; i++)
		put_label(d, i, rt_idx_get(&lab, i), spec, lpath, i / lab.per);
	d->origin = labels ? rt_printf("idx %s %s", ipath, lpath) : rt_printf("idx %s", ipath);
	set_geometry(d, s, &img);
	free(img.raw);
	free(lab.raw);
	return d;
}

/* Which columns hold the target: [*first, *first + width) (see the top). */
static void csv_target_columns(const RtCsv *c, int64_t label, const RtDataSpec *spec,
                               const char *path, int64_t *first, int64_t *width)
{
	*width = spec->has_y ? (spec->y_dt == RT_I32 ? 1 : spec->y_per) : 0;
	/* A model that reads no target still meets files with a label column
	 * (the default label: -1 names one): one column more than its input
	 * is that column, skipped. */
	if (!spec->has_y && c->cols == spec->x_per + 1)
		*width = 1;
	*first = c->cols;
	if (*width == 0) {
		if (c->cols != spec->x_per)
			rt_fatal(RT_EXIT_IO, "%s: %lld columns, but the model input takes %lld per sample (and no target)",
			         path, (long long)c->cols, (long long)spec->x_per);
		return;
	}
	if (label < 0)
		*first = c->cols + label - (*width - 1);
	else
		*first = label;
	if (*first < 0 || *first + *width > c->cols)
		rt_fatal(RT_EXIT_IO, "%s: label column %lld is outside the %lld columns", path,
		         (long long)label, (long long)c->cols);
	if (c->cols - *width != spec->x_per)
		rt_fatal(RT_EXIT_IO, "%s: %lld input columns, but the model input takes %lld per sample",
		         path, (long long)(c->cols - *width), (long long)spec->x_per);
}

static RtData *from_csv(const char *name, const char *path, const RtCsv *c, int64_t label,
                        const RtInputMap *map, const RtDataSpec *spec)
{
	int64_t first, width;
	csv_target_columns(c, label, spec, path, &first, &width);
	RtData *d = new_data(name, spec, c->rows, width > 0);
	alloc_x(d);
	for (int64_t r = 0; r < c->rows; r++) {
		int64_t xi = 0, yi = 0;
		for (int64_t col = 0; col < c->cols; col++) {
			double v = c->v[r * c->cols + col];
			if (col >= first && col < first + width) {
				if (d->y)
					put_label(d, r * d->y_per + yi++, v, spec, path, r + 1);
			} else
				put_input(d, r * d->x_per + xi++, mapped(map, v), path, r + 1);
		}
	}
	d->origin = rt_printf("csv %s", path);
	return d;
}

static RtData *load_csv(const RtSource *s, const RtDataSpec *spec)
{
	char err[512];
	char *path = rt_resolve_path(arg_str(s, "0"), spec);
	RtCsv c;
	if (rt_csv_read(path, count_arg(s, "header"), &c, err, sizeof err) < 0)
		rt_fatal(RT_EXIT_IO, "%s", err);
	double label = arg_num(s, "label", -1);
	if (fabs(label) > (double)c.cols)   /* before any cast: a huge value does not fit int64 */
		rt_fatal(RT_EXIT_IO, "%s: label column %g is outside the %lld columns", path, label, (long long)c.cols);
	RtInputMap map = rt_input_map(s);
	RtData *d = from_csv(s->name, path, &c, (int64_t)label, &map, spec);
	set_geometry(d, s, NULL);
	free(c.v);
	return d;
}

/* The stream mixes in the source's name so that train and test drawn
 * from the same seed differ. */
uint64_t rt_name_stream(const char *name)
{
	uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
	for (const unsigned char *p = (const unsigned char *)name; *p; p++)
		h = (h ^ *p) * 1099511628211ULL;
	return h;
}

static RtData *load_random(const RtSource *s, const RtDataSpec *spec)
{
	double count = arg_num(s, "count", 64);
	double classes = arg_num(s, "classes", (double)(spec->classes > 0 ? spec->classes : 2));
	if (count < 1 || count > 1e9 || count != floor(count))
		rt_fatal(RT_EXIT_INTERNAL, "data source '%s': count %g out of range", s->name, count);
	if (classes < 1 || (spec->classes > 0 && classes > (double)spec->classes))
		rt_fatal(RT_EXIT_IO, "data source '%s': classes=%g does not fit the model's %lld outputs",
		         s->name, classes, (long long)spec->classes);
	RtData *d = new_data(s->name, spec, (int64_t)count, 1);
	alloc_x(d);
	RtRng rng;
	rt_rng_seed(&rng, spec->seed, rt_name_stream(s->name));
	for (int64_t i = 0; i < d->n * d->x_per; i++)
		put(d->x, d->x_dt, i, rt_rng_normal(&rng));
	for (int64_t i = 0; d->y && i < d->n * d->y_per; i++)
		put(d->y, d->y_dt, i, d->y_dt == RT_I32 ? (double)rt_rng_below(&rng, (uint64_t)classes)
		                                       : rt_rng_normal(&rng));
	d->origin = rt_printf("random count=%lld classes=%g", (long long)d->n, classes);
	return d;
}

/* The adding problem (Hochreiter & Schmidhuber 1997, as Le, Jaitly and
 * Hinton 2015 pose it): x [T, 2] is T values uniform in [0, 1) beside a
 * marker column that is 1 once in [0, T/2) and once in [T/2, T); y is the
 * sum of the two marked values, so predicting 1 scores an MSE of 1/6.
 * Sample i seeds its own stream: it is a pure function of (seed, source
 * name, i), so a larger count only appends and train and test (two names)
 * differ. */
static void adding_sample(RtData *d, int64_t i, int64_t T, uint64_t seed, uint64_t stream)
{
	RtRng rng;
	rt_rng_seed(&rng, seed, stream + (uint64_t)i);
	int64_t at = i * d->x_per;
	for (int64_t t = 0; t < T; t++) {   /* 24 random bits: exact in f32, never rounded up to 1 */
		put(d->x, d->x_dt, at + 2 * t, (double)(rt_rng_next(&rng) >> 40) * 0x1.0p-24);
		put(d->x, d->x_dt, at + 2 * t + 1, 0);
	}
	int64_t half = T / 2;
	int64_t a = (int64_t)rt_rng_below(&rng, (uint64_t)half);
	int64_t b = half + (int64_t)rt_rng_below(&rng, (uint64_t)(T - half));
	put(d->x, d->x_dt, at + 2 * a + 1, 1);
	put(d->x, d->x_dt, at + 2 * b + 1, 1);
	if (d->y)
		put(d->y, d->y_dt, i, stored(d->x, d->x_dt, at + 2 * a) + stored(d->x, d->x_dt, at + 2 * b));
}

/* nnc has checked length and the target against the model; a descriptor
 * written by hand has not. */
static RtData *load_adding(const RtSource *s, const RtDataSpec *spec)
{
	double count = arg_num(s, "count", 64);
	double length = arg_num(s, "length", (double)(spec->x_per / 2));
	if (count < 1 || count > 1e9 || count != floor(count))
		rt_fatal(RT_EXIT_INTERNAL, "data source '%s': count %g out of range", s->name, count);
	if (length < 2 || 2 * length != (double)spec->x_per)
		rt_fatal(RT_EXIT_IO, "data source '%s': adding(length: %g) makes samples of %g values, but the "
		         "model input takes %lld", s->name, length, 2 * length, (long long)spec->x_per);
	if (spec->has_y && (spec->y_dt == RT_I32 || spec->y_per != 1))
		rt_fatal(RT_EXIT_IO, "data source '%s': the adding problem's target is one float per sample, "
		         "but the model's target takes %lld %s values", s->name, (long long)spec->y_per,
		         rt_dtype_name(spec->y_dt));
	RtData *d = new_data(s->name, spec, (int64_t)count, 1);
	alloc_x(d);
	uint64_t stream = rt_name_stream(s->name);
	for (int64_t i = 0; i < d->n; i++)
		adding_sample(d, i, (int64_t)length, spec->seed, stream);
	d->origin = rt_printf("adding length=%g count=%lld", length, (long long)d->n);
	return d;
}

RtData *rt_data_load(const RtSource *src, const RtDataSpec *spec)
{
	if (!src)
		rt_fatal(RT_EXIT_INTERNAL, "a data source named by the descriptor is missing");
	int64_t views = (int64_t)arg_num(src, "views", 1);
	RtDataSpec one = *spec;   /* what one stored image holds */
	if (views > 1 && spec->x_per % views)
		rt_fatal(RT_EXIT_IO, "data source '%s': views=%lld does not divide the model input's %lld values",
		         src->name, (long long)views, (long long)spec->x_per);
	one.x_per = spec->x_per / views;
	spec = &one;
	RtData *d = src->kind == NNRT_SOURCE_IDX ? load_idx(src, spec)
	          : src->kind == NNRT_SOURCE_CSV ? load_csv(src, spec)
	          : src->kind == NNRT_SOURCE_ADDING ? load_adding(src, spec)
	          : src->kind == NNRT_SOURCE_TEXT ? rt_text_load(src, spec)
	          : src->kind == NNRT_SOURCE_SEQUENCES ? rt_seq_load(src, spec) : load_random(src, spec);
	if (d->n == 0)   /* every loop divides by the sample count */
		rt_fatal(RT_EXIT_IO, "data source '%s' (%s) has no samples", src->name, d->origin);
	d->views = views;
	d->image_per = d->x_per;
	d->x_per = views * d->image_per;
	return d;
}

/* Read once, so that standard input ("-") and pipes work: IDX when the
 * (inflated) bytes start 00 00, else CSV. */
RtData *rt_data_from_file(const char *path, const RtDataSpec *spec)
{
	char err[512];
	const char *name = rt_input_name(path);
	RtDataSpec nolabels = *spec;
	nolabels.has_y = 0;
	RtBytes b;
	if (rt_read_whole(path, 1, &b, err, sizeof err) < 0)
		rt_fatal(RT_EXIT_IO, "cannot read %s", err);
	if (b.n >= 2 && b.p[0] == 0 && b.p[1] == 0) {
		RtIdx img;
		if (rt_idx_parse(&b, name, &img, err, sizeof err) < 0)
			rt_fatal(RT_EXIT_IO, "%s", err);
		if (img.per != spec->x_per)
			rt_fatal(RT_EXIT_IO, "%s: %lld elements per sample, but the model input takes %lld",
			         name, (long long)img.per, (long long)spec->x_per);
		if (img.n == 0)
			rt_fatal(RT_EXIT_IO, "%s has no samples", name);
		RtData *d = new_data("input", &nolabels, img.n, 0);
		if (!idx_inputs(d, &img, &spec->input_map, name))
			free(img.raw);
		return d;
	}
	RtCsv c;
	if (rt_csv_parse(&b, name, 0, &c, err, sizeof err) < 0)
		rt_fatal(RT_EXIT_IO, "%s", err);
	free(b.p);
	/* A CSV with the label columns still in it is accepted: they are dropped. */
	RtDataSpec *use = c.cols == spec->x_per ? &nolabels : (RtDataSpec *)spec;
	RtData *d = from_csv("input", name, &c, -1, &spec->input_map, use);
	free(c.v);
	return d;
}

/* Sample j's bytes as the float type, scaled: the table holds the exact
 * value each byte loaded as before, so batches are bit-identical. */
static void gather_bytes(const RtData *d, int64_t j, void *out)
{
	const unsigned char *b = d->x_u8 + (size_t)(j * d->image_per);
	if (d->x_dt == RT_F32) {
		const float *lut = d->x_lut;
		for (int64_t k = 0; k < d->image_per; k++)
			((float *)out)[k] = lut[b[k]];
	} else {
		const double *lut = d->x_lut;
		for (int64_t k = 0; k < d->image_per; k++)
			((double *)out)[k] = lut[b[k]];
	}
}

void rt_data_gather(const RtData *d, const int64_t *idx, int64_t start, int64_t count,
                    void *x_out, void *y_out)
{
	size_t xs = (size_t)(d->x_per * rt_dtype_size(d->x_dt)), is = (size_t)(d->image_per * rt_dtype_size(d->x_dt));
	size_t ys = d->y ? (size_t)(d->y_per * rt_dtype_size(d->y_dt)) : 0;
	for (int64_t i = 0; i < count; i++) {
		int64_t j = idx ? idx[start + i] : start + i;
		char *out = (char *)x_out + (size_t)i * xs;
		if (d->x_u8)
			gather_bytes(d, j, out);
		else
			memcpy(out, (const char *)d->x + (size_t)j * is, is);
		for (int64_t v = 1; v < d->views; v++)   /* the views start as copies; training augments each */
			memcpy(out + (size_t)v * is, out, is);
		if (y_out && d->y)
			memcpy((char *)y_out + (size_t)i * ys, (const char *)d->y + (size_t)j * ys, ys);
	}
}
