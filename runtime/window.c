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
 * win[] is the geometry in compiler/ir.h's order: kernel, stride, padding,
 * dilation, each for rows then columns. */
#include <string.h>
#include "nnrt.h"

/* The image row and column of patch position (oh, ow) and tap (kh, kw). */
#define TAP_ROW(oh, kh) ((oh) * win[2] - win[4] + (kh) * win[6])
#define TAP_COL(ow, kw) ((ow) * win[3] - win[5] + (kw) * win[7])

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

/* With dilation 1 along columns, the window at output cell (i, j) lies
 * wholly inside the image: no padding to fill, every kernel row is KW*C
 * contiguous values. */
static inline int inside_image(const int32_t *win, int64_t h, int64_t w, int64_t i, int64_t j)
{
	int64_t r0 = TAP_ROW(i, 0), q0 = TAP_COL(j, 0);
	return win[7] == 1 && r0 >= 0 && TAP_ROW(i, win[0] - 1) < h && q0 >= 0 && q0 + win[1] <= w;
}

/* Patch row m's output cell (n, i, j), and the next row's. */
typedef struct Cell { int64_t n, i, j; } Cell;

static inline Cell cell_of(int64_t m, int64_t oh, int64_t ow)
{
	return (Cell){ m / (ow * oh), m / ow % oh, m % ow };
}

static inline void next_cell(Cell *at, int64_t oh, int64_t ow)
{
	if (++at->j == ow) {
		at->j = 0;
		if (++at->i == oh)
			at->i = 0, at->n++;
	}
}

/* Patch rows m0..m1 of the [B*OH*OW, KH*KW*C] patch matrix: window
 * writes them into y (row m0 first), unwindow adds them (x, row m0 first)
 * into the image y.  Each row is KH kernel rows of KW taps of C values;
 * with dilation 1 and the kernel row inside the image, the taps are KW*C
 * contiguous values (the common case, one run); otherwise tap by tap,
 * padding filled (window) or dropped (unwindow). */
#define WINDOW_KERNELS(T, SUFFIX)                                                              \
void nnrt_window_rows_##SUFFIX(const T *x, T *y, int64_t m0, int64_t m1, int64_t h, int64_t w, \
                               int64_t c, int64_t oh, int64_t ow, const int32_t *win, T fill)  \
{                                                                                              \
	int64_t kw_n = win[1], run = kw_n * c;                                                 \
	Cell at = cell_of(m0, oh, ow);                                                         \
	for (int64_t m = m0; m < m1; m++, next_cell(&at, oh, ow)) {                            \
		int64_t n = at.n, i = at.i, j = at.j;                                          \
		if (inside_image(win, h, w, i, j)) {     /* every kernel row one run */        \
			const T *src = x + ((n * h + TAP_ROW(i, 0)) * w + TAP_COL(j, 0)) * c;  \
			for (int64_t kh = 0; kh < win[0]; kh++, y += run)                      \
				copy_run(y, src + kh * win[6] * w * c, sizeof(T) * (size_t)run); \
			continue;                                                              \
		}                                                                              \
		for (int64_t kh = 0; kh < win[0]; kh++, y += run) {                            \
			int64_t r = TAP_ROW(i, kh), q0 = TAP_COL(j, 0);                        \
			int row_in = r >= 0 && r < h;                                          \
			const T *row = x + (n * h + (row_in ? r : 0)) * w * c;                 \
			if (row_in && win[7] == 1 && q0 >= 0 && q0 + kw_n <= w) {              \
				copy_run(y, row + q0 * c, sizeof(T) * (size_t)run);           \
				continue;                                                      \
			}                                                                      \
			for (int64_t kw = 0; kw < kw_n; kw++) {                                \
				int64_t q = TAP_COL(j, kw);                                    \
				int inside = row_in && q >= 0 && q < w;                        \
				for (int64_t k = 0; k < c; k++)                                \
					y[kw * c + k] = inside ? row[q * c + k] : fill;        \
			}                                                                      \
		}                                                                              \
	}                                                                                      \
}                                                                                              \
                                                                                               \
void nnrt_unwindow_rows_##SUFFIX(const T *x, T *y, int64_t m0, int64_t m1, int64_t h, int64_t w, \
                                 int64_t c, int64_t oh, int64_t ow, const int32_t *win)        \
{                                                                                              \
	int64_t kw_n = win[1], run = kw_n * c;                                                 \
	Cell at = cell_of(m0, oh, ow);                                                         \
	for (int64_t m = m0; m < m1; m++, next_cell(&at, oh, ow)) {                            \
		int64_t n = at.n, i = at.i, j = at.j;                                          \
		for (int64_t kh = 0; kh < win[0]; kh++, x += run) {                            \
			int64_t r = TAP_ROW(i, kh), q0 = TAP_COL(j, 0);                        \
			if (r < 0 || r >= h)                                                   \
				continue;                                                      \
			T *row = y + (n * h + r) * w * c;                                      \
			if (win[7] == 1 && q0 >= 0 && q0 + kw_n <= w) {                        \
				T *dst = row + q0 * c;                                         \
				for (int64_t k = 0; k < run; k++)                              \
					dst[k] += x[k];                                        \
				continue;                                                      \
			}                                                                      \
			for (int64_t kw = 0; kw < kw_n; kw++) {                                \
				int64_t q = TAP_COL(j, kw);                                    \
				if (q < 0 || q >= w)                                           \
					continue;                                              \
				for (int64_t k = 0; k < c; k++)                                \
					row[q * c + k] += x[kw * c + k];                       \
			}                                                                      \
		}                                                                              \
	}                                                                                      \
}                                                                                              \
                                                                                               \
void nnrt_window_##SUFFIX(const T *x, T *y, int64_t b, int64_t h, int64_t w, int64_t c,       \
                          int64_t oh, int64_t ow, const int32_t *win, T fill)                  \
{                                                                                              \
	nnrt_window_rows_##SUFFIX(x, y, 0, b * oh * ow, h, w, c, oh, ow, win, fill);           \
}                                                                                              \
                                                                                               \
void nnrt_unwindow_##SUFFIX(const T *x, T *y, int64_t b, int64_t h, int64_t w, int64_t c,     \
                            int64_t oh, int64_t ow, const int32_t *win)                        \
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
void nnrt_boxsum_##SUFFIX(const T *x, T *y, int64_t rows, int64_t len, int64_t width)         \
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

void nnrt_unslice(const void *x, void *y, int64_t outer, int64_t whole, int64_t part, int64_t start, int64_t inner)
{
	const char *src = x;
	char *dst = y;
	memset(dst, 0, (size_t)(outer * whole * inner));
	for (int64_t o = 0; o < outer; o++)
		memcpy(dst + (o * whole + start) * inner, src + o * part * inner, (size_t)(part * inner));
}
