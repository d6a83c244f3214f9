/* grad.c — reverse-mode automatic differentiation as an IR-to-IR transform.
 *
 * grad() copies the forward function, then appends the backward: the
 * gradient of the loss is seeded with 1 and the forward nodes are walked
 * in reverse, each one's vector-Jacobian product (VJP) written in the
 * same IR ops as the forward (there is no special backward op).  Every
 * backward node remembers which forward node's VJP made it (Node.of) and
 * that node's source location, so a listing traces each gradient line to
 * the line of the model that caused it.
 *
 * Broadcasting is explicit in the IR (OP_broadcast), so the reduction of
 * a gradient back to an operand's shape happens in exactly one place: the
 * VJP of broadcast (unbroadcast below). */
#include <stdlib.h>
#include <string.h>
#include "grad.h"

/* ---- small builders that write in the current forward node's name ---- */

Node *tag(Grad *G, Node *n, const char *note)
{
	(void)G;
	if (note)
		n->note = note;
	return n;
}

/* A scalar constant spread over the shape of `like`. */
Node *konst(Grad *G, double v, const Node *like)
{
	Node *c = ir_const(G->fn, like->dt, v, G->cur->loc);
	return ir_broadcast(G->fn, c, like->shape, G->cur->loc);
}

static Node *un(Grad *G, Op op, Node *a)
{
	return ir_unary(G->fn, op, a, G->cur->loc);
}

static Node *bin(Grad *G, Op op, Node *a, Node *b)
{
	return ir_binary(G->fn, op, a, b, G->cur->loc);
}

/* The step's line that forward node x of this walk is a copy of, or -1. */
static int step_line(const Grad *G, const Node *x)
{
	return G->shown && x->id < G->nfwd ? G->shown[x->id] : -1;
}

/* The forward line the listing says x's VJP is "of": a copy of a scan's
 * step stands for the step's line inside the reversed step, for the
 * scan outside it. */
static int shown_of(const Grad *G, const Node *x)
{
	int k = step_line(G, x);
	return k < 0 ? x->id : G->shown_inside ? k : G->shown_scan;
}

/* What the listing calls x: a parameter or input by its slot; a copy of
 * scan %8's step line %3 "%8's %3" (the reversed step numbers its own
 * lines, so a bare %3 would name one of those). */
static const char *value_name(const Grad *G, const Node *x)
{
	int k = step_line(G, x);
	if ((x->op == OP_param || x->op == OP_input) && x->slot >= 0 && x->slot < G->m->nslot)
		return G->m->slot[x->slot].name;
	return k >= 0 ? xprintf("%%%d's %%%d", G->shown_scan, k) : xprintf("%%%d", x->id);
}

/* Add g to the gradient of forward node x.  A value used twice gets the
 * sum of the gradients of its uses (the multivariate chain rule).  When g
 * is the gradient of the node being differentiated, it passes on
 * unchanged and writes no line: flow remembers where it went. */
void acc(Grad *G, Node *x, Node *g)
{
	if (!G->live[x->id])
		return;
	if (G->cur && g == G->adj[G->cur->id]) {
		const char *name = value_name(G, x);
		G->flow = G->flow ? xprintf("%s and %s", G->flow, name) : name;
	}
	if (!G->adj[x->id]) {
		G->adj[x->id] = g;
		return;
	}
	G->adj[x->id] = tag(G, bin(G, OP_add, G->adj[x->id], g),
	                    xprintf("%s used again: gradients add", value_name(G, x)));
}

/* ---- the one place where broadcasting is undone ---- */

/* Sum g (shaped like the broadcast's output) over the axes the broadcast
 * created or stretched, keeping dims, then reshape when the operand had
 * fewer dims: NumPy aligns shapes on the right. */
static Node *unbroadcast(Grad *G, Node *g, Shape to)
{
	Shape from = g->shape;
	int lead = from.rank - to.rank;
	uint32_t axes = 0;
	for (int i = 0; i < from.rank; i++)
		if (i < lead || (to.d[i - lead] == 1 && from.d[i] != 1))
			axes |= 1u << i;
	Node *s = g;
	if (axes) {
		s = ir_reduce(G->fn, OP_sum, g, axes, G->cur->loc);
		const char *list = "";
		for (int i = 0; i < from.rank; i++)
			if (axes >> i & 1)
				list = xprintf("%s%s%d", list, *list ? "," : "", i);
		tag(G, s, xprintf("broadcast -> sum over axes %s", list));
	}
	if (!shape_equal(s->shape, to))
		s = tag(G, ir_reshape(G->fn, s, to, G->cur->loc), "drop the broadcast's leading axes");
	return s;
}

