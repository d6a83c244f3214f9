/* lower_builtins.c — the builtin functions and initializers of the language.
 *
 * Each builtin lowers to ops of ops.def only.  Composite ones (mean,
 * log_softmax, the losses) are spelled out in primitive ops here, so
 * autodiff needs no rule of its own for them; the max subtracted for a
 * stable log_softmax goes through stop_gradient, which leaves the
 * gradient exact (it is invariant to the shift).  softmax is its own op
 * (three passes over a row where its primitives made six over the
 * tensor, in attention's largest one); along another axis than the last
 * it is transposed there and back, and along B it stays primitives. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "lower.h"

typedef struct Builtin Builtin;
enum { MAX_BUILTIN_ARGS = 6 };
typedef Value Handler(Ctx *c, const Expr *call, Value *arg, const Builtin *b);

struct Builtin {
	const char *name;
	const char *param[MAX_BUILTIN_ARGS + 1];   /* NULL-terminated */
	int nreq;               /* the first nreq parameters are required */
	Handler *fn;
	Op op;                  /* elementwise builtins; reductions: sum or amax */
	InitKind init;          /* initializers */
	Value (*impl)(Ctx *c, const Expr *call, Value *arg);   /* external builtins */
};

static double elem_alpha[OP__COUNT];   /* elementwise builtins: Node.f's default */

/* ---- helpers ---------------------------------------------------------- */

static Node *scalar(Ctx *c, DType dt, double v, Loc loc) { return ir_const(c->fn, dt, v, loc); }

static Node *mul(Ctx *c, Node *a, Node *b, Loc loc) { return binary_bcast(c, OP_mul, a, b, "*", loc); }

static Node *float_tensor(Ctx *c, const Value *v, const char *what)
{
	Node *t = need_tensor(c, v, what);
	if (t->dt == DT_I32)
		error_at(v->loc, "%s must be floating point, not %s", what, type_str(t->dt, t->shape));
	return t;
}

/* IR reductions keep reduced dims as 1; without keepdims they go away. */
static Node *reduce(Ctx *c, Op op, Node *x, uint32_t axes, int keepdims, Loc loc)
{
	Node *r = ir_reduce(c->fn, op, x, axes, loc);
	if (keepdims)
		return r;
	Shape s = { 0 };
	for (int i = 0; i < x->shape.rank; i++)
		if (!(axes & (1u << i)))
			s.d[s.rank++] = x->shape.d[i];
	return ir_reshape(c->fn, r, s, loc);
}

static uint32_t all_axes(const Node *x) { return (uint32_t)((1u << x->shape.rank) - 1); }

/* x / (number of elements in the reduced axes); B enters through ir_batch. */
static Node *divide_count(Ctx *c, Node *x, const Node *of, uint32_t axes, Loc loc)
{
	double n = 1;
	int batch = 0;
	for (int i = 0; i < of->shape.rank; i++)
		if (axes & (1u << i)) {
			if (of->shape.d[i] == DIM_BATCH)
				batch = 1;
			else
				n *= (double)of->shape.d[i];
		}
	if (n != 1)
		x = mul(c, x, scalar(c, x->dt, 1.0 / n, loc), loc);
	if (batch)
		x = binary_bcast(c, OP_div, x, ir_batch(c->fn, x->dt, loc), "/", loc);
	return x;
}

static uint32_t axis_arg(Ctx *c, const Value *axis, const Node *x, const char *fn, Loc loc)
{
	(void)c;
	if (axis->kind == V_NONE)
		return all_axes(x);
	return 1u << norm_axis(need_int(axis, "axis"), x->shape.rank, fn, axis->loc.line ? axis->loc : loc);
}

/* Every operand a number: the value op_scalar gives (the table's one
 * definition); else the op on tensors of the first tensor's float type,
 * broadcast to one shape (NumPy rules). */
