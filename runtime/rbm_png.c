/* rbm_png.c — pictures of an RBM as PNG (on tiles.c's canvas): `filters`
 * tiles the weights of the first hidden units (each unit's column of W as
 * an image, grey 0.5 for zero, scaled by the unit's largest |w|), and
 * `chain` shows Gibbs chains started from test images, one chain a row,
 * p(v | h) after 0, 1, 2, 5, ... steps from left to right. */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include "nnrt_internal.h"

static const uint64_t STREAM_CHAIN = 0x636861696e;   /* "chain" */

int rt_filters(RtTrainer *t)
{
	RtRbm r;
	rt_rbm_read(t, "filters", &r);
	int64_t side = rt_image_side(r.V, "filters", "the RBM"), n = r.H < 100 ? r.H : 100;
	int64_t cols = (int64_t)ceil(sqrt((double)n)), rows = (n + cols - 1) / cols;
	RtCanvas c = rt_canvas(side, rows, cols);
	for (int64_t j = 0; j < n; j++) {
		double m = 1e-12;
		for (int64_t i = 0; i < r.V; i++)
			m = fmax(m, fabs(r.W[i * r.H + j]));
		rt_canvas_tile(&c, j / cols, j % cols, r.W + j, r.H, -m, m);
	}
	rt_canvas_png(&c, t->opt.picture, rt_printf("%s: W of hidden units 1-%lld", t->d->model, (long long)n));
	rt_rbm_free(&r);
	return 0;
}

static double draw(RtRng *g, double p)
{
	return rt_rng_uniform(g) < p;
}

int rt_chain(RtTrainer *t)
{
	static const int64_t at[] = { 0, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000 };
	enum { CHAINS = 10, SHOTS = sizeof at / sizeof *at };
	RtRbm r;
	rt_rbm_read(t, "chain", &r);
	int64_t side = rt_image_side(r.V, "chain", "the RBM");
	const RtDesc *d = t->d;
	const char *name = d->nreport ? d->report_source[d->nreport - 1] : d->train_source;
	RtDataSpec spec = rt_trainer_spec(t);
	RtData *data = rt_data_load(rt_desc_source(d, name), &spec);
	int64_t n = data->n < CHAINS ? data->n : CHAINS;
	double *v = rt_alloc(sizeof *v * (size_t)(n * r.V)), *p = rt_alloc(sizeof *p * (size_t)(n * r.V));
	double *h = rt_alloc(sizeof *h * (size_t)(n * r.H));
	rt_rbm_batch(data, 0, n, v);
	memcpy(p, v, sizeof *p * (size_t)(n * r.V));
	RtRng g;
	rt_rng_seed(&g, (uint64_t)t->opt.seed, STREAM_CHAIN);
	RtCanvas c = rt_canvas(side, n, SHOTS);
	for (int64_t step = 0, shot = 0; shot < SHOTS; step++) {
		if (step == at[shot]) {
			for (int64_t s = 0; s < n; s++)
				rt_canvas_tile(&c, s, shot, p + s * r.V, 1, 0, 1);
			shot++;
		}
		rt_rbm_hidden_input(&r, v, n, 1, h);
		rt_rbm_sigmoid(h, n * r.H);
		for (int64_t i = 0; i < n * r.H; i++)
			h[i] = draw(&g, h[i]);
		rt_rbm_visible_probs(&r, h, n, 1, p);
		for (int64_t i = 0; i < n * r.V; i++)
			v[i] = draw(&g, p[i]);
	}
	rt_canvas_png(&c, t->opt.picture, rt_printf("%s: Gibbs chains from %s, p(v|h) after 0 1 2 5 10 20 50 100 200 500 1000 steps",
	                                   d->model, name));
	rt_rbm_free(&r);
	return 0;
}