/* ---- one VJP per op ---- */

/* By [ta][tb], for y = x W with x and W possibly entering transposed. */
static const char *const da_note[2][2] = {
	{ "d/dx = g W^T", "d/dx = g W" }, { "d/dx = W g^T", "d/dx = W^T g^T" } };
static const char *const db_note[2][2] = {
	{ "d/dW = x^T g", "d/dW = g^T x" }, { "d/dW = x g", "d/dW = g^T x^T" } };

static void vjp_matmul(Grad *G, Node *y, Node *g)
{
	Node *a = y->in[0], *b = y->in[1];
	/* y = op(a) op(b).  The transposes are flags on the product, never
	 * materialized: d/da = g op(b)^T, d/db = op(a)^T g, then transposed
	 * back when the operand itself entered transposed.  bmm: the same,
	 * product by product over the leading axes. */
	Node *(*mm)(Fn *, Node *, Node *, int, int, Loc) = y->op == OP_bmm ? ir_bmm : ir_matmul;
	if (G->live[a->id]) {
		Node *da = y->ta ? mm(G->fn, b, g, y->tb, 1, y->loc)
		                 : mm(G->fn, g, b, 0, !y->tb, y->loc);
		acc(G, a, tag(G, da, da_note[y->ta][y->tb]));
	}
	if (G->live[b->id]) {
		Node *db = y->tb ? mm(G->fn, g, a, 1, y->ta, y->loc)
		                 : mm(G->fn, a, g, !y->ta, 0, y->loc);
		acc(G, b, tag(G, db, db_note[y->ta][y->tb]));
	}
}

/* amax: the gradient goes to the elements equal to the maximum.  When
 * several elements tie, it is split evenly among them (as torch.amax
 * does), so the gradient summed over the reduced axes is still g. */
static void vjp_amax(Grad *G, Node *y, Node *g)
{
	Node *x = y->in[0];
	Node *ym = ir_broadcast(G->fn, y, x->shape, y->loc);
	Node *mask = tag(G, bin(G, OP_eq, x, ym), "where x is the max");
	Node *count = ir_reduce(G->fn, OP_sum, mask, y->axes, y->loc);
	Node *share = tag(G, bin(G, OP_div, g, count), "ties share the gradient");
	Node *gx = bin(G, OP_mul, ir_broadcast(G->fn, share, x->shape, y->loc), mask);
	acc(G, x, tag(G, gx, "max' = 1 at the argmax"));
}

/* softmax along the last axis: dx = y (g - sum(g y)), the sum over the
 * row.  Where y is 0 (a row masked out entirely, or an underflow), so is
 * dx. */
static void vjp_softmax(Grad *G, Node *y, Node *g)
{
	Node *gy = tag(G, bin(G, OP_mul, g, y), "g y");
	Node *s = ir_reduce(G->fn, OP_sum, gy, 1u << (y->shape.rank - 1), y->loc);
	Node *d = bin(G, OP_sub, g, ir_broadcast(G->fn, s, y->shape, y->loc));
	acc(G, y->in[0], tag(G, bin(G, OP_mul, y, d), "softmax' : y (g - sum(g y))"));
}

/* elementwise max: d/da = [a > b] + [a == b]/2, d/db the complement; min
 * the other way round.  Ties split the gradient evenly, as torch.maximum
 * and torch.minimum do. */
