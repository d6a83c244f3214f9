/* lower_norm.c — the builtins whose training and evaluation differ:
 * dropout and batch normalization.  Each writes both behaviours as
 * select_mode(training, evaluation) (mode.c keeps one per compiled
 * function), and batch norm keeps its running statistics in SLOT_BUFFER
 * slots that the training step updates with stores. */
#include <string.h>
#include "lower.h"

static Node *scalar_like(Ctx *c, double v, const Node *like, Loc loc)
{
	return ir_broadcast(c->fn, ir_const(c->fn, like->dt, v, loc), like->shape, loc);
}

/* dropout(x, p = 0.5): in training each value is zeroed with probability
 * p and the survivors scaled by 1/(1-p) (inverted dropout, so evaluation
 * is the identity). */
Value lower_dropout(Ctx *c, const Expr *call, Value *arg)
{
	Loc loc = call->loc;
	Node *x = need_tensor(c, &arg[0], "the argument of 'dropout'");
	if (x->dt == DT_I32)
		error_at(call->loc, "dropout needs a float tensor, not %s", type_str(x->dt, x->shape));
	double p = arg[1].kind == V_NONE ? 0.5 : need_number(&arg[1], "p");
	if (!(p >= 0 && p < 1))
		error_at(arg[1].loc, "dropout's p is the probability of dropping a value, in [0, 1); not %g", p);
	if (p == 0)
		return arg[0];     /* nothing dropped: no random stream, no mask (layers with dropout: 0) */
	Node *u = random_uniform(c, x->dt, x->shape, loc);
	Node *keep = ir_unary(c->fn, OP_step, ir_binary(c->fn, OP_sub, u, scalar_like(c, p, x, loc), loc), loc);
	Node *scale = scalar_like(c, 1 / (1 - p), x, loc);
	Node *train = ir_binary(c->fn, OP_mul, ir_binary(c->fn, OP_mul, x, keep, loc), scale, loc);
	return tensor_value(ir_binary(c->fn, OP_select_mode, train, x, loc), loc);
}

/* The call in the main file that leads to loc: what a user wrote, not
 * the standard-library line that called the builtin. */
static Loc user_loc(const Ctx *c, Loc loc)
{
	const char *main = c->prog->main_file;
	for (const Frame *f = c->frame; f && !(loc.file && main && !strcmp(loc.file, main)); f = f->up)
		loc = f->call;
	return loc;
}

/* batch_norm(x, momentum = 0.1, eps = 1e-5): x [B, ..., C] normalized per
 * channel (the last axis) over the batch and every other axis, with the
 * batch's mean and (biased) variance in training, the running ones in
 * evaluation.  Training moves the running statistics by momentum towards
 * the batch's, the variance unbiased by n/(n-1), as PyTorch does.  No
 * gain or shift: stdlib's batch_norm_layer adds them. */
