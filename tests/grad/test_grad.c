/* test_grad.c — gradient checks of grad(): every op's VJP, run on the
 * reference interpreter in double precision, against central finite
 * differences of the loss; then the optimizer updates of optim() against
 * the formulas written out by hand, the update's listing, a verifier rule
 * no listing can state, and the passes keeping what the interpreter
 * computes.  (What a listing can say — the backward lines and their
 * provenance, the verifier's rules — is tested as IR text in tests/ir.)
 *
 * Each case builds a forward function y = f(params, inputs); the test
 * adds loss = sum(y * r) with r a random input of y's shape, so every
 * element of the Jacobian is weighed by a different number.  Each case's
 * loss is differentiated twice as well (hessian.c): the ops a backward
 * pass is written in have VJPs of their own. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ir.h"
#include "interp.h"
#include "hessian.h"

enum { BATCH = 3, BD = -1 };   /* BD: the batch dimension in sh() */

/* shape_of with int arguments (shape_of reads int64_t varargs). */
static Shape sh(int rank, ...)
{
	Shape s = { .rank = rank };
	va_list ap;
	va_start(ap, rank);
	for (int i = 0; i < rank; i++) {
		int d = va_arg(ap, int);
		s.d[i] = d == BD ? DIM_BATCH : d;
	}
	va_end(ap);
	return s;
}

static int failures;
static uint64_t rng_state = 88172645463325252ull;

static double uniform(double lo, double hi)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return lo + (hi - lo) * (double)(rng_state >> 11) / 9007199254740992.0;
}

/* How a slot is filled: uniform in [lo, hi), kept at least `gap` away
 * from 0 so no finite difference straddles a kink. */
typedef struct Fill { double lo, hi, gap; } Fill;
typedef struct Case {
	const char *name;
	Module *m;
	Fn *fn;
	Fill fill[32];       /* by slot */
	Loc loc;
} Case;

static Loc here(const char *what)
{
	return (Loc){ "test.nn", 1, 1, 1 + (int)strlen(what) * 0 };
}

static Node *param(Case *c, const char *name, Shape s, double lo, double hi, double gap)
{
	int slot = ir_slot(c->m, name, SLOT_PARAM, DT_F64, s, here(name));
	c->fill[slot] = (Fill){ lo, hi, gap };
	return ir_param(c->fn, c->m, slot, here(name));
}

static Node *input(Case *c, const char *name, SlotRole role, DType dt, Shape s, double lo, double hi)
{
	int slot = ir_slot(c->m, name, role, dt, s, here(name));
	c->fill[slot] = (Fill){ lo, hi, 0 };
	return ir_input(c->fn, c->m, slot, here(name));
}

static Node *scalar(Case *c, double v, Shape s)
{
	return ir_broadcast(c->fn, ir_const(c->fn, DT_F64, v, c->loc), s, c->loc);
}

static void begin(Case *c, const char *name)
{
	memset(c, 0, sizeof *c);
	c->name = name;
	c->m = ir_module();
	c->m->precision = DT_F64;
	c->fn = ir_fn("eval");
	c->loc = here(name);
}

/* loss = sum(y * r) as a scalar; y is also stored as the model output. */
static void finish(Case *c, Node *y)
{
	Fn *fn = c->fn;
	Node *r = input(c, "r", SLOT_INPUT, DT_F64, y->shape, -1, 1);
	Node *p = ir_binary(fn, OP_mul, y, r, c->loc);
	uint32_t all = (1u << y->shape.rank) - 1;
	Node *s = all ? ir_reduce(fn, OP_sum, p, all, c->loc) : p;
	Node *loss = ir_reshape(fn, s, (Shape){ 0 }, c->loc);
	int ls = ir_slot(c->m, "loss", SLOT_LOSS, DT_F64, (Shape){ 0 }, c->loc);
	int os = ir_slot(c->m, "out", SLOT_OUTPUT, DT_F64, y->shape, c->loc);
	ir_store(fn, ls, loss, c->loc);
	ir_store(fn, os, y, c->loc);
	c->m->fwd = fn;
}

static int slot_named(const Module *m, const char *name)
{
	for (int i = 0; i < m->nslot; i++)
		if (strcmp(m->slot[i].name, name) == 0)
			return i;
	return -1;
}

