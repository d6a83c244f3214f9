/* test_conv.c — runtime/conv.c against the convolution's definition,
 * summed term by term here, on geometries whose patch matrix spans many
 * of conv.c's cache-sized blocks (a block then starts inside an image
 * row): conv, and its adjoints conv_dw (summed over blocks) and conv_dx
 * (blocks added into the image).  Each error is relative to the sum of
 * the magnitudes of the entry's terms, the scale its rounding has: at most
 * 1e-12 in float64 and 1e-5 in float32 (operands rounded to float too).
 * The kernels work in the patch block they are given, as the memory plan
 * sizes it (nnrt_conv_block_bytes), and write nothing past its end. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "nnrt_internal.h"
#include "check.h"

typedef struct Geo { int64_t b, h, w, c, o; nnrt_window win; } Geo;

static int64_t extent(int64_t in, int k, int s, int p, int d) { return (in + 2 * p - (d * (k - 1) + 1)) / s + 1; }

/* The image index tap (kh, kw) of output cell (n, i, j) reads, or -1 in the padding. */
static int64_t tap(const Geo *g, int64_t n, int64_t i, int64_t j, int64_t kh, int64_t kw, int64_t ch)
{
	int64_t r = i * g->win.sh - g->win.ph + kh * g->win.dh, q = j * g->win.sw - g->win.pw + kw * g->win.dw;
	if (r < 0 || r >= g->h || q < 0 || q >= g->w)
		return -1;
	return ((n * g->h + r) * g->w + q) * g->c + ch;
}

static double worst;

/* A patch block of nnrt_conv_block_bytes, then GUARD bytes of a pattern
 * that must survive the kernels' calls. */
enum { GUARD = 256 };

static void *patch_block(int64_t k, size_t elem, int64_t *bytes)
{
	*bytes = nnrt_conv_block_bytes(k, (int64_t)elem);
	unsigned char *p = rt_alloc((size_t)*bytes + GUARD);
	memset(p + *bytes, 0xa5, GUARD);
	return p;
}

static int guard_intact(const void *block, int64_t bytes)
{
	const unsigned char *p = (const unsigned char *)block + bytes;
	for (int i = 0; i < GUARD; i++)
		if (p[i] != 0xa5)
			return 0;
	return 1;
}

/* want[i] is a sum of terms whose magnitudes sum to mag[i] */
static void compare(const double *want, const double *mag, const double *got, int64_t n)
{
	for (int64_t i = 0; i < n; i++) {
		double e = fabs(want[i] - got[i]) / (mag[i] + 1e-300);
		if (e > worst)
			worst = e;
	}
}

