/* optim.c — the optimizer step written as IR, the function "update".
 *
 * It reads each parameter, its gradient and its optimizer state, and
 * stores the new parameter and state.  The formulas are PyTorch's, so a
 * model trained here and one trained by torch.optim follow the same path:
 *   sgd:   g' = g + wd W;  v = mu v + g';  W -= lr (nesterov ? g' + mu v : v)
 *          (v exists only when mu != 0; without it W -= lr g')
 *   adam:  g' = g + wd W;  m = b1 m + (1-b1) g';  v = b2 v + (1-b2) g'^2
 *          W -= lr (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + eps)
 *   adamw: as adam with g' = g, and W -= lr wd W decoupled from the moments
 * With clip c (torch.nn.utils.clip_grad_norm_), every g above is first
 * g * min(1, c / (n + 1e-6)), n the L2 norm of all gradients together.
 * lr and the step number t are hyperparameters the runtime passes each
 * step (a schedule changes lr without recompiling).
 *
 * Each parameter's block of nodes ends with its stores: one parameter's
 * update reads nothing another one writes, so storing early lets the
 * memory plan free its temporaries before the next parameter. */
#include <string.h>
#include "ir.h"
#include "../runtime/nnrt.h"

typedef struct Update {
	Module *m;
	Fn *fn;
	Node *lr, *t;         /* hyperparameters, shape [] */
	Node *bc1, *bc2;      /* Adam's bias corrections 1 - b^t, shape [], shared by all */
	Node *clip;           /* the gradients' factor, shape []; NULL without clip */
	Loc loc;              /* the parameter being updated */
} Update;

static Node *noted(Node *n, const char *note)
{
	n->note = note;
	return n;
}

/* A scalar (shape []) spread over `shape`. */
static Node *spread(Update *u, Node *s, Shape shape)
{
	return ir_broadcast(u->fn, s, shape, u->loc);
}

static Node *num(Update *u, double v, Shape shape)
{
	return spread(u, ir_const(u->fn, u->m->precision, v, u->loc), shape);
}

static Node *op2(Update *u, Op op, Node *a, Node *b)
{
	return ir_binary(u->fn, op, a, b, u->loc);
}

/* The slot "<param>.<what>" of optimizer state, zero at the start. */
static int state_slot(Module *m, int p, const char *what)
{
	const char *name = xprintf("%s.%s", m->slot[p].name, what);
	int found = ir_find_slot(m, name);
	if (found >= 0)
		return found;
	Slot ps = m->slot[p];
	int s = ir_slot(m, name, SLOT_OPTSTATE, ps.dt, ps.shape, ps.loc);
	m->slot[s].of = p;
	m->slot[s].init.kind = INIT_ZEROS;
	return s;
}

typedef struct Store { int slot; Node *value; } Store;

/* W, g: the parameter and its gradient.  Returns the step to subtract
 * (before the learning rate), and the state stores in st[]. */
static Node *sgd_step(Update *u, int p, Node *w, Node *g, Store *st, int *nst)
{
	const Config *c = &u->m->cfg;
	Shape s = w->shape;
	if (c->weight_decay != 0)
		g = noted(op2(u, OP_add, g, op2(u, OP_mul, num(u, c->weight_decay, s), w)), "g + wd W");
	if (c->momentum == 0)
		return g;
	int vs = state_slot(u->m, p, "momentum");
	Node *v = ir_param(u->fn, u->m, vs, u->loc);
	v = noted(op2(u, OP_add, op2(u, OP_mul, num(u, c->momentum, s), v), g), "v = mu v + g");
	st[(*nst)++] = (Store){ vs, v };
	if (c->nesterov)
		return noted(op2(u, OP_add, g, op2(u, OP_mul, num(u, c->momentum, s), v)), "nesterov: g + mu v");
	return v;
}

/* 1 - b^t, a scalar: the bias correction of an Adam moment. */
static Node *correction(Update *u, double b)
{
	Shape none = { 0 };
	Node *bt = op2(u, OP_pow, num(u, b, none), u->t);
	return op2(u, OP_sub, num(u, 1, none), bt);
}

static Node *moment(Update *u, int slot, double beta, Node *x, Store *st, int *nst, const char *note)
{
	Shape s = x->shape;
	Node *old = ir_param(u->fn, u->m, slot, u->loc);
	Node *v = op2(u, OP_add, op2(u, OP_mul, num(u, beta, s), old),
	              op2(u, OP_mul, num(u, 1 - beta, s), x));
	noted(v, note);
	st[(*nst)++] = (Store){ slot, v };
	return v;
}

static Node *adam_step(Update *u, int p, Node *w, Node *g, Store *st, int *nst, int decoupled)
{
	const Config *c = &u->m->cfg;
	Shape s = w->shape;
	if (c->weight_decay != 0 && !decoupled)
		g = noted(op2(u, OP_add, g, op2(u, OP_mul, num(u, c->weight_decay, s), w)), "g + wd W");
	Node *m1 = moment(u, state_slot(u->m, p, "m"), c->beta1, g, st, nst, "m = b1 m + (1-b1) g");
	Node *m2 = moment(u, state_slot(u->m, p, "v"), c->beta2, op2(u, OP_mul, g, g), st, nst,
	                  "v = b2 v + (1-b2) g^2");
	if (!u->bc1) {
		u->bc1 = noted(correction(u, c->beta1), "bias correction 1 - b1^t");
		u->bc2 = noted(correction(u, c->beta2), "bias correction 1 - b2^t");
	}
	Node *mhat = op2(u, OP_div, m1, spread(u, u->bc1, s));
	Node *vhat = op2(u, OP_div, m2, spread(u, u->bc2, s));
	Node *den = op2(u, OP_add, ir_unary(u->fn, OP_sqrt, vhat, u->loc), num(u, c->eps, s));
	Node *step = noted(op2(u, OP_div, mhat, den), "m^ / (sqrt(v^) + eps)");
	if (c->weight_decay != 0 && decoupled)
		step = noted(op2(u, OP_add, step, op2(u, OP_mul, num(u, c->weight_decay, s), w)),
		             "+ wd W, decoupled (adamw)");
	return step;
}