static void fill_slots(const Case *c, double **val, int nslot)
{
	for (int s = 0; s < nslot; s++) {
		const Fill *f = &c->fill[s];
		int64_t n = shape_numel(c->m->slot[s].shape, BATCH);
		for (int64_t i = 0; i < n; i++) {
			double v = uniform(f->lo, f->hi);
			if (c->m->slot[s].dt == DT_I32)
				v = floor(v);
			else if (fabs(v) < f->gap)
				v = v < 0 ? -f->gap : f->gap;
			val[s][i] = v;
		}
	}
}

static double loss_of(const Module *m, double **val)
{
	interp_run(m, m->fwd, val, BATCH, 0);
	return val[slot_named(m, "loss")][0];
}

static void fail(const char *name, const char *fmt, const char *what, int64_t i, double a, double b)
{
	fprintf(stderr, "FAIL %s: ", name);
	fprintf(stderr, fmt, what, (long long)i, a, b);
	fputc('\n', stderr);
	failures++;
}

/* Every element of every parameter: the gradient grad() computed, against
 * (L(p + h) - L(p - h)) / 2h.  `zero` names a parameter whose gradient
 * must be exactly 0 however the loss moves (stop_gradient). */
static void check(Case *c, const char *zero)
{
	Module *m = c->m;
	int nslot = m->nslot;
	Fn *g = grad(m, m->fwd);
	const char *bad = ir_verify(m, g);
	if (bad) {
		fprintf(stderr, "FAIL %s: ir_verify(grad): %s\n", c->name, bad);
		failures++;
		return;
	}
	double **val = interp_slots(m, BATCH);
	fill_slots(c, val, nslot);
	interp_run(m, g, val, BATCH, 0);
	double worst = 0;
	for (int s = 0; s < nslot; s++) {
		if (m->slot[s].role != SLOT_PARAM)
			continue;
		const double *dg = val[slot_named(m, xprintf("%s.grad", m->slot[s].name))];
		int64_t n = shape_numel(m->slot[s].shape, BATCH);
		for (int64_t i = 0; i < n; i++) {
			if (zero && strcmp(zero, m->slot[s].name) == 0) {
				if (dg[i] != 0)
					fail(c->name, "%s[%lld] gradient %g, expected 0 %g", m->slot[s].name, i, dg[i], 0);
				continue;
			}
			double keep = val[s][i], h = 1e-5;
			val[s][i] = keep + h;
			double up = loss_of(m, val);
			val[s][i] = keep - h;
			double down = loss_of(m, val);
			val[s][i] = keep;
			double fd = (up - down) / (2 * h);
			double scale = fmax(fmax(fabs(fd), fabs(dg[i])), 1e-3);
			double err = fabs(fd - dg[i]) / scale;
			worst = fmax(worst, err);
			if (!(err <= 1e-6))
				fail(c->name, "%s[%lld] autodiff %.12g, finite differences %.12g",
				     m->slot[s].name, i, dg[i], fd);
		}
	}
	Module allocated = *m;   /* the second-order check adds slots */
	double second = zero ? 0 : check_hvp(c->name, m, val, BATCH, &failures);
	printf("%-22s worst relative error %.2e, of H v %.2e\n", c->name, worst, second);
	interp_free_slots(&allocated, val);
}

/* ---- one case per op ---- */

/* Every differentiable elementwise op of ops.def with nin operands, so a
 * new row is checked against finite differences without a new line here. */
static int elem_ops(int nin, Op *ops)
{
	int n = 0;
	for (int op = 0; op < OP__COUNT; op++)
		if (op_info[op].kind == K_ELEM && op_info[op].nin == nin && op != OP_select_mode &&
		    !(op_info[op].flags & F_NODIFF))
			ops[n++] = (Op)op;
	return n;
}

static void test_unary(void)
{
	Op ops[OP__COUNT];
	for (int i = 0, n = elem_ops(1, ops); i < n; i++) {
		Case c;
		Op op = ops[i];
		begin(&c, op_info[op].name);
		int positive = op == OP_log || op == OP_sqrt;
		Node *p = param(&c, "p", sh(2, 2, 3), positive ? 0.2 : -2, 2, 0.05);
		Node *y = ir_unary(c.fn, op, p, c.loc);
		y->f = op == OP_elu ? 0.7 : 0.1;
		finish(&c, y);
		check(&c, NULL);
	}
}

