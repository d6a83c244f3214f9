/* lower_types.c — values, dtypes and shapes for the elaborator.
 *
 * Every user-facing shape or dtype error is found here, before an IR
 * builder sees the operands: the builders in ir.c treat a mismatch as a
 * bug in nnc.  Broadcasting follows NumPy and is made explicit with
 * OP_broadcast, so ir_binary always gets operands of one shape. */
#include <math.h>
#include <string.h>
#include "lower.h"

const char *value_kind_name(const Value *v)
{
	switch (v->kind) {
	case V_NONE: return "nothing";
	case V_TENSOR: return xprintf("a tensor %s", type_str(v->t->dt, v->t->shape));
	case V_INT: return v->is_batch ? "the batch dimension" : "an integer";
	case V_FLOAT: return "a number";
	case V_STR: return "a string";
	case V_INIT: return "an initializer";
	case V_LIST: return "a list";
	case V_DATA: return xprintf("the data field '%s'", v->str);
	case V_FUNC: return "a function";
	}
	return "a value";
}

const char *type_str(DType dt, Shape s)
{
	return xprintf("%s%s", dtype_name(dt), shape_str(s));
}

Value tensor_value(Node *n, Loc loc)
{
	return (Value){ .kind = V_TENSOR, .t = n, .loc = loc };
}

static _Noreturn void unshaped(const Value *v)
{
	const char *src = xprintf("%.*s", (int)strcspn(v->str, "."), v->str);
	error_hint(v->loc, xprintf("a data field takes its shape where it is first used: the model's typed input, "
	                           "a loss (mse(m(%s.x), %s.y)), or arithmetic with a tensor such as the model's "
	                           "output, as in mean((m(%s.x) - %s.y) ** 2)", src, src, src, src),
	           "'%s' has no shape yet: pass it to the model first (or to a loss such as "
	           "cross_entropy), whose parameter type gives it one", v->str);
}

Node *need_tensor(Ctx *c, const Value *v, const char *what)
{
	(void)c;
	if (v->kind == V_TENSOR)
		return v->t;
	if (v->kind == V_DATA)
		unshaped(v);
	error_at(v->loc, "%s must be a tensor, not %s", what, value_kind_name(v));
}

double need_number(const Value *v, const char *what)
{
	if (v->kind == V_INT && v->is_batch)
		error_at(v->loc, "the batch dimension B has no value at compile time");
	if (v->kind == V_INT)
		return (double)v->i;
	if (v->kind == V_FLOAT)
		return v->f;
	if (v->kind == V_DATA)
		unshaped(v);
	error_at(v->loc, "%s must be a number, not %s", what, value_kind_name(v));
}

int64_t need_int(const Value *v, const char *what)
{
	if (v->kind == V_FLOAT && v->f == floor(v->f) && fabs(v->f) < 9e18)
		return (int64_t)v->f;
	if (v->kind == V_FLOAT)   /* say the value: a width that heads do not divide gives 21.3333 */
		error_at(v->loc, "%s must be an integer, not %g (a quotient that leaves a remainder?)", what, v->f);
	if (v->kind != V_INT || v->is_batch)
		error_at(v->loc, "%s must be an integer, not %s", what, value_kind_name(v));
	return v->i;
}

DType resolve_dtype(const Ctx *c, DTypeName dt)
{
	switch (dt) {
	case DTN_F32: return DT_F32;
	case DTN_F64: return DT_F64;
	case DTN_I32: return DT_I32;
	case DTN_FLOAT: break;
	}
	return c->fdt;
}

Node *to_tensor(Ctx *c, const Value *v, DType dt, Loc loc)
{
	if (v->kind == V_INT || v->kind == V_FLOAT)
		return ir_const(c->fn, dt, need_number(v, "an operand"), loc);
	return need_tensor(c, v, "an operand");
}

/* Dimensions positive, one batch dimension at most, element counts that
 * fit the runtime's 32-bit indexing with room to spare. */
