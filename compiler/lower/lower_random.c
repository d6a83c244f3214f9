/* lower_random.c — sampling builtins on the trainer's counter-based random
 * streams (runtime/random.c): every draw is a function of the seed, its
 * stream, the training step and the element's index, so the same seed
 * gives the same samples and a resumed run draws what a straight one
 * would.  Each call takes streams of its own.  The samplers are written
 * in existing ops (uniform and elementwise), so autodiff needs no rule:
 * bernoulli and categorical pass no gradient (step and eq are piecewise
 * constant); gaussian is reparameterized, mean + std * noise, so the
 * gradient reaches its mean and its deviation. */
#include <math.h>
#include "lower.h"
#include "../runtime/nnrt.h"

/* U[0,1) of x's dtype and shape from a stream of its own. */
Node *random_uniform(Ctx *c, DType dt, Shape s, Loc loc)
{
	Node *step = ir_input(c->fn, c->m, ir_hyper_slot(c->m, "step", NNRT_HYPER_STEP), loc);
	return ir_uniform(c->fn, step, dt, s, c->m->nstream++, loc);
}

static Node *scalar(Ctx *c, double v, const Node *like, Loc loc)
{
	return ir_broadcast(c->fn, ir_const(c->fn, like->dt, v, loc), like->shape, loc);
}

static Node *prob_tensor(Ctx *c, const Value *v, const char *fn)
{
	Node *p = need_tensor(c, v, xprintf("the probabilities of '%s'", fn));
	if (p->dt == DT_I32)
		error_at(v->loc, "'%s' needs float probabilities, not %s", fn, type_str(p->dt, p->shape));
	return p;
}

/* bernoulli(p): 1 with probability p, else 0 (u < p). */
Value lower_bernoulli(Ctx *c, const Expr *call, Value *arg)
{
	Loc loc = call->loc;
	Node *p = prob_tensor(c, &arg[0], "bernoulli");
	Node *u = random_uniform(c, p->dt, p->shape, loc);
	return tensor_value(ir_unary(c->fn, OP_step, ir_binary(c->fn, OP_sub, p, u, loc), loc), loc);
}

/* gaussian(mean, std): mean + std * e, e standard normal by Box and
 * Muller from two uniforms, sqrt(-2 log(1 - u1)) cos(2 pi u2) (1 - u1 is
 * in (0, 1], so the log is finite). */
Value lower_gaussian(Ctx *c, const Expr *call, Value *arg)
{
	Loc loc = call->loc;
	const Value *t = arg[0].kind == V_TENSOR ? &arg[0] : &arg[1];
	if (t->kind != V_TENSOR)
		error_at(loc, "gaussian needs a tensor mean or std to take its shape from; numbers alone have none");
	DType dt = t->t->dt;
	if (dt == DT_I32)
		error_at(t->loc, "gaussian needs float tensors, not %s", type_str(dt, t->t->shape));
	Node *mean = to_tensor(c, &arg[0], dt, loc);
	Node *std = arg[1].kind == V_NONE ? ir_const(c->fn, dt, 1, loc) : to_tensor(c, &arg[1], dt, loc);
	Shape s;
	if (!shape_broadcast(mean->shape, std->shape, &s))
		error_at(loc, "shape mismatch in 'gaussian': mean %s and std %s do not broadcast",
		         type_str(dt, mean->shape), type_str(dt, std->shape));
	mean = ir_broadcast(c->fn, mean, s, loc);
	std = ir_broadcast(c->fn, std, s, loc);
	Node *u1 = random_uniform(c, dt, s, loc), *u2 = random_uniform(c, dt, s, loc);
	Node *r = ir_unary(c->fn, OP_log, ir_binary(c->fn, OP_sub, scalar(c, 1, u1, loc), u1, loc), loc);
	r = ir_unary(c->fn, OP_sqrt, ir_binary(c->fn, OP_mul, scalar(c, -2, r, loc), r, loc), loc);
	Node *e = ir_binary(c->fn, OP_mul, r,
	                    ir_unary(c->fn, OP_cos, ir_binary(c->fn, OP_mul, scalar(c, 2 * M_PI, u2, loc), u2, loc), loc), loc);
	return tensor_value(ir_binary(c->fn, OP_add, mean, ir_binary(c->fn, OP_mul, std, e, loc), loc), loc);
}

/* categorical(p): a one-hot sample along the last axis of probabilities
 * p, by the Gumbel-max rule: the class of the largest log p + g, g =
 * -log(-log(1 - u)) (a class of probability 0 never wins). */
Value lower_categorical(Ctx *c, const Expr *call, Value *arg)
{
	Loc loc = call->loc;
	Node *p = prob_tensor(c, &arg[0], "categorical");
	if (p->shape.rank < 1 || p->shape.d[p->shape.rank - 1] == DIM_BATCH)
		error_at(arg[0].loc, "categorical needs probabilities over a last axis of classes, not %s",
		         type_str(p->dt, p->shape));
	Node *u = random_uniform(c, p->dt, p->shape, loc);
	Node *l = ir_unary(c->fn, OP_log, ir_binary(c->fn, OP_sub, scalar(c, 1, u, loc), u, loc), loc);
	Node *g = ir_unary(c->fn, OP_neg, ir_unary(c->fn, OP_log, ir_unary(c->fn, OP_neg, l, loc), loc), loc);
	Node *z = ir_binary(c->fn, OP_add, ir_unary(c->fn, OP_log, p, loc), g, loc);
	Node *top = ir_reduce(c->fn, OP_amax, z, 1u << (p->shape.rank - 1), loc);
	return tensor_value(ir_binary(c->fn, OP_eq, z, ir_broadcast(c->fn, top, z->shape, loc), loc), loc);
}
