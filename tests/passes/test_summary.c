/* test_summary.c — summary.c on hand-built functions: one row per call
 * note (two calls with the same text are two rows), the model's own
 * operators one row per line, the loss left out, unused parameters, the
 * shortened names, the FLOPs of each op kind; and the layer records read
 * back by the runtime's parser. */
#include <string.h>
#include "passes_test.h"
#include "nnrt_internal.h"

/* Gives the nodes made since *from the note and the source line. */
static void noted(Fn *fn, int *from, const char *note, int line)
{
	for (; *from < fn->n; (*from)++) {
		fn->node[*from]->note = note;
		fn->node[*from]->loc.line = line;
	}
}

static Node *dense(Fn *fn, const TestModel *t, int l, Node *x)
{
	Node *w = ir_param(fn, t->m, t->w[l], L), *b = ir_param(fn, t->m, t->b[l], L);
	Node *mm = ir_matmul(fn, x, w, 0, 0, L);
	return ir_binary(fn, OP_add, mm, ir_broadcast(fn, b, mm->shape, L), L);
}

/* x [B,6] -> dense 5 -> relu -> dense 5 -> (+ relu) * relu -> pick -> dense 3;
 * the loss reads a parameter the model does not. */
static void build_fwd(TestModel *t)
{
	Module *m = t->m;
	Fn *fn = m->fwd = ir_fn("fwd");
	int at = 0;
	const char *body = xstrdup("t(train.x)");
	Node *x = ir_input(fn, m, t->x, L);
	noted(fn, &at, "train.x", 9);
	Node *h = dense(fn, t, 0, x);
	noted(fn, &at, xstrdup("dense(x, 5)"), 2);
	Node *r = ir_unary(fn, OP_relu, h, L);
	noted(fn, &at, "relu((dense(x, 5) + 1))", 2);
	h = dense(fn, t, 1, r);
	noted(fn, &at, xstrdup("dense(h, 5)"), 3);
	h = ir_binary(fn, OP_add, h, r, L);
	noted(fn, &at, body, 4);
	h = ir_binary(fn, OP_mul, h, r, L);
	noted(fn, &at, body, 4);
	h = ir_unary(fn, OP_neg, h, L);
	noted(fn, &at, "pick(\"a(b\", g(1, h(2)))", 5);
	Node *out = dense(fn, t, 2, h);
	noted(fn, &at, xstrdup("dense(h, 5)"), 6);
	int extra = ir_slot(m, "t.extra", SLOT_PARAM, DT_F32, shape_of(1, 3), L);
	Node *y = ir_input(fn, m, t->y, L);
	Node *d = ir_binary(fn, OP_sub, out, y, L);
	Node *e = ir_binary(fn, OP_mul, d, ir_broadcast(fn, ir_param(fn, m, extra, L), d->shape, L), L);
	Node *loss = ir_reshape(fn, ir_reduce(fn, OP_sum, e, 3, L), shape_of(0), L);
	noted(fn, &at, "loss", 9);
	ir_store(fn, t->loss, loss, L);
	ir_store(fn, t->out, out, L);
}

/* A weight gradient (K = B), a sum, an exp, a fixed matmul, moves. */
static void build_grad(TestModel *t)
{
	Module *m = t->m;
	Fn *fn = m->grad = ir_fn("grad");
	Node *x = ir_input(fn, m, t->x, L), *y = ir_input(fn, m, t->y, L);
	Node *g = ir_binary(fn, OP_add, ir_matmul(fn, ir_param(fn, m, t->w[0], L), ir_param(fn, m, t->w[1], L), 0, 0, L),
	                    ir_broadcast(fn, ir_param(fn, m, t->b[1], L), shape_of(2, 6, 5), L), L);
	Node *xt = ir_matmul(fn, x, ir_unary(fn, OP_exp, ir_matmul(fn, x, g, 0, 0, L), L), 1, 0, L);
	ir_store(fn, t->gw[0], xt, L);
	ir_store(fn, t->gb[2], ir_reshape(fn, ir_reduce(fn, OP_sum, y, 1, L), shape_of(1, 3), L), L);
	m->update = ir_fn("update");
	ir_store(m->update, t->w[0], ir_unary(m->update, OP_neg, ir_param(m->update, m, t->w[0], L), L), L);
}