Shape check_shape(Shape s, Loc loc)
{
	int64_t n = 1;
	int batches = 0;
	for (int i = 0; i < s.rank; i++) {
		if (s.d[i] == DIM_BATCH) {
			batches++;
			continue;
		}
		if (s.d[i] <= 0)
			error_at(loc, "dimension %d of a tensor must be positive, not %lld", i + 1, (long long)s.d[i]);
		if (__builtin_mul_overflow(n, s.d[i], &n) || n > MAX_ELEMENTS)
			error_at(loc, "tensor %s is too large (more than 2^31 elements per sample)", shape_str(s));
	}
	if (batches > 1)
		error_at(loc, "a tensor may have the batch dimension B only once: %s", shape_str(s));
	return s;
}

int norm_axis(int64_t axis, int rank, const char *fn, Loc loc)
{
	if (axis < -rank || axis >= rank || rank == 0)
		error_at(loc, "axis %lld is out of range for '%s' of a rank-%d tensor", (long long)axis, fn, rank);
	return (int)(axis < 0 ? axis + rank : axis);
}

/* ---- arithmetic ------------------------------------------------------- */

static const char *op_name(int op)
{
	switch (op) {
	case '+': return "+";
	case '-': return "-";
	case '*': return "*";
	case '/': return "/";
	case '@': return "@";
	case 'P': return "**";
	}
	return "?";
}

Node *binary_bcast(Ctx *c, Op op, Node *a, Node *b, const char *opname, Loc loc)
{
	if (a->dt == DT_I32 || b->dt == DT_I32)
		error_at(loc, "'%s' on integer labels (i32) is not supported; use onehot(labels, k) first", opname);
	if (a->dt != b->dt)
		error_at(loc, "dtype mismatch in '%s': %s and %s", opname,
		         type_str(a->dt, a->shape), type_str(b->dt, b->shape));
	Shape s;
	if (!shape_broadcast(a->shape, b->shape, &s))
		error_hint(loc, keepdims_hint(c, a, b), "shape mismatch in '%s': %s and %s do not broadcast", opname,
		           type_str(a->dt, a->shape), type_str(b->dt, b->shape));
	warn_widened(c, a, b, s, op, loc);
	a = ir_broadcast(c->fn, a, s, loc);
	b = ir_broadcast(c->fn, b, s, loc);
	return ir_binary(c->fn, op, a, b, loc);
}

static const char *dim_str(int64_t d)
{
	return d == DIM_BATCH ? "B" : xprintf("%lld", (long long)d);
}

/* a @ b with both of rank >= 3: a stack of products [..., M, K] @
 * [..., K, N] over equal leading dims (attention's heads). */
static Value stacked_matmul(Ctx *c, Node *a, Node *b, Loc loc)
{
	int r = a->shape.rank;
	const char *why = NULL;
	if (b->shape.rank != r)
		why = "both operands need the same rank";
	for (int i = 0; !why && i < r - 2; i++)
		if (a->shape.d[i] != b->shape.d[i])
			why = xprintf("their leading dims differ at axis %d (%s vs %s)", i, dim_str(a->shape.d[i]),
			              dim_str(b->shape.d[i]));
	for (int i = r - 2; !why && i < r; i++)
		if (a->shape.d[i] == DIM_BATCH || b->shape.d[i] == DIM_BATCH)
			why = "B must be one of the leading dims, not a row or column of the matrices";
	if (!why && a->shape.d[r - 1] != b->shape.d[r - 2])
		why = xprintf("inner dimensions differ (%s vs %s)", dim_str(a->shape.d[r - 1]), dim_str(b->shape.d[r - 2]));
	if (why)
		error_at(loc, "matmul of stacks of matrices ([..., M, K] @ [..., K, N]): %s: %s @ %s", why,
		         type_str(a->dt, a->shape), type_str(b->dt, b->shape));
	return tensor_value(ir_bmm(c->fn, a, b, 0, 0, loc), loc);
}

