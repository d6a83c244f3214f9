/* window.c — the data-movement kernels compiled code calls: sliding
 * windows for convolution and pooling (OP_window, OP_unwindow in
 * compiler/ops.def) and parts along an axis (OP_slice, OP_unslice).
 *
 * Images are NHWC, [B,H,W,C]; patches are [B,OH,OW,KH,KW,C], so one patch
 * row of KH*KW*C values is contiguous and a convolution is one GEMM of
 * the patches [B*OH*OW, KH*KW*C] by the weights [KH*KW*C, O] (im2col).
 * In NHWC each kernel tap copies C contiguous values; NCHW would gather
 * single values with stride H*W.
 *
 * win is the geometry, nnrt_window in nnrt.h: kernel, stride, padding,
 * dilation, each for rows then columns. */
#include <string.h>
#include "nnrt.h"

/* The image row and column of patch position (oh, ow) and tap (kh, kw). */
#define TAP_ROW(oh, kh) ((oh) * win->sh - win->ph + (kh) * win->dh)
#define TAP_COL(ow, kw) ((ow) * win->sw - win->pw + (kw) * win->dw)

/* n contiguous elements of T, as moves of 32, 16, 8 or 4 bytes that may
 * overlap each other inside the run: a patch row of a narrow image (C = 1,
 * a 5-wide kernel: 20 bytes) costs two moves, not a loop or a call. */
static inline void copy_run(void *dst, const void *src, size_t bytes)
{
	char *d = dst;
	const char *s = src;
	if (bytes >= 32) {
		for (size_t k = 0; k + 32 <= bytes; k += 32)
			memcpy(d + k, s + k, 32);
		memcpy(d + bytes - 32, s + bytes - 32, 32);
	} else if (bytes >= 16) {
		memcpy(d, s, 16);
		memcpy(d + bytes - 16, s + bytes - 16, 16);
	} else if (bytes >= 8) {
		memcpy(d, s, 8);
		memcpy(d + bytes - 8, s + bytes - 8, 8);
	} else if (bytes >= 4) {
		memcpy(d, s, 4);
		memcpy(d + bytes - 4, s + bytes - 4, 4);
	} else {
		memcpy(d, s, bytes);
	}
}

/* The output columns [lo, hi) at which tap column kw lies inside the
 * image (hi may pass the last output column). */
static inline void tap_columns(const nnrt_window *win, int64_t w, int64_t kw, int64_t *lo, int64_t *hi)
{
	int64_t s = win->sw, off = TAP_COL(0, kw);
	*lo = off >= 0 ? 0 : (-off + s - 1) / s;
	*hi = off >= w ? 0 : (w - 1 - off) / s + 1;
}

/* The output columns whose every tap lies inside the image's columns,
 * with dilation 1 along columns (else none): those where the first and
 * the last tap are inside, and a kernel row is KW*C contiguous values. */
static void inside_columns(const nnrt_window *win, int64_t w, int64_t *lo, int64_t *hi)
{
	int64_t unused;
	*lo = *hi = 0;
	if (win->dw != 1)
		return;
	tap_columns(win, w, 0, lo, &unused);
	tap_columns(win, w, win->kw - 1, &unused, hi);
}

/* The columns of a span outside [a, b), the edges, in order. */
#define EDGE_FIRST(j0, a, b) ((j0) == (a) ? (b) : (j0))
#define EDGE_NEXT(j, a, b) ((j) + 1 == (a) ? (b) : (j) + 1)

/* A run of patch rows along one output row: image n, output row i,
 * columns j0..j1-1, of which [a, b) are inside_columns. */
typedef struct Span { int64_t n, i, j0, j1, count, a, b; } Span;

/* [lo, hi) cut to the span's columns, as [*a, *b) with *a <= *b. */
static inline void clip_to_span(const Span *sp, int64_t lo, int64_t hi, int64_t *a, int64_t *b)
{
	*a = lo < sp->j0 ? sp->j0 : lo > sp->j1 ? sp->j1 : lo;
	*b = hi < *a ? *a : hi > sp->j1 ? sp->j1 : hi;
}

static inline Span span_at(int64_t m, int64_t m1, int64_t oh, int64_t ow, int64_t lo, int64_t hi)
{
	Span sp = { m / (ow * oh), m / ow % oh, m % ow, 0, 0, 0, 0 };
	sp.count = ow - sp.j0 < m1 - m ? ow - sp.j0 : m1 - m;
	sp.j1 = sp.j0 + sp.count;
	clip_to_span(&sp, lo, hi, &sp.a, &sp.b);
	return sp;
}

/* Patch rows m0..m1 of the [B*OH*OW, KH*KW*C] patch matrix: window
 * writes them into y (row m0 first), unwindow adds them (x, row m0 first)
 * into the image y.  They go a span of one output row and one kernel row
 * at a time: a kernel row outside the image is all padding; inside it,
 * the columns whose taps all lie in the image copy one run of KW*C values
 * each, and only the few at either edge go tap by tap, padding filled
 * (window) or dropped (unwindow). */
