/* softmax.c — softmax along the last axis (OP_softmax): rows of len
 * values, y = exp(x - max) / sum exp(x - max), three passes over a row
 * (the max, the exponentials and their sum, the scaling) where the same
 * function spelled out in primitive ops made a pass per op over the
 * whole [B, heads, T, T] of attention scores.
 *
 * Rows are shared among the threads in blocks fixed by the shape alone,
 * and a row is computed alike by whichever thread takes it, so the bytes
 * do not depend on --threads.
 *
 * A row that is -inf everywhere (every position masked out) has no
 * position to weigh: its weights are all 0 (its gradient, y (g - sum g y),
 * is then 0 too), not the NaN that exp(-inf - -inf) would give.  A NaN or
 * +inf in a row makes the row NaN. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "nnrt.h"
#include "nnrt_internal.h"

enum { ROWS_PER_TASK = 16 };

/* Floats 4 at a time in GCC's vector extension (an SSE register on the
 * x86-64 baseline libnnrt is built for).  A row's last few values are
 * padded with -inf to a whole vector, so every value takes the same
 * arithmetic and the sum's order (lane i % 4, then the lanes in order)
 * depends on the row's length alone. */
typedef float V4f __attribute__((vector_size(16)));
typedef int32_t V4i __attribute__((vector_size(16)));
enum { W = 4 };
#define ALWAYS_INLINE static inline __attribute__((always_inline))

ALWAYS_INLINE V4f load4(const float *x, int64_t n)
{
	V4f v;
	if (n >= W) {
		memcpy(&v, x, sizeof v);
		return v;
	}
	v = (V4f){ 0 } - INFINITY;
	for (int64_t k = 0; k < n; k++)
		v[k] = x[k];
	return v;
}

ALWAYS_INLINE void store4(float *y, V4f v, int64_t n)
{
	if (n >= W)
		memcpy(y, &v, sizeof v);
	else
		for (int64_t k = 0; k < n; k++)
			y[k] = v[k];
}

ALWAYS_INLINE V4f pick4(V4i mask, V4f yes, V4f no)
{
	return (V4f)(((V4i)yes & mask) | ((V4i)no & ~mask));
}

/* e^x for x <= 0: the range reduction and Cephes polynomial of compiled
 * code's exp (compiler/codegen/llvm_math.c), about 2 ulp; below -87.3
 * the answer is 0. */
ALWAYS_INLINE V4f exp4_le0(V4f x)
{
	const V4f lo = (V4f){ 0 } - 87.3365478515625f;
	V4i small = x < lo;
	V4f cx = pick4(small, lo, x);
	V4f fn = cx * 1.44269504088896341f + 0.5f;
	V4i n = __builtin_convertvector(fn, V4i);            /* toward zero ... */
	n += __builtin_convertvector(n, V4f) > fn;           /* ... less one: floor */
	V4f nf = __builtin_convertvector(n, V4f);
	V4f r = cx + nf * -0.693359375f;
	r = r + nf * 2.12194440e-4f;
	V4f p = (V4f){ 0 } + 1.9875691500e-4f;
	p = p * r + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
	V4f y = (p * r * r + r + 1) * (V4f)((n + 127) << 23);
	return pick4(small, (V4f){ 0 }, y);
}

/* The row's max, or NaN when it holds one. */
static float row_max_f32(const float *x, int64_t len)
{
	V4f m = (V4f){ 0 } - INFINITY;
	V4i nan = { 0 };
	for (int64_t i = 0; i < len; i += W) {
		V4f v = load4(x + i, len - i);
		m = pick4(v > m, v, m);
		nan |= v != v;
	}
	float r = m[0];
	for (int k = 0; k < W; k++) {
		if (nan[k])
			return NAN;
		r = m[k] > r ? m[k] : r;
	}
	return r;
}

static float exp_sum_f32(const float *x, float *y, int64_t len, float m)
{
	V4f s = { 0 };
	for (int64_t i = 0; i < len; i += W) {
		V4f e = exp4_le0(load4(x + i, len - i) - m);
		store4(y + i, e, len - i);
		s += e;
	}
	float r = 0;
	for (int k = 0; k < W; k++)
		r += s[k];
	return r;
}

static void scale_f32(float *y, int64_t len, float s)
{
	for (int64_t i = 0; i < len; i += W)
		store4(y + i, load4(y + i, len - i) / s, len - i);
}

/* f64 is for gradient checks, where accuracy counts more than speed:
 * libm's exp, plain loops. */
static double row_max_f64(const double *x, int64_t len)
{
	double m = -INFINITY;
	for (int64_t i = 0; i < len; i++) {
		if (isnan(x[i]))
			return NAN;
		m = x[i] > m ? x[i] : m;
	}
	return m;
}

static double exp_sum_f64(const double *x, double *y, int64_t len, double m)
{
	double s = 0;
	for (int64_t i = 0; i < len; i++)
		s += y[i] = exp(x[i] - m);
	return s;
}

static void scale_f64(double *y, int64_t len, double s)
{
	for (int64_t i = 0; i < len; i++)
		y[i] /= s;
}

#define SOFTMAX_KERNEL(T, SUFFIX)                                                              \
typedef struct Softmax_##SUFFIX { const T *x; T *y; int64_t rows, len; } Softmax_##SUFFIX;     \
                                                                                               \
static void softmax_row_##SUFFIX(const T *x, T *y, int64_t len)                                \
{                                                                                              \
	T m = row_max_##SUFFIX(x, len);                                                        \
	if (isnan(m) || isinf(m)) {    /* masked out (-inf), or not a number */                \
		for (int64_t i = 0; i < len; i++)                                              \
			y[i] = m == -INFINITY ? 0 : NAN;                                       \
		return;                                                                        \
	}                                                                                      \
	scale_##SUFFIX(y, len, exp_sum_##SUFFIX(x, y, len, m));                                \
}                                                                                              \
                                                                                               \
static void softmax_rows_##SUFFIX(void *ctx, int64_t task, int worker)                         \
{                                                                                              \
	const Softmax_##SUFFIX *c = ctx;                                                       \
	(void)worker;                                                                          \
	int64_t r0 = task * ROWS_PER_TASK, r1 = r0 + ROWS_PER_TASK < c->rows ? r0 + ROWS_PER_TASK : c->rows; \
	for (int64_t r = r0; r < r1; r++)                                                      \
		softmax_row_##SUFFIX(c->x + r * c->len, c->y + r * c->len, c->len);            \
}                                                                                              \
                                                                                               \
void nnrt_softmax_##SUFFIX(const T *x, T *y, int64_t rows, int64_t len)                        \
{                                                                                              \
	Softmax_##SUFFIX c = { x, y, rows, len };                                              \
	if (rows > 0 && len > 0)                                                               \
		rt_pool_run((rows + ROWS_PER_TASK - 1) / ROWS_PER_TASK, softmax_rows_##SUFFIX, &c); \
}

SOFTMAX_KERNEL(float, f32)
SOFTMAX_KERNEL(double, f64)
