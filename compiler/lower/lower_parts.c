/* lower_parts.c — parts of tensors along an axis: slice and concat, in
 * the slice and unslice ops (concat is the sum of its parts, each put back
 * in zeros at its place, so its gradient is each part's slice). */
#include "lower.h"

/* slice(x, axis, start, end = start + 1): the indices [start, end) of one
 * axis, negative ones counted from the end, as in Python. */
Value lower_slice(Ctx *c, const Expr *call, Value *arg)
{
	Node *x = need_tensor(c, &arg[0], "the argument of 'slice'");
	int ax = norm_axis(need_int(&arg[1], "axis"), x->shape.rank, "slice", arg[1].loc);
	int64_t n = x->shape.d[ax];
	if (n == DIM_BATCH)
		error_at(arg[1].loc, "slice cannot cut the batch axis B");
	/* the start is counted from the end before the default end is taken
	 * from it, so slice(x, 1, -1) is the last index, as x[..., -1] is */
	int64_t given = need_int(&arg[2], "start");
	int64_t start = given < 0 ? given + n : given;
	if (start < 0 || start >= n)
		error_at(arg[2].loc, "slice start %lld is outside an axis of %lld (from %lld to %lld)",
		         (long long)given, (long long)n, (long long)-n, (long long)n - 1);
	int64_t end = arg[3].kind == V_NONE ? start + 1 : need_int(&arg[3], "end");
	end += end < 0 ? n : 0;
	if (end > n || start >= end)
		error_at(call->loc, "slice [%lld, %lld) of an axis of %lld is empty or outside it",
		         (long long)start, (long long)end, (long long)n);
	return tensor_value(ir_slice(c->fn, x, ax, start, end - start, call->loc), call->loc);
}

/* concat([a, b, ...], axis = -1): the tensors one after another along the
 * axis; every other dimension and the dtype agree. */
Value lower_concat(Ctx *c, const Expr *call, Value *arg)
{
	Loc loc = call->loc;
	const Value *l = &arg[0];
	if (l->kind != V_LIST || l->nitem < 1)
		error_at(l->loc, "concat needs a list of tensors, as in concat([a, b], axis: -1)");
	Node *first = need_tensor(c, &l->item[0], "a part of 'concat'");
	int ax = norm_axis(arg[1].kind == V_NONE ? -1 : need_int(&arg[1], "axis"), first->shape.rank, "concat",
	                   arg[1].kind == V_NONE ? loc : arg[1].loc);
	if (first->shape.d[ax] == DIM_BATCH)
		error_at(loc, "concat cannot join along the batch axis B");
	Node **part = xalloc(sizeof *part * (size_t)l->nitem);
	for (int i = 0; i < l->nitem; i++) {
		part[i] = need_tensor(c, &l->item[i], "a part of 'concat'");
		Shape s = part[i]->shape;
		int same = s.rank == first->shape.rank && part[i]->dt == first->dt;
		for (int k = 0; same && k < s.rank; k++)
			same = k == ax || s.d[k] == first->shape.d[k];
		if (!same)
			error_at(l->item[i].loc, "concat: part %d is %s, which does not match %s but for axis %d", i + 1,
			         type_str(part[i]->dt, s), type_str(first->dt, first->shape), ax);
	}
	return tensor_value(concat_nodes(c, part, l->nitem, ax, loc), loc);
}

Node *concat_nodes(Ctx *c, Node **part, int n, int axis, Loc loc)
{
	if (n == 1)
		return part[0];
	Shape whole = part[0]->shape;
	whole.d[axis] = 0;
	for (int i = 0; i < n; i++)
		whole.d[axis] += part[i]->shape.d[axis];
	Node *sum = NULL;
	int64_t at = 0;
	for (int i = 0; i < n; at += part[i]->shape.d[axis], i++) {
		Node *u = ir_unslice(c->fn, part[i], whole, axis, at, loc);
		sum = sum ? ir_binary(c->fn, OP_add, sum, u, loc) : u;
	}
	return sum;
}
