/* lower_scan.c — scan(step, h0, xs..., steps:, key: value...): the loop.
 *
 * The step is a fn (or model) of the program, called once, into a body
 * Fn of its own, with the state and one time step of each sequence as
 * its positional arguments; further keyword arguments of the scan are
 * passed on to it.  It returns the new state, shaped like h0.  The scan
 * is one IR node whose value stacks every step's state along axis 1:
 * h0 [B,...] and xs [B,T,...] give [B,T,...] (compiler/ir/scan.c).
 * The parameters the step declares are made once, so every step shares
 * them, and named after the call as any call's are ("m.rnn_step_1.W").
 *
 * stateful: 1 is truncated BPTT over a stream: in training, the state a
 * batch starts from is the one the previous batch ended in (zero at
 * first), kept in a buffer slot ("m.lstm_1.scan_1.state", in every
 * checkpoint, so a resumed run goes on as an uninterrupted one would) and
 * read without a gradient, which cuts BPTT at the batch boundary.  Row b
 * of a batch continues row b of the one before, so every training batch
 * must have the train block's batch size (the descriptor's carry_batch).
 * Evaluation starts every batch from h0.
 *
 * Every scan also keeps, in a buffer "<call>.scan_N.dh_norm" [T], the L2
 * norm of the loss's gradient with respect to each step's state at the
 * last training step, over the batch (written by its VJP, grad_scan.c):
 * what --log-grad-norms logs through time. */
#include <string.h>
#include "lower.h"

/* The fn named as the step of the loop builtin `what` (scan, repeat). */
const Decl *step_fn(Ctx *c, const Expr *call, const Expr **positional, int npos, const char *what)
{
	if (npos < 2)
		error_at(call->loc, "%s takes the function of one step and the initial state%s: %s(step, %s)", what,
		         strcmp(what, "scan") ? "" : ", then the sequences", what, strcmp(what, "scan") ? "x, times: K" : "h0, xs");
	const Expr *f = positional[0];
	if (f->kind != E_IDENT)
		error_at(f->loc, "%s's first argument names the function of one step, e.g. %s(step, ...)", what, what);
	const Decl *d = find_decl(c, f->str);
	if (!d) {
		if (is_builtin(f->str))
			error_at(f->loc, "%s needs a fn of the program as its step, not the builtin '%s'; "
			         "wrap it: fn step(h, x) { return %s(...) }", what, f->str, f->str);
		error_at(f->loc, "unknown function '%s' as the step of %s", f->str, what);
	}
	return d;
}

/* The state and the sequences, checked: h0 [B,...], each xs [B,T,...]
 * with one T; returns T. */
static int64_t check_operands(Ctx *c, const Expr *call, const Expr **pos, int npos, Node **in, int64_t steps)
{
	Value h0 = eval(c, pos[1]);
	in[0] = need_tensor(c, &h0, "the initial state of scan");
	if (in[0]->dt == DT_I32 || in[0]->shape.rank < 1 || in[0]->shape.d[0] != DIM_BATCH)
		error_at(pos[1]->loc, "the initial state of scan is %s; it must be a float tensor [B, ...], one state per sample",
		         type_str(in[0]->dt, in[0]->shape));
	int64_t T = steps;
	for (int k = 2; k < npos; k++) {
		Value v = eval(c, pos[k]);
		Node *x = in[k - 1] = need_tensor(c, &v, "a sequence of scan");
		if (x->shape.rank < 2 || x->shape.d[0] != DIM_BATCH || x->shape.d[1] == DIM_BATCH)
			error_at(pos[k]->loc, "a sequence of scan is %s; it must be [B, T, ...]: the batch, then time",
			         type_str(x->dt, x->shape));
		if (T > 0 && x->shape.d[1] != T)
			error_at(pos[k]->loc, "this sequence has %lld steps, %s %lld", (long long)x->shape.d[1],
			         steps > 0 && k == 2 ? "steps: says" : "the first has", (long long)T);
		T = x->shape.d[1];
	}
	if (T <= 0)
		error_at(call->loc, "scan without a sequence needs the number of steps: scan(step, h0, steps: 10)");
	return T;
}

/* Nodes scan cannot repeat yet, named at the line of the step that made them. */
static void check_body(const Fn *body)
{
	for (int i = 0; i < body->n; i++) {
		const Node *n = body->node[i];
		OpKind k = op_info[n->op].kind;
		if (k == K_RANDOM)
			error_at(n->loc, "random draws (dropout, sampling) inside the step of a scan are not supported yet; "
			         "apply them to the scan's result, or unroll a chain that draws with repeat(step, x, times: K)");
		if (k == K_WINDOW || k == K_STORE)
			error_at(n->loc, "'%s' inside the step of a scan is not supported yet",
			         k == K_STORE ? "batch_norm" : "convolution or pooling");
	}
}

/* stateful: the state kept from the batch before replaces h0 (in[0]) in
 * training; returns its slot (scan's and repeat's). */