/* a @ b: a [..., K] (its leading dims are rows, as a sequence [B, T, K]
 * of vectors) times a matrix b [K, N]; or two stacks of matrices. */
static Value matmul(Ctx *c, Node *a, Node *b, Loc loc)
{
	int ra = a->shape.rank;
	if (a->dt == DT_I32 || b->dt == DT_I32 || a->dt != b->dt)
		error_at(loc, "dtype mismatch in '@': %s and %s", type_str(a->dt, a->shape), type_str(b->dt, b->shape));
	if (ra >= 3 && b->shape.rank >= 3)
		return stacked_matmul(c, a, b, loc);
	if (ra < 2 || b->shape.rank != 2)
		error_at(loc, "matmul needs a matrix on the right and a matrix or a stack of rows on the left "
		         "([..., K] @ [K, N]), or two stacks of matrices ([..., M, K] @ [..., K, N]): %s @ %s",
		         type_str(a->dt, a->shape), type_str(b->dt, b->shape));
	if (a->shape.d[ra - 1] != b->shape.d[0])
		error_at(loc, "matmul: inner dimensions differ: %s @ %s (%s vs %s)", shape_str(a->shape),
		         shape_str(b->shape), dim_str(a->shape.d[ra - 1]), dim_str(b->shape.d[0]));
	if (b->shape.d[0] == DIM_BATCH)
		error_at(loc, "matmul: %s @ %s sums over the batch dimension", shape_str(a->shape), shape_str(b->shape));
	if (shape_has_batch(a->shape) && b->shape.d[1] == DIM_BATCH)
		error_at(loc, "matmul: %s @ %s would have the batch dimension twice", shape_str(a->shape), shape_str(b->shape));
	return tensor_value(ir_matmul(c->fn, a, b, 0, 0, loc), loc);
}

static Value fold(int op, Value a, Value b, Loc loc)
{
	double x = need_number(&a, "an operand"), y = need_number(&b, "an operand");
	int64_t r;
	if (a.kind == V_INT && b.kind == V_INT) {
		int ovf = 0;
		switch (op) {
		case '+': ovf = __builtin_add_overflow(a.i, b.i, &r); break;
		case '-': ovf = __builtin_sub_overflow(a.i, b.i, &r); break;
		case '*': ovf = __builtin_mul_overflow(a.i, b.i, &r); break;
		default: goto real;
		}
		if (ovf)
			error_at(loc, "integer overflow in '%s'", op_name(op));
		return (Value){ .kind = V_INT, .i = r, .f = (double)r, .loc = loc };
	}
real:;
	double v = op == '+' ? x + y : op == '-' ? x - y : op == '*' ? x * y : op == '/' ? x / y : pow(x, y);
	if (op == '/' && y == 0)
		error_at(loc, "division by zero");
	if (!isfinite(v))
		error_at(loc, "'%s' gives a non-finite number", op_name(op));
	if (op == 'P' && a.kind == V_INT && b.kind == V_INT && y >= 0 && fabs(v) < 9e18)
		return (Value){ .kind = V_INT, .i = (int64_t)v, .f = v, .loc = loc };
	return (Value){ .kind = V_FLOAT, .f = v, .loc = loc };
}

static int is_number(const Value *v) { return v->kind == V_INT || v->kind == V_FLOAT; }

