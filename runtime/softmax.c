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

/* Floats 8 at a time in GCC's vector extension: one AVX2 register where
 * the CPU has AVX2 (the row's function is built twice, target_clones),
 * two SSE registers on the x86-64 baseline, the same arithmetic lane by
 * lane either way.  A row's last few values are padded with -inf to a
 * whole vector, so every value takes the same arithmetic and the sum's
 * order (lane i % 8, then the lanes in order) depends on the row's
 * length alone. */
#if defined(__x86_64__)
#define ROW_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define ROW_CLONES
#endif
typedef float V8f __attribute__((vector_size(32)));
typedef int32_t V8i __attribute__((vector_size(32)));
enum { W = 8 };
#define ALWAYS_INLINE static inline __attribute__((always_inline))

/* Vectors pass by pointer: a 32-byte vector as an argument would have
 * the AVX calling convention in one clone and not the other. */
ALWAYS_INLINE void load8(V8f *v, const float *x, int64_t n)
{
	if (n >= W) {
		memcpy(v, x, sizeof *v);
		return;
	}
	*v = (V8f){ 0 } - INFINITY;
	for (int64_t k = 0; k < n; k++)
		(*v)[k] = x[k];
}

ALWAYS_INLINE void store8(float *y, const V8f *v, int64_t n)
{
	if (n >= W)
		memcpy(y, v, sizeof *v);
	else
		for (int64_t k = 0; k < n; k++)
			y[k] = (*v)[k];
}

#define PICK8(mask, yes, no) ((V8f)(((V8i)(yes) & (mask)) | ((V8i)(no) & ~(mask))))

/* e^x for x <= 0, in place: the range reduction and Cephes polynomial of
 * compiled code's exp (compiler/codegen/llvm_math.c), about 2 ulp; below
 * -87.3 the answer is 0. */
ALWAYS_INLINE void exp8_le0(V8f *v)
{
	const V8f lo = (V8f){ 0 } - 87.3365478515625f;
	V8i small = *v < lo;
	V8f cx = PICK8(small, lo, *v);
	V8f fn = cx * 1.44269504088896341f + 0.5f;
	V8i n = __builtin_convertvector(fn, V8i);            /* toward zero ... */
	n += __builtin_convertvector(n, V8f) > fn;           /* ... less one: floor */
	V8f nf = __builtin_convertvector(n, V8f);
	V8f r = cx + nf * -0.693359375f;
	r = r + nf * 2.12194440e-4f;
	V8f p = (V8f){ 0 } + 1.9875691500e-4f;
	p = p * r + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
	V8f y = (p * r * r + r + 1) * (V8f)((n + 127) << 23);
	*v = PICK8(small, (V8f){ 0 }, y);
}

/* The row's max, or NaN when it holds one. */
ALWAYS_INLINE float row_max_f32(const float *x, int64_t len)
{
	V8f m = (V8f){ 0 } - INFINITY;
	V8i nan = { 0 };
	for (int64_t i = 0; i < len; i += W) {
		V8f v;
		load8(&v, x + i, len - i);
		m = PICK8(v > m, v, m);
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

ALWAYS_INLINE float exp_sum_f32(const float *x, float *y, int64_t len, float m)
{
	V8f s = { 0 };
	for (int64_t i = 0; i < len; i += W) {
		V8f e;
		load8(&e, x + i, len - i);
		e -= m;
		exp8_le0(&e);
		store8(y + i, &e, len - i);
		s += e;
	}
	float r = 0;
	for (int k = 0; k < W; k++)
		r += s[k];
	return r;
}

ALWAYS_INLINE void scale_f32(float *y, int64_t len, float s)
{
	for (int64_t i = 0; i < len; i += W) {
		V8f v;
		load8(&v, y + i, len - i);
		v /= s;
		store8(y + i, &v, len - i);
	}
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

#define SOFTMAX_KERNEL(T, SUFFIX, ROW_ATTR)                                                            \
typedef struct Softmax_##SUFFIX { const T *x; T *y; int64_t rows, len; } Softmax_##SUFFIX;     \
                                                                                               \
ROW_ATTR static void softmax_row_##SUFFIX(const T *x, T *y, int64_t len)                       \
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

SOFTMAX_KERNEL(float, f32, ROW_CLONES)
SOFTMAX_KERNEL(double, f64, )
