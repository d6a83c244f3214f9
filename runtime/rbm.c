/* rbm.c — a binary restricted Boltzmann machine read back from the
 * trainer's state: the parameters MODEL.W [V, H], MODEL.b [V] and
 * MODEL.c [H] that stdlib/rbm.nn's free energy takes, found by name, as
 * doubles.  What the trainer computes of it outside the compiled step
 * functions lives here: the reconstruction error that `report
 * reconstruction` prints (eval mode, the mean-field reconstruction
 * p(v | p(h | v)), as Hinton's practical guide monitors it), and the
 * conditionals that ais.c and the pictures sample from.  Double
 * precision throughout: AIS adds up thousands of small differences. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "nnrt_internal.h"

static const RtTensor *param_named(const RtDesc *d, const char *name)
{
	for (int i = 0; i < d->ntensor; i++)
		if (d->tensor[i].role == RT_PARAM && !strcmp(d->tensor[i].name, name))
			return &d->tensor[i];
	return NULL;
}

static double *as_doubles(const RtTrainer *t, const RtTensor *p)
{
	double *out = rt_alloc(sizeof *out * (size_t)p->count);
	const char *base = t->state + p->offset;
	for (int64_t i = 0; i < p->count; i++)
		out[i] = p->dt == RT_F32 ? ((const float *)base)[i] : ((const double *)base)[i];
	return out;
}

/* Why the model is not an RBM this file can read, or NULL. */
static const char *not_rbm(const RtDesc *d, const RtTensor *w, const RtTensor *b, const RtTensor *c)
{
	if (!w || !b || !c)
		return rt_printf("it has no parameter%s%s%s%s%s%s", w ? "" : " ", w ? "" : rt_printf("%s.W", d->model),
		                 b ? "" : " ", b ? "" : rt_printf("%s.b", d->model), c ? "" : " ",
		                 c ? "" : rt_printf("%s.c", d->model));
	if (w->shape.ndim != 2 || b->shape.ndim != 1 || c->shape.ndim != 1 || b->shape.dim[0] != w->shape.dim[0]
	    || c->shape.dim[0] != w->shape.dim[1])
		return "its W, b and c are not shaped [V, H], [V] and [H]";
	return NULL;
}

int rt_rbm_present(const RtDesc *d)
{
	char *w = rt_printf("%s.W", d->model), *b = rt_printf("%s.b", d->model), *c = rt_printf("%s.c", d->model);
	return !not_rbm(d, param_named(d, w), param_named(d, b), param_named(d, c));
}

void rt_rbm_read(const RtTrainer *t, const char *what, RtRbm *r)
{
	const RtDesc *d = t->d;
	const RtTensor *w = param_named(d, rt_printf("%s.W", d->model)), *b = param_named(d, rt_printf("%s.b", d->model)),
	               *c = param_named(d, rt_printf("%s.c", d->model));
	const char *why = not_rbm(d, w, b, c);
	if (why)
		rt_fatal(RT_EXIT_USAGE, "%s needs a restricted Boltzmann machine: a model that declares W [V, H], "
		         "b [V] and c [H] (stdlib/rbm.nn); model '%s' is not one: %s", what, d->model, why);
	*r = (RtRbm){ w->shape.dim[0], w->shape.dim[1], as_doubles(t, w), as_doubles(t, b), as_doubles(t, c) };
}

void rt_rbm_free(RtRbm *r)
{
	free(r->W);
	free(r->b);
	free(r->c);
}

static double sigmoid(double x)
{
	return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x));
}

/* out[n, H] = beta * (v[n, V] W) + c, the hidden units' input */
void rt_rbm_hidden_input(const RtRbm *r, const double *v, int64_t n, double beta, double *out)
{
	for (int64_t i = 0; i < n; i++)
		memcpy(out + i * r->H, r->c, sizeof *out * (size_t)r->H);
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)r->H, (int)r->V, beta, v, (int)r->V,
	            r->W, (int)r->H, 1.0, out, (int)r->H);
}

/* out[n, V] = sigmoid(beta * (h W^T) + b), p(v = 1 | h) at inverse temperature beta */
void rt_rbm_visible_probs(const RtRbm *r, const double *h, int64_t n, double beta, double *out)
{
	for (int64_t i = 0; i < n; i++)
		memcpy(out + i * r->V, r->b, sizeof *out * (size_t)r->V);
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)r->V, (int)r->H, beta, h, (int)r->H,
	            r->W, (int)r->H, 1.0, out, (int)r->V);
	for (int64_t i = 0; i < n * r->V; i++)
		out[i] = sigmoid(out[i]);
}

void rt_rbm_sigmoid(double *x, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		x[i] = sigmoid(x[i]);
}

double rt_softplus(double x)
{
	return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x));
}

/* A data set's inputs as doubles, count samples from start. */
void rt_rbm_batch(const RtData *data, int64_t start, int64_t count, double *out)
{
	int64_t per = data->x_per;
	void *raw = rt_alloc((size_t)(count * per) * (size_t)rt_dtype_size(data->x_dt));
	rt_data_gather(data, NULL, start, count, raw, NULL);
	for (int64_t i = 0; i < count * per; i++)
		out[i] = data->x_dt == RT_F32 ? ((float *)raw)[i] : ((double *)raw)[i];
	free(raw);
}

/* The mean over samples of |v - p(v | p(h | v))|^2, summed over the
 * visible units. */
double rt_rbm_reconstruction(const RtTrainer *t, const RtData *data)
{
	RtRbm r;
	rt_rbm_read(t, "'report reconstruction'", &r);
	if (data->x_per != r.V)
		rt_fatal(RT_EXIT_INTERNAL, "data source '%s' has %lld values per sample, the RBM %lld visible units",
		         data->name, (long long)data->x_per, (long long)r.V);
	enum { CHUNK = 256 };
	double *v = rt_alloc(sizeof *v * (size_t)(CHUNK * r.V)), *p = rt_alloc(sizeof *p * (size_t)(CHUNK * r.V));
	double *h = rt_alloc(sizeof *h * (size_t)(CHUNK * r.H)), sum = 0;
	for (int64_t start = 0; start < data->n; start += CHUNK) {
		int64_t n = data->n - start < CHUNK ? data->n - start : CHUNK;
		rt_rbm_batch(data, start, n, v);
		rt_rbm_hidden_input(&r, v, n, 1, h);
		rt_rbm_sigmoid(h, n * r.H);
		rt_rbm_visible_probs(&r, h, n, 1, p);
		for (int64_t i = 0; i < n * r.V; i++)
			sum += (v[i] - p[i]) * (v[i] - p[i]);
	}
	free(v);
	free(p);
	free(h);
	rt_rbm_free(&r);
	return sum / (double)data->n;
}