static Value elementwise(Ctx *c, const Expr *call, Value *arg, const Builtin *b)
{
	int nin = op_info[b->op].nin, first = -1;
	int has_alpha = (op_info[b->op].attrs & A_ALPHA) != 0;
	double alpha = has_alpha && arg[nin].kind != V_NONE ? need_number(&arg[nin], b->param[nin]) : elem_alpha[b->op];
	for (int i = nin - 1; i >= 0; i--)
		if (arg[i].kind != V_INT && arg[i].kind != V_FLOAT)
			first = i;
	if (first < 0) {
		double v[MAXIN];
		for (int i = 0; i < nin; i++)
			v[i] = need_number(&arg[i], b->param[i]);
		double r = op_scalar(b->op, v, alpha);
		if (!isfinite(r))
			error_at(call->loc, "%s of these numbers is not a finite number", b->name);
		return (Value){ .kind = V_FLOAT, .f = r, .loc = call->loc };
	}
	Node *in[MAXIN], *t = float_tensor(c, &arg[first], xprintf("the argument '%s' of '%s'", b->param[first], b->name));
	Shape s = t->shape;
	for (int i = 0; i < nin; i++) {
		in[i] = i == first ? t : to_tensor(c, &arg[i], t->dt, arg[i].loc.line ? arg[i].loc : call->loc);
		if (in[i]->dt != t->dt)
			error_at(arg[i].loc.line ? arg[i].loc : call->loc, "'%s' of '%s' must be %s like '%s', not %s",
			         b->param[i], b->name, dtype_name(t->dt), b->param[first], type_str(in[i]->dt, in[i]->shape));
		if (!shape_broadcast(s, in[i]->shape, &s))
			error_at(call->loc, "shape mismatch in '%s': '%s' %s does not broadcast with %s", b->name,
			         b->param[i], type_str(in[i]->dt, in[i]->shape), type_str(t->dt, s));
	}
	for (int i = 0; i < nin; i++)
		in[i] = ir_broadcast(c->fn, in[i], s, call->loc);
	Node *n = ir_elem(c->fn, b->op, nin, in, call->loc);
	n->f = alpha;
	return tensor_value(n, call->loc);
}

static Value power(Ctx *c, const Expr *call, Value *arg, const Builtin *b)
{
	(void)b;
	return arith(c, 'P', arg[0], arg[1], call->loc);
}

/* gather(table, ids): row ids[i] of a [V, D] table for every id; an
 * embedding's lookup (stdlib's embedding). */
static Value gather(Ctx *c, const Expr *call, Value *arg, const Builtin *b)
{
	(void)b;
	Node *t = float_tensor(c, &arg[0], "the table of 'gather'");
	Node *ids = need_tensor(c, &arg[1], "the ids of 'gather'");
	Loc at = arg[1].loc.line ? arg[1].loc : call->loc;
	if (t->shape.rank != 2 || t->shape.d[0] == DIM_BATCH || t->shape.d[1] == DIM_BATCH)
		error_at(arg[0].loc.line ? arg[0].loc : call->loc, "gather needs a table of shape [V, D] (V rows of D "
		         "values), not %s", type_str(t->dt, t->shape));
	if (ids->dt != DT_I32)
		error_at(at, "the ids of 'gather' must be integers (i32 token or class ids), not %s",
		         type_str(ids->dt, ids->shape));
	if (ids->shape.rank >= MAXRANK)
		error_at(at, "the ids of 'gather' have rank %d; at most %d", ids->shape.rank, MAXRANK - 1);
	return tensor_value(ir_gather(c->fn, t, ids, call->loc), call->loc);
}

static Value reduction(Ctx *c, const Expr *call, Value *arg, const Builtin *b)
{
	Node *x = float_tensor(c, &arg[0], xprintf("the argument of '%s'", b->name));
	uint32_t axes = axis_arg(c, &arg[1], x, b->name, call->loc);
	int keep = arg[2].kind != V_NONE && need_int(&arg[2], "keepdims") != 0;
	if (x->shape.rank == 0)
		axes = 0;
	Node *r = ir_reduce(c->fn, b->op, x, axes, call->loc);
	if (!strcmp(b->name, "mean"))
		r = divide_count(c, r, x, axes, call->loc);
	if (!keep) {
		Shape s = { 0 };
		for (int i = 0; i < x->shape.rank; i++)
			if (!(axes & (1u << i)))
				s.d[s.rank++] = x->shape.d[i];
		r = ir_reshape(c->fn, r, s, call->loc);
		remember(&c->squeezed, &c->nsqueezed, r);
	}
	return tensor_value(r, call->loc);
}

/* z = x - stop_gradient(max(x)) along the axis: the stable shift. */
static Node *shifted(Ctx *c, Node *x, uint32_t axes, Loc loc)
{
	Node *m = ir_unary(c->fn, OP_stop_gradient, ir_reduce(c->fn, OP_amax, x, axes, loc), loc);
	return binary_bcast(c, OP_sub, x, m, "-", loc);
}

