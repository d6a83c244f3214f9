/* gradcheck.c — compare nnm_grad's gradients with central finite
 * differences of the training step's loss (nnm_grad's, which for dropout
 * and batch norm is not nnm_eval's) on the first batch of the training
 * source (in order, unshuffled).
 *
 * Error per entry: |a - n| / max(|a|, |n|, floor), a the analytic and n
 * the numerical derivative.  The floor turns the comparison into an
 * absolute one where both are tiny, since there the finite difference is
 * dominated by rounding of the loss.  That rounding is a few ulps of the
 * loss, k u |L| with u the unit roundoff (2^-53 in f64, 2^-24 in f32), and
 * changes with every perturbation, so the difference quotient carries an
 * absolute error of about k u |L| / eps whatever the derivative.  The
 * floor is the derivative at which that error is the default tolerance:
 * k u |L| / (eps tol), with k about 10 ulps: 1e-3 |L| for f64 (eps 1e-6,
 * tol 1e-6), 1e-1 |L| for f32 (eps 1e-3, tol 1e-2).  It scales with the
 * loss, so that adding a constant to the loss or multiplying it by one
 * does not fail a correct gradient (and scaling leaves every error as it
 * was); below |L| = 1 it stays at its value for 1, since rounding inside
 * the loss happens on its terms (probabilities, logits, residuals), which
 * do not shrink with it.  In f32 a finite difference thus resolves
 * derivatives only to about 1e-3 of the loss: an f32 check at tolerance
 * 1e-2 is a coarse screen that a correct gradient can fail by a little.
 * The strict check compiles the model in f64 (nn(5)).
 * The step actually taken is the difference of the rounded perturbed
 * values, not eps, which matters in f32.
 *
 * Central differences are only valid where the loss is smooth across
 * [x - eps, x + eps].  A ReLU whose input crosses zero inside that window
 * makes the one-sided slopes (f(x+e) - f(x))/e and (f(x) - f(x-e))/e
 * disagree by the size of the jump; such an entry sits on a kink, where
 * no finite difference can check a derivative, so it is counted and
 * skipped rather than compared.  On a smooth loss the two slopes differ by
 * about |f''| eps plus rounding, far below the threshold used. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "nnrt_internal.h"

enum { DEFAULT_ENTRIES = 20, MAX_GRADCHECK_BATCH = 32 };

static double get(const char *base, RtDType dt, int64_t i)
{
	return dt == RT_F32 ? ((const float *)base)[i] : ((const double *)base)[i];
}

/* Stores v and returns the value actually stored (rounded to the dtype). */
static double set(char *base, RtDType dt, int64_t i, double v)
{
	if (dt == RT_F32)
		return ((float *)base)[i] = (float)v;
	return ((double *)base)[i] = v;
}

/* The state block as the check began: a scan's carried state (a buffer)
 * enters the training loss, so every evaluation starts from the same. */
static unsigned char *state_at_start;

static void restore_buffers(RtTrainer *t)
{
	const RtDesc *d = t->d;
	for (int i = 0; i < d->ntensor; i++) {
		const RtTensor *b = &d->tensor[i];
		if (b->role == RT_BUFFER)
			memcpy(t->state + b->offset, state_at_start + b->offset, (size_t)(b->count * rt_dtype_size(b->dt)));
	}
}

/* The loss the gradients are of: the training step's (nnm_grad), which
 * differs from nnm_eval's where a model has dropout or batch norm.  The
 * gradients it overwrites were saved first; the buffers it moves (running
 * statistics, a carried state) are put back first. */
static double eval_loss(RtTrainer *t, nnrt_step *s)
{
	restore_buffers(t);
	t->model->grad(s);
	return s->loss;
}

/* The one-sided slopes differ by more than a tenth of the slope (or of
 * the floor): the window holds a kink. */
static int at_kink(double up, double down, double floor_)
{
	return fabs(up - down) > 0.1 * fmax(fmax(fabs(up), fabs(down)), floor_);
}

/* Worst error over the checked entries of parameter p with saved gradient g,
 * l0 the loss at the unperturbed parameters; *checked entries compared,
 * *kinks skipped. */
