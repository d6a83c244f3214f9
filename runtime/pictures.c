/* pictures.c — what a model makes of images, as PNG:
 *
 *   reconstructions FILE.png  inputs beside the model's output for them,
 *                             for a model whose output has its input's
 *                             shape (an autoencoder) or an RBM (the
 *                             mean-field p(v | p(h | v)));
 *   scatter FILE.png          a 2-D code of each sample (the model's
 *                             output, or --probe P, two values a sample)
 *                             as a point coloured by the sample's label.
 *
 * Both read the last report source (the test set, by convention), or the
 * training source when there is none, as `chain` does. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "nnrt_internal.h"

/* with_labels: the source's integer labels too, which a model without a
 * target does not read (an autoencoder's test set, for scatter). */
static RtData *picture_source(RtTrainer *t, int with_labels)
{
	const RtDesc *d = t->d;
	const char *name = d->nreport ? d->report_source[d->nreport - 1] : d->train_source;
	if (!name)
		rt_fatal(RT_EXIT_USAGE, "%s needs a data source in the train block", t->opt.command);
	const RtSource *src = rt_desc_source(d, name);
	RtDataSpec spec = rt_trainer_spec(t);
	if (with_labels && (src->kind != NNRT_SOURCE_IDX || !rt_source_arg(src, "1")
	                    || (t->y && (t->y->dt != RT_I32 || t->y->per_sample != 1))))
		rt_fatal(RT_EXIT_USAGE, "%s colours points by class: data source '%s' needs integer labels, one a "
		         "sample (give the labels file: idx(IMAGES, LABELS, ...))", t->opt.command, name);
	if (with_labels && !t->y) {
		spec.has_y = 1;
		spec.y_dt = RT_I32;
		spec.y_per = 1;
	}
	return rt_data_load(src, &spec);
}

static double io_value(const RtTrainer *t, const RtIo *io, int64_t i)
{
	const void *o = t->io[io->io];
	return io->dt == RT_F32 ? ((const float *)o)[i] : ((const double *)o)[i];
}

/* The model's evaluation of samples [start, start + n), n <= max_batch. */
static void evaluate(RtTrainer *t, const RtData *data, int64_t start, int64_t n)
{
	nnrt_step s;
	rt_step_prepare(t, &s, data, NULL, start, n);
	rt_set_hyper(t, &s, 0, 0);
	t->model->eval(&s);
}

int rt_reconstructions(RtTrainer *t)
{
	enum { ROWS = 8, PAIRS = 4 };   /* 32 images, each beside its reconstruction */
	int rbm = t->out->per_sample != t->x->per_sample;
	if (rbm && !rt_rbm_present(t->d))
		rt_fatal(RT_EXIT_USAGE, "reconstructions needs a model whose output has its input's shape (an "
		         "autoencoder: %lld values in, %lld out) or an RBM", (long long)t->x->per_sample,
		         (long long)t->out->per_sample);
	RtData *data = picture_source(t, 0);
	int64_t side = rt_image_side(data->x_per, "reconstructions", data->name);
	int64_t n = data->n < ROWS * PAIRS ? data->n : ROWS * PAIRS, per = data->x_per;
	double *v = rt_alloc(sizeof *v * (size_t)(n * per)), *p = rt_alloc(sizeof *p * (size_t)(n * per));
	rt_rbm_batch(data, 0, n, v);
	if (rbm) {
		RtRbm r;
		rt_rbm_read(t, "reconstructions", &r);
		double *h = rt_alloc(sizeof *h * (size_t)(n * r.H));
		rt_rbm_hidden_input(&r, v, n, 1, h);
		rt_rbm_sigmoid(h, n * r.H);
		rt_rbm_visible_probs(&r, h, n, 1, p);
		free(h);
		rt_rbm_free(&r);
	} else {
		for (int64_t start = 0; start < n; start += t->max_batch) {
			int64_t k = n - start < t->max_batch ? n - start : t->max_batch;
			evaluate(t, data, start, k);
			for (int64_t i = 0; i < k * per; i++)
				p[start * per + i] = io_value(t, t->out, i);
		}
	}
	RtCanvas c = rt_canvas(side, (n + PAIRS - 1) / PAIRS, 2 * PAIRS);
	for (int64_t s = 0; s < n; s++) {
		rt_canvas_tile(&c, s / PAIRS, 2 * (s % PAIRS), v + s * per, 1, 0, 1);
		rt_canvas_tile(&c, s / PAIRS, 2 * (s % PAIRS) + 1, p + s * per, 1, 0, 1);
	}
	rt_canvas_png(&c, t->opt.picture, rt_printf("%s: %s images (left) and their reconstructions (right)",
	                                            t->d->model, data->name));
	free(v);
	free(p);
	return 0;
}

