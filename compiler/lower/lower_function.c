/* lower_function.c — a plain fn of a program as a module of its own, for
 * `nnc --emit=grad --of f` and `nnc --eval 'f(...)'` (compiler/function.c).
 *
 * A file needs no train block for this: the function is called once on
 * inputs made from its parameters, its value is stored in "out" and, when
 * it is a scalar, its gradient with respect to every input is appended by
 * grad_wrt (autodiff/grad_wrt.c) and stored in "NAME.grad".  The one
 * function is Module.grad, its backward after Fn.backward_from, so it
 * prints as the training step's listing does. */
#include <math.h>
#include <string.h>
#include "lower.h"

/* The float type: the first float tensor parameter's, else f64, since
 * a function is evaluated in double precision. */
static DType function_float(const Decl *d)
{
	for (int i = 0; i < d->nparams; i++) {
		const Type *t = d->params[i].type;
		if (t && t->kind == T_TENSOR && t->dt == DTN_F32)
			return DT_F32;
		if (t && t->kind == T_TENSOR && t->dt == DTN_F64)
			return DT_F64;
	}
	return DT_F64;
}

static const Decl *find_function(Ctx *c, const char *name)
{
	const Decl *d = find_decl(c, name);
	if (d && d->kind == D_FN)
		return d;
	Loc file = { c->prog->main_file, 1, 1, 1 };
	if (d)
		error_at(d->loc, "'%s' is a model; --of and --eval take a fn (a model is trained: compile the file "
		         "without them)", name);
	const char **names = xalloc(sizeof *names * (size_t)(c->prog->ndecls + 1));
	int n = 0;
	for (int i = 0; i < c->prog->ndecls; i++)
		if (c->prog->decls[i]->kind == D_FN && in_main_file(c, c->prog->decls[i]->loc))
			names[n++] = c->prog->decls[i]->name;
	const char *s = suggest(name, names, n);
	if (s)
		error_at(file, "no fn '%s' in this file; did you mean '%s'?", name, s);
	error_at(file, "no fn '%s' in this file%s%s", name, n ? "; its fns: " : " (it declares no fn)",
	         name_list(names, n));
}

/* The shape a parameter's declared type gives, every dimension a number. */
static Shape declared_shape(Ctx *c, const Decl *d, const Param *p)
{
	const Type *t = p->type;
	Shape s = { .rank = t ? t->ndims : 0 };
	if (!t)
		return s;
	if (t->rest || t->ndims > MAXRANK)
		error_at(t->loc, "the input '%s' of '%s' needs a shape of fixed dimensions for --of; give values "
		         "with --eval instead", p->name, d->name);
	for (int i = 0; i < t->ndims; i++) {
		const Expr *e = t->dims[i];
		if (e->kind == E_IDENT && !env_lookup(c->frame, e->str))
			error_hint(e->loc, xprintf("write a number, or give values with nnc --eval '%s(...)', which "
			                           "fix it", d->name),
			           "dimension '%s' of input '%s' is set by the argument, and --of has none", e->str, p->name);
		Value v = eval(c, e);
		s.d[i] = need_int(&v, "a dimension");
	}
	return check_shape(s, t->loc);
}

/* A parameter the call gives: a compile-time number for int and float
 * parameters, else an input of the given or declared shape. */
static Value argument(Ctx *c, const Decl *d, int i, const FnArg *given, Node **input)
{
	const Param *p = &d->params[i];
	const Type *t = p->type;
	*input = NULL;
	if (t && (t->kind == T_INT || t->kind == T_FLOAT)) {
		if (!given)
			error_at(p->loc, "'%s' is %s, a number fixed at compile time: give it a default or a value "
			         "with --eval", p->name, t->kind == T_INT ? "an int" : "a float");
		if (given->shape.rank)
			error_at(p->loc, "'%s' is a number, but --eval gives it %s values", p->name,
			         shape_str(given->shape));
		if (t->kind == T_INT && (!(fabs(given->number) <= 9.2e18) || given->number != floor(given->number)))
			error_at(p->loc, "'%s' is an int, and --eval gives it %g", p->name, given->number);
		return (Value){ .kind = t->kind == T_INT ? V_INT : V_FLOAT, .i = (int64_t)given->number,
		                .f = given->number, .loc = p->loc };
	}
	if (t && t->kind == T_INIT)
		error_at(p->loc, "'%s' takes an initializer, which --of and --eval cannot give; give it a default",
		         p->name);
	DType dt = t ? resolve_dtype(c, t->dt) : c->fdt;
	if (dt == DT_I32)
		error_at(t->loc, "'%s' is an integer tensor (i32): --of and --eval give float inputs only", p->name);
	Shape s = given ? given->shape : declared_shape(c, d, p);
	int slot = ir_slot(c->m, p->name, SLOT_INPUT, dt, s, p->loc);
	c->m->slot[slot].io = i;
	*input = ir_input(c->fn, c->m, slot, p->loc);
	return tensor_value(*input, p->loc);
}

