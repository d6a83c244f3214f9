/* lower.c — the elaborator: names, calls and statements; AST -> graph IR.
 *
 * lower() evaluates the train block's loss symbolically.  Every call of a
 * fn or model is inlined into a fresh Frame, so each call site owns its
 * parameters (named by call path, "mlp.dense_1.W") and the result is one
 * straight-line forward function, Module.fwd.  Shapes and dtypes are
 * checked at every parameter binding and every op (lower_types.c);
 * builtins expand into the primitive ops of ops.def (lower_builtins.c);
 * the rest of the train block becomes Module.cfg (lower_train.c).
 *
 * Provenance in listings: a node's Loc is the op's own position in the
 * function that defines it (a matmul made by dense points into
 * layers.nn), and its note is the text of the innermost call written in
 * the user's main file that led to it ("dense(h, 128, init: he)").  So a
 * student sees both where an op is written and which line of their own
 * program asked for it. */
#include <stdlib.h>
#include <string.h>
#include "lower.h"

/* ---- text for notes and messages ------------------------------------ */

static void put_expr(char *buf, size_t cap, const Expr *e);

static void put(char *buf, size_t cap, const char *s)
{
	size_t n = strlen(buf);
	if (n + 1 < cap)
		snprintf(buf + n, cap - n, "%s", s);
}

static void put_args(char *buf, size_t cap, const Arg *args, int n)
{
	for (int i = 0; i < n; i++) {
		if (i)
			put(buf, cap, ", ");
		if (args[i].name) {
			put(buf, cap, args[i].name);
			put(buf, cap, ": ");
		}
		put_expr(buf, cap, args[i].value);
	}
}

static void put_expr(char *buf, size_t cap, const Expr *e)
{
	char num[64];
	switch (e->kind) {
	case E_NUM: snprintf(num, sizeof num, "%.15g", e->num); put(buf, cap, num); break;
	case E_STR: put(buf, cap, "\""); put(buf, cap, e->str); put(buf, cap, "\""); break;
	case E_IDENT: put(buf, cap, e->str); break;
	case E_FIELD: put_expr(buf, cap, e->a); put(buf, cap, "."); put(buf, cap, e->str); break;
	case E_UNARY: put(buf, cap, "-"); put_expr(buf, cap, e->a); break;
	case E_BINARY:
		put(buf, cap, "(");
		put_expr(buf, cap, e->a);
		put(buf, cap, e->op == 'P' ? " ** " : e->op == '@' ? " @ " :
		    e->op == '+' ? " + " : e->op == '-' ? " - " : e->op == '*' ? " * " : " / ");
		put_expr(buf, cap, e->b);
		put(buf, cap, ")");
		break;
	case E_CALL: put(buf, cap, e->str); put(buf, cap, "("); put_args(buf, cap, e->args, e->nargs); put(buf, cap, ")"); break;
	case E_APPLY: put_expr(buf, cap, e->a); put(buf, cap, "("); put_args(buf, cap, e->args, e->nargs); put(buf, cap, ")"); break;
	case E_LIST: put(buf, cap, "["); put_args(buf, cap, e->args, e->nargs); put(buf, cap, "]"); break;
	}
}

/* Source-like text of an expression, cut at 48 bytes for listings. */
const char *expr_text(const Expr *e)
{
	char buf[256] = "";
	put_expr(buf, sizeof buf, e);
	if (strlen(buf) > 48)
		strcpy(buf + 45, "...");
	return xstrdup(buf);
}

/* ---- notes ------------------------------------------------------------ */

/* Give every node made since the last stamp the current note. */
void stamp(Ctx *c)
{
	for (; c->stamped < c->fn->n; c->stamped++)
		if (!c->fn->node[c->stamped]->note)
			c->fn->node[c->stamped]->note = c->note;
}

/* Give every node made since the last call stamp the call path `path`:
 * called where a call's arguments are made (the caller's path) and where
 * its body ends (its own), so each node names the innermost call. */
