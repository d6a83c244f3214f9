/* gradnorms.c — the gradient-norm log (--log-grad-norms FILE): at every
 * training step, between the backward pass and the update, the L2 norm of
 * each parameter's gradient, one CSV row per parameter tensor:
 *
 *     step,epoch,param,grad_norm
 *     0,1,mlp.dense_1.W,0.0123
 *
 * step counts the updates made before this gradient (0: the gradient at
 * the initial parameters), epoch the epoch it belongs to, from 1.  The
 * rows are the data of the vanishing-gradient lab (docs/vanishing.md)
 * that nnc-gradplot(1) draws.
 *
 * A model with a loop over time adds, after them, one row per time step t
 * of each scan: param "CALL.scan_N.dh_norm[t]", the norm of the loss's
 * gradient with respect to the state of step t (the buffer the scan's
 * backward pass writes; docs/memory.md).
 *
 * Cost: one read of every gradient value per step, like the numerics
 * check in guard.c, plus one short line per parameter tensor.  Measured on
 * this project's 2-core machine: 0.45 ms per step for the 1.45M gradient
 * floats of examples/vanishing/relu_he.nn (rt_gradlog_step in a loop,
 * writing to /dev/null), whose training step takes about 25 ms at batch
 * 64: under 2%.  The param-to-gradient pairing is found once, when the log
 * is opened. */
#include <errno.h>
#include <math.h>
#include <string.h>
#include "nnrt_internal.h"

struct RtGradLog {
	FILE *f;
	const char *path;
	const RtTensor **param, **grad;   /* n pairs, in descriptor order */
	int n;
	const RtTensor **through_time;     /* each scan's per-step norms */
	int ntime;
};

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), k = strlen(tail);
	return n >= k && !strcmp(s + n - k, tail);
}

RtGradLog *rt_gradlog_open(const char *path, const RtDesc *d)
{
	RtGradLog *g = rt_alloc(sizeof *g);
	g->path = path;
	g->param = rt_alloc(sizeof *g->param * (size_t)(d->ntensor + 1));
	g->grad = rt_alloc(sizeof *g->grad * (size_t)(d->ntensor + 1));
	for (int i = 0; i < d->ntensor; i++) {
		const RtTensor *grad = d->tensor[i].role == RT_PARAM ? rt_grad_of(d, i) : NULL;
		if (grad)   /* a parameter with no gradient is not trained: no row */
			g->param[g->n] = &d->tensor[i], g->grad[g->n++] = grad;
	}
	g->through_time = rt_alloc(sizeof *g->through_time * (size_t)(d->ntensor + 1));
	for (int i = 0; i < d->ntensor; i++)
		if (d->tensor[i].role == RT_BUFFER && ends_with(d->tensor[i].name, ".dh_norm"))
			g->through_time[g->ntime++] = &d->tensor[i];
	g->f = fopen(path, "w");
	if (!g->f)
		rt_fatal(RT_EXIT_IO, "cannot write the gradient-norm log %s: %s", path, strerror(errno));
	fprintf(g->f, "step,epoch,param,grad_norm\n");
	return g;
}

/* Four partial sums break the chain of dependent additions, so the pass
 * runs at load speed rather than at the latency of one add per value. */
static double sum_squares(const RtTensor *t, const char *state)
{
	double s[4] = {0, 0, 0, 0};
	int64_t n = t->count, k = 0;
	if (t->dt == RT_F32) {
		const float *v = (const float *)(state + t->offset);
		for (; k + 4 <= n; k += 4)
			for (int j = 0; j < 4; j++)
				s[j] += (double)v[k + j] * v[k + j];
		for (; k < n; k++)
			s[0] += (double)v[k] * v[k];
	} else if (t->dt == RT_F64) {
		const double *v = (const double *)(state + t->offset);
		for (; k + 4 <= n; k += 4)
			for (int j = 0; j < 4; j++)
				s[j] += v[k + j] * v[k + j];
		for (; k < n; k++)
			s[0] += v[k] * v[k];
	}
	return s[0] + s[1] + s[2] + s[3];
}

/* Called after t->model->grad and before t->model->update; t->step has
 * already been counted for this step, hence step - 1. */
void rt_gradlog_step(RtGradLog *g, const RtTrainer *t)
{
	if (!g)
		return;
	for (int i = 0; i < g->n; i++)
		fprintf(g->f, "%lld,%lld,%s,%.9g\n", (long long)t->step - 1, (long long)t->epoch + 1,
		        g->param[i]->name, sqrt(sum_squares(g->grad[i], t->state)));
	for (int i = 0; i < g->ntime; i++) {
		const RtTensor *n = g->through_time[i];
		for (int64_t k = 0; k < n->count; k++) {
			const char *at = t->state + n->offset;
			double v = n->dt == RT_F32 ? ((const float *)at)[k] : ((const double *)at)[k];
			fprintf(g->f, "%lld,%lld,%s[%lld],%.9g\n", (long long)t->step - 1, (long long)t->epoch + 1,
			        n->name, (long long)k, v);
		}
	}
	/* A full disk shows here within a buffer's worth of rows, not hours
	 * later at the end of training. */
	if (ferror(g->f))
		rt_fatal(RT_EXIT_IO, "cannot write the gradient-norm log %s", g->path);
}

void rt_gradlog_close(RtGradLog *g)
{
	if (g && (ferror(g->f) | fclose(g->f)) != 0)
		rt_fatal(RT_EXIT_IO, "cannot write the gradient-norm log %s", g->path);
}