static void vjp_max_min(Grad *G, Node *y, Node *g)
{
	Node *a = y->in[0], *b = y->in[1];
	Node *s = un(G, OP_sign, bin(G, OP_sub, a, b));
	Node *half = konst(G, 0.5, g), *one = konst(G, 1, g);
	int max = y->op == OP_max;
	if (G->live[a->id]) {
		Node *wa = bin(G, OP_mul, half, bin(G, max ? OP_add : OP_sub, one, s));
		acc(G, a, tag(G, bin(G, OP_mul, g, wa), max ? "max' = [a>b] (ties: half)" : "min' = [a<b] (ties: half)"));
	}
	if (G->live[b->id]) {
		Node *wb = bin(G, OP_mul, half, bin(G, max ? OP_sub : OP_add, one, s));
		acc(G, b, tag(G, bin(G, OP_mul, g, wb), max ? "max' = [b>a] (ties: half)" : "min' = [b<a] (ties: half)"));
	}
}

static void vjp_div(Grad *G, Node *y, Node *g)
{
	Node *a = y->in[0], *b = y->in[1];
	Node *ga = tag(G, bin(G, OP_div, g, b), "d/da (a/b) = 1/b");
	acc(G, a, ga);
	if (G->live[b->id]) {
		Node *gb = un(G, OP_neg, bin(G, OP_mul, ga, y));
		acc(G, b, tag(G, gb, "d/db (a/b) = -(a/b)/b"));
	}
}

/* pow(a, b): d/da = b a^(b-1); d/db = a^b log a, which is only written
 * when b depends on a parameter (for a constant exponent it is dropped,
 * so a negative base never meets the log). */
static void vjp_pow(Grad *G, Node *y, Node *g)
{
	Node *a = y->in[0], *b = y->in[1];
	if (G->live[a->id]) {
		Node *p = bin(G, OP_pow, a, bin(G, OP_sub, b, konst(G, 1, b)));
		Node *ga = bin(G, OP_mul, g, bin(G, OP_mul, b, p));
		acc(G, a, tag(G, ga, "d/da a^b = b a^(b-1)"));
	}
	if (G->live[b->id]) {
		Node *gb = bin(G, OP_mul, g, bin(G, OP_mul, y, un(G, OP_log, a)));
		acc(G, b, tag(G, gb, "d/db a^b = a^b log a"));
	}
}

/* The chain rule for a one-operand op: g times its local derivative d. */
static void chain(Grad *G, Node *y, Node *g, Node *d, const char *note)
{
	acc(G, y->in[0], tag(G, bin(G, OP_mul, g, d), note));
}

static void vjp_elu(Grad *G, Node *y, Node *g)   /* x > 0: 1; else f e^x = y + f */
{
	Node *x = y->in[0], *s = un(G, OP_step, x);
	Node *below = bin(G, OP_add, y, konst(G, y->f, y));
	Node *d = bin(G, OP_add, s, bin(G, OP_mul, bin(G, OP_sub, konst(G, 1, y), s), below));
	chain(G, y, g, d, xprintf("elu' = x>0 ? 1 : y+%g", y->f));
}

static void vjp_leaky_relu(Grad *G, Node *y, Node *g)   /* f + (1-f) step(x) */
{
	Node *d = bin(G, OP_add, konst(G, y->f, y),
	              bin(G, OP_mul, konst(G, 1 - y->f, y), un(G, OP_step, y->in[0])));
	chain(G, y, g, d, xprintf("leaky_relu' = x>0 ? 1 : %g", y->f));
}

static void vjp_erf(Grad *G, Node *y, Node *g)   /* 2/sqrt(pi) e^(-x^2) */
{
	Node *x = y->in[0];
	Node *e = un(G, OP_exp, un(G, OP_neg, bin(G, OP_mul, x, x)));
	chain(G, y, g, bin(G, OP_mul, konst(G, 1.1283791670955126, y), e), "erf' = 2/sqrt(pi) e^(-x^2)");
}

/* where(c, a, b): the gradient goes to the branch each element took; the
 * condition is piecewise constant and gets none. */
static void vjp_where(Grad *G, Node *y, Node *g)
{
	Node *c = y->in[0], *zero = konst(G, 0, g);
	Node *in[3] = { c, g, zero };
	if (G->live[y->in[1]->id])
		acc(G, y->in[1], tag(G, ir_elem(G->fn, OP_where, 3, in, y->loc), "where' : g where cond, else 0"));
	in[1] = zero, in[2] = g;
	if (G->live[y->in[2]->id])
		acc(G, y->in[2], tag(G, ir_elem(G->fn, OP_where, 3, in, y->loc), "where' : g where not cond, else 0"));
}