void stamp_call(Ctx *c, const char *path)
{
	for (; c->call_stamped < c->fn->n; c->call_stamped++)
		c->fn->node[c->call_stamped]->call = path;
}

int in_main_file(const Ctx *c, Loc loc)
{
	return loc.file && c->prog->main_file && strcmp(loc.file, c->prog->main_file) == 0;
}

/* ---- names ------------------------------------------------------------ */

/* The main file's declarations shadow the imported modules'. */
const Decl *find_decl(const Ctx *c, const char *name)
{
	int i = names_get(&c->decls, name);
	return i < 0 ? NULL : c->prog->decls[i];
}

/* Fill Ctx.decls, once: a name is defined once in a file, and by one
 * imported module at most, else a call from anywhere would depend on the
 * order of the imports. */
static void index_decls(Ctx *c)
{
	const Program *p = c->prog;
	NameMap in_main = { 0 };
	for (int i = 0; i < p->ndecls; i++) {
		const Decl *d = p->decls[i];
		if (d->kind == D_TRAIN)
			continue;
		int main = !d->module || !d->module[0], j = names_get(main ? &in_main : &c->decls, d->name);
		const Decl *e = j < 0 ? NULL : p->decls[j];
		if (e && (main || !strcmp(e->module, d->module))) {
			note_at(e->loc, "'%s' is first defined here", e->name);
			error_at(d->loc, "'%s' is defined twice", d->name);
		}
		if (e) {
			note_at(e->loc, "'%s' is defined here, in module '%s'", e->name, e->module);
			error_at(d->loc, "'%s' is defined in two imported modules, '%s' (%s) and '%s' (%s); "
			         "a call would mean whichever was imported first: rename one", d->name, e->module,
			         e->loc.file, d->module, d->loc.file);
		}
		names_put(main ? &in_main : &c->decls, d->name, i);
	}
	for (int i = 0; i < p->ndecls; i++)
		if (p->decls[i]->kind != D_TRAIN && names_get(&in_main, p->decls[i]->name) == i)
			names_put(&c->decls, p->decls[i]->name, i);
}

/* A frame's locals by name: a rebinding (h = relu(h)) updates the one
 * binding, and lookups go through the map, so a body of thousands of
 * statements costs no scan of all its bindings per name. */
Value *env_lookup(Frame *f, const char *name)
{
	int i = names_get(&f->names, name);
	return i < 0 ? NULL : &f->binding[i]->v;
}

void env_bind(Frame *f, const char *name, Value v)
{
	int i = names_get(&f->names, name);
	if (i >= 0) {
		f->binding[i]->v = v;
		return;
	}
	Binding *b = xalloc(sizeof *b);
	*b = (Binding){ name, v, f->env };
	f->env = b;
	if ((f->nbinding & (f->nbinding - 1)) == 0)   /* 0 or a power of two: full */
		f->binding = xrealloc(f->binding, sizeof *f->binding * (size_t)f->nbinding,
		                      sizeof *f->binding * (size_t)(f->nbinding ? 2 * f->nbinding : 1));
	f->binding[f->nbinding] = b;
	names_put(&f->names, name, f->nbinding++);
}

static _Noreturn void unknown_name(const Ctx *c, const char *name, Loc loc)
{
	const char *mods = modules_defining(c->prog, name);
	if (mods)
		error_hint(loc, xprintf("add 'import %.*s' at the top of the file", (int)strcspn(mods + 1, "'"), mods + 1),
		           "unknown name '%s': it is defined in module %s, which is not imported", name, mods);
	if (!strcmp(name, "if") || !strcmp(name, "for") || !strcmp(name, "while"))
		error_hint(loc, name[0] == 'i' ? "choose per element with where(mask, a, b) (see nn(5))"
		                               : "unroll the steps or use scan(step, h0, xs, ...) (see nn(5))",
		           "nn has no '%s': a fn or model is straight-line code", name);
	int nb, n = 0, nenv = 0;
	const char *const *builtins = builtin_names(&nb);
	for (Binding *b = c->frame->env; b; b = b->next)
		nenv++;
	const char **cands = xalloc(sizeof *cands * (size_t)(nenv + nb + c->prog->ndecls + 1));
	for (Binding *b = c->frame->env; b; b = b->next)
		cands[n++] = b->name;
	for (int i = 0; i < c->prog->ndecls; i++)
		if (c->prog->decls[i]->kind != D_TRAIN)
			cands[n++] = c->prog->decls[i]->name;
	for (int i = 0; i < nb; i++)
		cands[n++] = builtins[i];
	const char *s = suggest(name, cands, n);
	if (s)
		error_at(loc, "unknown name '%s'; did you mean '%s'?", name, s);
	error_at(loc, "unknown name '%s'", name);
}

