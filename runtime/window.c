/* window.c — the sliding-window kernels compiled code calls for
 * convolution and pooling (OP_window, OP_unwindow in compiler/ops.def).
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

#define WINDOW_KERNELS(T, SUFFIX)                                                              \
void nnrt_window_##SUFFIX(const T *x, T *y, int64_t b, int64_t h, int64_t w, int64_t c,       \
                          int64_t oh, int64_t ow, const int32_t *win, T fill)                  \
{                                                                                              \
	for (int64_t n = 0; n < b; n++)                                                        \
		for (int64_t i = 0; i < oh; i++)                                               \
			for (int64_t j = 0; j < ow; j++)                                       \
				for (int64_t kh = 0; kh < win[0]; kh++) {                      \
					int64_t r = TAP_ROW(i, kh);                            \
					for (int64_t kw = 0; kw < win[1]; kw++, y += c) {      \
						int64_t q = TAP_COL(j, kw);                    \
						if (r < 0 || r >= h || q < 0 || q >= w) {      \
							for (int64_t k = 0; k < c; k++)        \
								y[k] = fill;                   \
							continue;                              \
						}                                              \
						const T *src = x + ((n * h + r) * w + q) * c;  \
						if (c == 1)                                    \
							*y = *src;                             \
						else                                           \
							memcpy(y, src, sizeof(T) * (size_t)c); \
					}                                                      \
				}                                                              \
}                                                                                              \
                                                                                               \
void nnrt_unwindow_##SUFFIX(const T *x, T *y, int64_t b, int64_t h, int64_t w, int64_t c,     \
                            int64_t oh, int64_t ow, const int32_t *win)                        \
{                                                                                              \
	memset(y, 0, sizeof(T) * (size_t)(b * h * w * c));                                     \
	for (int64_t n = 0; n < b; n++)                                                        \
		for (int64_t i = 0; i < oh; i++)                                               \
			for (int64_t j = 0; j < ow; j++)                                       \
				for (int64_t kh = 0; kh < win[0]; kh++) {                      \
					int64_t r = TAP_ROW(i, kh);                            \
					for (int64_t kw = 0; kw < win[1]; kw++, x += c) {      \
						int64_t q = TAP_COL(j, kw);                    \
						if (r < 0 || r >= h || q < 0 || q >= w)        \
							continue;                              \
						T *dst = y + ((n * h + r) * w + q) * c;        \
						for (int64_t k = 0; k < c; k++)                \
							dst[k] += x[k];                        \
					}                                                      \
				}                                                              \
}

WINDOW_KERNELS(float, f32)
WINDOW_KERNELS(double, f64)