static void run(const Geo *g)
{
	int64_t oh = extent(g->h, g->win.kh, g->win.sh, g->win.ph, g->win.dh);
	int64_t ow = extent(g->w, g->win.kw, g->win.sw, g->win.pw, g->win.dw);
	int64_t k = g->win.kh * g->win.kw * g->c, nx = g->b * g->h * g->w * g->c, ny = g->b * oh * ow * g->o;
	double *x = rt_alloc(sizeof(double) * (size_t)nx), *wt = rt_alloc(sizeof(double) * (size_t)(k * g->o));
	double *gy = rt_alloc(sizeof(double) * (size_t)ny);
	double *y = rt_alloc(sizeof(double) * (size_t)ny), *dw = rt_alloc(sizeof(double) * (size_t)(k * g->o));
	double *dx = rt_alloc(sizeof(double) * (size_t)nx);
	double *ry = calloc((size_t)ny, sizeof(double)), *rdw = calloc((size_t)(k * g->o), sizeof(double));
	double *rdx = calloc((size_t)nx, sizeof(double));
	double *my = calloc((size_t)ny, sizeof(double)), *mdw = calloc((size_t)(k * g->o), sizeof(double));
	double *mdx = calloc((size_t)nx, sizeof(double));
	for (int64_t i = 0; i < nx; i++)
		x[i] = sin(0.37 * (double)i);
	for (int64_t i = 0; i < k * g->o; i++)
		wt[i] = cos(0.53 * (double)i);
	for (int64_t i = 0; i < ny; i++)
		gy[i] = sin(0.71 * (double)i + 1);
	for (int64_t n = 0; n < g->b; n++)
		for (int64_t i = 0; i < oh; i++)
			for (int64_t j = 0; j < ow; j++)
				for (int64_t kh = 0, kk = 0; kh < g->win.kh; kh++)
					for (int64_t kw = 0; kw < g->win.kw; kw++)
						for (int64_t ch = 0; ch < g->c; ch++, kk++) {
							int64_t at = tap(g, n, i, j, kh, kw, ch), cell = ((n * oh + i) * ow + j) * g->o;
							for (int64_t o = 0; at >= 0 && o < g->o; o++) {
								ry[cell + o] += x[at] * wt[kk * g->o + o];
								rdw[kk * g->o + o] += x[at] * gy[cell + o];
								rdx[at] += gy[cell + o] * wt[kk * g->o + o];
								my[cell + o] += fabs(x[at] * wt[kk * g->o + o]);
								mdw[kk * g->o + o] += fabs(x[at] * gy[cell + o]);
								mdx[at] += fabs(gy[cell + o] * wt[kk * g->o + o]);
							}
						}
	worst = 0;
	int64_t bytes;
	double *block = patch_block(k, sizeof(double), &bytes);
	nnrt_conv_f64(x, wt, y, g->b, g->h, g->w, g->c, oh, ow, g->o, &g->win, block);
	nnrt_conv_dw_f64(x, gy, dw, g->b, g->h, g->w, g->c, oh, ow, g->o, &g->win, block);
	nnrt_conv_dx_f64(gy, wt, dx, g->b, g->h, g->w, g->c, oh, ow, g->o, &g->win, block);
	CHECK(guard_intact(block, bytes));
	compare(ry, my, y, ny);
	compare(rdw, mdw, dw, k * g->o);
	compare(rdx, mdx, dx, nx);
	printf("f64 [%lld,%lld,%lld,%lld] k=%dx%d o=%lld: %lld patch rows of %lld, worst %.2g\n", (long long)g->b,
	       (long long)g->h, (long long)g->w, (long long)g->c, g->win.kh, g->win.kw, (long long)g->o,
	       (long long)(g->b * oh * ow), (long long)k, worst);
	CHECK(worst <= 1e-12);

	/* float32: the same sums from float operands */
	float *xf = rt_alloc(sizeof(float) * (size_t)nx), *wf = rt_alloc(sizeof(float) * (size_t)(k * g->o));
	float *gf = rt_alloc(sizeof(float) * (size_t)ny), *yf = rt_alloc(sizeof(float) * (size_t)ny);
	float *dwf = rt_alloc(sizeof(float) * (size_t)(k * g->o)), *dxf = rt_alloc(sizeof(float) * (size_t)nx);
	for (int64_t i = 0; i < nx; i++)
		xf[i] = (float)x[i];
	for (int64_t i = 0; i < k * g->o; i++)
		wf[i] = (float)wt[i];
	for (int64_t i = 0; i < ny; i++)
		gf[i] = (float)gy[i];
	float *blockf = patch_block(k, sizeof(float), &bytes);
	nnrt_conv_f32(xf, wf, yf, g->b, g->h, g->w, g->c, oh, ow, g->o, &g->win, blockf);
	nnrt_conv_dw_f32(xf, gf, dwf, g->b, g->h, g->w, g->c, oh, ow, g->o, &g->win, blockf);
	nnrt_conv_dx_f32(gf, wf, dxf, g->b, g->h, g->w, g->c, oh, ow, g->o, &g->win, blockf);
	CHECK(guard_intact(blockf, bytes));
	for (int64_t i = 0; i < ny; i++)
		y[i] = yf[i];
	for (int64_t i = 0; i < k * g->o; i++)
		dw[i] = dwf[i];
	for (int64_t i = 0; i < nx; i++)
		dx[i] = dxf[i];
	worst = 0;
	compare(ry, my, y, ny);
	compare(rdw, mdw, dw, k * g->o);
	compare(rdx, mdx, dx, nx);
	printf("f32: worst %.2g\n", worst);
	CHECK(worst <= 1e-5);
	free(ry), free(rdw), free(rdx), free(my), free(mdw), free(mdx);
}

int main(void)
{
	/* 3x3, padding 1 (a ResNet layer): 12,800 rows, a dozen blocks */
	run(&(Geo){ 8, 40, 40, 24, 8, { 3, 3, 1, 1, 1, 1, 1, 1 } });
	/* a rectangular kernel, strides, dilation and uneven padding, several blocks */
	run(&(Geo){ 24, 23, 17, 40, 5, { 3, 2, 2, 1, 1, 0, 1, 2 } });
	/* one channel, a 5x5 kernel (LeNet's first layer), one block */
	run(&(Geo){ 3, 12, 12, 1, 6, { 5, 5, 1, 1, 2, 2, 1, 1 } });
	/* one channel (conv.c's transposed blocks): LeNet's first layer over
	 * many blocks; then strides, dilation and uneven padding */
	run(&(Geo){ 40, 28, 28, 1, 6, { 5, 5, 1, 1, 2, 2, 1, 1 } });
	run(&(Geo){ 60, 17, 19, 1, 3, { 3, 4, 2, 3, 1, 2, 2, 1 } });
	run(&(Geo){ 4, 9, 8, 1, 2, { 2, 3, 1, 1, 0, 3, 1, 3 } });
	/* stride 2 with padding: padded columns at both edges of every row */
	run(&(Geo){ 5, 11, 13, 3, 4, { 5, 5, 2, 2, 2, 2, 1, 1 } });
	/* a kernel wider than the image: no column has every tap inside */
	run(&(Geo){ 2, 3, 3, 2, 3, { 5, 5, 1, 1, 2, 2, 1, 1 } });
	return CHECK_DONE();
}