/* ---- expressions ------------------------------------------------------ */

static Value eval_ident(Ctx *c, const Expr *e)
{
	Value *v = env_lookup(c->frame, e->str);
	if (v) {
		Value r = *v;
		if (r.kind != V_TENSOR)
			r.loc = e->loc;
		return r;
	}
	Init init;
	if (init_by_name(e->str, &init))
		return (Value){ .kind = V_INIT, .init = init, .loc = e->loc };
	for (int i = 0; i < c->m->cfg.ndata; i++)
		if (strcmp(c->m->cfg.data[i].name, e->str) == 0)
			error_at(e->loc, "data source '%s' is not a value; use its fields '%s.x' and '%s.y'",
			         e->str, e->str, e->str);
	if (find_decl(c, e->str) || is_builtin(e->str))
		error_at(e->loc, "'%s' is a function; call it with arguments, as in '%s(...)'", e->str, e->str);
	unknown_name(c, e->str, e->loc);
}

static void exec_param(Ctx *c, const Stmt *s);

/* The parameters of a model the loss does not train, made without a call:
 * its 'param' statements alone, in a frame named as its call's would be,
 * so that a model may read the layers of another one (a deep belief net's
 * classifier the weights of its RBMs, docs/rbm.md) whether or not that
 * one is called.  A parameter whose type needs the model's arguments is
 * then an unknown name, at the parameter. */
static void make_model_params(Ctx *c, const Decl *d, Loc at)
{
	Frame *f = xalloc(sizeof *f);
	*f = (Frame){ .decl = d, .call = at, .up = c->frame, .depth = c->frame->depth + 1 };
	name_frame(c, f, d, at);
	Frame *caller = c->frame;
	c->frame = f;
	for (int i = 0; i < d->nbody; i++)
		if (d->body[i]->kind == S_PARAM)
			exec_param(c, d->body[i]);
	c->frame = caller;
}

/* MODEL.NAME: the parameter NAME a model declares in its own body, the
 * tensor every call of the model shares ("rbm.W"), so that a loss can
 * reuse a model's weights outside it (an RBM's Gibbs chain).  The model
 * trained makes its parameters when it is first called (their order is
 * the state's); another model makes them when first read. */
static Value model_param(Ctx *c, const Decl *d, const Expr *e)
{
	const char *path = xprintf("%s.%s", d->name, e->str);
	int slot = ir_find_slot(c->m, path);
	const char *given = NULL;
	for (int i = 0; i < d->nbody && !given; i++)
		if (d->body[i]->kind == S_PARAM && !strcmp(d->body[i]->name, e->str))
			given = d->body[i]->name;
	if (slot < 0 && given && d != c->model) {
		make_model_params(c, d, e->loc);
		slot = ir_find_slot(c->m, path);
	}
	if (slot >= 0 && c->m->slot[slot].role == SLOT_PARAM)
		return tensor_value(ir_param(c->fn, c->m, slot, e->loc), e->loc);
	if (given)
		error_at(e->loc, "model '%s' makes its parameter '%s' when it is first called; call it before "
		         "reading '%s'", d->name, e->str, path);
	error_at(e->loc, "model '%s' declares no parameter '%s' (MODEL.NAME reads a 'param' of the "
	         "model's own body)", d->name, e->str);
}

