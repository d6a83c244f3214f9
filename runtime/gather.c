/* gather.c — rows of a table by integer ids (an embedding's lookup), and
 * the adjoint that sums rows back into the table.  The sum runs over the
 * ids in order, so the bytes do not depend on anything but the ids.
 *
 * Ids come from data (token and class ids) and are checked when a batch
 * is read; an id outside the table here is still refused, naming it,
 * rather than read or written out of bounds. */
#include <string.h>
#include "nnrt_internal.h"

static void check_id(int32_t id, int64_t i, int64_t rows)
{
	if (id < 0 || id >= rows)
		rt_fatal(RT_EXIT_IO, "id %ld (at position %lld of the batch) is outside the table of %lld rows "
		         "(ids run from 0 to %lld)", (long)id, (long long)i, (long long)rows, (long long)rows - 1);
}

#define GATHER_KERNELS(T, SUFFIX)                                                                 \
void nnrt_gather_##SUFFIX(const T *table, const int32_t *ids, T *y, int64_t n, int64_t rows,     \
                          int64_t dim)                                                          \
{                                                                                               \
	for (int64_t i = 0; i < n; i++) {                                                        \
		check_id(ids[i], i, rows);                                                       \
		memcpy(y + i * dim, table + ids[i] * dim, sizeof(T) * (size_t)dim);              \
	}                                                                                        \
}                                                                                               \
void nnrt_scatter_add_##SUFFIX(const T *x, const int32_t *ids, T *y, int64_t n, int64_t rows,    \
                               int64_t dim)                                                     \
{                                                                                               \
	memset(y, 0, sizeof(T) * (size_t)(rows * dim));                                          \
	for (int64_t i = 0; i < n; i++) {                                                        \
		check_id(ids[i], i, rows);                                                       \
		T *row = y + ids[i] * dim;                                                       \
		for (int64_t d = 0; d < dim; d++)                                                \
			row[d] += x[i * dim + d];                                                \
	}                                                                                        \
}

GATHER_KERNELS(float, f32)
GATHER_KERNELS(double, f64)
