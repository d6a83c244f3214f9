/* layout.c — NHWC against NCHW for one convolution layer, both as im2col
 * and OpenBLAS GEMMs, forward and backward, on the layer shapes of
 * examples/lenet.nn, alexnet.nn and resnet.nn at batch 64: the measurement
 * behind nnc's choice of NHWC (docs/cnn.md).
 *
 *   NHWC  patches [B*OH*OW, KH*KW*C] (runtime/window.c), one GEMM by the
 *         weights [KH*KW*C, O], output [B*OH*OW, O]: already NHWC;
 *         backward dW = P^T dY, dP = dY W^T, dX = unwindow(dP).
 *   NCHW  per image patches [C*KH*KW, OH*OW] (Caffe's im2col), the GEMM
 *         W [O, C*KH*KW] by them, output [O, OH*OW]: already NCHW;
 *         backward dW += dY_b P_b^T, dP_b = W^T dY_b, dX_b = col2im(dP_b).
 *
 * Both keep their patches from forward to backward, as nnc's unfused graph
 * does.  Prints milliseconds per batch (median of REPS) and NCHW / NHWC.
 *
 *   layout [REPS]        (default 9; OPENBLAS_NUM_THREADS as set) */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "nnrt.h"

typedef struct Layer { const char *name; int b, h, w, c, o, k, s, p; } Layer;

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec + t.tv_nsec * 1e-9;
}

static float *filled(size_t n)
{
	float *p = malloc(n * sizeof *p);
	if (!p)
		exit(4);
	for (size_t i = 0; i < n; i++)
		p[i] = (float)((i * 2654435761u) % 1000) / 1000.0f - 0.5f;
	return p;
}

/* NCHW im2col of one image [C,H,W] into [C*K*K, OH*OW], and its adjoint */
static void im2col(const Layer *l, const float *x, float *p, int oh, int ow)
{
	for (int c = 0; c < l->c; c++)
		for (int kh = 0; kh < l->k; kh++)
			for (int kw = 0; kw < l->k; kw++, p += oh * ow)
				for (int i = 0; i < oh; i++) {
					int r = i * l->s - l->p + kh;
					for (int j = 0; j < ow; j++) {
						int q = j * l->s - l->p + kw;
						p[i * ow + j] = r >= 0 && r < l->h && q >= 0 && q < l->w
						                ? x[(c * l->h + r) * l->w + q] : 0;
					}
				}
}

static void col2im(const Layer *l, const float *p, float *x, int oh, int ow)
{
	memset(x, 0, sizeof(float) * (size_t)(l->c * l->h * l->w));
	for (int c = 0; c < l->c; c++)
		for (int kh = 0; kh < l->k; kh++)
			for (int kw = 0; kw < l->k; kw++, p += oh * ow)
				for (int i = 0; i < oh; i++) {
					int r = i * l->s - l->p + kh;
					for (int j = 0; j < ow && r >= 0 && r < l->h; j++) {
						int q = j * l->s - l->p + kw;
						if (q >= 0 && q < l->w)
							x[(c * l->h + r) * l->w + q] += p[i * ow + j];
					}
				}
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* median ms of REPS runs of forward + backward in one layout */
static double measure(const Layer *l, int nchw, int reps)
{
	int oh = (l->h + 2 * l->p - l->k) / l->s + 1, ow = (l->w + 2 * l->p - l->k) / l->s + 1;
	int kk = l->k * l->k * l->c, cells = oh * ow, m = l->b * cells;
	size_t nx = (size_t)l->b * l->h * l->w * l->c;
	float *x = filled(nx), *wt = filled((size_t)kk * l->o), *dy = filled((size_t)m * l->o);
	float *y = filled((size_t)m * l->o), *dw = filled((size_t)kk * l->o), *dx = filled(nx);
	float *pat = filled((size_t)m * kk), *dp = filled((size_t)m * kk);
	nnrt_window win = { l->k, l->k, l->s, l->s, l->p, l->p, 1, 1 };
	double t[64];
	for (int r = 0; r < reps; r++) {
		double t0 = now();
		if (!nchw) {
			nnrt_window_f32(x, pat, l->b, l->h, l->w, l->c, oh, ow, &win, 0);
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, l->o, kk, 1, pat, kk, wt, l->o, 0, y, l->o);
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, kk, l->o, m, 1, pat, kk, dy, l->o, 0, dw, l->o);
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, m, kk, l->o, 1, dy, l->o, wt, l->o, 0, dp, kk);
			nnrt_unwindow_f32(dp, dx, l->b, l->h, l->w, l->c, oh, ow, &win);
		} else {
			size_t img = (size_t)l->c * l->h * l->w, pb = (size_t)kk * cells, yb = (size_t)l->o * cells;
			for (int b = 0; b < l->b; b++) {
				im2col(l, x + b * img, pat + b * pb, oh, ow);
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, l->o, cells, kk, 1, wt, kk,
				            pat + b * pb, cells, 0, y + b * yb, cells);
			}
			for (int b = 0; b < l->b; b++) {
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, l->o, kk, cells, 1, dy + b * yb, cells,
				            pat + b * pb, cells, b ? 1 : 0, dw, kk);
				cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, kk, cells, l->o, 1, wt, kk,
				            dy + b * yb, cells, 0, dp, cells);
				col2im(l, dp, dx + b * img, oh, ow);
			}
		}
		t[r] = (now() - t0) * 1e3;
	}
	qsort(t, (size_t)reps, sizeof t[0], by_value);
	free(x), free(wt), free(dy), free(y), free(dw), free(dx), free(pat), free(dp);
	return t[reps / 2];
}

int main(int argc, char **argv)
{
	int reps = argc > 1 ? atoi(argv[1]) : 9;
	if (reps < 1 || reps > 64) {
		fprintf(stderr, "layout: REPS must be in [1, 64]\n");
		return 2;
	}
	static const Layer layers[] = {
		{ "lenet conv1", 64, 28, 28, 1, 6, 5, 1, 2 },   { "lenet conv2", 64, 14, 14, 6, 16, 5, 1, 0 },
		{ "alexnet conv1", 64, 28, 28, 1, 32, 5, 1, 2 }, { "alexnet conv2", 64, 13, 13, 32, 64, 3, 1, 1 },
		{ "alexnet conv3", 64, 6, 6, 64, 96, 3, 1, 1 },  { "resnet stage 1", 64, 28, 28, 16, 16, 3, 1, 1 },
		{ "resnet stage 2", 64, 14, 14, 32, 32, 3, 1, 1 }, { "resnet stage 3", 64, 7, 7, 64, 64, 3, 1, 1 },
	};
	printf("%-16s %10s %10s %10s\n", "layer (batch 64)", "NHWC_ms", "NCHW_ms", "NCHW/NHWC");
	for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++) {
		double a = measure(&layers[i], 0, reps), b = measure(&layers[i], 1, reps);
		printf("%-16s %10.2f %10.2f %10.2f\n", layers[i].name, a, b, b / a);
	}
	return 0;
}