static Node *log_softmax(Ctx *c, Node *x, uint32_t axes, Loc loc)
{
	Node *z = shifted(c, x, axes, loc);
	Node *lse = ir_unary(c->fn, OP_log, ir_reduce(c->fn, OP_sum, ir_unary(c->fn, OP_exp, z, loc), axes, loc), loc);
	return binary_bcast(c, OP_sub, z, lse, "-", loc);
}

static Value softmax(Ctx *c, const Expr *call, Value *arg, const Builtin *b)
{
	Node *x = float_tensor(c, &arg[0], xprintf("the argument of '%s'", b->name));
	Value ax = arg[1].kind == V_NONE ? (Value){ .kind = V_INT, .i = -1, .loc = call->loc } : arg[1];
	uint32_t axes = axis_arg(c, &ax, x, b->name, call->loc);
	if (!strcmp(b->name, "log_softmax"))
		return tensor_value(log_softmax(c, x, axes, call->loc), call->loc);
	int r = x->shape.rank, axis = __builtin_ctz(axes), perm[MAXRANK];
	if (x->shape.d[axis] == DIM_BATCH) {   /* B is never a row of the op (shape.c): primitives */
		Node *e = ir_unary(c->fn, OP_exp, shifted(c, x, axes, call->loc), call->loc);
		Node *s = ir_reduce(c->fn, OP_sum, e, axes, call->loc);
		return tensor_value(binary_bcast(c, OP_div, e, s, "/", call->loc), call->loc);
	}
	if (axis == r - 1)
		return tensor_value(ir_softmax(c->fn, x, call->loc), call->loc);
	for (int i = 0; i < r; i++)   /* swap the axis and the last: its own inverse */
		perm[i] = i == axis ? r - 1 : i == r - 1 ? axis : i;
	Node *y = ir_softmax(c->fn, ir_transpose(c->fn, x, perm, call->loc), call->loc);
	return tensor_value(ir_transpose(c->fn, y, perm, call->loc), call->loc);
}

static Value transpose(Ctx *c, const Expr *call, Value *arg, const Builtin *b)
{
	(void)b;
	Node *x = need_tensor(c, &arg[0], "the argument of 'transpose'");
	int r = x->shape.rank, perm[MAXRANK] = { 1, 0 }, seen[MAXRANK] = { 0 };
	if (arg[1].kind == V_NONE) {
		if (r != 2)
			error_at(call->loc, "transpose(x) needs a 2-D tensor, not %s; give a permutation for others",
			         type_str(x->dt, x->shape));
	} else {
		if (arg[1].kind != V_LIST || arg[1].nitem != r)
			error_at(arg[1].loc, "transpose needs a permutation list of %d axes", r);
		for (int i = 0; i < r; i++) {
			perm[i] = norm_axis(need_int(&arg[1].item[i], "an axis"), r, "transpose", arg[1].item[i].loc);
			if (seen[perm[i]]++)
				error_at(arg[1].item[i].loc, "axis %d appears twice in the permutation", perm[i]);
		}
	}
	return tensor_value(ir_transpose(c->fn, x, perm, call->loc), call->loc);
}

/* The elements of the dimensions in front of B (all of them without B). */
static int64_t before_batch(Shape s)
{
	int64_t n = 1;
	for (int i = 0; i < s.rank && s.d[i] != DIM_BATCH; i++)
		n *= s.d[i];
	return n;
}

/* A list of dims as a shape, as in [B, 28, 28]; with `infer`, one dim
 * may be -1 (its index is returned there, the dim set to 1). */
static Shape shape_arg(const Value *l, const char *what, int *infer)
{
	if (l->kind != V_LIST || l->nitem > MAXRANK)
		error_at(l->loc, "%s needs a list of at most %d dimensions, as in [B, 28, 28]", what, MAXRANK);
	Shape s = { .rank = l->nitem };
	int64_t known = 1;
	for (int i = 0; i < l->nitem; i++) {
		const Value *d = &l->item[i];
		int batch = d->kind == V_INT && d->is_batch;
		s.d[i] = batch ? DIM_BATCH : need_int(d, "a dimension");
		for (int j = 0; batch && j < i; j++)
			if (s.d[j] == DIM_BATCH)
				error_at(d->loc, "B appears twice in the shape of %s", what);
		if (s.d[i] == -1 && !batch && infer) {
			if (*infer >= 0)
				error_at(d->loc, "only one dimension of a %s can be -1", what);
			*infer = i;
			s.d[i] = 1;
		} else if (s.d[i] != DIM_BATCH) {
			if (s.d[i] <= 0)
				error_at(d->loc, "dimension %d of a %s must be positive", i + 1, what);
			if (__builtin_mul_overflow(known, s.d[i], &known) || known > MAX_ELEMENTS)
				error_at(l->loc, "the shape of %s is too large", what);
		}
	}
	return s;
}

