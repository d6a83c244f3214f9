/* test_training.c — the passes on what grad() makes of a softmax
 * cross-entropy classifier: verified after each pass, the same loss and
 * gradients on the interpreter before and after, and the fusion the
 * code generator relies on (each loop nest over one shape). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "passes_test.h"
#include "interp.h"

enum { K = 5, IN = 6, HID = 7 };

/* logits = elu(x W1 + b1) W2 + b2;  loss = mean(logsumexp(logits) - logits[y]) */
static Fn *classifier(Module *m)
{
	Fn *fn = ir_fn("eval");
	int x = ir_slot(m, "x", SLOT_INPUT, DT_F64, shape_of(2, DIM_BATCH, IN), L);
	int y = ir_slot(m, "y", SLOT_TARGET, DT_I32, shape_of(1, DIM_BATCH), L);
	int loss = ir_slot(m, "loss", SLOT_LOSS, DT_F64, shape_of(0), L);
	int w1 = ir_slot(m, "c.W1", SLOT_PARAM, DT_F64, shape_of(2, IN, HID), L);
	int b1 = ir_slot(m, "c.b1", SLOT_PARAM, DT_F64, shape_of(1, HID), L);
	int w2t = ir_slot(m, "c.W2t", SLOT_PARAM, DT_F64, shape_of(2, K, HID), L);
	int b2 = ir_slot(m, "c.b2", SLOT_PARAM, DT_F64, shape_of(1, K), L);
	Shape bh = shape_of(2, DIM_BATCH, HID), bk = shape_of(2, DIM_BATCH, K);
	Node *h = ir_matmul(fn, ir_input(fn, m, x, L), ir_param(fn, m, w1, L), 0, 0, L);
	h = ir_binary(fn, OP_add, h, ir_broadcast(fn, ir_param(fn, m, b1, L), bh, L), L);
	h = ir_unary(fn, OP_elu, h, L);
	h->f = 0.7;
	int perm[] = { 1, 0 };
	Node *z = ir_matmul(fn, h, ir_transpose(fn, ir_param(fn, m, w2t, L), perm, L), 0, 0, L);
	z = ir_binary(fn, OP_add, z, ir_broadcast(fn, ir_param(fn, m, b2, L), bk, L), L);
	Node *mx = ir_reduce(fn, OP_amax, z, 2, L);
	Node *zc = ir_binary(fn, OP_sub, z, ir_broadcast(fn, ir_unary(fn, OP_stop_gradient, mx, L), bk, L), L);
	Node *lse = ir_unary(fn, OP_log, ir_reduce(fn, OP_sum, ir_unary(fn, OP_exp, zc, L), 2, L), L);
	Node *logp = ir_binary(fn, OP_sub, zc, ir_broadcast(fn, lse, bk, L), L);
	Node *pick = ir_binary(fn, OP_mul, logp, ir_onehot(fn, ir_input(fn, m, y, L), K, DT_F64, L), L);
	Node *total = ir_reshape(fn, ir_reduce(fn, OP_sum, pick, 3, L), shape_of(0), L);
	Node *mean = ir_binary(fn, OP_div, ir_unary(fn, OP_neg, total, L), ir_batch(fn, DT_F64, L), L);
	ir_store(fn, loss, mean, L);
	return fn;
}

static void fill(const Module *m, double **s, int64_t batch, unsigned seed)
{
	srand(seed);
	for (int i = 0; i < m->nslot; i++) {
		int64_t n = shape_numel(m->slot[i].shape, batch);
		for (int64_t k = 0; k < n; k++)
			s[i][k] = m->slot[i].dt == DT_I32 ? rand() % K : (double)rand() / RAND_MAX - 0.5;
	}
}

void test_training(void)
{
	Module *m = ir_module();
	m->precision = DT_F64;
	Fn *g = grad(m, classifier(m));
	Fn *before = ir_clone(g, "grad");
	run_passes(m, g);
	int64_t batch = 4;
	double **s1 = interp_slots(m, batch), **s2 = interp_slots(m, batch);
	fill(m, s1, batch, 3);
	fill(m, s2, batch, 3);
	interp_run(m, before, s1, batch, 0);
	interp_run(m, g, s2, batch, 0);
	int grads = 0;
	for (int i = 0; i < m->nslot; i++) {
		grads += m->slot[i].role == SLOT_GRAD;
		int64_t n = shape_numel(m->slot[i].shape, batch);
		for (int64_t k = 0; k < n; k++)
			if (fabs(s1[i][k] - s2[i][k]) > 1e-12 * (1 + fabs(s1[i][k]))) {
				test_failures++;
				fprintf(stderr, "slot %s[%lld]: %.17g after the passes, %.17g before\n",
				        m->slot[i].name, (long long)k, s2[i][k], s1[i][k]);
				break;
			}
	}
	EXPECT(grads == 4);
	EXPECT(count_op(g, OP_transpose) == 0);          /* folded into matmul flags */
	if (count_op(g, OP_transpose) || getenv("DUMP"))
		dump(g);
	EXPECT(count_op(g, OP_stop_gradient) == 0);
	for (int gi = 0; gi < g->ngroup; gi++)
		for (int j = 0; j < g->group[gi].n; j++) {
			const Node *n = g->group[gi].member[j];
			EXPECT(shape_equal(n->shape, g->group[gi].shape) || n->shape.rank == 0);
		}
	interp_free_slots(m, s1);
	interp_free_slots(m, s2);
}