static Value eval_field(Ctx *c, const Expr *e)
{
	if (e->a->kind != E_IDENT)
		error_at(e->loc, "'.%s' applies to a data source name, as in 'train.%s'", e->str, e->str);
	const char *src = e->a->str;
	int known = 0;
	for (int i = 0; i < c->m->cfg.ndata; i++)
		known |= strcmp(c->m->cfg.data[i].name, src) == 0;
	const Decl *model = known || env_lookup(c->frame, src) ? NULL : find_decl(c, src);
	if (model && model->kind == D_MODEL)
		return model_param(c, model, e);
	if (!known || c->frame->decl) {
		if (env_lookup(c->frame, src))
			error_at(e->loc, "'%s' has no fields; only data sources do ('train.x')", src);
		if (c->frame->decl)
			error_at(e->a->loc, "unknown name '%s' (data fields are used in the train block only; "
			         "pass them to the model as arguments)", src);
		error_at(e->a->loc, "unknown data source '%s'; declare it with 'data %s = ...'", src, src);
	}
	int field = strcmp(e->str, "x") == 0 ? 0 : strcmp(e->str, "y") == 0 ? 1 : -1;
	if (field < 0)
		error_at(e->loc, "data source '%s' has no field '%s'; its fields are 'x' and 'y'", src, e->str);
	if (!c->source) {
		c->source = src;
		c->m->cfg.train_source = src;
	} else if (strcmp(c->source, src) != 0)
		error_at(e->a->loc, "the loss reads two data sources, '%s' and '%s'; it must read one "
		         "(the others are for 'report')", c->source, src);
	if (c->field[field])
		return tensor_value(c->field[field], e->loc);
	return (Value){ .kind = V_DATA, .field = field, .str = xprintf("%s.%s", src, e->str), .loc = e->loc };
}

static Value eval_list(Ctx *c, const Expr *e)
{
	Value v = { .kind = V_LIST, .nitem = e->nargs, .loc = e->loc };
	v.item = xalloc(sizeof *v.item * (size_t)(e->nargs + 1));
	for (int i = 0; i < e->nargs; i++) {
		if (e->args[i].name)
			error_at(e->args[i].loc, "list elements have no names");
		v.item[i] = eval(c, e->args[i].value);
	}
	return v;
}

static Value call_user(Ctx *c, const Decl *d, const Expr *call, const Value *pre);

static Value eval_call(Ctx *c, const Expr *e)
{
	const Decl *d = find_decl(c, e->str);
	if (c->fn->n > MAX_NODES)
		error_at(e->loc, "the program expands to more than %d operations; is a function called "
		         "in a loop of calls that doubles at each level?", MAX_NODES);
	if (d)
		return call_user(c, d, e, NULL);
	Value *bound = env_lookup(c->frame, e->str);
	if (bound && bound->kind == V_FUNC)
		return apply_function(c, *bound, e);
	if (!strcmp(e->str, "grad"))
		return lower_grad(c, e);
	int scan = strcmp(e->str, "scan") == 0, repeat = strcmp(e->str, "repeat") == 0;
	if (scan || repeat || is_builtin(e->str)) {
		const char *saved = c->note;
		if ((scan || repeat) && in_main_file(c, e->loc))
			c->note = expr_text(e);
		Value v = scan ? lower_scan(c, e) : repeat ? lower_repeat(c, e)
		               : call_builtin(c, e, in_main_file(c, e->loc) ? expr_text(e) : NULL);
		warn_after_call(c, e->str, &v, e);
		stamp(c);
		c->note = saved;
		return v;
	}
	if (env_lookup(c->frame, e->str))
		error_at(e->loc, "'%s' is a value, not a function", e->str);
	unknown_name(c, e->str, e->loc);
}

