/* lower_repeat.c — repeat(step, x, times: K, stateful: 0, key: value...):
 * x_K where x_k = step(x_{k-1}, key: value...), unrolled into K calls.
 *
 * A Markov chain (an RBM's Gibbs sampler, stdlib/rbm.nn) is such a loop,
 * and it draws random numbers, which a scan's step may not do yet
 * (lower_scan.c): unrolled, every call takes streams of its own, so each
 * step draws afresh and the same seed draws the same chain.  K is small
 * (CD-1, CD-10), so the copies cost nothing that a loop would save.
 *
 * The step must not declare parameters: K copies would make K sets of
 * them, not one set that every step shares (a scan does that); a step
 * takes the weights it needs as arguments (W: rbm.W).
 *
 * stateful: 1 keeps the chain across training batches (persistent
 * contrastive divergence): the state a batch starts from is the one the
 * batch before ended in, in a buffer slot "<call>.repeat_N.state" of the
 * train block's batch rows (zero at first), held by every checkpoint, as
 * a stateful scan keeps its state (the same slot, the same carry_batch:
 * every training batch has the train block's batch size).  Evaluation
 * starts every batch from x. */
#include <string.h>
#include "lower.h"

enum { MAX_TIMES = 1000 };

/* An identifier bound in the caller's frame to v, under a name no
 * program can write, so the step's call passes the value, not the
 * expression again (which would draw its random numbers anew). */
static Expr *hidden_name(Ctx *c, const char *name, Value v, Loc loc)
{
	env_bind(c->frame, name, v);
	Expr *ref = xalloc(sizeof *ref);
	*ref = (Expr){ .kind = E_IDENT, .loc = loc, .str = name };
	return ref;
}

static int64_t int_arg(Ctx *c, const Arg *a, int64_t lo, int64_t hi, const char *what)
{
	Value v = eval(c, a->value);
	int64_t n = need_int(&v, what);
	if (n < lo || n > hi)
		error_at(a->value->loc, "%s must be in %lld .. %lld, not %lld", what, (long long)lo, (long long)hi,
		         (long long)n);
	return n;
}

static int count_params(const Module *m)
{
	int n = 0;
	for (int i = 0; i < m->nslot; i++)
		n += m->slot[i].role == SLOT_PARAM;
	return n;
}

/* The call's arguments: the step and x positional, times and stateful
 * taken here, the other keywords passed on to the step. */
typedef struct RepeatArgs {
	const Expr *pos[2];
	int npos, nkw;
	Arg *kw;
	int64_t times, stateful;
} RepeatArgs;

static RepeatArgs repeat_args(Ctx *c, const Expr *call)
{
	RepeatArgs r = { .kw = xalloc(sizeof(Arg) * (size_t)(call->nargs + 1)) };
	for (int k = 0; k < call->nargs; k++) {
		const Arg *a = &call->args[k];
		if (a->name && !strcmp(a->name, "times"))
			r.times = int_arg(c, a, 1, MAX_TIMES, "times of repeat");
		else if (a->name && !strcmp(a->name, "stateful"))
			r.stateful = int_arg(c, a, 0, 1, "stateful of repeat");
		else if (a->name)
			r.kw[r.nkw++] = *a;
		else if (r.nkw)
			error_at(a->loc, "positional argument after a keyword argument in call to 'repeat'");
		else if (r.npos == 2)
			error_at(a->loc, "repeat takes the step and the initial state, then keyword arguments: "
			         "repeat(step, x, times: K, key: value...)");
		else
			r.pos[r.npos++] = a->value;
	}
	return r;
}

Value lower_repeat(Ctx *c, const Expr *call)
{
	RepeatArgs ra = repeat_args(c, call);
	const Decl *d = step_fn(c, call, ra.pos, ra.npos, "repeat");
	if (!ra.times)
		error_at(call->loc, "repeat needs the number of steps: repeat(%s, x, times: K)", d->name);
	Value v0 = eval(c, ra.pos[1]);
	Node *x = need_tensor(c, &v0, "the initial state of repeat");
	if (x->dt == DT_I32 || x->shape.rank < 1 || x->shape.d[0] != DIM_BATCH)
		error_at(ra.pos[1]->loc, "the initial state of repeat is %s; it must be a float tensor [B, ...], one "
		         "state per sample", type_str(x->dt, x->shape));
	const char *path = call_path_of(c, "repeat", NULL);
	int kept = ra.stateful ? carried(c, call, path, "repeat", &x) : -1;
	Shape shape = x->shape;
	DType dt = x->dt;

	Expr *step = xalloc(sizeof *step);
	*step = (Expr){ .kind = E_CALL, .loc = call->loc, .str = d->name, .nargs = 1 + ra.nkw };
	step->args = xalloc(sizeof *step->args * (size_t)(1 + ra.nkw));
	for (int k = 0; k < ra.nkw; k++) {
		const Arg *a = &ra.kw[k];
		step->args[1 + k] = (Arg){ .name = a->name, .loc = a->loc,
		                           .value = hidden_name(c, xprintf("%s.%s", path, a->name), eval(c, a->value),
		                                                a->value->loc) };
	}
	int params = count_params(c->m);
	for (int64_t k = 0; k < ra.times; k++) {
		Expr *ref = hidden_name(c, xprintf("%s.x[%lld]", path, (long long)k), tensor_value(x, call->loc),
		                        ra.pos[1]->loc);
		step->args[0] = (Arg){ .value = ref, .loc = ref->loc };
		Value r = call_fn(c, d, step);
		x = need_tensor(c, &r, xprintf("the value '%s' returns as the step of repeat", d->name));
		if (!shape_equal(x->shape, shape) || x->dt != dt)
			error_at(call->loc, "the step '%s' returns %s; it must return the new state, shaped like the "
			         "initial state %s", d->name, type_str(x->dt, x->shape), type_str(dt, shape));
		if (count_params(c->m) != params)
			error_at(call->loc, "the step '%s' of repeat declares parameters, which each of its %lld copies "
			         "would make anew; pass the weights in as arguments (W: model.W), or loop with scan",
			         d->name, (long long)ra.times);
	}
	if (kept >= 0)   /* the chain's end, where the next batch goes on */
		ir_store(c->fn, kept, x, call->loc);
	return tensor_value(x, call->loc);
}