Value arith(Ctx *c, int op, Value a, Value b, Loc loc)
{
	if (is_number(&a) && is_number(&b))
		return fold(op, a, b, loc);
	if (op == '@')
		return matmul(c, need_tensor(c, &a, "the left operand of '@'"),
		              need_tensor(c, &b, "the right operand of '@'"), loc);
	Node *ta = a.kind == V_TENSOR ? a.t : NULL, *tb = b.kind == V_TENSOR ? b.t : NULL;
	/* mean((m(train.x) - train.y) ** 2): a data field met with a float
	 * tensor takes its dtype and shape, as the target of mse does */
	if (a.kind == V_DATA && tb && tb->dt != DT_I32)
		a = tensor_value(ta = bind_field(c, &a, tb->dt, tb->shape, a.loc), a.loc);
	if (b.kind == V_DATA && ta && ta->dt != DT_I32)
		b = tensor_value(tb = bind_field(c, &b, ta->dt, ta->shape, b.loc), b.loc);
	if (!ta && !tb) {
		const Value *bad = is_number(&a) ? &b : &a;
		if (bad->kind == V_DATA)
			unshaped(bad);
		error_at(loc, "'%s' needs numbers or tensors, not %s", op_name(op), value_kind_name(bad));
	}
	DType dt = ta ? ta->dt : tb->dt;
	if (dt == DT_I32)
		dt = c->fdt;
	ta = to_tensor(c, &a, dt, a.loc.line ? a.loc : loc);
	tb = to_tensor(c, &b, dt, b.loc.line ? b.loc : loc);
	Op o = op == '+' ? OP_add : op == '-' ? OP_sub : op == '*' ? OP_mul : op == '/' ? OP_div : OP_pow;
	return tensor_value(binary_bcast(c, o, ta, tb, op_name(op), loc), loc);
}

Value negate(Ctx *c, Value a, Loc loc)
{
	if (a.kind == V_INT && !a.is_batch)
		return (Value){ .kind = V_INT, .i = -a.i, .f = -a.f, .loc = loc };
	if (a.kind == V_FLOAT)
		return (Value){ .kind = V_FLOAT, .f = -a.f, .loc = loc };
	Node *t = need_tensor(c, &a, "the operand of '-'");
	if (t->dt == DT_I32)
		error_at(loc, "'-' on integer labels (i32) is not supported");
	return tensor_value(ir_unary(c->fn, OP_neg, t, loc), loc);
}

/* ---- binding values to declared types --------------------------------- */

/* A data field takes its dtype and shape from the first typed parameter
 * it is bound to; from then on train.x evaluates to that input node. */
Node *bind_field(Ctx *c, const Value *v, DType dt, Shape s, Loc loc)
{
	Node *bound = c->field[v->field];
	if (bound) {        /* passed twice, e.g. m(train.x, train.x): one input, one type */
		if (bound->dt != dt || !shape_equal(bound->shape, s)) {
			note_at(bound->loc, "'%s' was given the type %s here", v->str, type_str(bound->dt, bound->shape));
			error_at(loc, "'%s' is one tensor, %s, but here it would be %s", v->str,
			         type_str(bound->dt, bound->shape), type_str(dt, s));
		}
		return bound;
	}
	if (s.rank == 0 || s.d[0] != DIM_BATCH)
		error_at(loc, "'%s' is read a batch at a time, so its type must start with the batch "
		         "dimension, as in f32[B, 784]; here it is %s", v->str, type_str(dt, s));
	if (v->field == 0 && dt == DT_I32 && !source_gives_ids(c))
		error_at(loc, "'%s' holds the inputs, which are floating point, not i32 (only a text or sequences source gives ids)", v->str);
	int slot = ir_slot(c->m, v->field ? "y" : "x", v->field ? SLOT_TARGET : SLOT_INPUT, dt, s, v->loc);
	c->m->slot[slot].io = v->field;
	Node *n = ir_input(c->fn, c->m, slot, v->loc);
	n->note = v->str;
	c->field[v->field] = n;
	return n;
}

static const char *type_text(const Type *ty)
{
	const char *dt = ty->dt == DTN_F32 ? "f32" : ty->dt == DTN_F64 ? "f64" : ty->dt == DTN_I32 ? "i32" : "float";
	const char *s = xprintf("%s[%s", dt, ty->rest ? "..." : "");
	for (int i = 0; i < ty->ndims; i++)
		s = xprintf("%s%s%s", s, i || ty->rest ? ", " : "", expr_text(ty->dims[i]));
	return xprintf("%s]", s);
}

/* A dimension of the type: an unbound identifier is a variable (NULL);
 * anything else is evaluated. */
