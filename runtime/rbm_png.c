/* rbm_png.c — pictures of an RBM as PNG, drawn by gnuplot(1): `filters`
 * tiles the weights of the first hidden units (each unit's column of W as
 * an image, grey 0.5 for zero, scaled by the unit's largest |w|), and
 * `chain` shows Gibbs chains started from test images, one chain a row,
 * p(v | h) after 0, 1, 2, 5, ... steps from left to right.  Square
 * images only (V a perfect square, as 784 = 28 x 28).  The tiles go to
 * gnuplot as a matrix in a temporary file; the PNG is written beside the
 * target and renamed over it, so a failed plot leaves no half file. */
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "nnrt_internal.h"

static const uint64_t STREAM_CHAIN = 0x636861696e;   /* "chain" */

typedef struct Canvas { int64_t side, rows, cols, w, h; double *px; } Canvas;

static int64_t image_side(const RtRbm *r, const char *what)
{
	int64_t s = (int64_t)llround(sqrt((double)r->V));
	if (s * s != r->V)
		rt_fatal(RT_EXIT_USAGE, "%s draws square images, but the RBM has %lld visible units", what, (long long)r->V);
	return s;
}

static Canvas canvas(int64_t side, int64_t rows, int64_t cols)
{
	Canvas c = { .side = side, .rows = rows, .cols = cols, .w = cols * (side + 1) + 1, .h = rows * (side + 1) + 1 };
	c.px = rt_alloc(sizeof *c.px * (size_t)(c.w * c.h));
	for (int64_t i = 0; i < c.w * c.h; i++)
		c.px[i] = 1;   /* white gaps between the tiles */
	return c;
}

/* Tile (row, col) from img[i * stride] mapped to [0, 1] by (x - lo) / (hi - lo). */
static void put_tile(Canvas *c, int64_t row, int64_t col, const double *img, int64_t stride, double lo, double hi)
{
	for (int64_t y = 0; y < c->side; y++)
		for (int64_t x = 0; x < c->side; x++) {
			double v = (img[(y * c->side + x) * stride] - lo) / (hi - lo);
			c->px[(row * (c->side + 1) + 1 + y) * c->w + col * (c->side + 1) + 1 + x] = v;
		}
}

/* s in gnuplot's single quotes, where '' stands for one quote. */
static const char *quoted(const char *s)
{
	size_t n = strlen(s), k = 0;
	char *q = rt_alloc(2 * n + 1);
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\'')
			q[k++] = '\'';
		q[k++] = s[i];
	}
	q[k] = '\0';
	return q;
}

/* A temporary file to write, its name in name (a mkstemp template). */
static FILE *temporary(char *name)
{
	int fd = mkstemp(name);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f)
		rt_fatal(RT_EXIT_IO, "cannot write a temporary file for gnuplot in /tmp");
	return f;
}

/* gnuplot reads the script from a file rather than a pipe: a gnuplot that
 * is missing or dies early would otherwise end the trainer by SIGPIPE. */
static void plot(const Canvas *c, const char *png, const char *title)
{
	char data[] = "/tmp/nnrt-png-XXXXXX", script[] = "/tmp/nnrt-gp-XXXXXX";
	FILE *f = temporary(data);
	for (int64_t y = 0; y < c->h; y++)   /* gnuplot's matrix has row 0 at the bottom */
		for (int64_t x = 0; x < c->w; x++)
			fprintf(f, "%.4f%c", c->px[(c->h - 1 - y) * c->w + x], x + 1 < c->w ? ' ' : '\n');
	fclose(f);
	char *part = rt_printf("%s.part", png);
	int scale = c->w < 400 ? 4 : 2;
	FILE *g = temporary(script);
	fprintf(g, "set terminal png size %lld,%lld\nset output '%s'\nset title '%s'\n"
	        "unset key; unset tics; unset border; unset colorbox\nset palette gray\nset cbrange [0:1]\n"
	        "set size ratio -1\nset margins 0,0,0,2\nplot '%s' matrix with image pixels\n",
	        (long long)(c->w * scale), (long long)(c->h * scale + 30), quoted(part), quoted(title), data);
	fclose(g);
	fflush(stdout);
	int status = system(rt_printf("gnuplot %s 1>&2", script));
	unlink(data);
	unlink(script);
	if (status != 0 || access(part, R_OK) != 0) {
		unlink(part);
		rt_fatal(RT_EXIT_IO, "gnuplot failed to draw %s (is gnuplot installed? Debian: gnuplot-nox)", png);
	}
	if (rename(part, png) != 0)
		rt_fatal(RT_EXIT_IO, "cannot rename %s to %s", part, png);
	printf("wrote %s (%lldx%lld tiles)\n", png, (long long)c->rows, (long long)c->cols);
}

int rt_filters(RtTrainer *t)
{
	RtRbm r;
	rt_rbm_read(t, "filters", &r);
	int64_t side = image_side(&r, "filters"), n = r.H < 100 ? r.H : 100;
	int64_t cols = (int64_t)ceil(sqrt((double)n)), rows = (n + cols - 1) / cols;
	Canvas c = canvas(side, rows, cols);
	for (int64_t j = 0; j < n; j++) {
		double m = 1e-12;
		for (int64_t i = 0; i < r.V; i++)
			m = fmax(m, fabs(r.W[i * r.H + j]));
		put_tile(&c, j / cols, j % cols, r.W + j, r.H, -m, m);
	}
	plot(&c, t->opt.picture, rt_printf("%s: W of hidden units 1-%lld", t->d->model, (long long)n));
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
	int64_t side = image_side(&r, "chain");
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
	Canvas c = canvas(side, n, SHOTS);
	for (int64_t step = 0, shot = 0; shot < SHOTS; step++) {
		if (step == at[shot]) {
			for (int64_t s = 0; s < n; s++)
				put_tile(&c, s, shot, p + s * r.V, 1, 0, 1);
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
	plot(&c, t->opt.picture, rt_printf("%s: Gibbs chains from %s, p(v|h) after 0 1 2 5 10 20 50 100 200 500 1000 steps",
	                                   d->model, name));
	rt_rbm_free(&r);
	return 0;
}
