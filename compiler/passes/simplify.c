/* simplify.c — algebraic simplification and constant folding.
 *
 * One walk in schedule order (rewrite.h): each node's operands are
 * already simplified when it is visited, so one rule application per node
 * reaches a fixed point for the rules here.  A "scalar constant" is a
 * rank-0 const or a broadcast of one; folding keeps that form, so a
 * folded broadcast constant is still cheap to inline in a loop nest.
 *
 * Every rule keeps the node's dtype and shape: a replacement value always
 * has exactly the shape of the node it replaces. */
#include <math.h>
#include "rewrite.h"

/* The value of a scalar constant, or 0 when n is not one. */
static int scalar_const(const Node *n, double *v)
{
	if (n->op == OP_broadcast && n->in[0]->op == OP_const)
		n = n->in[0];
	if (n->op != OP_const || n->dt == DT_I32)
		return 0;
	*v = n->f;
	return 1;
}

static int is_value(const Node *n, double want)
{
	double v;
	return scalar_const(n, &v) && v == want;
}

/* Provenance of a replacement: the listing should still name the source. */
static Node *like(Node *made, const Node *n)
{
	made->loc = n->loc;
	made->note = n->note;
	made->of = n->of;
	made->call = n->call;
	return made;
}

/* A scalar constant of n's dtype and shape. */
static Node *make_scalar(Fn *fn, const Node *n, double v)
{
	if (n->dt == DT_F32)
		v = (float)v;   /* the value the compiled code would compute */
	Node *c = like(ir_const(fn, n->dt, v, n->loc), n);
	if (n->shape.rank == 0)
		return c;
	return like(ir_broadcast(fn, c, n->shape, n->loc), n);
}

/* An elementwise op of scalar constants is the constant op_scalar gives
 * (the table's one definition); select_mode is resolved by mode.c first. */
static Node *fold(Fn *fn, Node *n)
{
	double v[MAXIN];
	if (op_info[n->op].kind != K_ELEM || n->op == OP_select_mode)
		return n;
	for (int i = 0; i < n->nin; i++)
		if (!scalar_const(n->in[i], &v[i]))
			return n;
	return make_scalar(fn, n, op_scalar(n->op, v, n->f));
}

/* Identities of one binary op with one scalar-constant operand. */
static Node *binary_identity(Fn *fn, Node *n)
{
	Node *a = n->in[0], *b = n->in[1];
	switch (n->op) {
	case OP_add:
		return is_value(b, 0) ? a : is_value(a, 0) ? b : n;
	case OP_sub:
		if (is_value(b, 0))
			return a;
		if (is_value(a, 0))
			return like(ir_unary(fn, OP_neg, b, n->loc), n);
		return n;
	case OP_mul:
		/* x * 0 -> 0 ignores NaN and infinity in x, as fast-math does. */
		if (is_value(b, 1) || is_value(a, 0))
			return a;
		if (is_value(a, 1) || is_value(b, 0))
			return b;
		return n;
	case OP_div:
		return is_value(b, 1) ? a : n;
	case OP_pow:
		if (is_value(b, 1))
			return a;
		if (is_value(b, 2))
			return like(ir_binary(fn, OP_mul, a, a, n->loc), n);
		return n;
	default:
		return n;   /* a rule list: an op without an identity keeps its node */
	}
}

/* A transpose that swaps the last two axes alone: of a matrix (rank 2),
 * or of each matrix of a stack (rank >= 3, as bmm's operands). */
static int swaps_last2(const Node *n, int rank)
{
	int r = n->shape.rank;
	if (n->op != OP_transpose || r != rank || n->perm[r - 2] != r - 1 || n->perm[r - 1] != r - 2)
		return 0;
	for (int i = 0; i < r - 2; i++)
		if (n->perm[i] != i)
			return 0;
	return 1;
}

static int is_transpose2d(const Node *n)
{
	return swaps_last2(n, 2);
}

/* matmul(transpose(a), b) -> matmul with the transpose flag flipped; the
 * same for bmm and a transpose of its operands' last two axes. */