/* fill(shape, value): a constant tensor, e.g. the zero state of an RNN */
static Value fill(Ctx *c, const Expr *call, Value *arg, const Builtin *b)
{
	(void)b;
	Shape s = shape_arg(&arg[0], "fill", NULL);
	double v = need_number(&arg[1], "the value of 'fill'");
	Node *k = ir_const(c->fn, c->fdt, v, call->loc);
	return tensor_value(ir_broadcast(c->fn, k, s, call->loc), call->loc);
}

/* arange(n): [0, 1, ..., n-1] as floats, for positions and masks */
static Value arange(Ctx *c, const Expr *call, Value *arg, const Builtin *b)
{
	(void)b;
	int64_t n = need_int(&arg[0], "the length of 'arange'");
	if (n < 1 || n > INT32_MAX)
		error_at(arg[0].loc.line ? arg[0].loc : call->loc, "arange: the length must be in [1, 2^31), not %lld",
		         (long long)n);
	return tensor_value(ir_iota(c->fn, c->fdt, shape_of(1, n), call->loc), call->loc);
}

static Value reshape(Ctx *c, const Expr *call, Value *arg, const Builtin *b)
{
	(void)b;
	Node *x = need_tensor(c, &arg[0], "the argument of 'reshape'");
	int infer = -1;
	Shape s = shape_arg(&arg[1], "reshape", &infer);
	int64_t known = 1;
	for (int i = 0; i < s.rank; i++)
		if (s.d[i] != DIM_BATCH)
			known *= s.d[i];
	if (shape_has_batch(x->shape) != shape_has_batch(s))
		error_at(call->loc, "reshape of %s to %s: the batch dimension B must stay (and only B can hold it)",
		         type_str(x->dt, x->shape), shape_str(s));
	int64_t have = shape_per_sample(x->shape);
	if (infer >= 0) {
		if (have % known)
			error_at(call->loc, "reshape of %s: %lld elements do not divide into %s",
			         type_str(x->dt, x->shape), (long long)have, shape_str(s));
		s.d[infer] = have / known;
	}
	if (shape_per_sample(s) != have)
		error_at(call->loc, "reshape of %s to %s changes the number of elements (%lld vs %lld)",
		         type_str(x->dt, x->shape), shape_str(s), (long long)have, (long long)shape_per_sample(s));
	/* A reshape reuses the row-major memory.  Each sample keeps its own
	 * values only when as many elements lie before B on both sides; else
	 * the result would interleave samples differently for each batch size. */
	int64_t before = before_batch(x->shape), after = before_batch(s);
	if (before != after)
		error_at(call->loc, "reshape of %s to %s moves the batch dimension B: the dimensions before B "
		         "hold %lld element%s in one and %lld in the other, so samples would mix; "
		         "move B with transpose, then reshape the dimensions on either side of it",
		         type_str(x->dt, x->shape), shape_str(s), (long long)before, before == 1 ? "" : "s",
		         (long long)after);
	return tensor_value(ir_reshape(c->fn, x, check_shape(s, call->loc), call->loc), call->loc);
}

static int64_t class_count(const Value *k)
{
	int64_t n = need_int(k, "the number of classes");
	if (n < 1 || n > MAX_ELEMENTS)
		error_at(k->loc, "the number of classes must be between 1 and 2^31, not %lld", (long long)n);
	return n;
}

/* Integer labels of shape `want` (the logits' shape without the class
 * axis): a data field is bound to it, a tensor must have it. */
static Node *labels_for(Ctx *c, const Value *v, Shape want, const char *fn, Loc loc)
{
	if (v->kind == V_DATA)
		return bind_field(c, v, DT_I32, want, loc);
	Node *t = need_tensor(c, v, xprintf("the labels of '%s'", fn));
	if (t->dt != DT_I32 || !shape_equal(t->shape, want))
		error_at(v->loc, "'%s' needs integer labels %s, not %s", fn, type_str(DT_I32, want),
		         type_str(t->dt, t->shape));
	return t;
}

