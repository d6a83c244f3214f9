/* nnrt_contrast.h — NT-Xent (Chen et al. 2020, SimCLR) in double, the one
 * definition that the trainer's kernels (contrast.c) and the compiler's
 * reference interpreter (compiler/ir/interp.c) both run.
 *
 * The 2B codes u are a's rows then b's (two views of B samples); with
 * s(j, k) = u_j . u_k / tau, view j's loss is the cross-entropy of its
 * partner p(j) = j +- B among the other 2B - 1:
 *     l_j = log sum_{k != j} exp s(j, k) - s(j, p(j)),
 * and sample i's is (l_i + l_{i+B}) / 2.  The loss is symmetric in a and
 * b, so the gradient with respect to b is nt_xent_grad(g, b, a).  The
 * codes are used as given: normalize them first for cosine similarity. */
#ifndef NNRT_CONTRAST_H
#define NNRT_CONTRAST_H

#include <math.h>
#include <stdint.h>
#include <stdlib.h>

static inline const double *nnrt_contrast_row(const double *a, const double *b, int64_t B, int64_t D, int64_t j)
{
	return j < B ? a + j * D : b + (j - B) * D;
}

/* Row j of the softmax over k != j of s(j, .), into p[2B] (p[j] = 0);
 * returns log sum_{k != j} exp s(j, k). */
static inline double nnrt_contrast_softmax(const double *a, const double *b, int64_t B, int64_t D, double tau,
                                           int64_t j, double *p)
{
	int64_t n = 2 * B;
	const double *uj = nnrt_contrast_row(a, b, B, D, j);
	double m = -INFINITY;
	for (int64_t k = 0; k < n; k++) {
		const double *uk = nnrt_contrast_row(a, b, B, D, k);
		double s = 0;
		for (int64_t e = 0; e < D; e++)
			s += uj[e] * uk[e];
		p[k] = s / tau;
		if (k != j && p[k] > m)
			m = p[k];
	}
	double z = 0;
	for (int64_t k = 0; k < n; k++)
		z += k == j ? 0 : exp(p[k] - m);
	double lse = m + log(z);
	for (int64_t k = 0; k < n; k++)
		p[k] = k == j ? 0 : exp(p[k] - lse);
	return lse;
}

/* loss[B]: each sample's NT-Xent.  Returns 0, or -1 when out of memory. */
static inline int nnrt_nt_xent(int64_t B, int64_t D, const double *a, const double *b, double tau, double *loss)
{
	double *p = malloc(sizeof *p * (size_t)(2 * B > 0 ? 2 * B : 1));
	if (!p)
		return -1;
	for (int64_t i = 0; i < B; i++)
		loss[i] = 0;
	for (int64_t j = 0; j < 2 * B; j++) {
		int64_t partner = j < B ? j + B : j - B;
		double lse = nnrt_contrast_softmax(a, b, B, D, tau, j, p);
		const double *uj = nnrt_contrast_row(a, b, B, D, j), *up = nnrt_contrast_row(a, b, B, D, partner);
		double s = 0;
		for (int64_t e = 0; e < D; e++)
			s += uj[e] * up[e];
		loss[j % B] += 0.5 * (lse - s / tau);
	}
	free(p);
	return 0;
}

/* da[B, D] = d sum_i g_i loss_i / d a.  With w_j = g_{j mod B} / 2 and
 * dS(j, k) = w_j (P(j, k) - [k = p(j)]) (P the softmax rows), the code
 * u_j's gradient is sum_k (dS(j, k) + dS(k, j)) u_k / tau, of which a's
 * rows are the first B.  Returns 0, or -1 when out of memory. */
static inline int nnrt_nt_xent_grad(int64_t B, int64_t D, const double *g, const double *a, const double *b,
                                    double tau, double *da)
{
	int64_t n = 2 * B;
	double *ds = malloc(sizeof *ds * (size_t)(n * n > 0 ? n * n : 1));
	if (!ds)
		return -1;
	for (int64_t j = 0; j < n; j++) {
		double w = 0.5 * g[j % B];
		nnrt_contrast_softmax(a, b, B, D, tau, j, ds + j * n);
		for (int64_t k = 0; k < n; k++)
			ds[j * n + k] *= w;
		ds[j * n + (j < B ? j + B : j - B)] -= w;
	}
	for (int64_t i = 0; i < B; i++)
		for (int64_t e = 0; e < D; e++) {
			double s = 0;
			for (int64_t k = 0; k < n; k++)
				s += (ds[i * n + k] + ds[k * n + i]) * nnrt_contrast_row(a, b, B, D, k)[e];
			da[i * D + e] = s / tau;
		}
	free(ds);
	return 0;
}

#endif
