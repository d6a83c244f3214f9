/* passes_test.h — what the pass tests share: a checking macro, a small
 * module of slots, and the pipeline's per-function passes, verified. */
#ifndef PASSES_TEST_H
#define PASSES_TEST_H

#include <stdio.h>
#include "ir.h"

extern int test_failures;

#define EXPECT(cond) do { if (!(cond)) { test_failures++; \
	fprintf(stderr, "%s:%d: %s: expected %s\n", __FILE__, __LINE__, __func__, #cond); } } while (0)

extern const Loc L;

/* A dense-layer module: x [B,IN] input, y [B,OUT] target, out [B,OUT]
 * output, loss; per layer W_l [n_l, n_l+1], b_l and their grads; lr. */
typedef struct TestModel {
	Module *m;
	int x, y, out, loss, lr;
	int w[8], b[8], gw[8], gb[8];
	int layers;
	int64_t width[9];
} TestModel;

TestModel test_model(int layers, const int64_t *width);
int count_op(const Fn *fn, Op op);
void run_passes(const Module *m, Fn *fn);    /* simplify .. plan (pipeline.c), verified */
void dump(const Fn *fn);                     /* a plain listing, for failures */

/* test_plan.c */
void test_plan(void);
void test_plan_state(void);
void test_describe(void);

/* test_roundtrip.c */
void test_roundtrip(void);

/* test_training.c */
void test_training(void);

/* test_summary.c */
void test_summary(void);

#endif