static void test_binary(void)
{
	Op ops[OP__COUNT];
	for (int i = 0, n = elem_ops(2, ops); i < n; i++) {
		Case c;
		begin(&c, op_info[ops[i]].name);
		Node *a = param(&c, "a", sh(2, 2, 3), ops[i] == OP_pow ? 0.3 : -2, 2, 0.1);
		Node *b = param(&c, "b", sh(2, 2, 3), 0.3, 2, 0.1);
		finish(&c, ir_binary(c.fn, ops[i], a, b, c.loc));
		check(&c, NULL);
	}
	/* Three operands: the first in [-2, 2] away from 0 (where's condition
	 * picks both branches), then [-1, -0.2] and [0.2, 1] (clip's bounds). */
	for (int i = 0, n = elem_ops(3, ops); i < n; i++) {
		Case c;
		begin(&c, op_info[ops[i]].name);
		Node *in[3] = { param(&c, "a", sh(2, 2, 3), -2, 2, 0.1), param(&c, "b", sh(2, 2, 3), -1, -0.2, 0.05),
		                param(&c, "c", sh(2, 2, 3), 0.2, 1, 0.05) };
		finish(&c, ir_elem(c.fn, ops[i], 3, in, c.loc));
		check(&c, NULL);
	}
	/* A value used twice: the gradients of both uses add. */
	Case c;
	begin(&c, "mul(a, a)");
	Node *a = param(&c, "a", sh(1, 4), -2, 2, 0);
	finish(&c, ir_binary(c.fn, OP_mul, a, a, c.loc));
	check(&c, NULL);
}

/* pow with a constant exponent: no d/dc is written, so a negative base
 * never meets log(). */
static void test_pow_const(void)
{
	Case c;
	begin(&c, "pow(a, 3)");
	Node *a = param(&c, "a", sh(2, 2, 3), -2, 2, 0.1);
	finish(&c, ir_binary(c.fn, OP_pow, a, scalar(&c, 3, a->shape), c.loc));
	check(&c, NULL);
	begin(&c, "pow(2, b) scalar b");
	Node *b = param(&c, "b", (Shape){ 0 }, -1, 1, 0);
	Shape s = sh(2, 2, 3);
	finish(&c, ir_binary(c.fn, OP_pow, scalar(&c, 2, s), ir_broadcast(c.fn, b, s, c.loc), c.loc));
	check(&c, NULL);
}

static void test_broadcast(void)
{
	Case c;
	begin(&c, "broadcast [3]->[B,3]");
	Node *b = param(&c, "b", sh(1, 3), -1, 1, 0);
	finish(&c, ir_broadcast(c.fn, b, sh(2, BD, 3), c.loc));
	check(&c, NULL);
	begin(&c, "broadcast [2,1]->[2,3]");
	b = param(&c, "b", sh(2, 2, 1), -1, 1, 0);
	finish(&c, ir_broadcast(c.fn, b, sh(2, 2, 3), c.loc));
	check(&c, NULL);
	begin(&c, "broadcast []->[2,B,3]");
	b = param(&c, "b", (Shape){ 0 }, -1, 1, 0);
	finish(&c, ir_broadcast(c.fn, b, sh(3, 2, BD, 3), c.loc));
	check(&c, NULL);
	begin(&c, "broadcast [1,3]->[4,2,3]");
	b = param(&c, "b", sh(2, 1, 3), -1, 1, 0);
	finish(&c, ir_broadcast(c.fn, b, sh(3, 4, 2, 3), c.loc));
	check(&c, NULL);
}

static void test_reduce(void)
{
	static const struct { Op op; uint32_t axes; const char *name; } r[] = {
		{ OP_sum, 1, "sum axes=0" }, { OP_sum, 6, "sum axes=1,2" },
		{ OP_amax, 2, "amax axes=1" }, { OP_amax, 7, "amax axes=0,1,2" },
	};
	for (size_t i = 0; i < sizeof r / sizeof *r; i++) {
		Case c;
		begin(&c, r[i].name);
		Node *p = param(&c, "p", sh(3, 2, 3, 4), -2, 2, 0);
		Node *y = ir_reduce(c.fn, r[i].op, p, r[i].axes, c.loc);
		finish(&c, ir_unary(c.fn, OP_tanh, y, c.loc));
		check(&c, NULL);
	}
}

/* Ties in amax share the gradient: d sum(amax(p))/dp is 1/k for each of
 * the k tied maxima, as torch.amax gives. */
