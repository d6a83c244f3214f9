/* guard.c — checks that stop a trainer early with a clear message rather
 * than late with damaged results: non-finite values after a training step
 * (--check-numerics, on by default: the loss, the gradients and the
 * running statistics that the step moved), and the --max-memory budget,
 * checked against the planned blocks before anything is allocated.
 *
 * Cost of the numerics check: the loss is one comparison per step; the
 * gradients are one pass of integer tests over every gradient tensor
 * (the exponent bits of each value), done every step because it is cheap
 * next to the step itself: measured on this project's 2-core machine, a
 * scan of the 235,146 gradient floats of examples/mlp.nn takes about
 * 50 us, a training step of that MLP at batch 64 about 2.7 ms (under 2%,
 * below the run-to-run noise of a whole epoch); running statistics are a
 * few values per channel.  Only when a value is bad is the tensor located
 * and named. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "nnrt_internal.h"

/* Index of the first non-finite element of tensor t, or -1. */
static int64_t first_bad(const RtTensor *t, const char *state)
{
	const char *base = state + t->offset;
	if (t->dt == RT_F32) {
		const uint32_t *u = (const uint32_t *)base;
		uint32_t any = 0;
		for (int64_t k = 0; k < t->count; k++)   /* exponent all ones: inf or nan */
			any |= (u[k] & 0x7f800000u) == 0x7f800000u;
		if (!any)
			return -1;
		for (int64_t k = 0; k < t->count; k++)
			if (!isfinite(((const float *)base)[k]))
				return k;
	} else if (t->dt == RT_F64) {
		for (int64_t k = 0; k < t->count; k++)
			if (!isfinite(((const double *)base)[k]))
				return k;
	}
	return -1;
}

static double value_at(const RtTensor *t, const char *state, int64_t k)
{
	const char *base = state + t->offset;
	return t->dt == RT_F32 ? ((const float *)base)[k] : ((const double *)base)[k];
}

/* "T[k] = nan, of the parameter P declared at FILE:LINE" for the first
 * non-finite tensor of the role, or NULL.  A buffer (batch norm's
 * running statistics) names the call that made it. */
static char *describe_bad(const RtTrainer *t, RtTensorRole role)
{
	const RtDesc *d = t->d;
	for (int i = 0; i < d->ntensor; i++) {
		const RtTensor *g = &d->tensor[i];
		int64_t k = g->role == role ? first_bad(g, t->state) : -1;
		if (k < 0)
			continue;
		const RtTensor *p = role == RT_GRAD && g->of_index >= 0 ? &d->tensor[g->of_index] : g;
		const char *what = role == RT_GRAD ? rt_printf(", of the parameter %s", p->name)
		                 : role == RT_BUFFER ? ", the running statistic of the batch norm" : "";
		return rt_printf("%s[%lld] = %g%s%s%s", g->name, (long long)k, value_at(g, t->state, k), what,
		                 p->at ? (role == RT_BUFFER ? " at " : " declared at ") : "", p->at ? p->at : "");
	}
	return NULL;
}

/* What could have caused it, as far as the runtime can tell: before the
 * first update of this run no learning rate is involved, so the hint
 * names the parameters and the inputs the forward pass started from
 * (their range: values near the float type's limit overflow); later,
 * updates that grew too large are the likely cause. */
static char *cause(const RtTrainer *t, int64_t batch)
{
	const char *retry = " (or --no-check-numerics to train on)";
	char *param = describe_bad(t, RT_PARAM);
	if (t->step > t->first_step + 1)
		return rt_printf("%s%stry a smaller --lr%s", param ? "an update made a parameter non-finite: " : "",
		                 param ? rt_printf("%s; ", param) : "", retry);
	if (param)
		return rt_printf("a parameter was non-finite before this run's first update%s: %s%s",
		                 t->opt.load ? " (in --load's checkpoint)" : "", param, retry);
	double lo = INFINITY, hi = -INFINITY;
	const char *x = t->io[t->x->io];
	for (int64_t i = 0; i < batch * t->x->per_sample; i++) {
		double v = t->x->dt == RT_F32 ? ((const float *)x)[i] : ((const double *)x)[i];
		lo = fmin(lo, v), hi = fmax(hi, v);
	}
	return rt_printf("no update has been made yet in this run, so no learning rate is the cause: the forward "
	                 "pass computes it from the %s parameters and this batch's inputs (values in [%g, %g]); "
	                 "look in the model for values past the float range (exp, squares or products of large "
	                 "values) or log, sqrt or division at or below zero%s", t->opt.load ? "loaded" : "initial",
	                 lo, hi, retry);
}

