/* test_passes.c — unit tests of simplify, cse, dce and fuse on small
 * functions built with the ir.c builders; the memory plan, the state
 * layout and the descriptor are in test_plan.c. */
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

Node *find_op(const Fn *fn, Op op)
{
	for (int i = 0; i < fn->n; i++)
		if (fn->node[i]->op == op)
			return fn->node[i];
	return NULL;
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

void verified(const Module *m, const Fn *fn, const char *after)
{
	const char *err = ir_verify(m, fn);
	if (err) {
		test_failures++;
		fprintf(stderr, "ir_verify after %s of %s: %s\n", after, fn->name, err);
		dump(fn);
	}
}

void run_passes(const Module *m, Fn *fn)
{
	verified(m, fn, "building");
	simplify(fn);
	verified(m, fn, "simplify");
	cse(fn);
	verified(m, fn, "cse");
	dce(fn);
	verified(m, fn, "dce");
	fuse(fn);
	verified(m, fn, "fuse");
	plan(fn);
	verified(m, fn, "plan");
}

static Node *bconst(Fn *fn, double v, Shape s)
{
	return ir_broadcast(fn, ir_const(fn, DT_F32, v, L), s, L);
}

/* x*1 + 0, neg(neg), pow 2, folding of broadcast constants. */
static void test_simplify_algebra(void)
{
	int64_t w[] = { 4, 4 };
	TestModel t = test_model(1, w);
	Fn *fn = ir_fn("eval");
	Shape s = shape_of(2, DIM_BATCH, 4);
	Node *x = ir_input(fn, t.m, t.x, L);
	Node *a = ir_binary(fn, OP_mul, x, bconst(fn, 1, s), L);
	Node *b = ir_binary(fn, OP_add, bconst(fn, 0, s), a, L);
	Node *c = ir_unary(fn, OP_neg, ir_unary(fn, OP_neg, b, L), L);
	Node *p = ir_binary(fn, OP_pow, c, bconst(fn, 2, s), L);
	Node *k = ir_binary(fn, OP_add, bconst(fn, 2, s), bconst(fn, 3, s), L);
	ir_store(fn, t.out, ir_binary(fn, OP_div, ir_binary(fn, OP_mul, p, k, L), bconst(fn, 1, s), L), L);
	simplify(fn);
	verified(t.m, fn, "simplify");
	dce(fn);
	Node *st = find_op(fn, OP_store);
	Node *v = st->in[0];
	EXPECT(v->op == OP_mul);
	EXPECT(v->in[0]->op == OP_mul && v->in[0]->in[0] == x && v->in[0]->in[1] == x);
	EXPECT(v->in[1]->op == OP_broadcast && v->in[1]->in[0]->op == OP_const && v->in[1]->in[0]->f == 5);
	EXPECT(count_op(fn, OP_neg) == 0 && count_op(fn, OP_pow) == 0 && count_op(fn, OP_div) == 0);
	EXPECT(fn->n == 6);   /* x, mul, const 5, broadcast, mul, store */
}

/* Scalar folding, x*0, identities of layout ops, transposes into matmul flags. */
static void test_simplify_layout(void)
{
	int64_t w[] = { 4, 8 };
	TestModel t = test_model(1, w);
	Fn *fn = ir_fn("grad");
	Node *x = ir_input(fn, t.m, t.x, L);
	Node *d = ir_input(fn, t.m, t.y, L);                        /* [B,8] */
	int perm[] = { 1, 0 };
	Node *g = ir_matmul(fn, ir_transpose(fn, x, perm, L), d, 0, 0, L);   /* [4,8] */
	g = ir_reduce(fn, OP_sum, ir_reshape(fn, g, g->shape, L), 0, L);
	ir_store(fn, t.gw[0], g, L);
	Node *zero = bconst(fn, 0, d->shape);
	ir_store(fn, t.out, ir_binary(fn, OP_mul, d, zero, L), L);
	Node *three = ir_binary(fn, OP_mul, ir_const(fn, DT_F32, 1.5, L), ir_const(fn, DT_F32, 2, L), L);
	ir_store(fn, t.loss, ir_unary(fn, OP_exp, ir_binary(fn, OP_sub, three, ir_const(fn, DT_F32, 3, L), L), L), L);
	simplify(fn);
	verified(t.m, fn, "simplify");
	dce(fn);
	Node *mm = find_op(fn, OP_matmul);
	EXPECT(mm && mm->ta == 1 && mm->tb == 0 && mm->in[0] == x && mm->in[1] == d);
	EXPECT(count_op(fn, OP_transpose) == 0 && count_op(fn, OP_reshape) == 0 && count_op(fn, OP_sum) == 0);
	Node *st[3];
	for (int i = 0, k = 0; i < fn->n; i++)
		if (fn->node[i]->op == OP_store)
			st[k++] = fn->node[i];
	EXPECT(st[0]->in[0] == mm);                                /* the grad store */
	EXPECT(st[1]->in[0] == zero);                              /* d * 0 -> the broadcast 0 */
	Node *l = st[2]->in[0];
	EXPECT(l->op == OP_const && l->f == 1);                    /* exp(1.5*2 - 3) */
}

/* Equal values merge; different attributes, and stores, do not. */
static void test_cse(void)
{
	int64_t w[] = { 4, 4 };
	TestModel t = test_model(1, w);
	Fn *fn = ir_fn("eval");
	Node *e1 = ir_unary(fn, OP_exp, ir_input(fn, t.m, t.x, L), L);
	Node *e2 = ir_unary(fn, OP_exp, ir_input(fn, t.m, t.x, L), L);
	Node *u1 = ir_unary(fn, OP_elu, e1, L), *u2 = ir_unary(fn, OP_elu, e2, L);
	u1->f = 0.5, u2->f = 0.25;
	Node *ee = ir_binary(fn, OP_add, e1, e2, L);
	Node *uu = ir_binary(fn, OP_add, u1, u2, L);
	ir_store(fn, t.out, ir_binary(fn, OP_add, ee, uu, L), L);
	cse(fn);
	verified(t.m, fn, "cse");
	EXPECT(count_op(fn, OP_input) == 1);
	EXPECT(count_op(fn, OP_exp) == 1);
	EXPECT(count_op(fn, OP_elu) == 2);
	Node *first = find_op(fn, OP_add);
	EXPECT(first->in[0] == first->in[1]);

	/* a slot read again after a store into it is another value */
	Fn *up = ir_fn("update");
	Node *p1 = ir_param(up, t.m, t.w[0], L);
	ir_store(up, t.w[0], ir_binary(up, OP_mul, p1, p1, L), L);
	ir_store(up, t.gw[0], ir_param(up, t.m, t.w[0], L), L);
	ir_store(up, t.gw[0], ir_param(up, t.m, t.w[0], L), L);
	cse(up);
	verified(t.m, up, "cse");
	EXPECT(count_op(up, OP_param) == 2);
	EXPECT(count_op(up, OP_store) == 3);
}

static void test_dce(void)
{
	int64_t w[] = { 4, 4 };
	TestModel t = test_model(1, w);
	Fn *fn = ir_fn("eval");
	Node *x = ir_input(fn, t.m, t.x, L);
	Node *dead = ir_unary(fn, OP_exp, ir_unary(fn, OP_log, x, L), L);
	(void)dead;
	ir_store(fn, t.out, ir_unary(fn, OP_tanh, x, L), L);
	dce(fn);
	verified(t.m, fn, "dce");
	EXPECT(fn->n == 3);
	EXPECT(count_op(fn, OP_exp) == 0 && count_op(fn, OP_log) == 0);
	EXPECT(x->nuse == 1 && fn->node[2]->op == OP_store);
}

/* matmul + bias + relu + store: one group of four; the matmul stays out. */
static void test_fuse_dense(void)
{
	int64_t w[] = { 4, 8 };
	TestModel t = test_model(1, w);
	Fn *fn = ir_fn("eval");
	Node *h = ir_matmul(fn, ir_input(fn, t.m, t.x, L), ir_param(fn, t.m, t.w[0], L), 0, 0, L);
	Node *bb = ir_broadcast(fn, ir_param(fn, t.m, t.b[0], L), h->shape, L);
	Node *r = ir_unary(fn, OP_relu, ir_binary(fn, OP_add, h, bb, L), L);
	ir_store(fn, t.out, r, L);
	run_passes(t.m, fn);
	EXPECT(fn->ngroup == 1);
	EXPECT(fn->group[0].n == 4);
	EXPECT(h->group == -1 && bb->group == 0 && r->group == 0);
	EXPECT(find_op(fn, OP_store)->group == 0);
	EXPECT(h->buf >= 0 && r->buf == -1 && bb->buf == -1);
	EXPECT(fn->nbuf == 1 && fn->scratch_per_sample == 64 && fn->scratch_fixed == 0);
}

/* A value used outside its group closes it: later users start a new
 * group, and constants used by two groups are copied into each. */
static void test_fuse_split(void)
{
	int64_t w[] = { 4, 4 };
	TestModel t = test_model(1, w);
	Fn *fn = ir_fn("grad");
	Node *x = ir_input(fn, t.m, t.x, L);
	Node *two = ir_const(fn, DT_F32, 2, L);
	Node *a = ir_binary(fn, OP_mul, x, ir_broadcast(fn, two, x->shape, L), L);
	Node *mm = ir_matmul(fn, a, ir_param(fn, t.m, t.w[0], L), 0, 0, L);
	Node *s = ir_unary(fn, OP_step, a, L);                      /* a's group is closed */
	Node *g = ir_binary(fn, OP_mul, mm, s, L);
	g = ir_binary(fn, OP_add, g, ir_broadcast(fn, two, x->shape, L), L);
	ir_store(fn, t.out, g, L);
	run_passes(t.m, fn);
	EXPECT(fn->ngroup == 2);
	EXPECT(a->group >= 0 && s->group >= 0 && a->group != s->group);
	EXPECT(s->group == g->group && find_op(fn, OP_store)->group == g->group);
	EXPECT(a->buf >= 0 && s->buf == -1);
	EXPECT(count_op(fn, OP_const) == 2);                        /* one copy per group */
	for (int i = 0; i < fn->n; i++)
		if (fn->node[i]->op == OP_const)
			EXPECT(fn->node[i]->group >= 0);
}

/* SGD with momentum: v = 0.9 v + g; W = W - lr v.  Each parameter's
 * update is one loop nest that writes both slots. */
static void test_fuse_update(void)
{
	int64_t w[] = { 4, 8, 3 };
	TestModel t = test_model(2, w);
	Module *m = t.m;
	Fn *fn = ir_fn("update");
	int params[4] = { t.w[0], t.b[0], t.w[1], t.b[1] }, grads[4] = { t.gw[0], t.gb[0], t.gw[1], t.gb[1] };
	for (int i = 0; i < 4; i++) {
		Shape s = m->slot[params[i]].shape;
		int v = ir_slot(m, xprintf("%s.momentum", m->slot[params[i]].name), SLOT_OPTSTATE, DT_F32, s, L);
		Node *vn = ir_binary(fn, OP_add, ir_binary(fn, OP_mul, bconst(fn, 0.9, s), ir_param(fn, m, v, L), L),
		                     ir_param(fn, m, grads[i], L), L);
		ir_store(fn, v, vn, L);
		Node *lr = ir_broadcast(fn, ir_input(fn, m, t.lr, L), s, L);
		Node *p = ir_param(fn, m, params[i], L);
		ir_store(fn, params[i], ir_binary(fn, OP_sub, p, ir_binary(fn, OP_mul, lr, vn, L), L), L);
	}
	run_passes(m, fn);
	EXPECT(fn->ngroup == 4);
	EXPECT(fn->nbuf == 0);
	for (int g = 0; g < fn->ngroup; g++) {
		int stores = 0;
		for (int j = 0; j < fn->group[g].n; j++)
			stores += fn->group[g].member[j]->op == OP_store;
		EXPECT(stores == 2);
	}
}

/* A read of a slot after a store into it must not land in the storing
 * loop: the group closes and the reader starts its own. */
static void test_fuse_reread(void)
{
	int64_t w[] = { 4, 4 };
	TestModel t = test_model(1, w);
	Fn *fn = ir_fn("update");
	Node *p = ir_param(fn, t.m, t.w[0], L);
	Node *e = ir_unary(fn, OP_exp, p, L);
	ir_store(fn, t.w[0], e, L);
	Node *again = ir_param(fn, t.m, t.w[0], L);
	ir_store(fn, t.gw[0], ir_binary(fn, OP_add, e, again, L), L);
	run_passes(t.m, fn);
	EXPECT(fn->ngroup == 2);
	EXPECT(e->buf >= 0);
}

int main(void)
{
	test_simplify_algebra();
	test_simplify_layout();
	test_cse();
	test_dce();
	test_fuse_dense();
	test_fuse_split();
	test_fuse_update();
	test_fuse_reread();
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