static Value onehot(Ctx *c, const Expr *call, Value *arg, const Builtin *b)
{
	(void)b;
	int64_t k = class_count(&arg[1]);
	Node *l = labels_for(c, &arg[0], shape_of(1, DIM_BATCH), "onehot", call->loc);
	return tensor_value(ir_onehot(c->fn, l, k, c->fdt, call->loc), call->loc);
}

/* ---- losses ----------------------------------------------------------- */

static Node *mean_all(Ctx *c, Node *x, Loc loc)
{
	Node *s = reduce(c, OP_sum, x, all_axes(x), 0, loc);
	return divide_count(c, s, x, all_axes(x), loc);
}

/* The target of mse/bce: same dtype and shape as the prediction. */
static Node *target_for(Ctx *c, const Value *v, const Node *pred, const char *fn, Loc loc)
{
	if (v->kind == V_DATA)
		return bind_field(c, v, pred->dt, pred->shape, loc);
	Node *t = float_tensor(c, v, xprintf("the target of '%s'", fn));
	if (t->dt != pred->dt || !shape_equal(t->shape, pred->shape))
		error_at(loc, "'%s': prediction %s and target %s differ", fn, type_str(pred->dt, pred->shape),
		         type_str(t->dt, t->shape));
	return t;
}

static Value mse(Ctx *c, const Expr *call, Value *arg, const Builtin *b)
{
	(void)b;
	Node *p = float_tensor(c, &arg[0], "the prediction of 'mse'");
	Node *t = target_for(c, &arg[1], p, "mse", call->loc);
	Node *d = ir_binary(c->fn, OP_sub, p, t, call->loc);
	return tensor_value(mean_all(c, ir_binary(c->fn, OP_mul, d, d, call->loc), call->loc), call->loc);
}

/* nt_xent(a, b, temperature): each sample's NT-Xent over the 2B codes of
 * two views (ops.def, nnrt_contrast.h).  A batch of one has no other
 * sample to tell its views from, so training needs two at least. */
static Value nt_xent(Ctx *c, const Expr *call, Value *arg, const Builtin *b)
{
	(void)b;
	Node *za = float_tensor(c, &arg[0], "the first view's codes of 'nt_xent'");
	Node *zb = float_tensor(c, &arg[1], "the second view's codes of 'nt_xent'");
	Shape s = za->shape;
	if (s.rank != 2 || s.d[0] != DIM_BATCH || s.d[1] == DIM_BATCH)
		error_at(call->loc, "nt_xent compares codes [B, D], one row a sample, not %s", type_str(za->dt, s));
	if (zb->dt != za->dt || !shape_equal(zb->shape, s))
		error_at(call->loc, "nt_xent: the two views' codes must have one type; %s and %s differ",
		         type_str(za->dt, s), type_str(zb->dt, zb->shape));
	double tau = arg[2].kind == V_NONE ? 0.5 : need_number(&arg[2], "temperature");
	if (!(tau > 0) || !isfinite(tau))
		error_at(arg[2].loc, "nt_xent's temperature must be a positive number, not %g", tau);
	if (c->m->min_batch < 2)
		c->m->min_batch = 2, c->m->min_batch_at = call->loc;
	return tensor_value(ir_nt_xent(c->fn, NULL, za, zb, tau, call->loc), call->loc);
}

static Value bce(Ctx *c, const Expr *call, Value *arg, const Builtin *b)
{
	(void)b;
	Loc loc = call->loc;
	Node *p = float_tensor(c, &arg[0], "the probabilities of 'binary_cross_entropy'");
	Node *t = target_for(c, &arg[1], p, "binary_cross_entropy", loc);
	if (p == c->output && !c->m->output_is)   /* what predict --output probs prints */
		c->m->output_is = "probabilities";
	Node *one = ir_broadcast(c->fn, scalar(c, p->dt, 1, loc), p->shape, loc);
	Node *pos = ir_binary(c->fn, OP_mul, t, ir_unary(c->fn, OP_log, p, loc), loc);
	Node *q = ir_binary(c->fn, OP_sub, one, p, loc), *u = ir_binary(c->fn, OP_sub, one, t, loc);
	Node *neg = ir_binary(c->fn, OP_mul, u, ir_unary(c->fn, OP_log, q, loc), loc);
	Node *m = mean_all(c, ir_binary(c->fn, OP_add, pos, neg, loc), loc);
	return tensor_value(ir_unary(c->fn, OP_neg, m, loc), loc);
}

