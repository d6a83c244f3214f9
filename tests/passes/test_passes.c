/* test_passes.c — what the pass tests share, and their main.  The rules
 * of simplify, cse, dce and fuse, each on a small function, are IR text
 * tests (the .ir files of tests/ir); here are the checks that need values or many
 * generated functions: the memory plan, the state layout and the
 * descriptor (test_plan.c), the descriptor read back (test_roundtrip.c),
 * a classifier's training step before and after the passes on the
 * interpreter (test_training.c), the layer table (test_summary.c). */
#include <stdlib.h>
#include <string.h>
#include "passes_test.h"

int test_failures;
const Loc L = { "t.nn", 1, 1, 1 };

TestModel test_model(int layers, const int64_t *width)
{
	TestModel t = { .m = ir_module(), .layers = layers };
	Module *m = t.m;
	m->model = "t";
	m->source = "t.nn";
	memcpy(t.width, width, sizeof *width * (size_t)(layers + 1));
	t.x = ir_slot(m, "x", SLOT_INPUT, DT_F32, shape_of(2, DIM_BATCH, width[0]), L);
	t.y = ir_slot(m, "y", SLOT_TARGET, DT_F32, shape_of(2, DIM_BATCH, width[layers]), L);
	t.out = ir_slot(m, "out", SLOT_OUTPUT, DT_F32, shape_of(2, DIM_BATCH, width[layers]), L);
	t.loss = ir_slot(m, "loss", SLOT_LOSS, DT_F32, shape_of(0), L);
	t.lr = ir_slot(m, "lr", SLOT_HYPER, DT_F32, shape_of(0), L);
	for (int l = 0; l < layers; l++) {
		t.w[l] = ir_slot(m, xprintf("t.dense_%d.W", l + 1), SLOT_PARAM, DT_F32, shape_of(2, width[l], width[l + 1]), L);
		t.b[l] = ir_slot(m, xprintf("t.dense_%d.b", l + 1), SLOT_PARAM, DT_F32, shape_of(1, width[l + 1]), L);
	}
	for (int l = 0; l < layers; l++) {
		t.gw[l] = ir_slot(m, xprintf("t.dense_%d.W.grad", l + 1), SLOT_GRAD, DT_F32, m->slot[t.w[l]].shape, L);
		t.gb[l] = ir_slot(m, xprintf("t.dense_%d.b.grad", l + 1), SLOT_GRAD, DT_F32, m->slot[t.b[l]].shape, L);
		m->slot[t.gw[l]].of = t.w[l];
		m->slot[t.gb[l]].of = t.b[l];
	}
	return t;
}

int count_op(const Fn *fn, Op op)
{
	int k = 0;
	for (int i = 0; i < fn->n; i++)
		k += fn->node[i]->op == op;
	return k;
}

/* A plain listing for failures, independent of print.c. */
void dump(const Fn *fn)
{
	for (int i = 0; i < fn->n; i++) {
		const Node *n = fn->node[i];
		fprintf(stderr, "  %%%d = %s", n->id, op_info[n->op].name);
		for (int k = 0; k < n->nin; k++)
			fprintf(stderr, " %%%d", n->in[k]->id);
		fprintf(stderr, "  %s  g%d buf%d home%d\n", shape_str(n->shape), n->group, n->buf, n->home);
	}
}

/* The per-function passes of pipeline.c, as nnc runs them, verified
 * after each (an invalid function is an internal error: the test exits 70). */
void run_passes(const Module *m, Fn *fn)
{
	Pipeline p = { .from = "simplify", .to = "plan", .verify = 1 };
	pipeline_run_fn(&p, m, fn);
}

int main(void)
{
	test_plan();
	test_plan_state();
	test_describe();
	test_roundtrip();
	test_training();
	test_summary();
	if (test_failures) {
		fprintf(stderr, "test_passes: %d failure(s)\n", test_failures);
		return 1;
	}
	printf("test_passes: all passed\n");
	return 0;
}
