/* lower_warn.c — what the elaborator tells a student beyond "it compiles":
 * the -Wmodel warnings (programs that are valid but will likely train
 * badly) and the hints of shape errors that look back at how an operand
 * was made (a reduction that dropped its axis).
 *
 * The warnings read the forward graph and a few facts the elaborator
 * records as it goes (Ctx.softmaxes, Ctx.normed); none of them changes
 * the graph, the configuration or the exit status. */
#include <string.h>
#include "lower.h"

void remember(Node ***list, int *n, Node *node)
{
	*list = xrealloc(*list, sizeof **list * (size_t)*n, sizeof **list * (size_t)(*n + 1));
	(*list)[(*n)++] = node;
}

int remembered(Node *const *list, int n, const Node *node)
{
	for (int i = 0; i < n; i++)
		if (list[i] == node)
			return 1;
	return 0;
}

/* ---- hints of shape errors ------------------------------------------- */

/* x - mean(x, axis: -1) on [B, N]: the mean is [B], which does not line
 * up with [B, N]; with keepdims it is [B, 1], which broadcasts. */
const char *keepdims_hint(const Ctx *c, const Node *a, const Node *b)
{
	for (int k = 0; k < 2; k++) {
		const Node *r = k ? b : a, *other = k ? a : b;
		Shape s;
		if (!remembered(c->squeezed, c->nsqueezed, r) || !shape_broadcast(other->shape, r->in[0]->shape, &s)
		    || !shape_equal(s, other->shape))
			continue;
		return xprintf("add 'keepdims: 1' to the reduction at %d:%d: it keeps the reduced axis as size 1 "
		               "(%s instead of %s), which broadcasts against %s", r->loc.line, r->loc.col,
		               shape_str(r->in[0]->shape), shape_str(r->shape), shape_str(other->shape));
	}
	return NULL;
}

/* ---- a parameter and broadcasting ------------------------------------ */

static const char *param_name(const Ctx *c, const Node *p)
{
	const char *path = c->m->slot[p->slot].name, *dot = strrchr(path, '.');
	return dot ? dot + 1 : path;
}

/* The shape a parameter should have to match `act` without its batch
 * dimension: [B, 1] -> [1], [B, T, D] -> [T, D]. */
static const char *declared_like(const Node *act)
{
	Shape s = { 0 };
	for (int i = 0; i < act->shape.rank; i++)
		if (act->shape.d[i] != DIM_BATCH)
			s.d[s.rank++] = act->shape.d[i];
	return xprintf("%s%s", dtype_name(act->dt), shape_str(s));
}

/* Axis i of shape s counted from the right, as broadcasting aligns them;
 * 1 where s is too short to have it. */
static int64_t dim_from_right(Shape s, int i) { return i < s.rank ? s.d[s.rank - 1 - i] : 1; }

/* A bias that widens the activation it is added to (h [B, 1] + b [3] is
 * [B, 3]) changes the model's output shape, which the trainer would
 * later blame on the data: an error here.  A parameter whose own axis
 * of size 1 is stretched is legal but usually a slip: a warning. */
void warn_widened(Ctx *c, const Node *a, const Node *b, Shape to, int op, Loc loc)
{
	for (int k = 0; k < 2; k++) {
		const Node *p = k ? b : a, *act = k ? a : b;
		if (p->op != OP_param || !shape_has_batch(act->shape))
			continue;
		const Slot *sl = &c->m->slot[p->slot];
		int widens_act = 0, widened = 0;
		for (int i = 0; i < to.rank; i++) {
			widens_act |= dim_from_right(act->shape, i) == 1 && dim_from_right(to, i) != 1;
			/* spreading one value over the samples is what every bias does */
			widened |= i < p->shape.rank && dim_from_right(p->shape, i) == 1 && dim_from_right(to, i) != 1
			        && dim_from_right(to, i) != DIM_BATCH;
		}
		if (widens_act && (op == OP_add || op == OP_sub))
			error_hint(loc, xprintf("declare '%s' (at %d:%d) as %s to match %s, or make the layer before it "
			                        "produce %s", param_name(c, p), sl->loc.line, sl->loc.col, declared_like(act),
			                        shape_str(act->shape), shape_str(to)),
			           "parameter '%s' %s widens %s to %s in '%s': broadcasting would change the shape of "
			           "the activation", sl->name, type_str(p->dt, p->shape), type_str(act->dt, act->shape),
			           type_str(act->dt, to), op == OP_add ? "+" : "-");
		if (widened && p->shape.rank > 0)
			warn_model(sl->loc, xprintf("each of its size-1 axes is shared across %s; if every element "
			                            "should learn its own value, declare it with the full shape; for one "
			                            "shared value, declare it float[]", shape_str(to)),
			           "parameter '%s' %s is widened by broadcasting to %s at %d:%d", sl->name,
			           type_str(p->dt, p->shape), type_str(p->dt, to), loc.line, loc.col);
	}
}