int carried(Ctx *c, const Expr *call, const char *path, const char *callee, Node **in)
{
	Node *h0 = in[0];
	int slot = buffer_slot(c, path, callee, "state", h0->dt, h0->shape, INIT_ZEROS, call->loc);
	Node *pick[2] = { ir_param(c->fn, c->m, slot, call->loc), h0 };
	in[0] = ir_elem(c->fn, OP_select_mode, 2, pick, call->loc);
	/* The trainer's messages name the call the user wrote (the loss's
	 * gibbs(...)), not the line of stdlib/rbm.nn that it expands to. */
	Loc at = call->loc;
	for (const Frame *f = c->frame; f && f->decl && !in_main_file(c, at); f = f->up)
		at = f->call;
	if (!c->m->carry_batch)
		c->m->carry_at = at;
	c->m->carry_batch = 1;
	return slot;
}

Value lower_scan(Ctx *c, const Expr *call)
{
	const Expr *pos[MAXIN + 2];
	Arg *kw = xalloc(sizeof *kw * (size_t)(call->nargs + 1));
	int npos = 0, nkw = 0;
	int64_t steps = 0, stateful = 0;
	for (int k = 0; k < call->nargs; k++) {
		const Arg *a = &call->args[k];
		if (a->name && strcmp(a->name, "stateful") == 0) {
			Value v = eval(c, a->value);
			stateful = need_int(&v, "stateful of scan");
			if (stateful != 0 && stateful != 1)
				error_at(a->value->loc, "stateful of scan is 0 or 1, not %lld", (long long)stateful);
		} else if (a->name && strcmp(a->name, "steps") == 0) {
			Value v = eval(c, a->value);
			steps = need_int(&v, "steps of scan");
			if (steps < 1 || steps > 1000000)
				error_at(a->value->loc, "steps of scan must be in 1 .. 1000000, not %lld", (long long)steps);
		} else if (a->name)
			kw[nkw++] = *a;
		else if (nkw)
			error_at(a->loc, "positional argument after a keyword argument in call to 'scan'");
		else if (npos == SCAN_MAX_SEQ + 2)   /* the step, h0, then the sequences */
			error_at(a->loc, "scan takes at most %d sequences", SCAN_MAX_SEQ);
		else
			pos[npos++] = a->value;
	}
	const Decl *d = step_fn(c, call, pos, npos, "scan");
	Node *in[MAXIN];
	int64_t T = check_operands(c, call, pos, npos, in, steps);
	int nin = npos - 1;
	const char *path = call_path_of(c, "scan", NULL);
	int kept = stateful ? carried(c, call, path, "scan", in) : -1;
	int norms = buffer_slot(c, path, "scan", "dh_norm", in[0]->dt, shape_of(1, T), INIT_ZEROS, call->loc);

	/* The step's call: its positional arguments are the body's args,
	 * bound under names no program can write ("h[t-1]", "xs[t]"). */
	Fn *outer = c->fn, *body = ir_fn("body");
	stamp_call(c, c->frame->path);
	int stamped = c->stamped, call_stamped = c->call_stamped;
	c->fn = body;
	c->stamped = c->call_stamped = 0;
	Expr *step = xalloc(sizeof *step);
	*step = (Expr){ .kind = E_CALL, .loc = call->loc, .str = d->name, .nargs = nin + nkw };
	step->args = xalloc(sizeof *step->args * (size_t)(nin + nkw));
	for (int k = 0; k < nin; k++) {
		Shape s = k ? shape_remove(in[k]->shape, 1) : in[0]->shape;
		Node *a = ir_arg(body, k, in[k]->dt, s, pos[k + 1]->loc);
		const char *name = k ? xprintf("%s[t]", expr_text(pos[k + 1])) : "h[t-1]";
		env_bind(c->frame, name, tensor_value(a, pos[k + 1]->loc));
		Expr *ref = xalloc(sizeof *ref);
		*ref = (Expr){ .kind = E_IDENT, .loc = pos[k + 1]->loc, .str = name };
		step->args[k] = (Arg){ .value = ref, .loc = ref->loc };
	}
	for (int k = 0; k < nkw; k++)
		step->args[nin + k] = kw[k];
	Value r = call_fn(c, d, step);
	Node *h = need_tensor(c, &r, xprintf("the value '%s' returns as the step of scan", d->name));
	if (!shape_equal(h->shape, in[0]->shape) || h->dt != in[0]->dt)
		error_at(call->loc, "the step '%s' returns %s; it must return the new state, shaped like the initial "
		         "state %s", d->name, type_str(h->dt, h->shape), type_str(in[0]->dt, in[0]->shape));
	stamp(c);
	ir_yield(body, h, h, call->loc);
	check_body(body);
	stamp_call(c, c->frame->path);
	c->fn = outer;
	c->stamped = stamped;
	c->call_stamped = call_stamped;
	Node *S = ir_scan(c->fn, body, in, nin, T, 0, call->loc);
	S->slot = norms;
	if (kept >= 0) {   /* the last step's state, for the next batch */
		Node *last = ir_slice(c->fn, S, 1, T - 1, 1, call->loc);
		ir_store(c->fn, kept, ir_reshape(c->fn, last, c->m->slot[kept].shape, call->loc), call->loc);
	}
	return tensor_value(S, call->loc);
}