static int64_t label_of(const RtData *data, int64_t i)
{
	if (data->y_dt == RT_I32)
		return ((const int32_t *)data->y)[i * data->y_per];
	return -1;
}

/* The points, one data block per class so that gnuplot's key names the
 * classes, in a temporary file. */
static int64_t write_points(RtTrainer *t, const RtData *data, const RtIo *code, int64_t n, const char *path_tmpl,
                            char *path)
{
	strcpy(path, path_tmpl);
	FILE *f = rt_temporary(path);
	double *xy = rt_alloc(sizeof *xy * (size_t)(2 * n));
	for (int64_t start = 0; start < n; start += t->max_batch) {
		int64_t k = n - start < t->max_batch ? n - start : t->max_batch;
		evaluate(t, data, start, k);
		for (int64_t i = 0; i < 2 * k; i++)
			xy[2 * start + i] = io_value(t, code, i);
	}
	int64_t classes = 0;
	for (int64_t i = 0; i < n; i++)
		if (label_of(data, i) + 1 > classes)
			classes = label_of(data, i) + 1;
	for (int64_t k = 0; k < classes; k++) {
		fprintf(f, "# class %lld\n", (long long)k);
		for (int64_t i = 0; i < n; i++)
			if (label_of(data, i) == k)
				fprintf(f, "%.6g %.6g\n", xy[2 * i], xy[2 * i + 1]);
		fprintf(f, "\n\n");
	}
	fclose(f);
	free(xy);
	return classes;
}

int rt_scatter(RtTrainer *t)
{
	const RtIo *code = t->opt.probe ? rt_find_probe(t->d, t->opt.probe) : t->out;
	if (code->per_sample != 2)
		rt_fatal(RT_EXIT_USAGE, "scatter draws two values a sample, but %s '%s' has %lld; %s",
		         t->opt.probe ? "the probe" : "the model's output", code->name, (long long)code->per_sample,
		         t->opt.probe ? "probe a 2-D code" : "choose a 2-D code with --probe (probe(z, \"code\") in the .nn file)");
	RtData *data = picture_source(t, 1);
	int64_t n = t->opt.count > 0 ? t->opt.count : 5000;
	n = n < data->n ? n : data->n;
	char points[64], script[] = "/tmp/nnrt-gp-XXXXXX";
	int64_t classes = write_points(t, data, code, n, "/tmp/nnrt-points-XXXXXX", points);
	const char *png = t->opt.picture;
	char *part = rt_printf("%s.part", png);
	FILE *g = rt_temporary(script);
	fprintf(g, "set terminal pngcairo size 800,720 noenhanced\nset output '%s'\nset title '%s'\n"
	        "set key outside right\narray c[10] = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', "
	        "'#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf']\n"   /* ten that tell apart */
	        "plot for [k=0:%lld] '%s' index k with points pt 7 ps 0.35 lc rgb c[k %% 10 + 1] title sprintf('%%d', k)\n",
	        rt_gnuplot_quoted(part),
	        rt_gnuplot_quoted(rt_printf("%s: %s of %lld %s samples by class", t->d->model,
	                                    t->opt.probe ? code->name + strlen("probe.") : "the output",
	                                    (long long)n, data->name)),
	        (long long)(classes - 1), points);
	fclose(g);
	rt_gnuplot(script, part, png);
	unlink(points);
	unlink(script);
	printf("wrote %s (%lld points, %lld classes)\n", png, (long long)n, (long long)classes);
	return 0;
}