/* clip(x, lo, hi) = min(max(x, lo), hi): each element's gradient goes to
 * the one operand that gave its value (x inside [lo, hi], as torch.clamp). */
static void vjp_clip(Grad *G, Node *y, Node *g)
{
	Node *x = y->in[0], *lo = y->in[1], *hi = y->in[2], *one = konst(G, 1, g);
	Node *below = un(G, OP_step, bin(G, OP_sub, lo, x));                         /* x < lo */
	Node *above = un(G, OP_step, bin(G, OP_sub, bin(G, OP_max, x, lo), hi));      /* max(x, lo) > hi */
	Node *kept = bin(G, OP_sub, one, above);
	if (G->live[hi->id])
		acc(G, hi, tag(G, bin(G, OP_mul, g, above), "clip' = 1 where hi was taken"));
	if (G->live[lo->id])
		acc(G, lo, tag(G, bin(G, OP_mul, g, bin(G, OP_mul, below, kept)), "clip' = 1 where lo was taken"));
	if (G->live[x->id])
		acc(G, x, tag(G, bin(G, OP_mul, g, bin(G, OP_mul, bin(G, OP_sub, one, below), kept)),
		              "clip' = 1 inside [lo, hi]"));
}

static void vjp_transpose(Grad *G, Node *y, Node *g)
{
	int inv[MAXRANK];
	for (int i = 0; i < y->shape.rank; i++)
		inv[y->perm[i]] = i;
	acc(G, y->in[0], tag(G, ir_transpose(G->fn, g, inv, y->loc), "transpose back"));
}

/* Gradients reaching a parameter's node are summed per slot: a slot read
 * at two places (a tied weight) gets both contributions.  Once the walk
 * passes the slot's earliest node the sum is complete and is stored. */
void reach_param(Grad *G, Node *p, Node *g, int index)
{
	int s = p->slot;
	if (G->m->slot[s].role != SLOT_PARAM)
		return;
	if (g)
		G->slot_adj[s] = G->slot_adj[s]
			? tag(G, bin(G, OP_add, G->slot_adj[s], g), "parameter read twice: gradients add")
			: g;
	if (index == G->first_use[s] && G->slot_adj[s]) {
		Node *st = ir_store(G->fn, G->grad_slot[s], G->slot_adj[s], G->m->slot[s].loc);
		tag(G, st, xprintf("d loss/d %s", G->m->slot[s].name));
	}
}

static void place_comments(Grad *G)
{
	if (G->pending && G->fn->n > G->pending_at) {
		Node *n = G->fn->node[G->pending_at];
		n->comment = n->comment ? xprintf("%s\n%s", G->pending, n->comment) : G->pending;
		G->pending = NULL;
	}
}

/* Comment c heads the line written at index `at` of G->fn, once there is
 * one (NULL: none); comments held earlier go first. */
void hold_comment(Grad *G, const char *c, int at)
{
	place_comments(G);
	if (c) {
		if (!G->pending)
			G->pending_at = at;
		G->pending = G->pending ? xprintf("%s\n%s", G->pending, c) : c;
	}
	place_comments(G);
}

void own_lines(Grad *G, Node *y, Node *g, int start)
{
	Fn *fn = G->fn;
	const char *call = y->note ? xprintf("  in %s", y->note) : "";
	for (int j = start; j < fn->n; j++) {
		Node *n = fn->node[j];
		if (n->of >= 0)
			continue;   /* a scan's reverse names the lines of its step itself */
		n->of = shown_of(G, y);
		n->loc = y->loc;
		if (y->note)
			n->note = n->note ? xprintf("%s%s", n->note, call) : call + 2;
	}
	const char *c = NULL;
	if (G->flow && y->op != OP_select_mode) {   /* resolve_mode replaces it by its operand */
		const char *at = step_line(G, y) >= 0 && !G->shown_inside ? xprintf(" %s", value_name(G, y)) : "";
		c = xprintf("of %%%d  %s%s: g = %s flows on unchanged to %s%s", shown_of(G, y),
		            op_info[y->op].name, at, value_name(G, g), G->flow, call);
	}
	G->flow = NULL;
	hold_comment(G, c, start);
}