Value eval(Ctx *c, const Expr *e)
{
	switch (e->kind) {
	case E_NUM:
		if (e->is_int) {
			if (e->num > 9.2e18)
				error_at(e->loc, "integer %.0f is too large", e->num);
			return (Value){ .kind = V_INT, .i = (int64_t)e->num, .f = e->num, .loc = e->loc };
		}
		return (Value){ .kind = V_FLOAT, .f = e->num, .loc = e->loc };
	case E_STR: return (Value){ .kind = V_STR, .str = e->str, .loc = e->loc };
	case E_IDENT: return eval_ident(c, e);
	case E_FIELD: return eval_field(c, e);
	case E_UNARY: return negate(c, eval(c, e->a), e->loc);
	case E_BINARY: {
		Value a = eval(c, e->a);
		Value b = eval(c, e->b);
		return arith(c, e->op, a, b, e->loc);
	}
	case E_CALL: return eval_call(c, e);
	case E_APPLY: return apply_function(c, eval(c, e->a), e);
	case E_LIST: return eval_list(c, e);
	}
	error_at(e->loc, "unsupported expression");
}

/* ---- calls ------------------------------------------------------------ */

/* Map a call's arguments onto parameter names: out[i] is the argument
 * for names[i], or NULL.  Missing arguments are the caller's to judge. */
void bind_args(const char *callee, const Expr *call, const char *const *names, int n, const Expr **out)
{
	for (int i = 0; i < n; i++)
		out[i] = NULL;
	int pos = 0, seen_kw = 0;
	for (int k = 0; k < call->nargs; k++) {
		const Arg *a = &call->args[k];
		int i = -1;
		if (!a->name) {
			if (seen_kw)
				error_at(a->loc, "positional argument after a keyword argument in call to '%s'", callee);
			if (pos >= n)
				error_at(a->loc, "too many arguments to '%s': it takes %d, got %d", callee, n, call->nargs);
			i = pos++;
		} else {
			seen_kw = 1;
			for (int j = 0; j < n; j++)
				if (strcmp(names[j], a->name) == 0)
					i = j;
			if (i < 0) {
				const char *s = nearest(a->name, names, n);
				const char *takes = n ? xprintf("'%s' takes %s", callee, name_list(names, n))
				                      : xprintf("'%s' takes no arguments", callee);
				if (s)
					error_hint(a->loc, takes, "'%s' has no parameter '%s'; did you mean '%s'?", callee, a->name, s);
				error_hint(a->loc, takes, "'%s' has no parameter '%s'", callee, a->name);
			}
		}
		if (out[i])
			error_at(a->loc, "argument '%s' of '%s' is given twice", names[i], callee);
		out[i] = a->value;
	}
}

/* Evaluate the arguments bound to parameters (bind_args) in the order
 * they are written, so calls are met, and numbered, in reading order. */
void eval_args(Ctx *c, const Expr *call, const Expr **args, int n, Value *out)
{
	for (int k = 0; k < call->nargs; k++)
		for (int i = 0; i < n; i++)
			if (args[i] == call->args[k].value) {
				out[i] = eval(c, args[i]);
				break;
			}
}

/* The call path from the outermost frame, "mlp -> block -> mlp". */
static _Noreturn void recursion(Ctx *c, const Decl *d, const Expr *call)
{
	const char *cycle = d->name;
	for (Frame *f = c->frame; f && f->decl; f = f->up) {
		cycle = xprintf("%s -> %s", f->decl->name, cycle);
		if (f->decl == d)
			break;
	}
	error_at(call->loc, "recursive call of '%s' (%s); functions may not be recursive", d->name, cycle);
}

static Value exec_body(Ctx *c, const Decl *d);

/* Arguments are evaluated in the caller's frame under the caller's note
 * (or given evaluated, pre[k] for call->args[k]); defaults, type checks
 * and the body run under `note` (NULL: keep). */