static int dim_value(Ctx *c, const Expr *e, int64_t *out)
{
	if (e->kind == E_IDENT && !env_lookup(c->frame, e->str))
		return 0;
	Value v = eval(c, e);
	*out = v.kind == V_INT && v.is_batch ? DIM_BATCH : need_int(&v, "a dimension");
	return 1;
}

static Value bind_data(Ctx *c, const Type *ty, const Value *v, DType dt, Loc loc)
{
	if (ty->rest)
		error_at(ty->loc, "a data input's type names every dimension ('...' is for function parameters)");
	Shape s = { .rank = ty->ndims };
	int batch = 0;
	for (int i = 0; i < ty->ndims; i++) {
		const Expr *e = ty->dims[i];
		if (dim_value(c, e, &s.d[i]))
			continue;
		if (batch++)
			error_at(e->loc, "cannot infer dimension '%s' of '%s': only one dimension (the batch, B) "
			         "can be left open; write a number", e->str, v->str);
		s.d[i] = DIM_BATCH;
		env_bind(c->frame, e->str, (Value){ .kind = V_INT, .i = DIM_BATCH, .is_batch = 1, .loc = e->loc });
	}
	check_shape(s, ty->loc);
	return tensor_value(bind_field(c, v, dt, s, loc), loc);
}

static Value bind_tensor(Ctx *c, const Type *ty, Value v, const char *what, Loc loc)
{
	DType dt = resolve_dtype(c, ty->dt);
	if (ty->ndims > MAXRANK)
		error_at(ty->loc, "tensors have at most %d dimensions", MAXRANK);
	if (v.kind == V_DATA)
		return bind_data(c, ty, &v, dt, loc);
	if ((v.kind == V_INT || v.kind == V_FLOAT) && ty->ndims == 0 && dt != DT_I32)
		return tensor_value(ir_const(c->fn, dt, need_number(&v, what), loc), loc);
	Node *t = need_tensor(c, &v, what);
	if (t->dt != dt)
		error_at(loc, "dtype mismatch: %s has type %s, but %s was given", what, type_text(ty),
		         type_str(t->dt, t->shape));
	if (ty->rest ? t->shape.rank < ty->ndims : t->shape.rank != ty->ndims)
		error_at(loc, "shape mismatch: %s has type %s (rank %s%d), but %s was given (rank %d)", what,
		         type_text(ty), ty->rest ? "at least " : "", ty->ndims, type_str(t->dt, t->shape), t->shape.rank);
	int skip = t->shape.rank - ty->ndims;   /* the dims '...' stands for */
	for (int i = 0; i < ty->ndims; i++) {
		int64_t want, got = t->shape.d[skip + i];
		if (!dim_value(c, ty->dims[i], &want)) {
			env_bind(c->frame, ty->dims[i]->str, (Value){ .kind = V_INT, .i = got, .f = (double)got,
			         .is_batch = got == DIM_BATCH, .loc = ty->dims[i]->loc });
			continue;
		}
		if (want != got)
			error_at(loc, "shape mismatch: %s has type %s, but %s was given (dimension %d: %s vs %s)",
			         what, type_text(ty), type_str(t->dt, t->shape), skip + i + 1, dim_str(want), dim_str(got));
	}
	return v;
}

Value bind_type(Ctx *c, const Type *ty, Value v, const char *what, Loc loc)
{
	switch (ty->kind) {
	case T_TENSOR:
		return bind_tensor(c, ty, v, what, loc);
	case T_INT:
		return (Value){ .kind = V_INT, .i = need_int(&v, what), .f = (double)need_int(&v, what), .loc = v.loc };
	case T_FLOAT:
		return (Value){ .kind = V_FLOAT, .f = need_number(&v, what), .loc = v.loc };
	case T_INIT:
		if (v.kind != V_INIT)
			error_at(loc, "%s must be an initializer (zeros, he, normal(...), ...), not %s",
			         what, value_kind_name(&v));
		return v;
	}
	return v;
}
