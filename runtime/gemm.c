/* gemm.c — every matrix product of a training step (OP_matmul, through
 * nnrt_gemm_[sd]; the convolutions of conv.c), the same bytes at any
 * --threads.
 *
 * OpenBLAS, given several threads, splits a GEMM among them as their
 * number dictates, and each part goes through a kernel chosen for its
 * size (the small-matrix kernels of OpenBLAS 0.3.21 add in another order
 * than the blocked ones): --threads 1 and 2 wrote different checkpoints.
 * So OpenBLAS runs on one thread, and the product is cut here into tiles
 * by a rule of the shape alone (gemm_tiles): each tile is one
 * single-threaded cblas call on its own rows or columns of C, the pool
 * (pool.c) hands the tiles to the threads, and every element of C is
 * computed by the same call whichever thread made it and however many
 * there were.
 *
 * The rule: a tile does at least GEMM_TILE_FLOPS; a smaller product
 * stays whole; a larger one is cut along C's longer side (the other
 * operand, packed again for every tile, is the smaller) into at most
 * GEMM_MAX_TILES runs of a multiple of 16 rows or columns.  Each tile
 * repacks an operand, which costs time at one thread: measured on the
 * 2-core VM, one thread, the MLP's largest product (64x784 by 784x256)
 * takes 317 us whole, 334 us in 2 tiles, 373 in 4 and 419 in 8, and a
 * 64x128x256 one 54 us whole, 65 in 4.  At 12 MFLOPs a tile the MLP cuts
 * its two largest products in two (most of its GEMM time) and keeps the
 * rest whole. */
#include <cblas.h>
#include "nnrt_internal.h"

enum { GEMM_MAX_TILES = 8, GEMM_ALIGN = 16 };
#define GEMM_TILE_FLOPS 12e6

typedef struct Tiles {
	int along_n;                 /* 1: runs of columns of C, 0: runs of rows */
	int size, count;
} Tiles;

static Tiles gemm_tiles(int m, int n, int k)
{
	int along_n = n >= m, dim = along_n ? n : m;
	double flops = 2.0 * m * n * k;
	int count = (int)(flops / GEMM_TILE_FLOPS);
	if (count > GEMM_MAX_TILES)
		count = GEMM_MAX_TILES;
	if (count > dim / GEMM_ALIGN)
		count = dim / GEMM_ALIGN;
	if (count <= 1)
		return (Tiles){along_n, dim, 1};
	int size = (dim + count - 1) / count;
	size = (size + GEMM_ALIGN - 1) / GEMM_ALIGN * GEMM_ALIGN;
	return (Tiles){along_n, size, (dim + size - 1) / size};
}

/* Row-major C = alpha op(A) op(B) + beta C; A is [m,k] ([k,m] when
 * transposed), B [k,n] ([n,k]). */
#define GEMM_KERNEL(T, SUFFIX, CBLAS)                                                          \
typedef struct Gemm_##SUFFIX {                                                                 \
	int ta, tb, m, n, k, lda, ldb, ldc;                                                    \
	T alpha, beta;                                                                         \
	const T *a, *b;                                                                        \
	T *c;                                                                                  \
	Tiles tiles;                                                                           \
} Gemm_##SUFFIX;                                                                               \
                                                                                               \
static void gemm_tile_##SUFFIX(void *ctx, int64_t tile, int worker)                            \
{                                                                                              \
	const Gemm_##SUFFIX *g = ctx;                                                          \
	(void)worker;                                                                          \
	int lo = (int)tile * g->tiles.size, len = g->tiles.size;                               \
	int dim = g->tiles.along_n ? g->n : g->m;                                              \
	if (len > dim - lo)                                                                    \
		len = dim - lo;                                                                \
	const T *a = g->a, *b = g->b;                                                          \
	T *c = g->c;                                                                           \
	int m = g->m, n = g->n;                                                                \
	if (g->tiles.along_n) {   /* columns lo.. of B and C */                                \
		b += g->tb ? (size_t)lo * g->ldb : (size_t)lo;                                 \
		c += lo;                                                                       \
		n = len;                                                                       \
	} else {                  /* rows lo.. of A and C */                                   \
		a += g->ta ? (size_t)lo : (size_t)lo * g->lda;                                 \
		c += (size_t)lo * g->ldc;                                                      \
		m = len;                                                                       \
	}                                                                                      \
	CBLAS(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans, g->tb ? CblasTrans : CblasNoTrans, \
	      m, n, g->k, g->alpha, a, g->lda, b, g->ldb, g->beta, c, g->ldc);                  \
}                                                                                              \
                                                                                               \
void nnrt_gemm_##SUFFIX(int32_t order, int32_t ta, int32_t tb, int32_t m, int32_t n, int32_t k, \
                        T alpha, const T *a, int32_t lda, const T *b, int32_t ldb, T beta,     \
                        T *c, int32_t ldc)                                                     \
{                                                                                              \
	if (order != CblasRowMajor)                                                            \
		rt_fatal(RT_EXIT_INTERNAL, "nnrt_gemm: column-major order %d", (int)order);    \
	Gemm_##SUFFIX g = {ta == CblasTrans, tb == CblasTrans, m, n, k, lda, ldb, ldc,        \
	                   alpha, beta, a, b, c, gemm_tiles(m, n, k)};                         \
	if (m <= 0 || n <= 0)                                                                  \
		return;                                                                        \
	rt_pool_run(g.tiles.count, gemm_tile_##SUFFIX, &g);                                    \
}

GEMM_KERNEL(float, f32, cblas_sgemm)
GEMM_KERNEL(double, f64, cblas_dgemm)

/* bmm: one product per task, computed by one single-threaded CBLAS call
 * whichever thread takes it, so the bytes do not depend on --threads. */
#define BMM_KERNEL(T, SUFFIX, CBLAS)                                                           \
typedef struct Bmm_##SUFFIX {                                                                  \
	int ta, tb, m, n, k;                                                                   \
	const T *a, *b;                                                                        \
	T *c;                                                                                  \
} Bmm_##SUFFIX;                                                                                \
                                                                                               \
static void bmm_one_##SUFFIX(void *ctx, int64_t p, int worker)                                 \
{                                                                                              \
	const Bmm_##SUFFIX *g = ctx;                                                           \
	(void)worker;                                                                          \
	size_t mk = (size_t)g->m * (size_t)g->k, kn = (size_t)g->k * (size_t)g->n;             \
	CBLAS(CblasRowMajor, g->ta ? CblasTrans : CblasNoTrans, g->tb ? CblasTrans : CblasNoTrans, \
	      g->m, g->n, g->k, 1, g->a + (size_t)p * mk, g->ta ? g->m : g->k,                  \
	      g->b + (size_t)p * kn, g->tb ? g->k : g->n, 0, g->c + (size_t)p * g->m * g->n, g->n); \
}                                                                                              \
                                                                                               \
void nnrt_bmm_##SUFFIX(int32_t ta, int32_t tb, int64_t count, int32_t m, int32_t n, int32_t k, \
                       const T *a, const T *b, T *c)                                           \
{                                                                                              \
	Bmm_##SUFFIX g = {ta, tb, m, n, k, a, b, c};                                           \
	if (count > 0 && m > 0 && n > 0)                                                       \
		rt_pool_run(count, bmm_one_##SUFFIX, &g);                                      \
}

BMM_KERNEL(float, f32, cblas_sgemm)
BMM_KERNEL(double, f64, cblas_dgemm)