static void bind_params(Ctx *c, const Decl *d, const Expr *call, Frame *callee, const char *note, const Value *pre)
{
	const char **names = xalloc(sizeof *names * (size_t)(d->nparams + 1));
	const Expr **args = xalloc(sizeof *args * (size_t)(d->nparams + 1));
	for (int i = 0; i < d->nparams; i++)
		names[i] = d->params[i].name;
	bind_args(d->name, call, names, d->nparams, args);
	Value *vals = xalloc(sizeof *vals * (size_t)(d->nparams + 1));
	if (pre) {
		for (int k = 0; k < call->nargs; k++)
			for (int i = 0; i < d->nparams; i++)
				if (args[i] == call->args[k].value)
					vals[i] = pre[k];
	} else
		eval_args(c, call, args, d->nparams, vals);
	stamp(c);
	stamp_call(c, c->frame->path);
	if (note)
		c->note = note;
	Frame *caller = c->frame;
	c->frame = callee;
	for (int i = 0; i < d->nparams; i++) {
		const Param *p = &d->params[i];
		if (!args[i] && !p->def)
			error_at(call->loc, "missing argument '%s' in call to '%s'", p->name, d->name);
		Value v = args[i] ? vals[i] : eval(c, p->def);
		if (p->type)
			v = bind_type(c, p->type, v, xprintf("argument '%s' of '%s'", p->name, d->name),
			              args[i] ? args[i]->loc : call->loc);
		env_bind(callee, p->name, v);
	}
	c->frame = caller;
}

/* eval and predict hand the output out sample by sample, so it is a
 * tensor whose first dimension is B. */
static Node *model_output(Ctx *c, const Decl *d, const Value *v, Loc call)
{
	Node *out = need_tensor(c, v, xprintf("the output of model '%s'", d->name));
	if (out->shape.rank == 0)
		error_hint(call, xprintf("a scalar function of its inputs is a 'fn': declare 'fn %s(...)' and print its "
		                         "derivative with 'nnc --emit=grad --of %s FILE' or evaluate it with "
		                         "'nnc --eval \"%s(...)\" FILE'; a model to train returns %s[B, ...]",
		                         d->name, d->name, d->name, dtype_name(out->dt)),
		           "the output of model '%s' is %s, a scalar; a model's output holds one prediction per "
		           "sample, so it starts with the batch dimension B", d->name, type_str(out->dt, out->shape));
	if (out->shape.rank == 0 || out->shape.d[0] != DIM_BATCH)
		error_at(call, "the output of model '%s' is %s; it must start with the batch dimension B, "
		         "one prediction per sample, as in %s[B, ...]%s", d->name, type_str(out->dt, out->shape),
		         dtype_name(out->dt), shape_has_batch(out->shape) ? " (transpose it)" : "");
	return out;
}

static Value call_user(Ctx *c, const Decl *d, const Expr *call, const Value *pre)
{
	for (Frame *f = c->frame; f; f = f->up)
		if (f->decl == d)
			recursion(c, d, call);
	if (c->frame->depth >= MAX_DEPTH)
		error_at(call->loc, "calls nested more than %d deep", MAX_DEPTH);
	Frame *callee = xalloc(sizeof *callee);
	*callee = (Frame){ .decl = d, .call = call->loc, .up = c->frame, .depth = c->frame->depth + 1 };
	name_frame(c, callee, d, call->loc);
	const char *saved = c->note;
	bind_params(c, d, call, callee, in_main_file(c, call->loc) ? expr_text(call) : NULL, pre);
	Frame *caller = c->frame;
	c->frame = callee;
	Value v = exec_body(c, d);
	stamp_call(c, callee->path);
	c->frame = caller;
	warn_after_call(c, d->name, &v, call);
	stamp(c);
	c->note = saved;
	if (d == c->model && !caller->decl && !c->output)
		c->output = model_output(c, d, &v, call->loc);
	return v;
}

Value call_fn(Ctx *c, const Decl *d, const Expr *call)
{
	return call_user(c, d, call, NULL);
}

Value call_with_values(Ctx *c, const Decl *d, const Expr *call, const Value *arg)
{
	return call_user(c, d, call, arg);
}

/* ---- statements ------------------------------------------------------- */