static const char *describe_optimizer(const Config *c)
{
	const char *o = nnrt_optimizer_word[c->optimizer];
	const char *wd = c->weight_decay != 0 ? xprintf(", weight_decay %g", c->weight_decay) : "";
	if (c->clip != 0)
		wd = xprintf("%s, clip %g", wd, c->clip);
	if (c->optimizer == NNRT_OPT_SGD)
		return xprintf("sgd(lr%s%s%s)", c->momentum != 0 ? xprintf(", momentum %g", c->momentum) : "",
		               c->nesterov ? ", nesterov" : "", wd);
	return xprintf("%s(lr, betas %g %g, eps %g%s)", o, c->beta1, c->beta2, c->eps, wd);
}

/* min(1, clip / (n + 1e-6)), n = sqrt(sum of g^2 over every gradient):
 * PyTorch's clip_grad_norm_, which scales by a factor clamped at 1, so a
 * norm below the bound leaves every gradient bit for bit as it was. */
static Node *clip_factor(Update *u, const int *grad_of, int nslot)
{
	Shape none = { 0 };
	Node *total = NULL;
	for (int p = 0; p < nslot; p++) {
		int gs = grad_of[p];
		if (u->m->slot[p].role != SLOT_PARAM || gs < 0)
			continue;
		u->loc = u->m->slot[p].loc;
		Node *g = ir_param(u->fn, u->m, gs, u->loc);
		Node *sq = op2(u, OP_mul, g, g);
		if (g->shape.rank > 0)
			sq = ir_reshape(u->fn, ir_reduce(u->fn, OP_sum, sq, (1u << g->shape.rank) - 1, u->loc), none, u->loc);
		total = total ? op2(u, OP_add, total, sq) : sq;
	}
	if (!total)
		return NULL;
	Node *n = noted(ir_unary(u->fn, OP_sqrt, total, u->loc), "n = global L2 norm of the gradients");
	Node *f = op2(u, OP_div, num(u, u->m->cfg.clip, none), op2(u, OP_add, n, num(u, 1e-6, none)));
	return noted(op2(u, OP_min, num(u, 1, none), f), xprintf("clip factor min(1, %g / (n + 1e-6))", u->m->cfg.clip));
}

static void update_param(Update *u, int p, int gslot)
{
	nnrt_optimizer o = u->m->cfg.optimizer;
	Store st[4];
	int nst = 0;
	u->loc = u->m->slot[p].loc;
	Node *w = ir_param(u->fn, u->m, p, u->loc);
	Node *g = ir_param(u->fn, u->m, gslot, u->loc);
	if (u->clip)
		g = noted(op2(u, OP_mul, g, spread(u, u->clip, g->shape)), "g * clip factor");
	Node *step;
	if (o == NNRT_OPT_SGD)
		step = sgd_step(u, p, w, g, st, &nst);
	else if (o == NNRT_OPT_ADAM || o == NNRT_OPT_ADAMW)
		step = adam_step(u, p, w, g, st, &nst, o == NNRT_OPT_ADAMW);
	else
		fatal(EXIT_INTERNAL, "optim: unknown optimizer %d", (int)o);
	Node *nw = op2(u, OP_sub, w, op2(u, OP_mul, spread(u, u->lr, w->shape), step));
	noted(nw, xprintf("%s -= lr * step", u->m->slot[p].name));
	st[nst++] = (Store){ p, nw };
	for (int i = 0; i < nst; i++)
		ir_store(u->fn, st[i].slot, st[i].value, u->loc);
}

Fn *optim(Module *m)
{
	Update u = { m, ir_fn("update"), NULL, NULL, NULL, NULL, NULL, { 0 } };
	int lr = ir_hyper_slot(m, "lr", NNRT_HYPER_LR), t = ir_hyper_slot(m, "step", NNRT_HYPER_STEP);
	/* The first node carries the optimizer's description: the listing's title. */
	u.lr = noted(ir_input(u.fn, m, lr, u.loc), describe_optimizer(&m->cfg));
	if (m->cfg.optimizer != NNRT_OPT_SGD)   /* only Adam's bias correction reads the step */
		u.t = ir_input(u.fn, m, t, u.loc);
	/* each parameter's gradient, by slot: one pass, however many parameters */
	int nslot = m->nslot, *grad_of = xalloc(sizeof *grad_of * (size_t)(nslot + 1));
	memset(grad_of, -1, sizeof *grad_of * (size_t)(nslot + 1));
	for (int gs = nslot - 1; gs >= 0; gs--)
		if (m->slot[gs].role == SLOT_GRAD && m->slot[gs].of >= 0 && m->slot[gs].of < nslot)
			grad_of[m->slot[gs].of] = gs;
	if (m->cfg.clip != 0)
		u.clip = clip_factor(&u, grad_of, nslot);
	for (int p = 0; p < nslot; p++)
		if (m->slot[p].role == SLOT_PARAM && grad_of[p] >= 0)
			update_param(&u, p, grad_of[p]);
	m->update = u.fn;
	return u.fn;
}
