/* ais.c — the log partition function of a binary RBM (rbm.c reads it
 * from the checkpoint), and from it the log-likelihood of data:
 * log p(v) = -F(v) - log Z, F(v) = -v.b - sum_j softplus(v W + c)_j.
 *
 * `partition` sums Z exactly over the states of the smaller layer (the
 * other sums out in closed form), in Gray-code order so that each state
 * costs one row update; at most 2^24 states.  `ais` estimates it by
 * annealed importance sampling (Salakhutdinov & Murray 2008): chains
 * start from a base model of independent visible units (base_biases),
 * then pass through the distributions
 * p_k(v) ~ exp((1 - beta_k) v.b_A) p*(v; beta_k W, beta_k b, beta_k c),
 * each Gibbs step leaving p_k invariant; the importance weights' mean
 * times Z_A estimates Z.  The estimate of log Z tends to be low (Jensen),
 * so the log-likelihood it gives tends to be high. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "nnrt_internal.h"

static const uint64_t STREAM_AIS = 0x616973;   /* "ais": a stream no other draw uses */
enum { MAX_EXACT_BITS = 24 };

/* ---- the exact sum ----------------------------------------------------------------- */

/* log sum over s in {0,1}^A of exp(s.ba + sum_o softplus(bo_o + (s M)_o)),
 * M [A, O] row-major. */
static double log_sum_states(int A, int64_t O, const double *M, const double *ba, const double *bo)
{
	double *acc = rt_alloc(sizeof *acc * (size_t)O), lin = 0, top = -INFINITY, sum = 0;
	memcpy(acc, bo, sizeof *acc * (size_t)O);
	uint64_t gray = 0;
	for (uint64_t k = 0; k < (uint64_t)1 << A; k++) {
		if (k) {   /* the bit that changes from gray(k-1) to gray(k) */
			int a = __builtin_ctzll(k);
			double sign = gray >> a & 1 ? -1 : 1;
			gray ^= (uint64_t)1 << a;
			lin += sign * ba[a];
			for (int64_t o = 0; o < O; o++)
				acc[o] += sign * M[(int64_t)a * O + o];
		}
		double e = lin;
		for (int64_t o = 0; o < O; o++)
			e += rt_softplus(acc[o]);
		if (e > top) {
			sum = sum * exp(top - e) + 1;
			top = e;
		} else
			sum += exp(e - top);
	}
	free(acc);
	return top + log(sum);
}

static double exact_log_z(const RtRbm *r)
{
	int64_t small = r->H < r->V ? r->H : r->V;
	if (small > MAX_EXACT_BITS)
		rt_fatal(RT_EXIT_USAGE, "partition sums 2^%lld states of the smaller layer (%lld visible, %lld hidden "
		         "units); it does so for at most %d units: estimate log Z with 'ais'", (long long)small,
		         (long long)r->V, (long long)r->H, MAX_EXACT_BITS);
	if (r->V <= r->H)
		return log_sum_states((int)r->V, r->H, r->W, r->b, r->c);
	double *wt = rt_alloc(sizeof *wt * (size_t)(r->V * r->H));   /* W^T [H, V] */
	for (int64_t i = 0; i < r->V; i++)
		for (int64_t j = 0; j < r->H; j++)
			wt[j * r->V + i] = r->W[i * r->H + j];
	double z = log_sum_states((int)r->H, r->V, wt, r->c, r->b);
	free(wt);
	return z;
}

/* ---- annealed importance sampling -------------------------------------------------- */

/* beta_0 = 0 < ... < beta_K = 1: Salakhutdinov & Murray's schedule, scaled
 * to K: 5% of the steps on [0, 0.5], 40% on [0.5, 0.9], 55% on [0.9, 1]. */
static void schedule(double *beta, int64_t K)
{
	int64_t k1 = K / 20 > 0 ? K / 20 : 1, k2 = k1 + (2 * K / 5 > 0 ? 2 * K / 5 : 1);
	if (k2 >= K)
		k2 = K - 1, k1 = k1 < k2 ? k1 : k2 - 1;
	for (int64_t k = 0; k <= K; k++)
		beta[k] = k <= k1 ? 0.5 * (double)k / (double)k1
		        : k <= k2 ? 0.5 + 0.4 * (double)(k - k1) / (double)(k2 - k1)
		                  : 0.9 + 0.1 * (double)(k - k2) / (double)(K - k2);
}