void vjp(Grad *G, Node *y, Node *g)
{
	switch (y->op) {
	case OP_param: case OP_input: case OP_const: case OP_batch: case OP_iota: case OP_store: case OP_arg: case OP_yield:
		break;          /* leaves and effects: handled by the caller */
	case OP_scan: vjp_scan(G, y, g); break;
	case OP_sign: case OP_step: case OP_stop_gradient: case OP_eq: case OP_onehot: case OP_uniform:
		break;          /* F_NODIFF: piecewise constant, or cut on purpose */
	case OP_neg:
		acc(G, y->in[0], tag(G, un(G, OP_neg, g), "d/dx (-x) = -1"));
		break;
	case OP_exp: chain(G, y, g, y, "exp' = exp (reuses the forward)"); break;
	case OP_log: chain(G, y, g, bin(G, OP_div, konst(G, 1, y), y->in[0]), "log' = 1/x"); break;
	case OP_sqrt: chain(G, y, g, bin(G, OP_div, konst(G, 0.5, y), y), "sqrt' = 1/(2 sqrt x)"); break;
	case OP_abs: chain(G, y, g, un(G, OP_sign, y->in[0]), "abs' = sign x"); break;
	case OP_tanh:
		chain(G, y, g, bin(G, OP_sub, konst(G, 1, y), bin(G, OP_mul, y, y)), "tanh' = 1-y^2");
		break;
	case OP_sigmoid:
		chain(G, y, g, bin(G, OP_mul, y, bin(G, OP_sub, konst(G, 1, y), y)), "sigmoid' = s(1-s)");
		break;
	case OP_relu: chain(G, y, g, un(G, OP_step, y->in[0]), "relu' = step(x)"); break;
	case OP_softplus: chain(G, y, g, un(G, OP_sigmoid, y->in[0]), "softplus' = sigmoid(x)"); break;
	case OP_elu: vjp_elu(G, y, g); break;
	case OP_leaky_relu: vjp_leaky_relu(G, y, g); break;
	case OP_sin: chain(G, y, g, un(G, OP_cos, y->in[0]), "sin' = cos x"); break;
	case OP_cos: chain(G, y, g, un(G, OP_neg, un(G, OP_sin, y->in[0])), "cos' = -sin x"); break;
	case OP_erf: vjp_erf(G, y, g); break;
	case OP_where: vjp_where(G, y, g); break;
	case OP_clip: vjp_clip(G, y, g); break;
	case OP_add:
		acc(G, y->in[0], g);
		acc(G, y->in[1], g);
		break;
	case OP_select_mode:   /* the backward pass trains: only the training branch */
		if (G->both_modes)
			vjp_select_both(G, y, g);
		else
			acc(G, y->in[0], g);
		break;
	case OP_sub:
		acc(G, y->in[0], g);
		if (G->live[y->in[1]->id])
			acc(G, y->in[1], tag(G, un(G, OP_neg, g), "d/db (a-b) = -1"));
		break;
	case OP_mul:
		if (G->live[y->in[0]->id])
			acc(G, y->in[0], tag(G, bin(G, OP_mul, g, y->in[1]), "d/da (a*b) = b"));
		if (G->live[y->in[1]->id])
			acc(G, y->in[1], tag(G, bin(G, OP_mul, g, y->in[0]), "d/db (a*b) = a"));
		break;
	case OP_div: vjp_div(G, y, g); break;
	case OP_pow: vjp_pow(G, y, g); break;
	case OP_max: case OP_min: vjp_max_min(G, y, g); break;
	case OP_amax: vjp_amax(G, y, g); break;
	case OP_softmax: vjp_softmax(G, y, g); break;
	case OP_matmul: case OP_bmm: vjp_matmul(G, y, g); break;
	case OP_window:     /* gather patches; its adjoint sums them back (col2im) */
		acc(G, y->in[0], tag(G, ir_unwindow(G->fn, g, y->in[0]->shape, y->win, y->loc),
		                     "window' : patches summed back into the image"));
		break;
	case OP_slice:      /* a part; its adjoint puts the gradient back in zeros */
		acc(G, y->in[0], tag(G, ir_unslice(G->fn, g, y->in[0]->shape, slice_axis(y), y->k, y->loc),
		                     "slice' : the part's gradient, zeros elsewhere"));
		break;
	case OP_unslice:
		acc(G, y->in[0], tag(G, ir_slice(G->fn, g, slice_axis(y), y->k, y->in[0]->shape.d[slice_axis(y)], y->loc),
		                     "unslice' : the part of the gradient"));
		break;
	case OP_boxsum:     /* a symmetric sum: its own adjoint */
		acc(G, y->in[0], tag(G, ir_boxsum(G->fn, g, y->k, y->loc), "boxsum' = boxsum (symmetric)"));
		break;
	case OP_unwindow:   /* a sum of patches; its adjoint gathers them */
		acc(G, y->in[0], tag(G, ir_window(G->fn, g, y->win, 0, y->loc), "unwindow' : gather patches"));
		break;
	case OP_sum:
		acc(G, y->in[0], tag(G, ir_broadcast(G->fn, g, y->in[0]->shape, y->loc), "sum' : broadcast g back"));
		break;
	case OP_broadcast: acc(G, y->in[0], unbroadcast(G, g, y->in[0]->shape)); break;
	case OP_reshape:
		acc(G, y->in[0], tag(G, ir_reshape(G->fn, g, y->in[0]->shape, y->loc), "reshape back"));
		break;
	case OP_transpose: vjp_transpose(G, y, g); break;
	case OP_gather:     /* rows by id; the rows' gradients summed back into the table */
		acc(G, y->in[0], tag(G, ir_scatter_add(G->fn, g, y->in[1], y->in[0]->shape, y->loc),
		                     "gather' : rows' gradients summed into the table (scatter-add)"));
		break;
	case OP_scatter_add:
		acc(G, y->in[0], tag(G, ir_gather(G->fn, g, y->in[1], y->loc), "scatter_add' : gather the rows"));
		break;
	case OP_nt_xent:    /* symmetric in its codes: b's gradient is a's with the roles swapped */
		if (G->live[y->in[0]->id])
			acc(G, y->in[0], tag(G, ir_nt_xent(G->fn, g, y->in[0], y->in[1], y->f, y->loc),
			                     "nt_xent' : softmax rows less the partners, through both codes"));
		if (G->live[y->in[1]->id])
			acc(G, y->in[1], tag(G, ir_nt_xent(G->fn, g, y->in[1], y->in[0], y->f, y->loc),
			                     "nt_xent' with the views swapped"));
		break;
	case OP_nt_xent_grad:
		error_at(y->loc, "nt_xent has no second derivative in nnc (its gradient is one kernel)");
	case OP_conv: case OP_conv_dw: case OP_conv_dx:   /* made after differentiation */
		fatal(EXIT_INTERNAL, "grad: %s appears before differentiation", op_info[y->op].name);
	case OP__COUNT:
		break;
	}
}