/* The positions with a label, as PyTorch's ignore_index counts them: a
 * label of -1 (a masked-language-model source's unchosen position) has
 * an all-zero one-hot row.  At least 1, so that a batch without a label
 * costs 0, not 0/0. */
static Node *labelled_count(Ctx *c, Node *onehot, Loc loc)
{
	Node *n = reduce(c, OP_sum, onehot, all_axes(onehot), 0, loc);
	return ir_binary(c->fn, OP_max, n, scalar(c, n->dt, 1, loc), loc);
}

/* -sum(onehot(labels, K) * log_softmax(logits)) / N: logits [N, K] or
 * [N, T, ..., K], the last axis the classes, and labels of the logits'
 * shape without it; N counts every position, so a language model's loss
 * over [B, T, V] is the mean over its B*T characters.  Float labels of
 * the logits' shape are taken as target distributions.  With a text
 * source that masks (source_ignores_labels), N counts the positions
 * whose label is not -1. */
static Value cross_entropy(Ctx *c, const Expr *call, Value *arg, const Builtin *b)
{
	(void)b;
	Loc loc = call->loc;
	Node *z = float_tensor(c, &arg[0], "the logits of 'cross_entropy'");
	int r = z->shape.rank;
	if (r < 2 || z->shape.d[r - 1] == DIM_BATCH)
		error_at(arg[0].loc, "cross_entropy needs logits of shape [N, K] or [N, T, K] (K classes, the "
		         "last axis), not %s", type_str(z->dt, z->shape));
	Shape positions = z->shape;
	positions.rank--;
	Node *target;
	if (arg[1].kind == V_TENSOR && arg[1].t->dt != DT_I32)
		target = target_for(c, &arg[1], z, "cross_entropy", loc);
	else
		target = ir_onehot(c->fn, labels_for(c, &arg[1], positions, "cross_entropy", loc),
		                   z->shape.d[r - 1], z->dt, loc);
	if (z == c->output && !c->m->output_is)
		c->m->output_is = "logits";
	uint32_t classes = 1u << (r - 1);
	Node *ls = log_softmax(c, z, classes, loc);
	Node *s = reduce(c, OP_sum, ir_binary(c->fn, OP_mul, target, ls, loc), all_axes(z), 0, loc);
	if (target->op == OP_onehot && source_ignores_labels(c))
		s = ir_binary(c->fn, OP_div, s, labelled_count(c, target, loc), loc);
	else
		s = divide_count(c, s, z, all_axes(z) & ~classes, loc);
	return tensor_value(ir_unary(c->fn, OP_neg, s, loc), loc);
}

/* ---- initializers ----------------------------------------------------- */

static Value initializer(Ctx *c, const Expr *call, Value *arg, const Builtin *b)
{
	(void)c;
	Init in = { .kind = b->init, .gain = 1 };
	switch (b->init) {
	case INIT_CONSTANT: in.a = need_number(&arg[0], "the value"); break;
	case INIT_NORMAL:
		in.a = arg[0].kind == V_NONE ? 0 : need_number(&arg[0], "mean");
		in.b = arg[1].kind == V_NONE ? 1 : need_number(&arg[1], "std");
		if (in.b < 0)
			error_at(arg[1].loc, "std must not be negative");
		break;
	case INIT_UNIFORM:
		in.a = arg[0].kind == V_NONE ? 0 : need_number(&arg[0], "low");
		in.b = arg[1].kind == V_NONE ? 1 : need_number(&arg[1], "high");
		if (in.b < in.a)
			error_at(call->loc, "uniform(low, high) needs low <= high");
		break;
	case INIT_XAVIER_UNIFORM: case INIT_XAVIER_NORMAL: case INIT_HE_UNIFORM: case INIT_HE_NORMAL:
		if (arg[0].kind != V_NONE)
			in.gain = need_number(&arg[0], "gain");
		if (in.gain <= 0)
			error_at(arg[0].loc, "gain must be positive");
		break;
	default: break;
	}
	return (Value){ .kind = V_INIT, .init = in, .loc = call->loc };
}