static void fill_fans(Init *in, Shape s)
{
	if (s.rank == 0) {
		in->fan_in = in->fan_out = 1;
	} else if (s.rank == 1) {
		in->fan_in = in->fan_out = s.d[0];
	} else {
		/* [in, out] for 2-D; higher ranks are kernels [KH, KW, ..., in, out]
		 * (conv2d's layout), whose window counts on both sides as in PyTorch */
		int64_t window = 1;
		for (int i = 0; i < s.rank - 2; i++)
			window *= s.d[i];
		in->fan_in = window * s.d[s.rank - 2];
		in->fan_out = window * s.d[s.rank - 1];
	}
}

static Shape param_shape(Ctx *c, const Stmt *s)
{
	const Type *ty = s->type;
	if (!ty || ty->kind != T_TENSOR)
		error_at(s->loc, "parameter '%s' must have a tensor type, such as float[N, out]", s->name);
	if (ty->rest)
		error_at(ty->loc, "parameter '%s' needs every dimension; '...' is for function parameters", s->name);
	Shape sh = { .rank = ty->ndims };
	if (ty->ndims > MAXRANK)
		error_at(ty->loc, "tensors have at most %d dimensions", MAXRANK);
	for (int i = 0; i < ty->ndims; i++) {
		Value d = eval(c, ty->dims[i]);
		if (d.kind == V_INT && d.is_batch)
			error_at(ty->dims[i]->loc, "a parameter cannot have the batch dimension");
		sh.d[i] = need_int(&d, "a dimension");
	}
	return check_shape(sh, ty->loc);
}

static void exec_param(Ctx *c, const Stmt *s)
{
	if (!c->frame->decl)
		error_at(s->loc, "'param' is allowed only inside a fn or model");
	if (env_lookup(c->frame, s->name))
		error_at(s->loc, "'%s' is already defined in '%s'", s->name, c->frame->decl->name);
	DType dt = resolve_dtype(c, s->type ? s->type->dt : DTN_FLOAT);
	if (dt == DT_I32)
		error_at(s->type->loc, "parameters are floating point; use float[...]");
	Shape sh = param_shape(c, s);
	Value iv = eval(c, s->value);
	Init init;
	if (iv.kind == V_INT || iv.kind == V_FLOAT)
		init = (Init){ .kind = INIT_CONSTANT, .a = need_number(&iv, ""), .gain = 1 };
	else if (iv.kind == V_INIT)
		init = iv.init;
	else
		error_at(s->value->loc, "parameter '%s' needs an initializer (zeros, he, normal(...), ...), not %s",
		         s->name, value_kind_name(&iv));
	fill_fans(&init, sh);
	Node *n = ir_param(c->fn, c->m, param_slot(c, s, dt, sh, init), s->loc);
	env_bind(c->frame, s->name, tensor_value(n, s->loc));
}

static Value exec_body(Ctx *c, const Decl *d)
{
	for (int i = 0; i < d->nbody; i++) {
		const Stmt *s = d->body[i];
		switch (s->kind) {
		case S_ASSIGN:
			env_bind(c->frame, s->name, eval(c, s->value));
			break;
		case S_PARAM:
			exec_param(c, s);
			break;
		case S_RETURN: {
			if (i + 1 < d->nbody)
				error_at(d->body[i + 1]->loc, "statement after 'return' is never executed");
			Value v = eval(c, s->value);
			if (v.kind == V_NONE)
				error_at(s->loc, "'%s' returns nothing", d->name);
			if (d->ret)
				v = bind_type(c, d->ret, v, xprintf("the return value of '%s'", d->name), s->value->loc);
			return v;
		}
		}
	}
	error_at(d->loc, "'%s' has no 'return' statement", d->name);
}

/* ---- the entry point -------------------------------------------------- */