static double check_tensor(RtTrainer *t, nnrt_step *s, const RtTensor *p, const double *g, double l0,
                           int64_t *checked, int64_t *kinks)
{
	int f64 = t->d->precision == RT_F64;
	double eps = f64 ? 1e-6 : 1e-3, floor_ = (f64 ? 1e-3 : 1e-1) * fmax(1, fabs(l0)), worst = 0;
	int64_t n = t->opt.all || p->count <= DEFAULT_ENTRIES ? p->count : DEFAULT_ENTRIES;
	RtRng r;
	rt_rng_seed(&r, (uint64_t)t->opt.seed, 0x67726164ULL + (uint64_t)p->offset);
	char *base = t->state + p->offset;
	*kinks = 0;
	for (int64_t k = 0; k < n; k++) {
		int64_t i = n == p->count ? k : (int64_t)rt_rng_below(&r, (uint64_t)p->count);
		double orig = get(base, p->dt, i);
		double hi = set(base, p->dt, i, orig + eps);
		double lp = eval_loss(t, s);
		double lo = set(base, p->dt, i, orig - eps);
		double lm = eval_loss(t, s);
		set(base, p->dt, i, orig);
		double num = (lp - lm) / (hi - lo), a = g[i];
		if (at_kink((lp - l0) / (hi - orig), (l0 - lm) / (orig - lo), floor_)) {
			++*kinks;
			continue;
		}
		double err = fabs(a - num) / fmax(fmax(fabs(a), fabs(num)), floor_);
		if (!(err <= worst))   /* NaN counts as the worst */
			worst = isnan(err) ? INFINITY : err;
	}
	*checked = n - *kinks;
	return worst;
}

const RtTensor *rt_grad_of(const RtDesc *d, int param)
{
	for (int i = 0; i < d->ntensor; i++)
		if (d->tensor[i].role == RT_GRAD && d->tensor[i].of_index == param)
			return &d->tensor[i];
	return NULL;
}

int rt_gradcheck(RtTrainer *t)
{
	const RtDesc *d = t->d;
	if (!d->train_source)
		rt_fatal(RT_EXIT_USAGE, "this model has no training source to check gradients on");
	RtDataSpec spec = rt_trainer_spec(t);
	RtData *data = rt_data_load(rt_desc_source(d, d->train_source), &spec);
	int64_t b = t->opt.batch < MAX_GRADCHECK_BATCH ? t->opt.batch : MAX_GRADCHECK_BATCH;
	if (b > data->n)
		b = data->n;
	rt_check_min_batch(t, b, data);
	nnrt_step s;
	rt_step_prepare(t, &s, data, NULL, 0, b);
	s.hyper[d->hyper_step >= 0 ? d->hyper_step : NNRT_HYPER_STEP] = 1;
	state_at_start = rt_alloc((size_t)d->state_bytes + 1);
	memcpy(state_at_start, t->state, (size_t)d->state_bytes);
	t->model->grad(&s);
	/* Saved before any perturbation: every loss evaluation below runs grad
	 * again, which overwrites them. */
	double l0 = s.loss;
	double **saved = rt_alloc(sizeof(double *) * (size_t)(d->ntensor + 1));
	for (int i = 0; i < d->ntensor; i++) {
		const RtTensor *g = d->tensor[i].role == RT_PARAM ? rt_grad_of(d, i) : NULL;
		if (!g)
			continue;
		saved[i] = rt_alloc(sizeof(double) * (size_t)g->count);
		for (int64_t k = 0; k < g->count; k++)
			saved[i][k] = get(t->state + g->offset, g->dt, k);
	}
	double worst = 0, tol = t->opt.has_tol ? t->opt.tol : d->precision == RT_F64 ? 1e-6 : 1e-2;
	printf("gradcheck on %lld samples of %s, loss %.9g\n", (long long)b, data->name, l0);
	for (int i = 0; i < d->ntensor; i++) {
		const RtTensor *p = &d->tensor[i];
		if (p->role != RT_PARAM)
			continue;
		if (!saved[i]) {
			printf("%-28s no gradient (not trained)\n", p->name);
			continue;
		}
		int64_t n, kinks;
		double e = check_tensor(t, &s, p, saved[i], l0, &n, &kinks);
		printf("%-28s max_rel_err %.1e  (%lld entries", p->name, e, (long long)n);
		if (kinks)
			printf(", %lld skipped at a kink", (long long)kinks);
		printf(")\n");
		if (n == 0)
			rt_fatal(RT_EXIT_FAIL, "gradcheck: every checked entry of %s sits on a kink; try another --seed", p->name);
		if (e > worst)
			worst = e;
	}
	printf("worst %.1e (tolerance %.1e)\n", worst, tol);
	return worst <= tol ? 0 : RT_EXIT_FAIL;
}