static void test_amax_ties(void)
{
	Case c;
	begin(&c, "amax ties");
	Node *p = param(&c, "p", sh(1, 4), 0, 0, 0);
	Node *y = ir_reduce(c.fn, OP_amax, p, 1, c.loc);
	finish(&c, y);
	Module *m = c.m;
	grad(m, m->fwd);
	double **val = interp_slots(m, BATCH);
	double want[4] = { 0.5, 0, 0.5, 0 }, in[4] = { 3, 1, 3, 2 };
	memcpy(val[slot_named(m, "p")], in, sizeof in);
	val[slot_named(m, "r")][0] = 1;
	interp_run(m, m->grad, val, BATCH, 0);
	const double *dg = val[slot_named(m, "p.grad")];
	for (int i = 0; i < 4; i++)
		if (dg[i] != want[i])
			fail(c.name, "%s[%lld] gradient %g, expected %g", "p", i, dg[i], want[i]);
	interp_free_slots(m, val);
}

/* softmax along the last axis, its VJP y (g - sum(g y)) against finite
 * differences; then a row masked out entirely (-inf everywhere): weights
 * 0, not NaN, and a gradient of 0 into it, beside an ordinary row. */
static void test_softmax(void)
{
	Case c;
	begin(&c, "softmax [2,B,5]");
	Node *p = param(&c, "p", sh(3, 2, BD, 5), -3, 3, 0);
	finish(&c, ir_softmax(c.fn, p, c.loc));
	check(&c, NULL);

	begin(&c, "softmax of a masked row");
	p = param(&c, "p", sh(2, 2, 3), 0, 0, 0);
	finish(&c, ir_softmax(c.fn, p, c.loc));
	Module *m = c.m;
	grad(m, m->fwd);
	double **val = interp_slots(m, BATCH);
	double in[6] = { -INFINITY, -INFINITY, -INFINITY, 0, log(2), -INFINITY }, r[6] = { 1, 2, 3, 1, -1, 5 };
	double want_y[6] = { 0, 0, 0, 1.0 / 3, 2.0 / 3, 0 };
	double want_g[6] = { 0, 0, 0, 4.0 / 9, -4.0 / 9, 0 };   /* y (r - sum(r y)), sum(r y) = -1/3 */
	memcpy(val[slot_named(m, "p")], in, sizeof in);
	memcpy(val[slot_named(m, "r")], r, sizeof r);
	interp_run(m, m->fwd, val, BATCH, 0);
	interp_run(m, m->grad, val, BATCH, 0);
	const double *y = val[slot_named(m, "out")], *dg = val[slot_named(m, "p.grad")];
	for (int i = 0; i < 6; i++) {
		if (fabs(y[i] - want_y[i]) > 1e-15)
			fail(c.name, "%s[%lld] weight %g, expected %g", "p", i, y[i], want_y[i]);
		if (fabs(dg[i] - want_g[i]) > 1e-15)
			fail(c.name, "%s[%lld] gradient %g, expected %g", "p", i, dg[i], want_g[i]);
	}
	interp_free_slots(m, val);
}

static void test_matmul(void)
{
	for (int ta = 0; ta < 2; ta++)
		for (int tb = 0; tb < 2; tb++) {
			Case c;
			begin(&c, xprintf("matmul ta=%d tb=%d", ta, tb));
			Node *a = param(&c, "a", ta ? sh(2, 4, 2) : sh(2, 2, 4), -1, 1, 0);
			Node *b = param(&c, "b", tb ? sh(2, 3, 4) : sh(2, 4, 3), -1, 1, 0);
			finish(&c, ir_matmul(c.fn, a, b, ta, tb, c.loc));
			check(&c, NULL);
		}
	Case c;
	begin(&c, "matmul x W, x batched");
	Node *x = input(&c, "x", SLOT_INPUT, DT_F64, sh(2, BD, 4), -1, 1);
	Node *w = param(&c, "W", sh(2, 4, 3), -1, 1, 0);
	finish(&c, ir_matmul(c.fn, x, w, 0, 0, c.loc));
	check(&c, NULL);
}

static void test_layout(void)
{
	Case c;
	begin(&c, "reshape [2,3]->[3,2]");
	Node *p = param(&c, "p", sh(2, 2, 3), -1, 1, 0);
	Node *y = ir_reshape(c.fn, p, sh(2, 3, 2), c.loc);
	finish(&c, ir_binary(c.fn, OP_mul, y, y, c.loc));
	check(&c, NULL);
	begin(&c, "transpose (2,0,1)");
	p = param(&c, "p", sh(3, 2, 3, 4), -1, 1, 0);
	int perm[3] = { 2, 0, 1 };
	y = ir_transpose(c.fn, p, perm, c.loc);
	finish(&c, ir_unary(c.fn, OP_sigmoid, y, c.loc));
	check(&c, NULL);
}