static double row_dot(const double *v, const double *w, int64_t n)
{
	double s = 0;
	for (int64_t i = 0; i < n; i++)
		s += v[i] * w[i];
	return s;
}

/* The base model's visible biases: with --base data (Salakhutdinov &
 * Murray's choice, right for a trained RBM) the logits of the training
 * data's marginals, pulled in from 0 and 1 by (count + 0.5) / (n + 1), as
 * a beta prior; with --base uniform, 0.  An RBM early in training spreads
 * its mass far wider than the data, and chains from the data's base then
 * start where it has little of it: a 784-12 RBM after one epoch on 4000
 * images at lr 0.05 came out 23 nats below its exact log Z from the data's
 * base at 1000 distributions, 0.04 from the uniform one. */
static double *base_biases(const RtRbm *r, const RtData *data, int uniform)
{
	double *mean = rt_alloc(sizeof *mean * (size_t)r->V), *v = rt_alloc(sizeof *v * (size_t)r->V);
	memset(mean, 0, sizeof *mean * (size_t)r->V);
	if (uniform)
		return mean;
	for (int64_t s = 0; s < data->n; s++) {
		rt_rbm_batch(data, s, 1, v);
		for (int64_t i = 0; i < r->V; i++)
			mean[i] += v[i] > 0.5;
	}
	for (int64_t i = 0; i < r->V; i++) {
		double p = (mean[i] + 0.5) / ((double)data->n + 1);
		mean[i] = log(p) - log1p(-p);
	}
	free(v);
	return mean;
}

typedef struct Chains {
	const RtRbm *r;
	const double *ba;
	int64_t n;
	double *v, *x, *h, *y, *logw;   /* v [n, V], x = vW + c [n, H], h [n, H], y [n, V] */
	RtRng rng;
} Chains;

static double bernoulli(RtRng *g, double logit)
{
	double p = logit >= 0 ? 1 / (1 + exp(-logit)) : exp(logit) / (1 + exp(logit));
	return rt_rng_uniform(g) < p;
}

/* logw += log p*_k(v) - log p*_{k-1}(v), then (but for the last) one
 * Gibbs step at beta_k: h ~ p_k(h | v), v ~ p_k(v | h). */
static void anneal_step(Chains *ch, double prev, double beta, int last)
{
	const RtRbm *r = ch->r;
	int64_t V = r->V, H = r->H;
	rt_rbm_hidden_input(r, ch->v, ch->n, 1, ch->x);
	for (int64_t s = 0; s < ch->n; s++) {
		const double *v = ch->v + s * V, *x = ch->x + s * H;
		double d = (beta - prev) * (row_dot(v, r->b, V) - row_dot(v, ch->ba, V));
		for (int64_t j = 0; j < H; j++)
			d += rt_softplus(beta * x[j]) - rt_softplus(prev * x[j]);
		ch->logw[s] += d;
	}
	if (last)
		return;
	for (int64_t i = 0; i < ch->n * H; i++)
		ch->h[i] = bernoulli(&ch->rng, beta * ch->x[i]);
	cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)ch->n, (int)V, (int)H, 1.0, ch->h, (int)H,
	            r->W, (int)H, 0.0, ch->y, (int)V);
	for (int64_t s = 0; s < ch->n; s++)
		for (int64_t i = 0; i < V; i++)
			ch->v[s * V + i] = bernoulli(&ch->rng, (1 - beta) * ch->ba[i] + beta * (ch->y[s * V + i] + r->b[i]));
}

