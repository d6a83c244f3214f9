/* fixture_model.c — TEST FIXTURE of the runtime, not compiler output: a
 * hand-written softmax regression (f64) exporting nnm_eval, nnm_grad,
 * nnm_update and nnm_descriptor exactly as nnc's objects do, so that
 * libnnrt's trainer can be tested end to end without the compiler.
 *
 *   logits (B,3) = x (B,4) @ W (4,3) + b (3)
 *   loss = mean over the batch of cross_entropy(logits, y)
 *   update: SGD with momentum 0.9 (v = mu v + g; p -= lr v)
 *
 * FIXTURE_TRAIN_DATA selects the training source's descriptor words
 * (random data by default; a CSV build tests file loading). */
#include <math.h>
#include <string.h>
#include "nnrt.h"

enum { IN = 4, OUT = 3 };
enum { OFF_W = 0, OFF_B = 96, OFF_GW = 128, OFF_GB = 224, OFF_VW = 256, OFF_VB = 352 };

#ifndef FIXTURE_TRAIN_DATA
#define FIXTURE_TRAIN_DATA "random count=200 classes=3"
#endif

const char nnm_descriptor[] =
	"nnc-model 1\n"
	"model fixture\n"
	"source \"tests/runtime/fixture.nn\"\n"
	"precision f64\n"
	"signature 0123456789abcdef\n"
	"io x input f64 [B,4] io=0\n"
	"io y target i32 [B] io=1\n"
	"io out output f64 [B,3] io=2\n"
	"hyper lr io=0\n"
	"hyper step io=1\n"
	"tensor fixture.dense_1.W param f64 [4,3] offset=0 init=xavier_uniform a=0 b=0 gain=1 fan_in=4 fan_out=3\n"
	"tensor fixture.dense_1.b param f64 [3] offset=96 init=zeros a=0 b=0 gain=1 fan_in=3 fan_out=3\n"
	"tensor fixture.dense_1.W.grad grad f64 [4,3] offset=128 of=fixture.dense_1.W\n"
	"tensor fixture.dense_1.b.grad grad f64 [3] offset=224 of=fixture.dense_1.b\n"
	"tensor fixture.dense_1.W.momentum state f64 [4,3] offset=256 of=fixture.dense_1.W\n"
	"tensor fixture.dense_1.b.momentum state f64 [3] offset=352 of=fixture.dense_1.b\n"
	"state_bytes 384\n"
	"scratch eval fixed=0 per_sample=24\n"
	"scratch grad fixed=0 per_sample=24\n"
	"scratch update fixed=0 per_sample=0\n"
	"data train " FIXTURE_TRAIN_DATA "\n"
	"data test random count=50 classes=3\n"
	"train_source train\n"
	"optimizer sgd lr=0.05 momentum=0.9 nesterov=0 weight_decay=0 beta1=0.9 beta2=0.999 eps=1e-08\n"
	"schedule constant warmup=0 step_size=1 gamma=0.1 min_lr=0\n"
	"batch 16\n"
	"epochs 3\n"
	"seed 7\n"
	"report accuracy test\n"
	"report loss test\n"
	"end\n";

#define P(s, off) ((double *)((s)->state + (off)))

/* Forward: logits into the output io, softmax probabilities into scratch
 * (B,3); returns the mean loss. */
static double forward(nnrt_step *s)
{
	const double *x = s->io[0], *W = P(s, OFF_W), *b = P(s, OFF_B);
	const int32_t *y = s->io[1];
	double *out = s->io[2], *prob = (double *)s->scratch, loss = 0;
	for (int64_t i = 0; i < s->batch; i++) {
		double *z = out + i * OUT, *p = prob + i * OUT, max = -INFINITY, sum = 0;
		for (int k = 0; k < OUT; k++) {
			z[k] = b[k];
			for (int j = 0; j < IN; j++)
				z[k] += x[i * IN + j] * W[j * OUT + k];
			max = fmax(max, z[k]);
		}
		for (int k = 0; k < OUT; k++)
			sum += p[k] = exp(z[k] - max);
		for (int k = 0; k < OUT; k++)
			p[k] /= sum;
		loss -= log(p[y[i]]);
	}
	return loss / (double)s->batch;
}

void nnm_eval(nnrt_step *s)
{
	s->loss = forward(s);
}

void nnm_grad(nnrt_step *s)
{
	s->loss = forward(s);
	const double *x = s->io[0], *prob = (const double *)s->scratch;
	const int32_t *y = s->io[1];
	double *gW = P(s, OFF_GW), *gb = P(s, OFF_GB);
	memset(gW, 0, sizeof(double) * IN * OUT);
	memset(gb, 0, sizeof(double) * OUT);
	for (int64_t i = 0; i < s->batch; i++)
		for (int k = 0; k < OUT; k++) {
			double d = (prob[i * OUT + k] - (y[i] == k)) / (double)s->batch;
			gb[k] += d;
			for (int j = 0; j < IN; j++)
				gW[j * OUT + k] += x[i * IN + j] * d;
		}
}

void nnm_update(nnrt_step *s)
{
	double lr = s->hyper[NNRT_HYPER_LR];
	double *p = P(s, OFF_W), *g = P(s, OFF_GW), *v = P(s, OFF_VW);
	/* W then b are contiguous (12 + 3 doubles) in each of the three groups. */
	for (int i = 0; i < IN * OUT + OUT; i++) {
		v[i] = 0.9 * v[i] + g[i];
		p[i] -= lr * v[i];
	}
}