/* Ops without a gradient: the finite differences of a piecewise constant
 * function are 0 away from its jumps, and stop_gradient cuts on purpose. */
static void test_nodiff(void)
{
	static const Op ops[] = { OP_step, OP_sign };
	for (size_t i = 0; i < 2; i++) {
		Case c;
		begin(&c, xprintf("p * %s(p)", op_info[ops[i]].name));
		Node *p = param(&c, "p", sh(2, 2, 3), -2, 2, 0.1);
		finish(&c, ir_binary(c.fn, OP_mul, p, ir_unary(c.fn, ops[i], p, c.loc), c.loc));
		check(&c, NULL);
	}
	Case c;
	begin(&c, "p * eq(p, p)");
	Node *p = param(&c, "p", sh(1, 5), -2, 2, 0);
	finish(&c, ir_binary(c.fn, OP_mul, p, ir_binary(c.fn, OP_eq, p, p, c.loc), c.loc));
	check(&c, NULL);

	begin(&c, "p + stop_gradient(q)");
	p = param(&c, "p", sh(1, 5), -2, 2, 0);
	Node *q = param(&c, "q", sh(1, 5), -2, 2, 0);
	finish(&c, ir_binary(c.fn, OP_add, p, ir_unary(c.fn, OP_stop_gradient, q, c.loc), c.loc));
	check(&c, "q");

	begin(&c, "W[:, labels] / batch");
	Node *w = param(&c, "W", sh(1, 3), -1, 1, 0);
	Node *lab = input(&c, "y", SLOT_TARGET, DT_I32, sh(1, BD), 0, 3);
	Node *oh = ir_onehot(c.fn, lab, 3, DT_F64, c.loc);
	Shape s = oh->shape;
	Node *y = ir_binary(c.fn, OP_mul, ir_broadcast(c.fn, w, s, c.loc), oh, c.loc);
	Node *bs = ir_broadcast(c.fn, ir_batch(c.fn, DT_F64, c.loc), s, c.loc);
	finish(&c, ir_binary(c.fn, OP_div, y, bs, c.loc));
	check(&c, NULL);
}

/* A 2-layer MLP with a tied weight, cross-entropy written as the
 * elaborator writes it (max-shifted log-sum-exp), mean over the batch. */
static void test_mlp(void)
{
	Case c;
	begin(&c, "mlp + cross_entropy");
	Fn *fn = c.fn;
	Loc l = c.loc;
	Node *x = input(&c, "x", SLOT_INPUT, DT_F64, sh(2, BD, 4), -1, 1);
	Node *lab = input(&c, "y", SLOT_TARGET, DT_I32, sh(1, BD), 0, 3);
	Node *w1 = param(&c, "W1", sh(2, 4, 5), -1, 1, 0);
	Node *b1 = param(&c, "b1", sh(1, 5), -1, 1, 0);
	Node *w2 = param(&c, "W2", sh(2, 5, 3), -1, 1, 0);
	Node *b2 = param(&c, "b2", sh(1, 3), -1, 1, 0);
	Node *h = ir_matmul(fn, x, w1, 0, 0, l);
	h = ir_unary(fn, OP_tanh, ir_binary(fn, OP_add, h, ir_broadcast(fn, b1, h->shape, l), l), l);
	Node *z = ir_matmul(fn, h, w2, 0, 0, l);
	z = ir_binary(fn, OP_add, z, ir_broadcast(fn, b2, z->shape, l), l);
	Node *mx = ir_broadcast(fn, ir_reduce(fn, OP_amax, z, 2, l), z->shape, l);
	Node *e = ir_unary(fn, OP_exp, ir_binary(fn, OP_sub, z, mx, l), l);
	Node *lse = ir_unary(fn, OP_log, ir_reduce(fn, OP_sum, e, 2, l), l);
	lse = ir_binary(fn, OP_add, lse, ir_reduce(fn, OP_amax, z, 2, l), l);
	Node *oh = ir_onehot(fn, lab, 3, DT_F64, l);
	Node *picked = ir_reduce(fn, OP_sum, ir_binary(fn, OP_mul, z, oh, l), 2, l);
	Node *nll = ir_binary(fn, OP_sub, lse, picked, l);
	Node *mean = ir_binary(fn, OP_div, nll, ir_broadcast(fn, ir_batch(fn, DT_F64, l), nll->shape, l), l);
	finish(&c, mean);
	check(&c, NULL);
}

/* A parameter the loss does not read gets a zero gradient (and a warning
 * on stderr); one read twice gets the sum of both uses. */
