/* contrast.c — the kernels of nt_xent and its adjoint (nnrt_kernels.def):
 * the codes widened to double, nnrt_contrast.h's definition, the result
 * rounded back.  One thread, in a fixed order: the bytes do not depend
 * on --threads.  Under --shards or mpirun the model is refused
 * (shard.c): a shard's samples would see only each other. */
#include "nnrt_internal.h"
#include "nnrt_contrast.h"

static double *widened(const void *x, int64_t n, int f32)
{
	double *d = rt_alloc(sizeof *d * (size_t)(n > 0 ? n : 1));
	for (int64_t i = 0; i < n; i++)
		d[i] = f32 ? ((const float *)x)[i] : ((const double *)x)[i];
	return d;
}

static void narrowed(const double *d, void *y, int64_t n, int f32)
{
	for (int64_t i = 0; i < n; i++) {
		if (f32)
			((float *)y)[i] = (float)d[i];
		else
			((double *)y)[i] = d[i];
	}
}

static void run(const void *g, const void *a, const void *b, void *y, int64_t batch, int64_t dim, double tau,
                int f32)
{
	double *da = widened(a, batch * dim, f32), *db = widened(b, batch * dim, f32);
	double *dg = g ? widened(g, batch, f32) : NULL;
	int64_t out = g ? batch * dim : batch;
	double *dy = rt_alloc(sizeof *dy * (size_t)(out > 0 ? out : 1));
	if (g ? nnrt_nt_xent_grad(batch, dim, dg, da, db, tau, dy) : nnrt_nt_xent(batch, dim, da, db, tau, dy))
		rt_fatal(RT_EXIT_NOMEM, "nt_xent: out of memory for %lld x %lld similarities", (long long)(2 * batch),
		         (long long)(2 * batch));
	narrowed(dy, y, out, f32);
	free(da);
	free(db);
	free(dg);
	free(dy);
}

void nnrt_nt_xent_f32(const float *a, const float *b, float *y, int64_t batch, int64_t dim, double tau)
{
	run(NULL, a, b, y, batch, dim, tau, 1);
}

void nnrt_nt_xent_f64(const double *a, const double *b, double *y, int64_t batch, int64_t dim, double tau)
{
	run(NULL, a, b, y, batch, dim, tau, 0);
}

void nnrt_nt_xent_grad_f32(const float *g, const float *a, const float *b, float *y, int64_t batch, int64_t dim,
                           double tau)
{
	run(g, a, b, y, batch, dim, tau, 1);
}

void nnrt_nt_xent_grad_f64(const double *g, const double *a, const double *b, double *y, int64_t batch,
                           int64_t dim, double tau)
{
	run(g, a, b, y, batch, dim, tau, 0);
}