static const Decl *find_train(const Program *p)
{
	const Decl *t = NULL;
	for (int i = 0; i < p->ndecls; i++) {
		const Decl *d = p->decls[i];
		if (d->kind != D_TRAIN)
			continue;
		if (d->module && d->module[0])
			error_at(d->loc, "a 'train' block belongs in the main file, not in module '%s'", d->module);
		if (t) {
			note_at(t->loc, "the first 'train' block is here");
			error_at(d->loc, "a program has one 'train' block; this is a second one");
		}
		t = d;
	}
	const Decl *fn = NULL;
	for (int i = 0; i < p->ndecls && !t && !fn; i++)
		if (p->decls[i]->kind == D_FN && !p->decls[i]->module[0])
			fn = p->decls[i];
	if (!t && fn)
		error_hint((Loc){ p->main_file, 1, 1, 1 },
		           xprintf("for its functions, print one's derivative with 'nnc --emit=grad --of %s FILE' or "
		                   "evaluate it with 'nnc --eval \"%s(...)\" FILE' (nnc(1))", fn->name, fn->name),
		           "no 'train' block, so there is no trainer to build; to train, add one: 'train MODEL { loss = ... }'");
	if (!t)
		error_at((Loc){ p->main_file, 1, 1, 1 }, "no 'train' block: say which model to train, "
		         "e.g. 'train mlp { loss = ... }'");
	return t;
}

/* The program's float type is the dtype of the model's first tensor input. */
static DType program_float(const Decl *model)
{
	for (int i = 0; i < model->nparams; i++) {
		const Type *t = model->params[i].type;
		if (t && t->kind == T_TENSOR && t->dt == DTN_F64)
			return DT_F64;
		if (t && t->kind == T_TENSOR && t->dt != DTN_I32)
			return DT_F32;
	}
	return DT_F32;
}

/* An error on a library's line (stdlib/attention.nn) says where the
 * user's file called into it: one note per call up to the main file. */
static const Ctx *lowering;

static void call_notes(Loc where)
{
	if (!lowering || in_main_file(lowering, where))
		return;
	for (const Frame *f = lowering->frame; f && f->up; f = f->up) {
		note_at(f->call, "in %s", f->what);
		if (in_main_file(lowering, f->call))
			break;
	}
}

/* The elaborator's state for one program, the forward function begun. */
Ctx *lower_start(const Program *prog)
{
	Ctx *c = xalloc(sizeof *c);
	c->prog = prog;
	lowering = c;
	diag_set_context(call_notes);
	index_decls(c);
	c->m = ir_module();
	c->fn = c->m->fwd = ir_fn("fwd");
	c->frame = xalloc(sizeof *c->frame);
	return c;
}

void lower_finish(Ctx *c)
{
	(void)c;
	diag_set_context(NULL);
	lowering = NULL;
}

Module *lower(const Program *prog)
{
	int nstage = program_stages(prog);
	if (nstage > 0 && !find_train(prog)->stage)   /* unsplit: the last stage, the whole network */
		return lower(stage_program(prog, nstage - 1));
	Ctx *c = lower_start(prog);
	c->train = find_train(prog);
	c->model = find_decl(c, c->train->name);
	if (!c->model) {
		const char **names = xalloc(sizeof *names * (size_t)(prog->ndecls + 1));
		int n = 0;
		for (int i = 0; i < prog->ndecls; i++)
			if (prog->decls[i]->kind == D_MODEL)
				names[n++] = prog->decls[i]->name;
		const char *s = suggest(c->train->name, names, n);
		if (s)
			error_at(c->train->loc, "unknown model '%s'; did you mean '%s'?", c->train->name, s);
		error_at(c->train->loc, "unknown model '%s'", c->train->name);
	}
	if (c->model->kind != D_MODEL)
		error_at(c->train->loc, "'%s' is a fn, not a model; declare it with 'model'", c->train->name);
	c->fdt = program_float(c->model);
	c->m->model = c->model->name;
	c->m->source = prog->main_file;
	c->m->precision = c->fdt;
	lower_train(c);
	lower_stage(c);
	stamp(c);
	warn_model_graph(c);
	lower_finish(c);
	return c->m;
}