static void test_params(void)
{
	Case c;
	begin(&c, "unused and tied params");
	Node *x = input(&c, "x", SLOT_INPUT, DT_F64, sh(2, BD, 3), -1, 1);
	param(&c, "unused", sh(1, 2), -1, 1, 0);
	Node *w = param(&c, "W", sh(2, 3, 3), -1, 1, 0);
	Node *h = ir_unary(c.fn, OP_tanh, ir_matmul(c.fn, x, w, 0, 0, c.loc), c.loc);
	Node *w2 = ir_param(c.fn, c.m, w->slot, c.loc);
	finish(&c, ir_matmul(c.fn, h, w2, 0, 1, c.loc));
	check(&c, NULL);
}

/* The ops a backward pass is written in beyond the elementwise ones, each
 * squared so that its second derivative (hessian.c) is not zero. */
static void test_adjoints(void)
{
	Case c;
	begin(&c, "window, unwindow");
	Node *p = param(&c, "p", sh(4, BD, 4, 3, 2), -1, 1, 0);
	Node *w = ir_window(c.fn, p, (nnrt_window){ 3, 2, 1, 1, 1, 0, 1, 1 }, 0, c.loc);
	Node *y = ir_unwindow(c.fn, ir_binary(c.fn, OP_mul, w, w, c.loc), p->shape, w->win, c.loc);
	finish(&c, ir_unary(c.fn, OP_tanh, y, c.loc));
	check(&c, NULL);
	begin(&c, "slice, unslice, boxsum");
	p = param(&c, "p", sh(2, 4, 5), -1, 1, 0);
	Node *part = ir_slice(c.fn, p, 0, 1, 2, c.loc);
	y = ir_unslice(c.fn, ir_binary(c.fn, OP_mul, part, part, c.loc), p->shape, 0, 1, c.loc);
	y = ir_boxsum(c.fn, ir_binary(c.fn, OP_mul, y, p, c.loc), 3, c.loc);
	finish(&c, ir_unary(c.fn, OP_tanh, y, c.loc));
	check(&c, NULL);
	begin(&c, "gather, scatter_add");
	Node *table = param(&c, "T", sh(2, 5, 3), -1, 1, 0);
	Node *ids = input(&c, "ids", SLOT_INPUT, DT_I32, sh(2, BD, 2), 0, 5);
	Node *rows = ir_gather(c.fn, table, ids, c.loc);
	y = ir_scatter_add(c.fn, ir_binary(c.fn, OP_mul, rows, rows, c.loc), ids, table->shape, c.loc);
	finish(&c, ir_unary(c.fn, OP_tanh, ir_binary(c.fn, OP_mul, y, table, c.loc), c.loc));
	check(&c, NULL);
}

/* ---- optimizers: two steps of update, against the formulas by hand ---- */

typedef struct Hand { double w, v, m2; } Hand;   /* one element: W, momentum or m, Adam's v */

static double hand_step(const Config *c, Hand *h, double g, double lr, int t)
{
	int adamw = c->optimizer == NNRT_OPT_ADAMW;
	if (!adamw)
		g += c->weight_decay * h->w;
	if (c->optimizer == NNRT_OPT_SGD) {
		if (c->momentum == 0)
			return h->w -= lr * g;
		h->v = c->momentum * h->v + g;
		return h->w -= lr * (c->nesterov ? g + c->momentum * h->v : h->v);
	}
	h->v = c->beta1 * h->v + (1 - c->beta1) * g;
	h->m2 = c->beta2 * h->m2 + (1 - c->beta2) * g * g;
	double mhat = h->v / (1 - pow(c->beta1, t)), vhat = h->m2 / (1 - pow(c->beta2, t));
	if (adamw)
		h->w -= lr * c->weight_decay * h->w;
	return h->w -= lr * mhat / (sqrt(vhat) + c->eps);
}

