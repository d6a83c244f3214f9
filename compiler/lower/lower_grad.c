/* lower_grad.c — grad(f): the derivative of a function, a value of the
 * language.
 *
 * grad(f) is f differentiated with respect to its first argument (JAX's
 * grad): a function of the same arguments whose value is d f/d x, shaped
 * like x; f must return a scalar.  Applying it inlines f on the
 * arguments, as any call does, then appends the reverse of what that call
 * wrote (grad_wrt, autodiff/grad_wrt.c).  The reverse is made of ordinary
 * ops with VJPs of their own, so grad(grad(f)) differentiates it in turn:
 * second derivatives, and for a tensor x the Hessian-vector product
 * H v = grad(hv)(x, v) of fn hv(x, v) { return sum(grad(f)(x) * v) }. */
#include <string.h>
#include "lower.h"

/* Each order copies the graph below it about twice over: four keep a
 * Hessian-vector product of a real network (order 2) well in reach and
 * stop a typo of nested grads from growing the program exponentially. */
enum { MAX_GRAD_ORDER = 4 };

static const char *grad_text(const Decl *d, int order)
{
	const char *s = d->name;
	for (int i = 0; i < order; i++)
		s = xprintf("grad(%s)", s);
	return s;
}

/* The function grad is applied to: a fn or model by name, a function
 * bound to a local (g = grad(f)), or grad(...) itself. */
static Value function_value(Ctx *c, const Expr *a)
{
	if (a->kind == E_IDENT) {
		Value *v = env_lookup(c->frame, a->str);
		if (v && v->kind == V_FUNC)
			return *v;
		if (v)
			error_at(a->loc, "grad takes a function, and '%s' is %s", a->str, value_kind_name(v));
		const Decl *d = find_decl(c, a->str);
		if (d)
			return (Value){ .kind = V_FUNC, .decl = d, .loc = a->loc };
		if (is_builtin(a->str))
			error_hint(a->loc, xprintf("write fn f(x) { return %s(x) } and take grad(f)", a->str),
			           "grad takes a fn or model of the program, and '%s' is a builtin", a->str);
		error_at(a->loc, "unknown function '%s' for grad", a->str);
	}
	Value f = a->kind == E_CALL || a->kind == E_APPLY ? eval(c, a) : (Value){ .kind = V_NONE };
	if (f.kind != V_FUNC)
		error_at(a->loc, "grad takes a function, as in grad(f) or grad(grad(f)), not %s",
		         f.kind == V_NONE ? "an expression" : value_kind_name(&f));
	return f;
}

Value lower_grad(Ctx *c, const Expr *call)
{
	if (call->nargs != 1 || call->args[0].name)
		error_hint(call->loc, "grad(f)(x) is d f/d x at x; grad(grad(f)) the second derivative",
		           "grad takes one function, as in grad(f), and gives a function");
	Value f = function_value(c, call->args[0].value);
	if (f.decl->nparams == 0)
		error_at(call->args[0].value->loc, "'%s' takes no arguments, so it has no derivative to take",
		         f.decl->name);
	if (f.i >= MAX_GRAD_ORDER)
		error_at(call->loc, "derivatives of order %d: grad nests at most %d deep", (int)f.i + 1, MAX_GRAD_ORDER);
	f.i++;
	f.loc = call->loc;
	return f;
}

/* The index in call->args of the argument bound to d's first parameter. */
static int first_argument(const Decl *d, const Expr *call, const char *what)
{
	const char **names = xalloc(sizeof *names * (size_t)(d->nparams + 1));
	const Expr **bound = xalloc(sizeof *bound * (size_t)(d->nparams + 1));
	for (int i = 0; i < d->nparams; i++)
		names[i] = d->params[i].name;
	bind_args(d->name, call, names, d->nparams, bound);
	for (int k = 0; k < call->nargs; k++)
		if (bound[0] && call->args[k].value == bound[0])
			return k;
	error_at(call->loc, "%s differentiates '%s' with respect to its first argument '%s', which this call "
	         "does not give", what, d->name, d->params[0].name);
}

/* The scalar value of f at the arguments, as a tensor. */
static Node *scalar_result(Ctx *c, const Value *y, const char *what, const Decl *d, Loc loc)
{
	if (y->kind == V_INT || y->kind == V_FLOAT)
		return to_tensor(c, y, c->fdt, loc);
	Node *t = need_tensor(c, y, xprintf("the value of %s", what));
	if (shape_has_batch(t->shape) || shape_numel(t->shape, 1) != 1 || t->dt == DT_I32)
		error_hint(loc, xprintf("differentiate a scalar of it: sum(%s(...)), or sum(%s(...) * v) for a "
		                        "vector-Jacobian product", d->name, d->name),
		           "grad(%s) needs '%s' to return a float scalar, but it returns %s", what, what,
		           type_str(t->dt, t->shape));
	return t;
}

static Value apply(Ctx *c, const Decl *d, int order, const Expr *call, const Value *arg)
{
	if (order == 0)
		return call_with_values(c, d, call, arg);
	const char *inner = grad_text(d, order - 1), *what = grad_text(d, order);
	int k = first_argument(d, call, what);
	Node *x0 = need_tensor(c, &arg[k], xprintf("the argument '%s' that %s differentiates with respect to",
	                                           d->params[0].name, what));
	if (x0->dt == DT_I32)
		error_at(arg[k].loc, "%s differentiates with respect to '%s', which is integer (i32) here; "
		         "a derivative needs a float argument", what, d->params[0].name);
	/* a node of its own: an argument that is also passed elsewhere, or
	 * read again after the call, keeps its other uses out of the gradient */
	Node *x = ir_node(c->fn, OP_reshape, x0->dt, x0->shape, 1, &x0, call->loc);
	Value *at = xalloc(sizeof *at * (size_t)(call->nargs + 1));
	memcpy(at, arg, sizeof *at * (size_t)call->nargs);
	at[k] = tensor_value(x, arg[k].loc);
	Value y = apply(c, d, order - 1, call, at);
	Node *yt = scalar_result(c, &y, inner, d, call->loc);
	Node *dx;
	grad_wrt(c->m, c->fn, yt, &x, 1, &dx);
	return tensor_value(dx, call->loc);
}

Value apply_function(Ctx *c, Value f, const Expr *call)
{
	if (f.kind != V_FUNC)
		error_at(call->loc, "%s is not a function; a call of a call needs one, as grad(f)(x)", value_kind_name(&f));
	Value *arg = xalloc(sizeof *arg * (size_t)(call->nargs + 1));
	for (int k = 0; k < call->nargs; k++)
		arg[k] = eval(c, call->args[k].value);
	Expr named = *call;     /* messages and call paths name the function */
	named.kind = E_CALL;
	named.str = f.decl->name;
	Value v = apply(c, f.decl, (int)f.i, &named, arg);
	stamp(c);
	return v;
}