static void expect_layer(const Summary *s, int i, const char *name, const char *shape, int64_t params,
                         int64_t flops)
{
	EXPECT(i < s->nlayer);
	if (i >= s->nlayer)
		return;
	const Layer *l = &s->layer[i];
	int ok = !strcmp(l->name, name) && !strcmp(shape_str(l->shape), shape) && l->params == params
	         && l->flops.per_sample == flops && l->flops.fixed == 0;
	EXPECT(ok);
	if (!ok)
		fprintf(stderr, "  layer %d: got '%s' %s params=%lld flops=%lld+%lld B, want '%s' %s %lld %lld B\n", i,
		        l->name, shape_str(l->shape), (long long)l->params, (long long)l->flops.fixed,
		        (long long)l->flops.per_sample, name, shape, (long long)params, (long long)flops);
}

void test_summary(void)
{
	int64_t w[] = { 6, 5, 5, 3 };
	TestModel t = test_model(3, w);
	build_fwd(&t);
	build_grad(&t);
	Summary s = summarize(t.m);
	EXPECT(s.nlayer == 7);
	expect_layer(&s, 0, "dense(x, 5)", "[B,5]", 6 * 5 + 5, 2 * 6 * 5 + 5);
	expect_layer(&s, 1, "relu((dense(...) + 1))", "[B,5]", 0, 5);
	expect_layer(&s, 2, "dense(h, 5)", "[B,5]", 5 * 5 + 5, 2 * 5 * 5 + 5);
	expect_layer(&s, 3, "t.nn:4: add, mul", "[B,5]", 0, 5 + 5);
	expect_layer(&s, 4, "pick(\"a(b\", g(...))", "[B,5]", 0, 5);
	expect_layer(&s, 5, "dense(h, 5)", "[B,3]", 5 * 3 + 3, 2 * 5 * 3 + 3);
	expect_layer(&s, 6, "(unused by the model output)", "[]", 3, 0);
	/* grad: x^T [6,B] @ exp(..) [B,5] sums over B, so 2*6*5 per sample;
	 * x @ g 2*6*5 and exp 5 per sample; sum of y 3 per sample; the fixed
	 * [6,5] @ [5,5] 2*6*5*5 plus its add 30; update: neg of 30 */
	EXPECT(s.grad.per_sample == 60 + 60 + 5 + 3 && s.grad.fixed == 300 + 30);
	EXPECT(s.update.per_sample == 0 && s.update.fixed == 30);
	EXPECT(s.eval.per_sample == 0 && s.eval.fixed == 0);

	t.m->slot[t.lr].io = NNRT_HYPER_LR;
	/* the optimizer and schedule lines carry every key: values nnc could write */
	t.m->cfg.lr = 0.01, t.m->cfg.eps = 1e-8, t.m->cfg.gamma = 0.1;
	plan_state(t.m);
	char err[256] = "";
	RtDesc *d = rt_desc_parse(describe(t.m), err, sizeof err);
	EXPECT(d != NULL);
	if (!d) {
		fprintf(stderr, "rt_desc_parse: %s\n%s", err, describe(t.m));
		return;
	}
	EXPECT(d->nlayer == 7 && !strcmp(d->layer[4].name, "pick(\"a(b\", g(...))"));
	EXPECT(d->layer[5].shape.ndim == 2 && d->layer[5].shape.dim[0] == -1 && d->layer[5].shape.dim[1] == 3);
	EXPECT(d->layer[0].params == 35 && d->layer[0].flops_per_sample == 65 && d->layer[6].params == 3);
	EXPECT(d->has_flops && d->flops_per_sample[RT_SCRATCH_GRAD] == 128 && d->flops_fixed[RT_SCRATCH_UPDATE] == 30);
}