static void check_optimizer(const char *name, Config cfg)
{
	Module *m = ir_module();
	m->precision = DT_F64;
	m->cfg = cfg;
	int w = ir_slot(m, "W", SLOT_PARAM, DT_F64, sh(2, 2, 3), here("W"));
	int g = ir_slot(m, "W.grad", SLOT_GRAD, DT_F64, sh(2, 2, 3), here("W"));
	m->slot[g].of = w;
	Fn *fn = optim(m);
	const char *bad = ir_verify(m, fn);
	if (bad) {
		fprintf(stderr, "FAIL %s: ir_verify(update): %s\n", name, bad);
		failures++;
		return;
	}
	double **val = interp_slots(m, 1);
	Hand h[6];
	for (int i = 0; i < 6; i++)
		h[i] = (Hand){ val[w][i] = uniform(-1, 1), 0, 0 };
	double worst = 0;
	for (int t = 1; t <= 3; t++) {
		double lr = 0.1 / t;
		val[slot_named(m, "lr")][0] = lr;
		val[slot_named(m, "step")][0] = t;
		for (int i = 0; i < 6; i++)
			val[g][i] = uniform(-1, 1);
		interp_run(m, fn, val, 1, 0);
		for (int i = 0; i < 6; i++) {
			double want = hand_step(&cfg, &h[i], val[g][i], lr, t);
			worst = fmax(worst, fabs(val[w][i] - want));
			if (fabs(val[w][i] - want) > 1e-12)
				fail(name, "%s[%lld] updated to %.15g, expected %.15g", "W", i, val[w][i], want);
		}
	}
	printf("%-22s worst absolute error %.2e\n", name, worst);
	interp_free_slots(m, val);
}

static void test_optimizers(void)
{
	Config c = { .optimizer = NNRT_OPT_SGD, .lr = 0.1, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8 };
	check_optimizer("sgd", c);
	c.momentum = 0.9;
	check_optimizer("sgd momentum", c);
	c.nesterov = 1;
	c.weight_decay = 0.01;
	check_optimizer("sgd nesterov wd", c);
	c = (Config){ .optimizer = NNRT_OPT_ADAM, .lr = 0.1, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8 };
	check_optimizer("adam", c);
	c.weight_decay = 0.05;
	check_optimizer("adam wd", c);
	c.optimizer = NNRT_OPT_ADAMW;
	check_optimizer("adamw", c);
}

/* A value beside the sigmoid's node, as a tracer would put it; the
 * context it is handed is the one the options carry. */
static const char *sigmoid_value(void *ctx, const Fn *fn, const Node *n)
{
	(void)fn;
	++*(int *)ctx;
	return n->op == OP_sigmoid ? "data \"0.5\"\nmin 0.25" : NULL;
}

/* The update follows the listing under its title, and the drawing colours
 * the backward edges and adds what DotOptions.extra gives beside a node.  (The backward lines themselves, each naming its
 * forward line and rule, are an IR text test: tests/ir/grad-listing.ir.
 * The optimizer needs a training configuration, which a listing lacks.) */
static void test_listing(void)
{
	Case c;
	begin(&c, "listing");
	Node *x = input(&c, "x", SLOT_INPUT, DT_F64, sh(2, BD, 4), -1, 1);
	Node *w = param(&c, "W", sh(2, 4, 3), -1, 1, 0);
	Node *y = ir_unary(c.fn, OP_sigmoid, ir_matmul(c.fn, x, w, 0, 0, c.loc), c.loc);
	finish(&c, y);
	grad(c.m, c.m->fwd);
	c.m->cfg = (Config){ .optimizer = NNRT_OPT_SGD, .lr = 0.5, .momentum = 0.9 };
	optim(c.m);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ir_print_module(f, c.m, "grad");
	int asked = 0;
	ir_dot(f, c.m, &(DotOptions){ .depth = -1, .extra = sigmoid_value, .ctx = &asked });
	fclose(f);
	if (asked < c.m->grad->n + c.m->update->n) {
		fprintf(stderr, "FAIL listing: DotOptions.extra asked of %d nodes, not all %d\n", asked,
		        c.m->grad->n + c.m->update->n);
		failures++;
	}
	static const char *const want[] = {
		"; update: sgd(lr, momentum 0.9)", "-> W.momentum", "store %", "digraph nnc", "color=red",
		" sigmoid\\nf64[B,3]\\n", "\\ndata \\\"0.5\\\"\\nmin 0.25\"",
	};
	for (size_t i = 0; i < sizeof want / sizeof *want; i++)
		if (!strstr(text, want[i])) {
			fprintf(stderr, "FAIL listing: missing \"%s\" in\n%s", want[i], text);
			failures++;
		}
	free(text);
}

/* ---- the verifier rejects what breaks a rule ---- */

static void expect_rejected(const char *what, const Module *m, const Fn *fn, const char *needle)
{
	const char *why = ir_verify(m, fn);
	if (!why || !strstr(why, needle)) {
		fprintf(stderr, "FAIL verify %s: got \"%s\", expected a message with \"%s\"\n",
		        what, why ? why : "(accepted)", needle);
		failures++;
	}
}