/* f(a, b, ...) over the top frame's names, as the user would write it. */
static Expr *call_of(const Decl *d, const int *passed)
{
	Expr *call = xalloc(sizeof *call);
	*call = (Expr){ .kind = E_CALL, .loc = d->loc, .str = d->name };
	call->args = xalloc(sizeof *call->args * (size_t)(d->nparams + 1));
	int gap = 0;     /* positional until a parameter is left to its default */
	for (int i = 0; i < d->nparams; i++) {
		gap |= !passed[i];
		if (!passed[i])
			continue;
		Expr *name = xalloc(sizeof *name);
		*name = (Expr){ .kind = E_IDENT, .loc = d->params[i].loc, .str = d->params[i].name };
		call->args[call->nargs++] = (Arg){ gap ? d->params[i].name : NULL, name, d->params[i].loc };
	}
	return call;
}

static void store_gradients(Ctx *c, const Decl *d, Node *y, Node **input)
{
	Node **x = xalloc(sizeof *x * (size_t)(d->nparams + 1)), **dx = xalloc(sizeof *dx * (size_t)(d->nparams + 1));
	int n = 0;
	for (int i = 0; i < d->nparams; i++)
		if (input[i])
			x[n++] = input[i];
	c->fn->backward_from = c->fn->n;
	grad_wrt(c->m, c->fn, y, x, n, dx);
	for (int k = 0; k < n; k++) {
		const Slot *in = &c->m->slot[x[k]->slot];
		int s = ir_slot(c->m, xprintf("%s.grad", in->name), SLOT_OUTPUT, in->dt, in->shape, in->loc);
		c->m->slot[s].io = d->nparams + 1 + k;
		ir_store(c->fn, s, dx[k], in->loc)->note = xprintf("d %s/d %s", d->name, in->name);
	}
}

Module *lower_function(const Program *prog, const char *name, const FnArg *value, int nvalue)
{
	Ctx *c = lower_start(prog);
	const Decl *d = find_function(c, name);
	if (value && nvalue > d->nparams)
		error_at(d->loc, "'%s' takes %d argument%s, and --eval gives %d", d->name, d->nparams,
		         d->nparams == 1 ? "" : "s", nvalue);
	c->fdt = function_float(d);
	c->m->model = d->name;
	c->m->source = prog->main_file;
	c->m->precision = c->fdt;
	c->fn->name = d->name;
	c->m->grad = c->fn;
	c->m->fwd = NULL;
	Node **input = xalloc(sizeof *input * (size_t)(d->nparams + 1));
	int *passed = xalloc(sizeof *passed * (size_t)(d->nparams + 1));
	for (int i = 0; i < d->nparams; i++) {
		const FnArg *given = value && i < nvalue ? &value[i] : NULL;
		if (!given && (value || d->params[i].def))
			continue;   /* its default */
		passed[i] = 1;
		env_bind(c->frame, d->params[i].name, argument(c, d, i, given, &input[i]));
	}
	Value v = call_fn(c, d, call_of(d, passed));
	Node *y = v.kind == V_INT || v.kind == V_FLOAT ? to_tensor(c, &v, c->fdt, d->loc)
	                                               : need_tensor(c, &v, xprintf("the value of '%s'", d->name));
	int out = ir_slot(c->m, "out", SLOT_OUTPUT, y->dt, y->shape, d->loc);
	c->m->slot[out].io = d->nparams;
	ir_store(c->fn, out, y, d->loc)->note = xprintf("the value of %s", d->name);
	if (!shape_has_batch(y->shape) && shape_numel(y->shape, 1) == 1 && y->dt != DT_I32)
		store_gradients(c, d, y, input);
	stamp(c);
	lower_finish(c);
	return c->m;
}
