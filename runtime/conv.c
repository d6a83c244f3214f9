/* conv.c — convolution as im2col and GEMM, a cache-sized block of patch
 * rows at a time (OP_conv, OP_conv_dw, OP_conv_dx in compiler/ops.def,
 * made by compiler/convfuse.c from window, reshape and matmul).
 *
 * The patch matrix P is [M, K] with M = B*OH*OW rows and K = KH*KW*C
 * (runtime/window.c); the weights are [K, O].  Written whole, P is 9x the
 * image for a 3x3 kernel: tens of megabytes written to memory and read back
 * by the GEMM's packing.  Here a block of about NNRT_CONV_BLOCK_BYTES of P
 * at a time (nnrt.h) is made in the caller's block, which stays in the
 * cache, and used at once:
 *
 *   conv     Y[M,O]  = P W            block rows of Y
 *   conv_dw  dW[K,O] = P^T G          summed over blocks (beta 1)
 *   conv_dx  dX      = unwindow(G W^T)  each block's G W^T added into dX
 *
 * Each block's result is the whole computation's for those rows, so the
 * values are those of window + matmul up to the order of the dW sum.
 *
 * An image of one channel (LeNet's first layer) makes its block as P^T,
 * [K, rows] (rt_window_cols): a patch row would be KH*KW single values
 * from KH places, a row of P^T is a run of the image row; LeNet trains 15%
 * faster (20,700 to 24,000 samples/s, one thread). */
#include <cblas.h>
#include <string.h>
#include "nnrt_internal.h"

/* The block: nnrt_conv_block_bytes(k, sizeof(T)), a slice of the step's
 * scratch block that the compiler's memory plan (compiler/passes/plan.c)
 * set aside, so a step allocates nothing and steps on other threads, each
 * with its own scratch block, share nothing.  128 KiB of patches: LeNet
 * trains 10% faster than with 2 MiB blocks, ResNet-20 and AlexNet the same
 * within the noise (one thread, 2 MiB of L2). */
#define CONV_KERNELS(T, SUFFIX, GEMM)                                                          \
/* conv (dw 0) and conv_dw (dw 1): gather a block of patches, multiply */                      \
static void gather_##SUFFIX(const T *x, const T *other, T *out, int64_t b, int64_t h, int64_t w, \
                            int64_t c, int64_t oh, int64_t ow, int64_t o, const nnrt_window *win, \
                            T *p, int dw)                                                      \
{                                                                                              \
	int64_t m = b * oh * ow, k = win->kh * win->kw * c;                                    \
	int64_t rows = nnrt_conv_block_rows(k, sizeof(T));                                     \
	for (int64_t m0 = 0; m0 < m; m0 += rows) {                                             \
		int64_t mc = m - m0 < rows ? m - m0 : rows;                                    \
		int cols = c == 1;   /* one channel: the block transposed, [K, mc] */          \
		if (cols)                                                                      \
			rt_window_cols_##SUFFIX(x, p, m0, m0 + mc, h, w, oh, ow, win, 0);      \
		else                                                                           \
			nnrt_window_rows_##SUFFIX(x, p, m0, m0 + mc, h, w, c, oh, ow, win, 0); \
		int ld = cols ? (int)mc : (int)k;                                              \
		if (dw)                                                                        \
			GEMM(CblasRowMajor, cols ? CblasNoTrans : CblasTrans, CblasNoTrans,    \
			     (int)k, (int)o, (int)mc, 1, p, ld, other + m0 * o, (int)o, m0 ? 1 : 0, out, (int)o); \
		else                                                                           \
			GEMM(CblasRowMajor, cols ? CblasTrans : CblasNoTrans, CblasNoTrans,    \
			     (int)mc, (int)o, (int)k, 1, p, ld, other, (int)o, 0, out + m0 * o, (int)o); \
	}                                                                                      \
}                                                                                              \
                                                                                               \
void nnrt_conv_##SUFFIX(const T *x, const T *wt, T *y, int64_t b, int64_t h, int64_t w,        \
                        int64_t c, int64_t oh, int64_t ow, int64_t o, const nnrt_window *win,  \
                        T *block)                                                              \
{                                                                                              \
	gather_##SUFFIX(x, wt, y, b, h, w, c, oh, ow, o, win, block, 0);                       \
}                                                                                              \
                                                                                               \
void nnrt_conv_dw_##SUFFIX(const T *x, const T *g, T *dw, int64_t b, int64_t h, int64_t w,     \
                           int64_t c, int64_t oh, int64_t ow, int64_t o, const nnrt_window *win, \
                           T *block)                                                           \
{                                                                                              \
	gather_##SUFFIX(x, g, dw, b, h, w, c, oh, ow, o, win, block, 1);                       \
}                                                                                              \
                                                                                               \
void nnrt_conv_dx_##SUFFIX(const T *g, const T *wt, T *dx, int64_t b, int64_t h, int64_t w,    \
                           int64_t c, int64_t oh, int64_t ow, int64_t o, const nnrt_window *win, \
                           T *block)                                                           \
{                                                                                              \
	int64_t m = b * oh * ow, k = win->kh * win->kw * c;                                    \
	int64_t rows = nnrt_conv_block_rows(k, sizeof(T));                                     \
	memset(dx, 0, sizeof(T) * (size_t)(b * h * w * c));                                    \
	for (int64_t m0 = 0; m0 < m; m0 += rows) {                                             \
		int64_t mc = m - m0 < rows ? m - m0 : rows;                                    \
		GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, (int)mc, (int)k, (int)o,         \
		     1, g + m0 * o, (int)o, wt, (int)o, 0, block, (int)k);                     \
		nnrt_unwindow_rows_##SUFFIX(block, dx, m0, m0 + mc, h, w, c, oh, ow, win);     \
	}                                                                                      \
}

CONV_KERNELS(float, f32, cblas_sgemm)
CONV_KERNELS(double, f64, cblas_dgemm)