#define WINDOW_KERNELS(T, SUFFIX)                                                              \
void nnrt_window_rows_##SUFFIX(const T *x, T *y, int64_t m0, int64_t m1, int64_t h, int64_t w, \
                               int64_t c, int64_t oh, int64_t ow, const nnrt_window *win, T fill) \
{                                                                                              \
	int64_t kw_n = win->kw, run = kw_n * c, k = win->kh * run, lo, hi;                     \
	inside_columns(win, w, &lo, &hi);                                                      \
	for (int64_t m = m0; m < m1;) {                                                        \
		Span sp = span_at(m, m1, oh, ow, lo, hi);                                      \
		for (int64_t kh = 0; kh < win->kh; kh++) {                                     \
			int64_t r = TAP_ROW(sp.i, kh);                                         \
			T *yk = y + kh * run;                                                  \
			if (r < 0 || r >= h) {                                                 \
				for (int64_t j = 0; j < sp.count; j++)                         \
					for (int64_t e = 0; e < run; e++)                      \
						yk[j * k + e] = fill;                          \
				continue;                                                      \
			}                                                                      \
			const T *row = x + (sp.n * h + r) * w * c;                             \
			for (int64_t j = sp.a; j < sp.b; j++)                                  \
				copy_run(yk + (j - sp.j0) * k, row + TAP_COL(j, 0) * c, sizeof(T) * (size_t)run); \
			for (int64_t j = EDGE_FIRST(sp.j0, sp.a, sp.b); j < sp.j1; j = EDGE_NEXT(j, sp.a, sp.b)) { \
				T *yj = yk + (j - sp.j0) * k;                                  \
				for (int64_t kw = 0; kw < kw_n; kw++) {                        \
					int64_t q = TAP_COL(j, kw);                            \
					int inside = q >= 0 && q < w;                          \
					for (int64_t e = 0; e < c; e++)                        \
						yj[kw * c + e] = inside ? row[q * c + e] : fill; \
				}                                                              \
			}                                                                      \
		}                                                                              \
		y += sp.count * k;                                                             \
		m += sp.count;                                                                 \
	}                                                                                      \
}                                                                                              \
                                                                                               \
void nnrt_unwindow_rows_##SUFFIX(const T *x, T *y, int64_t m0, int64_t m1, int64_t h, int64_t w, \
                                 int64_t c, int64_t oh, int64_t ow, const nnrt_window *win)    \
{                                                                                              \
	int64_t kw_n = win->kw, run = kw_n * c, k = win->kh * run, lo, hi;                     \
	inside_columns(win, w, &lo, &hi);                                                      \
	for (int64_t m = m0; m < m1;) {                                                        \
		Span sp = span_at(m, m1, oh, ow, lo, hi);                                      \
		for (int64_t kh = 0; kh < win->kh; kh++) {                                     \
			int64_t r = TAP_ROW(sp.i, kh);                                         \
			if (r < 0 || r >= h)                                                   \
				continue;                                                      \
			const T *xk = x + kh * run;                                            \
			T *row = y + (sp.n * h + r) * w * c;                                   \
			for (int64_t j = sp.a; j < sp.b; j++) {                                \
				const T *src = xk + (j - sp.j0) * k;                           \
				T *dst = row + TAP_COL(j, 0) * c;                              \
				for (int64_t e = 0; e < run; e++)                              \
					dst[e] += src[e];                                      \
			}                                                                      \
			for (int64_t j = EDGE_FIRST(sp.j0, sp.a, sp.b); j < sp.j1; j = EDGE_NEXT(j, sp.a, sp.b)) { \
				const T *xj = xk + (j - sp.j0) * k;                            \
				for (int64_t kw = 0; kw < kw_n; kw++) {                        \
					int64_t q = TAP_COL(j, kw);                            \
					if (q < 0 || q >= w)                                   \
						continue;                                      \
					for (int64_t e = 0; e < c; e++)                        \
						row[q * c + e] += xj[kw * c + e];              \
				}                                                              \
			}                                                                      \
		}                                                                              \
		x += sp.count * k;                                                             \
		m += sp.count;                                                                 \
	}                                                                                      \
}                                                                                              \
                                                                                               \
/* window_rows of a one-channel image, transposed: y is [KH*KW, m1-m0],                        \
 * one row per tap, so a tap's values along an output row are one run of                       \
 * image values (stride 1), not KH*KW scattered single values. */                              \