void rt_check_numerics(const RtTrainer *t, double loss, int64_t batch)
{
	if (!t->opt.check_numerics)
		return;
	char *grad = describe_bad(t, RT_GRAD);
	const char *at = t->d->loss_at;
	if (!isfinite(loss))
		rt_fatal(RT_EXIT_NUMERIC, "non-finite loss %g at step %lld (epoch %lld)%s%s; %s%s; %s",
		         loss, (long long)t->step, (long long)t->epoch + 1, at ? ", the loss at " : "",
		         at ? at : "", grad ? "first non-finite gradient: " : "no gradient is non-finite",
		         grad ? grad : "", cause(t, batch));
	if (grad)
		rt_fatal(RT_EXIT_NUMERIC, "non-finite gradient at step %lld (epoch %lld): %s; the loss %g%s%s "
		         "was finite; %s", (long long)t->step, (long long)t->epoch + 1, grad, loss,
		         at ? " at " : "", at ? at : "", cause(t, batch));
	char *stat = describe_bad(t, RT_BUFFER);
	if (stat)
		rt_fatal(RT_EXIT_NUMERIC, "non-finite running statistic at step %lld (epoch %lld): %s; the loss %g "
		         "and the gradients were finite; %s", (long long)t->step, (long long)t->epoch + 1, stat,
		         loss, cause(t, batch));
}

/* ---- memory -------------------------------------------------------------- */

int64_t rt_planned_bytes(const RtDesc *d, int64_t batch, int64_t *scratch_out, int64_t *io_out)
{
	int64_t scratch = 0, io = 0;
	for (int k = 0; k < RT_NSCRATCH; k++) {
		int64_t s = d->scratch_fixed[k] + d->scratch_per_sample[k] * batch;
		scratch = s > scratch ? s : scratch;
	}
	for (int i = 0; i < d->nio; i++)
		io += d->io[i].per_sample * batch * rt_dtype_size(d->io[i].dt);
	if (scratch_out)
		*scratch_out = scratch;
	if (io_out)
		*io_out = io;
	return d->state_bytes + scratch + io;
}

/* The largest batch that fits the budget, or 0 when not even one does. */
static int64_t largest_batch(const RtDesc *d, int64_t budget, int64_t upto)
{
	int64_t lo = 0, hi = upto;
	while (lo < hi) {
		int64_t mid = lo + (hi - lo + 1) / 2;
		if (rt_planned_bytes(d, mid, NULL, NULL) <= budget)
			lo = mid;
		else
			hi = mid - 1;
	}
	return lo;
}

void rt_check_memory(const RtDesc *d, int64_t batch, int64_t budget, const char *as_given)
{
	int64_t scratch, io, need = rt_planned_bytes(d, batch, &scratch, &io);
	if (budget <= 0 || need <= budget)
		return;
	int64_t fits = largest_batch(d, budget, batch);
	rt_fatal(RT_EXIT_NOMEM, "--max-memory %s: the model needs %lld bytes at batch %lld (state %lld, "
	         "scratch %lld, inputs and outputs %lld)%s", as_given, (long long)need, (long long)batch,
	         (long long)d->state_bytes, (long long)scratch, (long long)io,
	         fits > 0 ? rt_printf("; --batch %lld fits", (long long)fits)
	                  : "; not even batch 1 fits");
}
