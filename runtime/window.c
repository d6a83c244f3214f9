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

/* One kernel row of a patch: KW taps of C values.  With dilation 1 and the
 * row inside the image, the taps are KW*C contiguous values (the common
 * case, copied as one run); otherwise tap by tap, padding filled. */
#define WINDOW_KERNELS(T, SUFFIX)                                                              \
void nnrt_window_##SUFFIX(const T *x, T *y, int64_t b, int64_t h, int64_t w, int64_t c,       \
                          int64_t oh, int64_t ow, const int32_t *win, T fill)                  \
{                                                                                              \
	int64_t kw_n = win[1], run = kw_n * c;                                                 \
	for (int64_t n = 0; n < b; n++)                                                        \
		for (int64_t i = 0; i < oh; i++)                                               \
			for (int64_t j = 0; j < ow; j++)                                       \
				for (int64_t kh = 0; kh < win[0]; kh++, y += run) {            \
					int64_t r = TAP_ROW(i, kh), q0 = TAP_COL(j, 0);        \
					int row_in = r >= 0 && r < h;                          \
					const T *row = x + (n * h + (row_in ? r : 0)) * w * c; \
					if (row_in && win[7] == 1 && q0 >= 0 && q0 + kw_n <= w) { \
						const T *src = row + q0 * c;                   \
						for (int64_t k = 0; k < run; k++)              \
							y[k] = src[k];                         \
						continue;                                      \
					}                                                      \
					for (int64_t kw = 0; kw < kw_n; kw++) {                \
						int64_t q = TAP_COL(j, kw);                    \
						int inside = row_in && q >= 0 && q < w;        \
						for (int64_t k = 0; k < c; k++)                \
							y[kw * c + k] = inside ? row[q * c + k] : fill; \
					}                                                      \
				}                                                              \
}                                                                                              \
                                                                                               \
void nnrt_unwindow_##SUFFIX(const T *x, T *y, int64_t b, int64_t h, int64_t w, int64_t c,     \
                            int64_t oh, int64_t ow, const int32_t *win)                        \
{                                                                                              \
	int64_t kw_n = win[1], run = kw_n * c;                                                 \
	memset(y, 0, sizeof(T) * (size_t)(b * h * w * c));                                     \
	for (int64_t n = 0; n < b; n++)                                                        \
		for (int64_t i = 0; i < oh; i++)                                               \
			for (int64_t j = 0; j < ow; j++)                                       \
				for (int64_t kh = 0; kh < win[0]; kh++, x += run) {            \
					int64_t r = TAP_ROW(i, kh), q0 = TAP_COL(j, 0);        \
					if (r < 0 || r >= h)                                   \
						continue;                                      \
					T *row = y + (n * h + r) * w * c;                      \
					if (win[7] == 1 && q0 >= 0 && q0 + kw_n <= w) {        \
						T *dst = row + q0 * c;                         \
						for (int64_t k = 0; k < run; k++)              \
							dst[k] += x[k];                        \
						continue;                                      \
					}                                                      \
					for (int64_t kw = 0; kw < kw_n; kw++) {                \
						int64_t q = TAP_COL(j, kw);                    \
						if (q < 0 || q >= w)                           \
							continue;                              \
						for (int64_t k = 0; k < c; k++)                \
							row[q * c + k] += x[kw * c + k];       \
					}                                                      \
				}                                                              \
}

WINDOW_KERNELS(float, f32)
WINDOW_KERNELS(double, f64)

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