/* Builtins defined in other files (lower_vision.c, lower_norm.c). */
static Value external(Ctx *c, const Expr *call, Value *arg, const Builtin *b)
{
	return b->impl(c, call, arg);
}

/* ---- the table -------------------------------------------------------- */

#define INIT(n, k, ...) { n, { __VA_ARGS__ }, 0, initializer, 0, INIT_##k, NULL }

static const Builtin builtins[] = {
	{ "pow", { "x", "p" }, 2, power, 0, 0, NULL },
	{ "transpose", { "x", "perm" }, 1, transpose, 0, 0, NULL },
	{ "reshape", { "x", "shape" }, 2, reshape, 0, 0, NULL },
	{ "fill", { "shape", "value" }, 2, fill, 0, 0, NULL },
	{ "arange", { "n" }, 1, arange, 0, 0, NULL },
	{ "sum", { "x", "axis", "keepdims" }, 1, reduction, OP_sum, 0, NULL },
	{ "mean", { "x", "axis", "keepdims" }, 1, reduction, OP_sum, 0, NULL },
	{ "max", { "x", "axis", "keepdims" }, 1, reduction, OP_amax, 0, NULL },
	{ "softmax", { "x", "axis" }, 1, softmax, 0, 0, NULL },
	{ "log_softmax", { "x", "axis" }, 1, softmax, 0, 0, NULL },
	{ "onehot", { "labels", "k" }, 2, onehot, 0, 0, NULL },
	{ "one_hot", { "labels", "k" }, 2, onehot, 0, 0, NULL },
	{ "gather", { "table", "ids" }, 2, gather, 0, 0, NULL },
	{ "mse", { "pred", "target" }, 2, mse, 0, 0, NULL },
	{ "cross_entropy", { "logits", "labels" }, 2, cross_entropy, 0, 0, NULL },
	{ "binary_cross_entropy", { "prob", "target" }, 2, bce, 0, 0, NULL },
	{ "nt_xent", { "a", "b", "temperature" }, 2, nt_xent, 0, 0, NULL },
	{ "conv2d", { "x", "W", "stride", "padding", "dilation", "groups" }, 2, external, 0, 0, lower_conv2d },
	{ "max_pool2d", { "x", "size", "stride", "padding" }, 1, external, 0, 0, lower_max_pool },
	{ "avg_pool2d", { "x", "size", "stride", "padding" }, 1, external, 0, 0, lower_avg_pool },
	{ "global_avg_pool", { "x" }, 1, external, 0, 0, lower_global_avg_pool },
	{ "flatten", { "x" }, 1, external, 0, 0, lower_flatten },
	{ "local_response_norm", { "x", "size", "alpha", "beta", "k" }, 1, external, 0, 0, lower_local_response_norm },
	{ "slice", { "x", "axis", "start", "end" }, 3, external, 0, 0, lower_slice },
	{ "concat", { "parts", "axis" }, 1, external, 0, 0, lower_concat },
	{ "dropout", { "x", "p" }, 1, external, 0, 0, lower_dropout },
	{ "bernoulli", { "p" }, 1, external, 0, 0, lower_bernoulli },
	{ "gaussian", { "mean", "std" }, 1, external, 0, 0, lower_gaussian },
	{ "categorical", { "p" }, 1, external, 0, 0, lower_categorical },
	{ "batch_norm", { "x", "momentum", "eps" }, 1, external, 0, 0, lower_batch_norm },
	{ "probe", { "x", "name" }, 2, external, 0, 0, lower_probe },
	INIT("zeros", ZEROS, NULL), INIT("ones", ONES, NULL),
	{ "constant", { "value" }, 1, initializer, 0, INIT_CONSTANT, NULL },
	INIT("normal", NORMAL, "mean", "std"), INIT("uniform", UNIFORM, "low", "high"),
	INIT("xavier_uniform", XAVIER_UNIFORM, "gain"), INIT("xavier_normal", XAVIER_NORMAL, "gain"),
	INIT("glorot_uniform", XAVIER_UNIFORM, "gain"), INIT("glorot_normal", XAVIER_NORMAL, "gain"),
	INIT("xavier", XAVIER_UNIFORM, "gain"), INIT("he", HE_NORMAL, "gain"),
	INIT("he_uniform", HE_UNIFORM, "gain"), INIT("he_normal", HE_NORMAL, "gain"),
	INIT("kaiming_uniform", HE_UNIFORM, "gain"), INIT("kaiming_normal", HE_NORMAL, "gain"),
};
enum { NBUILTIN = sizeof builtins / sizeof *builtins };