/* The AIS estimate of log Z with n chains and K intermediate distributions. */
static double ais_log_z(const RtRbm *r, const double *ba, int64_t n, int64_t K, uint64_t seed)
{
	Chains ch = { .r = r, .ba = ba, .n = n };
	ch.v = rt_alloc(sizeof(double) * (size_t)(n * r->V));
	ch.y = rt_alloc(sizeof(double) * (size_t)(n * r->V));
	ch.x = rt_alloc(sizeof(double) * (size_t)(n * r->H));
	ch.h = rt_alloc(sizeof(double) * (size_t)(n * r->H));
	ch.logw = rt_alloc(sizeof(double) * (size_t)n);
	double *beta = rt_alloc(sizeof *beta * (size_t)(K + 1)), log_za = (double)r->H * M_LN2;
	schedule(beta, K);
	rt_rng_seed(&ch.rng, seed, STREAM_AIS);
	for (int64_t i = 0; i < r->V; i++)
		log_za += rt_softplus(ba[i]);
	for (int64_t s = 0; s < n; s++) {
		ch.logw[s] = 0;
		for (int64_t i = 0; i < r->V; i++)
			ch.v[s * r->V + i] = bernoulli(&ch.rng, ba[i]);
	}
	for (int64_t k = 1; k <= K; k++)
		anneal_step(&ch, beta[k - 1], beta[k], k == K);
	double top = -INFINITY, sum = 0;
	for (int64_t s = 0; s < n; s++)
		top = ch.logw[s] > top ? ch.logw[s] : top;
	for (int64_t s = 0; s < n; s++)
		sum += exp(ch.logw[s] - top);
	double z = log_za + top + log(sum / (double)n);
	free(ch.v), free(ch.y), free(ch.x), free(ch.h), free(ch.logw), free(beta);
	return z;
}

/* ---- the commands ------------------------------------------------------------------- */

/* The mean of -F(v) over a data set. */
static double mean_neg_free_energy(const RtRbm *r, const RtData *data)
{
	enum { CHUNK = 256 };
	double *v = rt_alloc(sizeof *v * (size_t)(CHUNK * r->V)), *x = rt_alloc(sizeof *x * (size_t)(CHUNK * r->H));
	double sum = 0;
	for (int64_t start = 0; start < data->n; start += CHUNK) {
		int64_t n = data->n - start < CHUNK ? data->n - start : CHUNK;
		rt_rbm_batch(data, start, n, v);
		rt_rbm_hidden_input(r, v, n, 1, x);
		for (int64_t s = 0; s < n; s++) {
			sum += row_dot(v + s * r->V, r->b, r->V);
			for (int64_t j = 0; j < r->H; j++)
				sum += rt_softplus(x[s * r->H + j]);
		}
	}
	free(v);
	free(x);
	return sum / (double)data->n;
}

/* The data sets to score: the reports' sources, else the training source. */
static void print_loglik(RtTrainer *t, const RtRbm *r, double log_z)
{
	const RtDesc *d = t->d;
	RtDataSpec spec = rt_trainer_spec(t);
	int n = d->nreport ? d->nreport : 1;
	for (int i = 0; i < n; i++) {
		const char *name = d->nreport ? d->report_source[i] : d->train_source;
		int seen = 0;
		for (int j = 0; j < i; j++)
			seen |= !strcmp(d->report_source[j], name);
		if (seen || !name)
			continue;
		RtData *data = rt_data_load(rt_desc_source(d, name), &spec);
		printf("%s.loglik %.6f\n", name, mean_neg_free_energy(r, data) - log_z);
	}
}

int rt_partition(RtTrainer *t)
{
	RtRbm r;
	rt_rbm_read(t, "partition", &r);
	double z = exact_log_z(&r);
	printf("log_z %.6f (exact, 2^%lld states)\n", z, (long long)(r.H < r.V ? r.H : r.V));
	print_loglik(t, &r, z);
	rt_rbm_free(&r);
	return fflush(stdout) == 0 ? 0 : RT_EXIT_IO;
}

int rt_ais(RtTrainer *t)
{
	RtRbm r;
	rt_rbm_read(t, "ais", &r);
	if (!t->d->train_source)
		rt_fatal(RT_EXIT_USAGE, "ais fits its base model to the training source; this model has none");
	RtDataSpec spec = rt_trainer_spec(t);
	RtData *train = rt_data_load(rt_desc_source(t->d, t->d->train_source), &spec);
	double *ba = base_biases(&r, train, !strcmp(t->opt.ais_base, "uniform"));
	double z = ais_log_z(&r, ba, t->opt.chains, t->opt.betas, (uint64_t)t->opt.seed);
	printf("log_z %.6f (AIS, %lld chains, %lld intermediate distributions, base %s)\n", z,
	       (long long)t->opt.chains, (long long)t->opt.betas, t->opt.ais_base);
	print_loglik(t, &r, z);
	free(ba);
	rt_rbm_free(&r);
	return fflush(stdout) == 0 ? 0 : RT_EXIT_IO;
}