/* ---- analysis: which forward nodes need a gradient ---- */

void fill_reach(const Fn *fn, int lo, int hi, const Node *y, char *reach)
{
	reach[y->id] = 1;
	for (int i = hi; i >= lo; i--) {
		const Node *n = fn->node[i];
		if (!reach[n->id] || (op_info[n->op].flags & F_NODIFF) || n->op == OP_store)
			continue;
		for (int j = 0; j < n->nin; j++)
			reach[n->in[j]->id] = 1;
	}
}

/* live = depends on a parameter (forward pass) and the loss depends on it
 * through differentiable ops (backward pass).  Only live nodes get
 * backward code, so no gradient is computed for data or constants. */
static void fill_live(Grad *G, const Node *loss)
{
	Fn *fn = G->fn;
	char *dep = xalloc((size_t)G->nfwd), *reach = xalloc((size_t)G->nfwd);
	for (int i = 0; i < G->fn->backward_from; i++) {
		Node *n = fn->node[i];
		if (n->op == OP_param)
			dep[n->id] = G->m->slot[n->slot].role == SLOT_PARAM;
		else if (!(op_info[n->op].flags & F_NODIFF))
			for (int j = 0; j < n->nin; j++)
				dep[n->id] |= dep[n->in[j]->id];
		if (n->op == OP_scan)   /* weights read inside the step */
			dep[n->id] |= body_reads_param(G->m, n->body);
		if (n->dt == DT_I32)
			dep[n->id] = 0;
	}
	fill_reach(fn, 0, G->fn->backward_from - 1, loss, reach);
	for (int id = 0; id < G->nfwd; id++)
		G->live[id] = dep[id] && reach[id];
	/* the same walk through stop_gradient: a parameter it reaches only
	 * that way (a frozen encoder under a new head) is cut on purpose */
	char *cut = xalloc((size_t)G->nfwd);
	cut[loss->id] = 1;
	for (int i = G->fn->backward_from - 1; i >= 0; i--) {
		Node *n = fn->node[i];
		if (!cut[n->id] || ((op_info[n->op].flags & F_NODIFF) && n->op != OP_stop_gradient) || n->op == OP_store)
			continue;
		for (int j = 0; j < n->nin; j++)
			cut[n->in[j]->id] = 1;
		if (n->op == OP_param && !reach[n->id])
			G->frozen[n->slot] = 1;
	}
}

