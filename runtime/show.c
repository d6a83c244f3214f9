/* show.c — `show`: a probed value (nn(5), probe) of one sample, as
 * numbers or as a heat map.  The model's evaluation writes every probe
 * into an output of its own ("probe.PATH"); `show` runs it at batch 1 on
 * sample --index of --input or the first report source, keeps one matrix
 * of the probe's per-sample tensor (--at fixes the leading axes, as one
 * head of attention weights [heads, T, S]) and prints it, or draws it
 * with gnuplot into --png FILE. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "nnrt_internal.h"

static const char PREFIX[] = "probe.";   /* outputs are "out" and these */

static int is_probe(const RtIo *io)
{
	return io->role == RT_OUTPUT && !strncmp(io->name, PREFIX, sizeof PREFIX - 1);
}

static void list_probes(const RtDesc *d)
{
	int k = 0;
	for (int i = 0; i < d->nio; i++)
		if (is_probe(&d->io[i])) {
			printf("%2d  %s  [", ++k, d->io[i].name + sizeof PREFIX - 1);
			for (int j = 1; j < d->io[i].shape.ndim; j++)
				printf("%s%lld", j > 1 ? ", " : "", (long long)d->io[i].shape.dim[j]);
			printf("]\n");
		}
	if (!k)
		printf("this model has no probes (probe(x, \"name\") in the .nn file; stdlib's attention has one)\n");
}

/* --probe: a number from the list, the whole name, or a part of one
 * name only. */
const RtIo *rt_find_probe(const RtDesc *d, const char *want)
{
	char *end;
	long number = strtol(want, &end, 10);
	const RtIo *hit = NULL;
	int k = 0, hits = 0;
	for (int i = 0; i < d->nio; i++) {
		const RtIo *io = &d->io[i];
		if (!is_probe(io))
			continue;
		const char *name = io->name + sizeof PREFIX - 1;
		if ((*end == 0 && ++k == number) || !strcmp(name, want))
			return io;
		if (strstr(name, want))
			hit = io, hits++;
	}
	if (hits == 1)
		return hit;
	rt_fatal(RT_EXIT_USAGE, "--probe %s: %s; `show` without --probe lists them", want,
	         hits ? "names more than one probe" : "no such probe");
}

/* The offset of the matrix chosen by --at in the per-sample tensor, and
 * its rows and columns. */
static int64_t choose_matrix(const RtIo *p, const char *at, int64_t *rows, int64_t *cols)
{
	int n = p->shape.ndim - 1;                 /* per-sample axes */
	const int64_t *dim = p->shape.dim + 1;
	int fixed = n > 2 ? n - 2 : 0;
	int64_t offset = 0, stride = p->per_sample;
	const char *s = at ? at : "";
	for (int i = 0; i < fixed; i++) {
		char *end;
		long long v = *s ? strtoll(s, &end, 10) : 0;
		if (*s && (end == s || (*end && *end != ',')))
			rt_fatal(RT_EXIT_USAGE, "--at %s: not a list of integers such as 0,2", at);
		if (v < 0 || v >= dim[i])
			rt_fatal(RT_EXIT_USAGE, "--at %s: index %lld of axis %d is outside [0, %lld)", at, v, i + 1,
			         (long long)dim[i]);
		stride /= dim[i];
		offset += v * stride;
		s = *s ? (*end ? end + 1 : end) : s;
	}
	if (*s)
		rt_fatal(RT_EXIT_USAGE, "--at %s: the probe has %d leading axes to fix, no more", at, fixed);
	*rows = n >= 2 ? dim[n - 2] : 1;
	*cols = n >= 1 ? dim[n - 1] : 1;
	return offset;
}

static double value_at(const RtIo *p, const void *base, int64_t i)
{
	return p->dt == RT_F32 ? ((const float *)base)[i] : ((const double *)base)[i];
}

static void print_matrix(FILE *f, const RtIo *p, const void *m, int64_t rows, int64_t cols)
{
	for (int64_t r = 0; r < rows; r++)
		for (int64_t c = 0; c < cols; c++)
			fprintf(f, "%.6g%c", value_at(p, m, r * cols + c), c + 1 < cols ? ' ' : '\n');
}

/* Tics that name the characters of a text sample, when the matrix is
 * square over its positions (attention over the window): printable ASCII
 * as itself, a newline as \\n, anything else as '.'. */