void rt_window_cols_##SUFFIX(const T *x, T *y, int64_t m0, int64_t m1, int64_t h, int64_t w,   \
                             int64_t oh, int64_t ow, const nnrt_window *win, T fill)           \
{                                                                                              \
	int64_t mc = m1 - m0, s = win->sw, lo[win->kw], hi[win->kw];                           \
	for (int64_t kw = 0; kw < win->kw; kw++)                                               \
		tap_columns(win, w, kw, &lo[kw], &hi[kw]);                                     \
	for (int64_t m = m0; m < m1;) {                                                        \
		Span sp = span_at(m, m1, oh, ow, 0, 0);                                        \
		for (int64_t kh = 0; kh < win->kh; kh++) {                                     \
			int64_t r = TAP_ROW(sp.i, kh);                                         \
			const T *row = r >= 0 && r < h ? x + (sp.n * h + r) * w : NULL;        \
			for (int64_t kw = 0; kw < win->kw; kw++) {                             \
				T *yt = y + (kh * win->kw + kw) * mc + (m - m0);               \
				int64_t a = sp.j1, b = sp.j1, off = TAP_COL(0, kw);            \
				if (row)                                                       \
					clip_to_span(&sp, lo[kw], hi[kw], &a, &b);             \
				for (int64_t j = sp.j0; j < a; j++)                            \
					yt[j - sp.j0] = fill;                                  \
				if (s == 1 && b > a)                                           \
					copy_run(yt + a - sp.j0, row + a + off, sizeof(T) * (size_t)(b - a)); \
				else                                                           \
					for (int64_t j = a; j < b; j++)                        \
						yt[j - sp.j0] = row[j * s + off];              \
				for (int64_t j = b; j < sp.j1; j++)                            \
					yt[j - sp.j0] = fill;                                  \
			}                                                                      \
		}                                                                              \
		m += sp.count;                                                                 \
	}                                                                                      \
}                                                                                              \
                                                                                               \
void nnrt_window_##SUFFIX(const T *x, T *y, int64_t b, int64_t h, int64_t w, int64_t c,        \
                          int64_t oh, int64_t ow, const nnrt_window *win, T fill)              \
{                                                                                              \
	nnrt_window_rows_##SUFFIX(x, y, 0, b * oh * ow, h, w, c, oh, ow, win, fill);           \
}                                                                                              \
                                                                                               \
void nnrt_unwindow_##SUFFIX(const T *x, T *y, int64_t b, int64_t h, int64_t w, int64_t c,      \
                            int64_t oh, int64_t ow, const nnrt_window *win)                    \
{                                                                                              \
	memset(y, 0, sizeof(T) * (size_t)(b * h * w * c));                                     \
	nnrt_unwindow_rows_##SUFFIX(x, y, 0, b * oh * ow, h, w, c, oh, ow, win);               \
}

WINDOW_KERNELS(float, f32)
WINDOW_KERNELS(double, f64)

/* Sums along the last axis (OP_boxsum): `rows` rows of `len` values; each
 * output is the sum of the `width` (odd) inputs centred on it, those past
 * either end counting as zero.  Offset by offset, each a shifted add over
 * the row that vectorizes; every output still adds its inputs in their
 * order, as the interpreter does. */
#define BOXSUM_KERNEL(T, SUFFIX)                                                               \
void nnrt_boxsum_##SUFFIX(const T *x, T *y, int64_t rows, int64_t len, int64_t width)          \
{                                                                                              \
	int64_t half = width / 2;                                                              \
	for (int64_t r = 0; r < rows; r++, x += len, y += len) {                               \
		memset(y, 0, sizeof(T) * (size_t)len);                                         \
		for (int64_t d = -half; d <= half; d++) {                                      \
			int64_t lo = d < 0 ? -d : 0, hi = d > 0 ? len - d : len;               \
			for (int64_t c = lo; c < hi; c++)                                      \
				y[c] += x[c + d];                                              \
		}                                                                              \
	}                                                                                      \
}

BOXSUM_KERNEL(float, f32)
BOXSUM_KERNEL(double, f64)

/* Slices along one axis (OP_slice, OP_unslice): `outer` blocks, each of
 * `whole` (or `part`) rows of `inner` bytes; the part starts at row
 * `start` of the whole.  unslice writes zeros around the part. */
void nnrt_slice(const void *x, void *y, int64_t outer, int64_t whole, int64_t part, int64_t start, int64_t inner)
{
	const char *src = x;
	char *dst = y;
	for (int64_t o = 0; o < outer; o++)
		memcpy(dst + o * part * inner, src + (o * whole + start) * inner, (size_t)(part * inner));
}

/* Zeros around the part only: each byte of y is written once. */
void nnrt_unslice(const void *x, void *y, int64_t outer, int64_t whole, int64_t part, int64_t start, int64_t inner)
{
	char *dst = y;
	int64_t after = (whole - start - part) * inner;
	for (int64_t o = 0; o < outer; o++) {
		char *block = dst + o * whole * inner;
		memset(block, 0, (size_t)(start * inner));
		memset(block + (start + part) * inner, 0, (size_t)after);
	}
	nnrt_put(x, y, outer, whole, part, start, inner);
}

void nnrt_put(const void *x, void *y, int64_t outer, int64_t whole, int64_t part, int64_t start, int64_t inner)
{
	const char *src = x;
	char *dst = y;
	for (int64_t o = 0; o < outer; o++)
		memcpy(dst + (o * whole + start) * inner, src + o * part * inner, (size_t)(part * inner));
}
