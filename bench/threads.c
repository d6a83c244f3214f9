/* threads.c — the step's kernels at --threads N (runtime/gemm.c, conv.c,
 * pool.c): the MLP's five largest GEMMs through nnrt_gemm_f32 next to one
 * whole single-threaded cblas_sgemm, and LeNet's two convolutions forward
 * and backward, at batch 64; the minimum over the repeats, which a loaded
 * machine disturbs least (docs/scale.md):
 *
 *   cc -O2 -Iruntime bench/threads.c -o threads libnnrt.a -lopenblas -lz -lm -lpthread \
 *       $(mpicc --showme:link)      # the last only for a libnnrt built with MPI
 *   ./threads 1; ./threads 2 */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include "nnrt_internal.h"

void openblas_set_num_threads(int);

static float *values(size_t n)
{
	float *p = rt_alloc_aligned(n * sizeof(float));
	for (size_t i = 0; i < n; i++)
		p[i] = (float)rand() / (float)RAND_MAX - 0.5f;
	return p;
}

/* m n k ta tb: forward, weight-gradient and input-gradient products */
static const int gemms[][5] = {
	{64, 256, 784, 0, 0}, {784, 256, 64, 1, 0}, {64, 128, 256, 0, 0}, {256, 128, 64, 1, 0}, {64, 256, 128, 0, 1},
};

static void bench_gemm(const int *g)
{
	int m = g[0], n = g[1], k = g[2], ta = g[3] ? CblasTrans : CblasNoTrans, tb = g[4] ? CblasTrans : CblasNoTrans;
	int lda = g[3] ? m : k, ldb = g[4] ? k : n;
	float *a = values((size_t)m * k), *b = values((size_t)k * n), *c = values((size_t)m * n);
	double tiled = 1e9, whole = 1e9;
	for (int r = 0; r < 400; r++) {
		double t = rt_now();
		nnrt_gemm_f32(CblasRowMajor, ta, tb, m, n, k, 1, a, lda, b, ldb, 0, c, n);
		t = rt_now() - t;
		tiled = t < tiled ? t : tiled;
		t = rt_now();
		cblas_sgemm(CblasRowMajor, ta, tb, m, n, k, 1, a, lda, b, ldb, 0, c, n);
		t = rt_now() - t;
		whole = t < whole ? t : whole;
	}
	printf("gemm %4d x %4d x %4d: nnrt_gemm %7.1f us  (whole cblas_sgemm, one thread: %7.1f us)\n",
	       m, n, k, tiled * 1e6, whole * 1e6);
}

static void bench_conv(int h, int c, int o, int pad)
{
	nnrt_window win = {5, 5, 1, 1, pad, pad, 1, 1};
	int64_t b = 64, oh = h + 2 * pad - 4, k = 25 * c;
	float *x = values((size_t)(b * h * h * c)), *wt = values((size_t)(k * o)), *y = values((size_t)(b * oh * oh * o));
	float *dx = values((size_t)(b * h * h * c)), *dw = values((size_t)(k * o));
	float *block = rt_alloc_aligned((size_t)nnrt_conv_block_bytes(k, sizeof(float)));
	double best[3] = {1e9, 1e9, 1e9}, t;
	for (int r = 0; r < 100; r++) {
		t = rt_now(), nnrt_conv_f32(x, wt, y, b, h, h, c, oh, oh, o, &win, block), t = rt_now() - t;
		best[0] = t < best[0] ? t : best[0];
		t = rt_now(), nnrt_conv_dw_f32(x, y, dw, b, h, h, c, oh, oh, o, &win, block), t = rt_now() - t;
		best[1] = t < best[1] ? t : best[1];
		t = rt_now(), nnrt_conv_dx_f32(y, wt, dx, b, h, h, c, oh, oh, o, &win, block), t = rt_now() - t;
		best[2] = t < best[2] ? t : best[2];
	}
	printf("conv %dx%dx%d -> %d: conv %7.1f us, conv_dw %7.1f us, conv_dx %7.1f us\n", h, h, c, o,
	       best[0] * 1e6, best[1] * 1e6, best[2] * 1e6);
}

int main(int argc, char **argv)
{
	int threads = argc > 1 ? atoi(argv[1]) : 1;
	openblas_set_num_threads(1);
	rt_pool_start(threads < 1 ? 1 : threads);
	printf("%d thread%s\n", threads, threads == 1 ? "" : "s");
	for (size_t i = 0; i < sizeof gemms / sizeof gemms[0]; i++)
		bench_gemm(gemms[i]);
	bench_conv(28, 1, 6, 2);    /* LeNet's first convolution */
	bench_conv(14, 6, 16, 0);   /* and its second */
	return 0;
}