static void char_tics(FILE *f, const RtTrainer *t, const RtData *data, int64_t n)
{
	if (t->x->dt != RT_I32 || !data->vocab || t->x->per_sample != n)
		return;
	const int32_t *ids = t->io[t->x->io];
	for (int axis = 0; axis < 2; axis++) {
		fprintf(f, "set %ctics (", axis ? 'y' : 'x');
		for (int64_t i = 0; i < n; i++) {
			int32_t cp = ids[i] >= 0 && ids[i] < data->vocab->n ? data->vocab->cp[ids[i]] : '?';
			const char *s = cp == '\n' ? "\\\\n" : cp == '"' ? "\\\"" : cp == '\\' ? "\\\\\\\\" : NULL;
			if (s)
				fprintf(f, "%s\"%s\" %lld", i ? ", " : "", s, (long long)i);
			else
				fprintf(f, "%s\"%c\" %lld", i ? ", " : "", cp > 32 && cp < 127 ? (char)cp : '.', (long long)i);
		}
		fprintf(f, ") font ',7'\n");
	}
}

/* A heat map through gnuplot, the matrix inline; row 0 at the top, as
 * the matrix is printed. */
static void draw_png(const RtTrainer *t, const RtData *data, const RtIo *p, const void *m, int64_t rows,
                     int64_t cols, const char *png, const char *title)
{
	char tmp[] = "/tmp/nnrt-show-XXXXXX";
	int fd = mkstemp(tmp);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f)
		rt_fatal(RT_EXIT_IO, "show: cannot write a temporary file: %s", strerror(errno));
	fprintf(f, "set terminal pngcairo size 720,640 noenhanced\nset output '%s'\nset title '%s' font ',9'\n", png,
	        title);
	fprintf(f, "set xrange [-0.5:%g]\nset yrange [%g:-0.5]\nset xlabel 'column'\nset ylabel 'row'\n",
	        (double)cols - 0.5, (double)rows - 0.5);
	if (rows == cols)
		char_tics(f, t, data, rows);
	fprintf(f, "set palette rgb 21,22,23\nplot '-' matrix with image notitle\n");
	print_matrix(f, p, m, rows, cols);
	fprintf(f, "e\n");
	if (fclose(f) != 0)
		rt_fatal(RT_EXIT_IO, "show: cannot write %s: %s", tmp, strerror(errno));
	char cmd[512];
	snprintf(cmd, sizeof cmd, "gnuplot '%s' 1>&2", tmp);
	int rc = system(cmd);
	unlink(tmp);
	if (rc != 0)
		rt_fatal(RT_EXIT_IO, "show: gnuplot failed (status %d) drawing %s; is gnuplot installed?", rc, png);
}

/* The sample: --input (numbers), else the first report source, else the
 * training source. */
static RtData *sample_source(RtTrainer *t)
{
	const RtDesc *d = t->d;
	RtDataSpec spec = rt_trainer_spec(t);
	if (t->opt.input) {
		if (t->x->dt == RT_I32)
			rt_fatal(RT_EXIT_USAGE, "show --input reads numbers; this model reads character ids: "
			         "show a sample of its sources (--index)");
		return rt_data_from_file(t->opt.input, &spec);
	}
	const char *name = d->nreport ? d->report_source[0] : d->train_source;
	if (!name)
		rt_fatal(RT_EXIT_USAGE, "no data source to show a sample of: use --input FILE");
	return rt_data_load(rt_desc_source(d, name), &spec);
}

int rt_show(RtTrainer *t)
{
	const RtDesc *d = t->d;
	if (!t->opt.probe) {
		list_probes(d);
		return fflush(stdout) == 0 ? 0 : RT_EXIT_IO;
	}
	const RtIo *p = rt_find_probe(d, t->opt.probe);
	const char *png = t->opt.png;
	if (png && (strchr(png, '\'') || strchr(png, '\n') || strchr(png, '\\')))
		rt_fatal(RT_EXIT_USAGE, "--png: a file name with a quote, backslash or newline is not supported");
	int64_t rows, cols, offset = choose_matrix(p, t->opt.at, &rows, &cols);
	RtData *data = sample_source(t);
	if (t->opt.index >= data->n)
		rt_fatal(RT_EXIT_USAGE, "--index %lld: %s has %lld samples", (long long)t->opt.index, data->name,
		         (long long)data->n);
	nnrt_step s;
	rt_step_prepare(t, &s, data, NULL, t->opt.index, 1);
	rt_set_hyper(t, &s, 0, 0);
	t->model->eval(&s);
	const char *m = (const char *)t->io[p->io] + (size_t)offset * (size_t)rt_dtype_size(p->dt);
	if (!png) {
		print_matrix(stdout, p, m, rows, cols);
		return fflush(stdout) == 0 && !ferror(stdout) ? 0 : RT_EXIT_IO;
	}
	char title[512];
	snprintf(title, sizeof title, "%s, sample %lld%s%s", p->name + sizeof PREFIX - 1, (long long)t->opt.index,
	         t->opt.at ? ", at " : "", t->opt.at ? t->opt.at : "");
	draw_png(t, data, p, m, rows, cols, png, title);
	printf("wrote %s: %lld x %lld\n", png, (long long)rows, (long long)cols);
	return 0;
}