/* The GRAD slot of parameter slot p, created on first use (a second call
 * of grad() finds the one made by the first). */
static int grad_slot_of(Module *m, int p)
{
	const char *name = xprintf("%s.grad", m->slot[p].name);
	int i = ir_find_slot(m, name);
	if (i >= 0 && m->slot[i].role == SLOT_GRAD && m->slot[i].of == p)
		return i;
	Slot ps = m->slot[p];
	int s = ir_slot(m, name, SLOT_GRAD, ps.dt, ps.shape, ps.loc);
	m->slot[s].of = p;
	return s;
}

static Node *find_loss(const Module *m, const Fn *fn)
{
	for (int i = 0; i < fn->n; i++) {
		Node *n = fn->node[i];
		if (n->op == OP_store && m->slot[n->slot].role == SLOT_LOSS)
			return n->in[0];
	}
	fatal(EXIT_INTERNAL, "grad: the forward function '%s' stores no loss", fn->name);
}

/* Copy the forward, without the store of the model output (training does
 * not need it; DCE drops what only fed it). */
static Fn *copy_forward(const Module *m, const Fn *fwd)
{
	Fn *fn = ir_clone(fwd, "grad");
	for (int i = 0; i < fn->n; i++) {
		Node *n = fn->node[i];
		n->mark = n->op == OP_store && m->slot[n->slot].role == SLOT_OUTPUT ? -1 : 0;
	}
	ir_remove_dead(fn);
	return fn;
}

/* Whether slot s is read in body, or in the body of a scan inside it. */
static int slot_read_in(const Fn *body, int s)
{
	for (int i = 0; i < body->n; i++) {
		const Node *n = body->node[i];
		if ((n->op == OP_param && n->slot == s) || (n->body && slot_read_in(n->body, s)))
			return 1;
	}
	return 0;
}

int body_reads_param(const Module *m, const Fn *body)
{
	for (int i = 0; i < body->n; i++) {
		const Node *n = body->node[i];
		if ((n->op == OP_param && m->slot[n->slot].role == SLOT_PARAM) || (n->body && body_reads_param(m, n->body)))
			return 1;
	}
	return 0;
}

static void setup(Grad *G, Module *m, Fn *fn, int nparam_slots)
{
	G->m = m;
	G->fn = fn;
	G->nfwd = fn->next_id;
	G->adj = xalloc(sizeof *G->adj * (size_t)G->nfwd);
	G->live = xalloc((size_t)G->nfwd);
	G->slot_adj = xalloc(sizeof *G->slot_adj * (size_t)nparam_slots);
	G->first_use = xalloc(sizeof *G->first_use * (size_t)nparam_slots);
	G->grad_slot = xalloc(sizeof *G->grad_slot * (size_t)nparam_slots);
	G->frozen = xalloc((size_t)nparam_slots);
	for (int s = 0; s < nparam_slots; s++) {
		G->first_use[s] = -1;
		G->grad_slot[s] = m->slot[s].role == SLOT_PARAM ? grad_slot_of(m, s) : -1;
	}
	for (int i = fn->backward_from - 1; i >= 0; i--) {
		Node *n = fn->node[i];
		if (n->op == OP_param)
			G->first_use[n->slot] = i;
		if (n->op == OP_scan)   /* a scan uses the weights its step reads */
			for (int s = 0; s < nparam_slots; s++)
				if (m->slot[s].role == SLOT_PARAM && slot_read_in(n->body, s))
					G->first_use[s] = i;
	}
}

