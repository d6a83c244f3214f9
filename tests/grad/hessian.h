/* hessian.h — test_grad.c's second-order check (hessian.c). */
#ifndef NNC_TEST_HESSIAN_H
#define NNC_TEST_HESSIAN_H

#include "ir.h"

/* H v of the loss m->fwd stores, with respect to every parameter, by
 * grad_wrt twice, against central differences of the gradient along a
 * random v, at the parameter and input values `filled` (by slot); each
 * element off by more than 1e-6 (relative) is a failure.  Returns the
 * worst relative error. */
double check_hvp(const char *name, Module *m, double **filled, int64_t batch, int *failures);

#endif
