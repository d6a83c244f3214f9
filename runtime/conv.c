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
 * within the noise (one thread, 2 MiB of L2).
 *
 * Threads (pool.c): the blocks are cut by the shape alone, whatever
 * --threads is.  conv's blocks write rows of Y of their own, so they run
 * on any thread (the plan's block for the calling thread, a block of the
 * pool's for the others), each one single-threaded GEMM.  conv_dw sums
 * the blocks into dW and conv_dx adds them into dX, in block order, so
 * their blocks follow one another and the threads share each block's GEMM
 * (nnrt_gemm, tiles fixed by its shape). */
#define CONV_KERNELS(T, SUFFIX, GEMM)                                                          \
typedef struct Conv_##SUFFIX {                                                                 \
	const T *x, *wt;                                                                       \
	T *y, *block;                                                                          \
	int64_t h, w, c, oh, ow, o, m, k, rows;                                                \
	const nnrt_window *win;                                                                \
} Conv_##SUFFIX;                                                                               \
                                                                                               \
/* Block `task` of conv: gather its patches, multiply by the weights */                        \
static void conv_block_##SUFFIX(void *ctx, int64_t task, int worker)                           \
{                                                                                              \
	const Conv_##SUFFIX *cv = ctx;                                                         \
	int64_t m0 = task * cv->rows, mc = cv->m - m0 < cv->rows ? cv->m - m0 : cv->rows;      \
	T *p = worker ? rt_pool_buffer(worker, (size_t)nnrt_conv_block_bytes(cv->k, sizeof(T))) : cv->block; \
	int cols = cv->c == 1;   /* one channel: the block transposed, [K, mc] */              \
	if (cols)                                                                              \
		rt_window_cols_##SUFFIX(cv->x, p, m0, m0 + mc, cv->h, cv->w, cv->oh, cv->ow, cv->win, 0); \
	else                                                                                   \
		nnrt_window_rows_##SUFFIX(cv->x, p, m0, m0 + mc, cv->h, cv->w, cv->c, cv->oh, cv->ow, cv->win, 0); \
	GEMM(CblasRowMajor, cols ? CblasTrans : CblasNoTrans, CblasNoTrans, (int)mc, (int)cv->o, \
	     (int)cv->k, 1, p, cols ? (int)mc : (int)cv->k, cv->wt, (int)cv->o, 0,             \
	     cv->y + m0 * cv->o, (int)cv->o);                                                  \
}                                                                                              \
                                                                                               \
void nnrt_conv_##SUFFIX(const T *x, const T *wt, T *y, int64_t b, int64_t h, int64_t w,        \
                        int64_t c, int64_t oh, int64_t ow, int64_t o, const nnrt_window *win,  \
                        T *block)                                                              \
{                                                                                              \
	int64_t k = win->kh * win->kw * c;                                                     \
	Conv_##SUFFIX cv = {x, wt, y, block, h, w, c, oh, ow, o, b * oh * ow, k,               \
	                    nnrt_conv_block_rows(k, sizeof(T)), win};                          \
	rt_pool_run((cv.m + cv.rows - 1) / cv.rows, conv_block_##SUFFIX, &cv);                 \
}                                                                                              \
                                                                                               \
/* dW[K,O] = P^T G, the blocks of P summed in order (beta 1 after the first) */                \
void nnrt_conv_dw_##SUFFIX(const T *x, const T *g, T *dw, int64_t b, int64_t h, int64_t w,     \
                           int64_t c, int64_t oh, int64_t ow, int64_t o, const nnrt_window *win, \
                           T *p)                                                               \
{                                                                                              \
	int64_t m = b * oh * ow, k = win->kh * win->kw * c;                                    \
	int64_t rows = nnrt_conv_block_rows(k, sizeof(T));                                     \
	for (int64_t m0 = 0; m0 < m; m0 += rows) {                                             \
		int64_t mc = m - m0 < rows ? m - m0 : rows;                                    \
		int cols = c == 1;                                                             \
		if (cols)                                                                      \
			rt_window_cols_##SUFFIX(x, p, m0, m0 + mc, h, w, oh, ow, win, 0);      \
		else                                                                           \
			nnrt_window_rows_##SUFFIX(x, p, m0, m0 + mc, h, w, c, oh, ow, win, 0); \
		nnrt_gemm_##SUFFIX(CblasRowMajor, cols ? CblasNoTrans : CblasTrans, CblasNoTrans, \
		                   (int)k, (int)o, (int)mc, 1, p, cols ? (int)mc : (int)k,     \
		                   g + m0 * o, (int)o, m0 ? 1 : 0, dw, (int)o);                \
	}                                                                                      \
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
		nnrt_gemm_##SUFFIX(CblasRowMajor, CblasNoTrans, CblasTrans, (int)mc, (int)k, (int)o, \
		                   1, g + m0 * o, (int)o, wt, (int)o, 0, block, (int)k);       \
		nnrt_unwindow_rows_##SUFFIX(block, dx, m0, m0 + mc, h, w, c, oh, ow, win);     \
	}                                                                                      \
}

CONV_KERNELS(float, f32, cblas_sgemm)
CONV_KERNELS(double, f64, cblas_dgemm)