/* ---- calls ------------------------------------------------------------- */

void warn_after_call(Ctx *c, const char *callee, const Value *v, const Expr *call)
{
	(void)call;
	if (v->kind != V_TENSOR)
		return;
	if (!strcmp(callee, "softmax"))
		remember(&c->softmaxes, &c->nsoftmax, v->t);
	if (strstr(callee, "norm"))
		remember(&c->normed, &c->nnormed, v->t);
}

void warn_builtin_args(Ctx *c, const char *callee, const Value *arg, Loc loc)
{
	if (strcmp(callee, "cross_entropy") || arg[0].kind != V_TENSOR
	    || !remembered(c->softmaxes, c->nsoftmax, arg[0].t))
		return;
	warn_model(arg[0].t->loc, "cross_entropy applies log_softmax to its input, so softmax is applied twice: "
	           "the probabilities flatten and the gradient weakens; return the logits and let "
	           "cross_entropy normalize them",
	           "the result of this softmax is passed to cross_entropy at %d:%d, which expects logits",
	           loc.line, loc.col);
}

/* Ranges outside which a learning rate is almost always a slip (a missing
 * or extra zero): plain SGD on normalized inputs wants 1e-4 to 1; Adam's
 * steps are already scaled, so it wants 1e-5 to 0.1. */
void warn_optimizer(const Ctx *c, const char *name, const Value *lr, double value)
{
	(void)c;
	int sgd = !strcmp(name, "sgd");   /* else adam or adamw */
	double lo = sgd ? 1e-4 : 1e-5, hi = sgd ? 1 : 0.1;
	if (lr->kind == V_NONE || (value >= lo && value <= hi))
		return;
	warn_model(lr->loc, value > hi ? "too large a rate makes the loss jump about or diverge to NaN"
	                               : "too small a rate makes training crawl: the weights barely move",
	           "learning rate %g is outside the usual range of %s, [%g, %g]", value, name, lo, hi);
}

/* ---- the graph ---------------------------------------------------------- */

static int saturates(const Node *n) { return n->op == OP_sigmoid || n->op == OP_tanh; }

/* The fewest sigmoid or tanh nodes on any path from the data to each
 * node: a residual connection or a gate's bypass is a short path, and a
 * normalization (a call named *norm*) starts the count anew.  A sigmoid
 * or tanh with more than 5 before it on every path starves the first
 * layers of gradient. */
static void warn_saturating_stack(Ctx *c)
{
	const Fn *fn = c->fn;
	int *depth = xalloc(sizeof *depth * (size_t)(fn->next_id + 1));
	char *data = xalloc((size_t)fn->next_id + 1);
	for (int i = 0; i < fn->n; i++) {
		const Node *n = fn->node[i];
		int d = -1;
		for (int j = 0; j < n->nin; j++)
			if (data[n->in[j]->id] && (d < 0 || depth[n->in[j]->id] < d))
				d = depth[n->in[j]->id];
		data[n->id] = n->op == OP_input || d >= 0;
		depth[n->id] = remembered(c->normed, c->nnormed, n) ? 0 : (d < 0 ? 0 : d) + saturates(n);
		if (saturates(n) && data[n->id] && depth[n->id] > 5) {
			const char *what = n->op == OP_sigmoid ? "sigmoid" : "tanh";
			warn_model(n->loc, "their slopes are at most 1/4 (sigmoid) or 1 (tanh) and near 0 when saturated, "
			           "so the gradient reaching the first layers shrinks with every layer; normalize before "
			           "the activations (batch_norm1d, layer_norm), add residual connections, or use relu",
			           "sigmoid and tanh layers stacked %d deep at this %s, without normalization or a "
			           "residual connection", depth[n->id], what);
			return;
		}
	}
}

void warn_model_graph(Ctx *c)
{
	int params = 0;
	for (int i = 0; i < c->m->nslot; i++)
		params += c->m->slot[i].role == SLOT_PARAM;
	if (!params)
		warn_model(c->model->loc, "declare one with 'param NAME: float[...] = INIT', or call a layer such as "
		           "dense (import layers)",
		           "model '%s' has no parameters: training has nothing to change", c->model->name);
	warn_saturating_stack(c);
}