/* The rules of ir_verify are IR text tests (tests/ir/verify.ir), but one
 * needs a plan no listing can state: a buffer smaller than its value
 * (the reader sizes buffers by their values). */
static void test_verify(void)
{
	Case c;
	begin(&c, "verify");
	Node *x = input(&c, "x", SLOT_INPUT, DT_F64, sh(2, BD, 3), -1, 1);
	Node *w = param(&c, "W", sh(2, 3, 2), -1, 1, 0);
	Node *y = ir_matmul(c.fn, x, w, 0, 0, c.loc);
	finish(&c, ir_unary(c.fn, OP_tanh, y, c.loc));
	Module *m = c.m;
	Fn *fn = m->fwd;
	Buffer buf[1] = { { 0, 64, 1 } };
	fn->buf = buf;
	fn->nbuf = 1;
	fn->scratch_per_sample = 64;
	y->buf = 0;
	if (ir_verify(m, fn)) {
		fprintf(stderr, "FAIL verify: a valid plan rejected: %s\n", ir_verify(m, fn));
		failures++;
	}
	buf[0].size = 8;
	expect_rejected("small buffer", m, fn, "holds 8 bytes");
}

/* The whole middle on a real training step: the passes keep what the
 * interpreter computes, the verifier accepts each result, and the
 * optimized listing shows groups, buffers and the memory plan. */
static void test_after_passes(void)
{
	Case c;
	begin(&c, "after passes");
	Fn *fn = c.fn;
	Loc l = c.loc;
	Node *x = input(&c, "x", SLOT_INPUT, DT_F64, sh(2, BD, 4), -1, 1);
	Node *w1 = param(&c, "W1", sh(2, 4, 5), -1, 1, 0);
	Node *b1 = param(&c, "b1", sh(1, 5), -1, 1, 0);
	Node *h = ir_matmul(fn, x, w1, 0, 0, l);
	h = ir_unary(fn, OP_sigmoid, ir_binary(fn, OP_add, h, ir_broadcast(fn, b1, h->shape, l), l), l);
	finish(&c, ir_unary(fn, OP_softplus, h, l));
	Module *m = c.m;
	m->cfg = (Config){ .optimizer = NNRT_OPT_ADAM, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8 };
	int nslot = m->nslot;
	grad(m, m->fwd);
	optim(m);
	double **before = interp_slots(m, BATCH), **after = interp_slots(m, BATCH);
	fill_slots(&c, before, nslot);
	for (int s = 0; s < m->nslot; s++)
		memcpy(after[s], before[s], sizeof(double) * (size_t)shape_numel(m->slot[s].shape, BATCH));
	before[slot_named(m, "lr")][0] = after[slot_named(m, "lr")][0] = 0.01;
	before[slot_named(m, "step")][0] = after[slot_named(m, "step")][0] = 1;
	interp_run(m, m->grad, before, BATCH, 0);
	interp_run(m, m->update, before, BATCH, 0);
	Pipeline p = { .from = "simplify", .to = "plan", .verify = 1 };   /* on grad and update */
	pipeline_run(&p, m);
	interp_run(m, m->grad, after, BATCH, 0);
	interp_run(m, m->update, after, BATCH, 0);
	for (int s = 0; s < m->nslot; s++)
		for (int64_t i = 0; i < shape_numel(m->slot[s].shape, BATCH); i++)
			if (fabs(before[s][i] - after[s][i]) > 1e-12 * fmax(1, fabs(before[s][i])))
				fail(c.name, "%s[%lld] %.15g before the passes, %.15g after",
				     m->slot[s].name, i, before[s][i], after[s][i]);
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ir_print_module(f, m, "opt");
	fclose(f);
	if (!strstr(text, "; memory plan: scratch") || !strstr(text, " g0") || !strstr(text, " buf0@+"))
		fprintf(stderr, "FAIL after passes: the listing lacks the plan\n%s", text), failures++;
	free(text);
	interp_free_slots(m, before);
	interp_free_slots(m, after);
}

int main(void)
{
	test_unary();
	test_binary();
	test_pow_const();
	test_broadcast();
	test_reduce();
	test_amax_ties();
	test_softmax();
	test_matmul();
	test_layout();
	test_nodiff();
	test_mlp();
	test_params();
	test_adjoints();
	test_optimizers();
	test_listing();
	test_verify();
	test_after_passes();
	if (failures) {
		fprintf(stderr, "%d gradient check(s) failed\n", failures);
		return 1;
	}
	printf("all gradient checks passed\n");
	return 0;
}