/* A parameter the loss does not depend on still gets a gradient slot (the
 * optimizer reads it): zero, with a warning, since it is likely a bug. */
static void store_zero_grads(Grad *G, int nslot)
{
	for (int s = 0; s < nslot; s++) {
		Slot *sl = &G->m->slot[s];
		if (sl->role != SLOT_PARAM || G->slot_adj[s])
			continue;
		if (!G->frozen[s])
			warning_at(sl->loc, "parameter '%s' does not affect the loss", sl->name);
		Node *z = ir_broadcast(G->fn, ir_const(G->fn, sl->dt, 0, sl->loc), sl->shape, sl->loc);
		tag(G, z, "no path to the loss: zero");
		ir_store(G->fn, G->grad_slot[s], z, sl->loc);
	}
}

/* A param node is a reference to its slot, read where each use runs: a
 * store into a slot whose value is still used after it (a scan's carried
 * state, read again by the backward) moves to the end, so every use sees
 * the value the step began with. */
static void stores_last(Fn *fn)
{
	int nslot = 0;
	for (int i = 0; i < fn->n; i++)
		if (fn->node[i]->slot >= nslot)
			nslot = fn->node[i]->slot + 1;
	int *last_read = xalloc(sizeof *last_read * (size_t)(nslot + 1));   /* by slot: index of the last use + 1 */
	int *ref = xalloc(sizeof *ref * (size_t)(fn->next_id + 1));         /* by id: the slot it still reads, + 1 */
	for (int i = 0; i < fn->n; i++) {
		Node *n = fn->node[i];
		if (n->op == OP_param)
			ref[n->id] = n->slot + 1;
		else if (n->op == OP_reshape || n->op == OP_select_mode)   /* no memory of their own (yet) */
			ref[n->id] = ref[n->in[0]->id];
		for (int k = 0; k < n->nin; k++)
			if (ref[n->in[k]->id])
				last_read[ref[n->in[k]->id] - 1] = i + 1;
	}
	Node **later = xalloc(sizeof *later * (size_t)(fn->n + 1));
	int j = 0, nlater = 0, back = fn->backward_from;
	for (int i = 0; i < fn->n; i++) {
		Node *n = fn->node[i];
		if (n->op == OP_store && last_read[n->slot] > i) {
			later[nlater++] = n;
			back -= i < fn->backward_from;
		} else
			fn->node[j++] = n;
	}
	for (int k = 0; k < nlater; k++)
		fn->node[j++] = later[k];
	fn->backward_from = back;
}

Fn *grad(Module *m, const Fn *fwd)
{
	int nslot = m->nslot;   /* the GRAD slots made below are not parameters */
	Fn *fn = copy_forward(m, fwd);
	fn->backward_from = fn->n;
	Grad G = { 0 };
	setup(&G, m, fn, nslot);
	Node *loss = find_loss(m, fn);
	fill_live(&G, loss);

	G.cur = loss;
	if (G.live[loss->id])
		G.adj[loss->id] = tag(&G, konst(&G, 1, loss), "d loss/d loss = 1");
	for (int i = fn->backward_from - 1; i >= 0; i--) {
		Node *y = fn->node[i];
		Node *g = G.adj[y->id];
		int start = fn->n;
		G.cur = y;
		if (y->op == OP_param)
			reach_param(&G, y, g, i);
		else if (g)
			vjp(&G, y, g);
		if (y->op == OP_scan)   /* the gradients of the weights its step reads are complete */
			for (int s = 0; s < nslot; s++)
				if (G.first_use[s] == i)
					reach_param(&G, &(Node){ .op = OP_param, .slot = s }, NULL, i);
		own_lines(&G, y, g, start);
	}
	store_zero_grads(&G, nslot);
	hold_comment(&G, NULL, 0);   /* one still held heads a zero gradient's line, if any */
	stores_last(fn);
	m->grad = fn;
	return fn;
}