/* The elementwise builtins come from ops.def's signatures, such as
 * "elu(x, alpha=1)": the operands, then Node.f's name and default. */
static Builtin elem[OP__COUNT];
static const char *all_names[NBUILTIN + OP__COUNT];
static int nnames;

/* Names live in static storage, not the arena: the table outlives one
 * compilation (the fuzzer resets the arena after each input). */
static const char *keep_name(const char *p, size_t len)
{
	static char pool[4096];
	static size_t used;
	if (used + len + 1 > sizeof pool)
		fatal(EXIT_INTERNAL, "internal error: builtin signatures exceed their pool");
	char *s = memcpy(pool + used, p, len);
	s[len] = 0;
	used += len + 1;
	return s;
}

static Builtin parse_signature(Op op, const char *sig)
{
	Builtin b = { .fn = elementwise, .op = op, .nreq = op_info[op].nin };
	const char *p = strchr(sig, '(');
	b.name = keep_name(sig, (size_t)(p - sig));
	for (int i = 0; *p != ')' && i < MAX_BUILTIN_ARGS; i++) {
		p += strspn(p + 1, " ") + 1;
		size_t len = strcspn(p, ",)=");
		b.param[i] = keep_name(p, len);
		p += len;
		if (*p == '=')
			elem_alpha[op] = strtod(p + 1, (char **)&p);
	}
	return b;
}

static void fill_elementwise(void)
{
	if (nnames)
		return;
	for (int i = 0; i < NBUILTIN; i++)
		all_names[nnames++] = builtins[i].name;
	for (int op = 0; op < OP__COUNT; op++)
		if (op_info[op].builtin) {
			elem[op] = parse_signature((Op)op, op_info[op].builtin);
			all_names[nnames++] = elem[op].name;
		}
}

static const Builtin *find(const char *name)
{
	fill_elementwise();
	for (int op = 0; op < OP__COUNT; op++)
		if (elem[op].name && !strcmp(elem[op].name, name))
			return &elem[op];
	for (int i = 0; i < NBUILTIN; i++)
		if (!strcmp(builtins[i].name, name))
			return &builtins[i];
	return NULL;
}

int is_builtin(const char *name) { return find(name) != NULL; }

int init_by_name(const char *name, Init *out)
{
	const Builtin *b = find(name);
	if (!b || b->fn != initializer || b->nreq)
		return 0;
	*out = (Init){ .kind = b->init, .gain = 1 };
	if (b->init == INIT_NORMAL)
		out->b = 1;
	if (b->init == INIT_UNIFORM)
		out->b = 1;
	return 1;
}

const char *const *builtin_names(int *n)
{
	fill_elementwise();
	*n = nnames;
	return all_names;
}

/* Builtins whose state slots lie under a call path of their own
 * (Ctx.builtin_path): batch norm's running statistics. */
static int keeps_state(const Builtin *b) { return b->impl == lower_batch_norm; }

/* Arguments are evaluated under the caller's note, the expansion under
 * `note` (NULL: keep the caller's). */
Value call_builtin(Ctx *c, const Expr *call, const char *note)
{
	const Builtin *b = find(call->str);
	int n = 0;
	while (n < MAX_BUILTIN_ARGS && b->param[n])
		n++;
	const Expr *args[MAX_BUILTIN_ARGS];
	bind_args(b->name, call, b->param, n, args);
	for (int i = 0; i < b->nreq; i++)
		if (!args[i])
			error_at(call->loc, "missing argument '%s' in call to '%s'", b->param[i], b->name);
	/* numbered where written, before the calls in its arguments, as user calls are */
	const char *path = keeps_state(b) ? call_path_of(c, b->name, NULL) : NULL;
	Value v[MAX_BUILTIN_ARGS] = { { 0 } };
	eval_args(c, call, args, n, v);
	warn_builtin_args(c, b->name, v, call->loc);
	stamp(c);
	if (note)
		c->note = note;
	c->builtin_path = path;
	if (!path)
		return b->fn(c, call, v, b);
	stamp_call(c, c->frame->path);
	Value r = b->fn(c, call, v, b);
	stamp_call(c, path);
	return r;
}
