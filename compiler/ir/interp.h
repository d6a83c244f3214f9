/* interp.h — a reference interpreter of the graph IR, in double precision.
 *
 * Slow and simple on purpose: one loop nest per op, the meaning of each
 * op written once in the plainest C.  The gradient checks run grad()'s
 * output on it against finite differences, and the code generator's tests
 * compare compiled results with it. */
#ifndef NNC_INTERP_H
#define NNC_INTERP_H

#include "ir.h"

/* Values of every slot of m, by slot index: shape_numel(shape, batch)
 * doubles each (i32 slots hold integral values), zeroed.  malloc'd. */
double **interp_slots(const Module *m, int64_t batch);
void interp_free_slots(const Module *m, double **slot);

/* Run fn: param and input nodes read slot[], stores write it.  Returns the
 * value of every node by id (NULL for stores), or NULL when the caller
 * passes keep = 0; free with interp_free_values. */
double **interp_run(const Module *m, const Fn *fn, double **slot, int64_t batch, int keep);
void interp_free_values(const Fn *fn, double **val);

/* How uniform's values are drawn: by default any fixed U[0,1) sequence
 * per (stream, step); the trainer's trace gives the runtime's own
 * (runtime/random.c), so its dropout masks are the compiled step's.
 * NULL restores the default. */
typedef void InterpUniform(double *y, int64_t n, DType dt, int64_t stream, double step);
void interp_set_uniform(InterpUniform *draw);

#endif
