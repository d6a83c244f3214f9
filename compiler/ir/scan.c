/* scan.c — the loop over a sequence axis: builders and its shape rule.
 *
 * A scan is one node whose step is a Fn of its own (Node.body), printed
 * once under it, differentiated once (autodiff/grad_scan.c) and compiled
 * once inside a counted loop (codegen/llvm_scan.c).  Its operands are the
 * initial carry [B,...] and zero or more sequences [B,T,...] (time on
 * axis 1, right after the batch).  The body's leaves are `arg k` nodes:
 * arg 0 the carry, arg k the step of sequence k ([B,...] without T); its
 * last node is `yield carry, out`.  Step t reads the carry the step
 * before yielded (the initial carry at the first), and the scan's result
 * stacks the outputs along axis 1: [B,T,...].  A language-level scan
 * yields its carry as its output too, so the result holds every state;
 * the reversed scans of the backward pass yield a gradient as output and
 * carry another.  Parameters are read inside the body by `param` nodes,
 * so one set of weights serves every step. */
#include "ir.h"

static _Noreturn void broken(Loc loc, const char *what)
{
	fatal(EXIT_INTERNAL, "internal error at %s:%d:%d: %s", loc.file ? loc.file : "-", loc.line, loc.col, what);
}
#define CHECK(cond, loc) do { if (!(cond)) broken(loc, #cond); } while (0)

Shape shape_insert(Shape s, int axis, int64_t d)
{
	CHECK(s.rank < MAXRANK && axis >= 0 && axis <= s.rank, (Loc){ 0 });
	for (int i = s.rank; i > axis; i--)
		s.d[i] = s.d[i - 1];
	s.d[axis] = d;
	s.rank++;
	return s;
}

Shape shape_remove(Shape s, int axis)
{
	CHECK(axis >= 0 && axis < s.rank, (Loc){ 0 });
	for (int i = axis; i + 1 < s.rank; i++)
		s.d[i] = s.d[i + 1];
	s.rank--;
	return s;
}

Node *ir_arg(Fn *body, int index, DType dt, Shape s, Loc loc)
{
	Node *n = ir_node(body, OP_arg, dt, s, 0, NULL, loc);
	n->k = index;
	return n;
}

Node *ir_yield(Fn *body, Node *carry, Node *out, Loc loc)
{
	Node *in[2] = { carry, out };
	return ir_node(body, OP_yield, out->dt, out->shape, 2, in, loc);
}

Node *scan_yield(const Fn *body)
{
	if (!body || body->n == 0 || body->node[body->n - 1]->op != OP_yield)
		return NULL;
	return body->node[body->n - 1];
}

Node *scan_arg(const Fn *body, int index)
{
	for (int i = 0; i < body->n; i++)
		if (body->node[i]->op == OP_arg && body->node[i]->k == index)
			return body->node[i];
	return NULL;
}

/* The args must be what the operands hand the body at one step, and the
 * result the outputs stacked after B. */
const char *scan_rule(const Node *n, Shape *out)
{
	const Node *y = scan_yield(n->body);
	if (!y)
		return "scan: the body does not end in a yield";
	if (n->nin < 1 || n->k < 1)
		return "scan: needs a carry and at least one step";
	for (int i = 0; i < n->body->n; i++) {
		const Node *a = n->body->node[i];
		if (a->op == OP_yield && i + 1 < n->body->n)
			return "scan: a yield before the end of the body";
		if (a->op != OP_arg)
			continue;
		if (a->k >= n->nin)
			return xprintf("scan: arg %lld has no operand", (long long)a->k);
		const Node *o = n->in[a->k];
		Shape want = o->shape;
		if (a->k > 0) {
			if (want.rank < 2 || want.d[1] != n->k)
				return xprintf("scan: sequence %lld is %s, not [B,%lld,...]", (long long)a->k,
				               shape_str(want), (long long)n->k);
			want = shape_remove(want, 1);
		}
		if (!shape_equal(a->shape, want) || a->dt != o->dt)
			return xprintf("scan: arg %lld is %s%s, its operand gives %s%s", (long long)a->k,
			               dtype_name(a->dt), shape_str(a->shape), dtype_name(o->dt), shape_str(want));
	}
	const Node *carry = y->in[0], *o = n->in[0];
	if (!shape_equal(carry->shape, o->shape) || carry->dt != o->dt)
		return xprintf("scan: the body yields a carry %s%s for an initial carry %s%s", dtype_name(carry->dt),
		               shape_str(carry->shape), dtype_name(o->dt), shape_str(o->shape));
	Shape s = y->in[1]->shape;
	if (s.rank < 1 || s.rank >= MAXRANK || s.d[0] != DIM_BATCH)
		return xprintf("scan: a step's output %s must start with B", shape_str(s));
	if (n->dt != y->in[1]->dt)
		return "scan: the result's dtype is not the output's";
	*out = shape_insert(s, 1, n->k);
	return NULL;
}

Node *ir_scan(Fn *fn, Fn *body, Node **in, int nin, int64_t steps, int reverse, Loc loc)
{
	Node *y = scan_yield(body);
	CHECK(y != NULL, loc);
	Node *n = ir_node(fn, OP_scan, y->in[1]->dt, y->in[1]->shape, nin, in, loc);
	n->body = body;
	n->k = steps;
	n->reverse = reverse;
	Shape s;
	const char *why = op_shape(NULL, n, &s);
	if (why)
		broken(loc, why);
	n->shape = s;
	return n;
}
