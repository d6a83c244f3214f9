/* gemm_bound.c — the samples/s OpenBLAS alone allows for one training step
 * of a dense MLP: per layer a forward GEMM, a weight-gradient GEMM, and an
 * input-gradient GEMM for every layer but the first (eight GEMMs for
 * 784-256-128-10).  Nothing else of the step is done, so this is an upper
 * bound for any implementation that calls the same GEMMs.
 *
 *   gemm_bound BATCH THREADS SECONDS N0 N1 ... Nk   (layer widths)  */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

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

int main(int argc, char **argv)
{
	if (argc < 6) {
		fprintf(stderr, "usage: gemm_bound BATCH THREADS SECONDS N0 N1 [N2...]\n");
		return 2;
	}
	int b = atoi(argv[1]), threads = atoi(argv[2]), nl = argc - 5;
	double seconds = atof(argv[3]);
	int *n = malloc(sizeof *n * (size_t)(nl + 1));
	for (int i = 0; i <= nl; i++)
		n[i] = atoi(argv[4 + i]);
	openblas_set_num_threads(threads);
	float **w = malloc(sizeof *w * (size_t)nl), **dw = malloc(sizeof *dw * (size_t)nl);
	float **a = malloc(sizeof *a * (size_t)(nl + 1)), **da = malloc(sizeof *da * (size_t)(nl + 1));
	for (int l = 0; l < nl; l++)
		w[l] = filled((size_t)n[l] * n[l + 1]), dw[l] = filled((size_t)n[l] * n[l + 1]);
	for (int l = 0; l <= nl; l++)
		a[l] = filled((size_t)b * n[l]), da[l] = filled((size_t)b * n[l]);
	long steps = 0;
	double t0 = now(), t;
	do {
		for (int l = 0; l < nl; l++)   /* a[l+1] = a[l] @ W[l] */
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, b, n[l + 1], n[l], 1, a[l], n[l], w[l], n[l + 1], 0, a[l + 1], n[l + 1]);
		for (int l = nl - 1; l >= 0; l--) {   /* dW = a^T da;  da[l] = da[l+1] W^T */
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, n[l], n[l + 1], b, 1, a[l], n[l], da[l + 1], n[l + 1], 0, dw[l], n[l + 1]);
			if (l > 0)
				cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, b, n[l], n[l + 1], 1, da[l + 1], n[l + 1], w[l], n[l + 1], 0, da[l], n[l]);
		}
		steps++;
		t = now() - t0;
	} while (t < seconds);
	printf("%.0f\n", steps * (double)b / t);
	return 0;
}