static Node *matmul_flags(Fn *fn, Node *n)
{
	Node *a = n->in[0], *b = n->in[1];
	int ta = n->ta, tb = n->tb, r = n->op == OP_bmm ? n->shape.rank : 2;
	if (!swaps_last2(a, r) && !swaps_last2(b, r))
		return n;
	if (swaps_last2(a, r))
		a = a->in[0], ta = !ta;
	if (swaps_last2(b, r))
		b = b->in[0], tb = !tb;
	return like((n->op == OP_bmm ? ir_bmm : ir_matmul)(fn, a, b, ta, tb, n->loc), n);
}

static int identity_perm(const Node *n)
{
	for (int i = 0; i < n->shape.rank; i++)
		if (n->perm[i] != i)
			return 0;
	return 1;
}

/* Rules for ops that move or reduce elements. */
static Node *layout_identity(Fn *fn, Node *n)
{
	Node *x = n->in[0];
	double v;
	switch (n->op) {
	case OP_reshape:
		if (shape_equal(x->shape, n->shape))
			return x;
		if (x->op == OP_reshape)
			return like(ir_reshape(fn, x->in[0], n->shape, n->loc), n);
		/* a reshaped constant is the constant broadcast to the new shape,
		 * which fusion computes in place; a reshape owns no memory */
		if (scalar_const(x, &v))
			return make_scalar(fn, n, v);
		return n;
	case OP_broadcast:
		if (shape_equal(x->shape, n->shape))
			return x;
		if (x->op == OP_broadcast && x->in[0]->op == OP_const)
			return like(ir_broadcast(fn, x->in[0], n->shape, n->loc), n);
		return n;
	case OP_transpose:
		if (identity_perm(n))
			return x;
		/* (a b)^T = b^T a^T: the GEMM writes the transposed result itself */
		if (is_transpose2d(n) && x->op == OP_matmul && x->nuse == 1)
			return like(ir_matmul(fn, x->in[1], x->in[0], !x->tb, !x->ta, n->loc), n);
		if (x->op == OP_bmm && swaps_last2(n, x->shape.rank) && x->nuse == 1)
			return like(ir_bmm(fn, x->in[1], x->in[0], !x->tb, !x->ta, n->loc), n);
		return n;
	case OP_sum:
	case OP_amax:
		/* no axes, or only axes of extent 1: nothing to reduce */
		return shape_equal(x->shape, n->shape) ? x : n;
	default:
		return n;
	}
}

static Node *simplify_node(Fn *fn, Node *n)
{
	if (n->nin == 0 || op_info[n->op].flags & F_EFFECT)
		return n;
	if (n->op == OP_neg && n->in[0]->op == OP_neg)
		return n->in[0]->in[0];
	if (n->op == OP_stop_gradient)
		return n->in[0];   /* gradients are already taken: identity */
	if (n->dt != DT_I32) {
		Node *r = fold(fn, n);
		if (r != n)
			return r;
	}
	switch (op_info[n->op].kind) {
	case K_ELEM: return n->nin == 2 ? binary_identity(fn, n) : n;
	case K_MATMUL: case K_BMM: return matmul_flags(fn, n);
	case K_LAYOUT:
	case K_BCAST:
	case K_REDUCE: return layout_identity(fn, n);
	case K_LEAF: case K_INDEX: case K_WINDOW: case K_CONV: case K_BOXSUM: case K_SOFTMAX: case K_SLICE: case K_RANDOM:
	case K_STORE: case K_GATHER: case K_SCAN: case K_YIELD: case K_CONTRAST: break;   /* no rules */
	}
	return n;
}

void simplify(Fn *fn)
{
	fill_uses(fn);   /* of the input: a stale count costs a GEMM twice, never a wrong value */
	for (int i = 0; i < fn->n; i++)
		fn->node[i]->comment = NULL;   /* grad's comments name lines the passes rewrite */
	Rewrite rw;
	rw_begin(&rw, fn);
	for (Node *n; (n = rw_next(&rw));) {
		Node *r = simplify_node(fn, n);
		if (r == n)
			rw_keep(&rw, n);
		else
			rw_replace(&rw, n, r);
	}
}