Value lower_batch_norm(Ctx *c, const Expr *call, Value *arg)
{
	Loc loc = call->loc;
	Node *x = need_tensor(c, &arg[0], "the argument of 'batch_norm'");
	Shape s = x->shape;
	if (x->dt == DT_I32 || s.rank < 2 || s.d[0] != DIM_BATCH)
		error_at(loc, "batch_norm needs a float tensor [B, ..., C] (channels last), not %s", type_str(x->dt, s));
	double mom = arg[1].kind == V_NONE ? 0.1 : need_number(&arg[1], "momentum");
	double eps = arg[2].kind == V_NONE ? 1e-5 : need_number(&arg[2], "eps");
	if (!(mom >= 0 && mom <= 1))
		error_at(arg[1].loc, "batch_norm's momentum must be in [0, 1], not %g", mom);
	if (!(eps > 0))
		error_at(arg[2].loc, "batch_norm's eps must be positive, not %g", eps);
	int64_t ch = s.d[s.rank - 1], per = shape_per_sample(s) / ch;
	uint32_t axes = (uint32_t)((1u << (s.rank - 1)) - 1);
	Shape stat = s, vec = shape_of(1, ch);
	for (int i = 0; i < s.rank - 1; i++)
		stat.d[i] = 1;
	/* n = B * per values per channel; 1/n as (1/per) / B */
	Node *nb = ir_binary(c->fn, OP_mul, ir_batch(c->fn, x->dt, loc), ir_const(c->fn, x->dt, (double)per, loc), loc);
	Node *inv_n = ir_binary(c->fn, OP_div, ir_const(c->fn, x->dt, 1, loc), nb, loc);
	Node *mu = ir_binary(c->fn, OP_mul, ir_reduce(c->fn, OP_sum, x, axes, loc), ir_broadcast(c->fn, inv_n, stat, loc), loc);
	Node *d = ir_binary(c->fn, OP_sub, x, ir_broadcast(c->fn, mu, s, loc), loc);
	Node *var = ir_binary(c->fn, OP_mul, ir_reduce(c->fn, OP_sum, ir_binary(c->fn, OP_mul, d, d, loc), axes, loc),
	                      ir_broadcast(c->fn, inv_n, stat, loc), loc);
	Node *sd = ir_unary(c->fn, OP_sqrt, ir_binary(c->fn, OP_add, var, scalar_like(c, eps, var, loc), loc), loc);
	Node *train = ir_binary(c->fn, OP_div, d, ir_broadcast(c->fn, sd, s, loc), loc);

	/* Over one value per channel a sample's statistics do not exist (the
	 * unbiased variance is 0/0): the trainer needs two samples a batch. */
	Loc at = user_loc(c, loc);
	if (per == 1 && c->m->min_batch < 2)
		c->m->min_batch = 2, c->m->min_batch_at = at;
	const char *path = c->builtin_path;
	int rm = buffer_slot(c, path, "batch_norm", "running_mean", x->dt, shape_of(1, ch), INIT_ZEROS, at);
	int rv = buffer_slot(c, path, "batch_norm", "running_var", x->dt, shape_of(1, ch), INIT_ONES, at);
	Node *mean_r = ir_param(c->fn, c->m, rm, loc), *var_r = ir_param(c->fn, c->m, rv, loc);
	Node *sd_r = ir_unary(c->fn, OP_sqrt, ir_binary(c->fn, OP_add, var_r, scalar_like(c, eps, var_r, loc), loc), loc);
	Node *eval = ir_binary(c->fn, OP_div,
	                       ir_binary(c->fn, OP_sub, x, ir_broadcast(c->fn, ir_reshape(c->fn, mean_r, stat, loc), s, loc), loc),
	                       ir_broadcast(c->fn, ir_reshape(c->fn, sd_r, stat, loc), s, loc), loc);

	/* running = (1 - momentum) running + momentum batch */
	Node *unbias = ir_binary(c->fn, OP_div, nb, ir_binary(c->fn, OP_sub, nb, ir_const(c->fn, x->dt, 1, loc), loc), loc);
	Node *keep = scalar_like(c, 1 - mom, mean_r, loc), *take = scalar_like(c, mom, mean_r, loc);
	Node *mu_v = ir_unary(c->fn, OP_stop_gradient, ir_reshape(c->fn, mu, vec, loc), loc);
	Node *var_v = ir_unary(c->fn, OP_stop_gradient, ir_binary(c->fn, OP_mul, ir_reshape(c->fn, var, vec, loc),
	                                                         ir_broadcast(c->fn, unbias, vec, loc), loc), loc);
	ir_store(c->fn, rm, ir_binary(c->fn, OP_add, ir_binary(c->fn, OP_mul, keep, mean_r, loc),
	                              ir_binary(c->fn, OP_mul, take, mu_v, loc), loc), loc);
	ir_store(c->fn, rv, ir_binary(c->fn, OP_add, ir_binary(c->fn, OP_mul, keep, var_r, loc),
	                              ir_binary(c->fn, OP_mul, take, var_v, loc), loc), loc);
	return tensor_value(ir_binary(c->fn, OP_select_mode, train, eval, loc), loc);
}
