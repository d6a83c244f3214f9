/* harness.h — build small Modules, compile them with emit_object into a
 * shared object, load it and run its step functions on C arrays.
 *
 * Every case runs twice: once under a plan written here by hand (no
 * groups, one buffer per value: the simplest valid plan, independent of
 * the passes) and once after the real fuse() and plan() passes; either
 * way pipeline.c runs the rest (plan_state, emit) with ir_verify. */
#ifndef NNC_TEST_CODEGEN_HARNESS_H
#define NNC_TEST_CODEGEN_HARNESS_H

#include "ir.h"
#include "nnrt.h"

enum { PLAN_HAND, PLAN_PASSES };

typedef struct Compiled {
	Module *m;
	void *so;
	void (*fn[3])(nnrt_step *);   /* eval, grad, update */
	const char *descriptor;
	char *state;
} Compiled;

extern Loc L;
extern int failures;
extern int plan_mode;
extern int opt_level;

Module *mod_new(DType dt);
Node *io_in(Module *m, Fn *fn, const char *name, SlotRole role, DType dt, Shape s, int io);
int io_out(Module *m, Fn *fn, const char *name, Node *v, int io);
Node *state_in(Module *m, Fn *fn, const char *name, SlotRole role, DType dt, Shape s, int *slot);
Node *hyper_in(Module *m, Fn *fn, const char *name, DType dt, int io);

/* Plans (by plan_mode), emits, links and loads; allocates the state block. */
Compiled compile(Module *m);
/* Frees the state block and unloads the object. */
void release(Compiled *c);
/* Runs fn (0 eval, 1 grad, 2 update) with a scratch block sized for batch. */
void run(Compiled *c, int fn, int64_t batch, void **io, const double *hyper, double *loss);
/* The state tensor of a slot, as doubles in and out. */
void state_set(Compiled *c, int slot, const double *v);
void state_get(Compiled *c, int slot, double *v);

/* Values in memory of dtype dt, from and to doubles. */
void *tensor_new(DType dt, int64_t n, const double *v);
double tensor_at(DType dt, const void *p, int64_t i);

void check_vals(const char *what, DType dt, const double *want, const double *got, int64_t n);
void check_near(const char *what, DType dt, const double *want, const void *got, int64_t n);

#endif
