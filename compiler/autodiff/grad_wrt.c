/* grad_wrt.c — reverse mode inside a function, with respect to chosen
 * nodes: the language's grad(f) (compiler/lower/lower_grad.c) and
 * `nnc --emit=grad --of f`.
 *
 * grad() differentiates a whole forward function with respect to the
 * parameters and stores their gradients; here the gradient of one scalar
 * node y with respect to earlier nodes x is appended to the function
 * being built and handed back as nodes.  The VJPs are grad.c's, written
 * in the same ops as the forward, so a gradient is an ordinary value: it
 * can be differentiated again (grad(grad(f)), Hessian-vector products),
 * stored, or probed.  Every new node takes the source line of the forward
 * node whose VJP made it and, in a function with a backward section
 * (--of), its id too (Node.of), as in grad().
 *
 * The ops that only backward passes make are adjoints of forward ops, and
 * grad.c already gives them VJPs (each other's): unwindow and window,
 * unslice and slice, scatter_add and gather, boxsum its own; the masks of
 * relu', abs' and max' (step, sign, eq) are piecewise constant.  conv,
 * conv_dw and conv_dx are made after differentiation (convfuse.c), so a
 * second derivative never meets them; a scan is the one op refused. */
#include <string.h>
#include "grad.h"

/* Schedule index of n in fn, or -1. */
static int index_of(const Fn *fn, const Node *n)
{
	for (int i = fn->n - 1; i >= 0; i--)
		if (fn->node[i] == n)
			return i;
	return -1;
}

/* live = depends on some x and y depends on it through differentiable
 * ops: only those nodes get backward code. */
static void fill_live_wrt(Grad *G, int lo, int hi, Node *y, Node *const *x, int nx)
{
	Fn *fn = G->fn;
	char *dep = xalloc((size_t)G->nfwd + 1), *reach = xalloc((size_t)G->nfwd + 1);
	for (int k = 0; k < nx; k++)
		dep[x[k]->id] = x[k]->dt != DT_I32;
	for (int i = lo; i <= hi; i++) {
		Node *n = fn->node[i];
		if (!(op_info[n->op].flags & F_NODIFF))
			for (int j = 0; j < n->nin; j++)
				dep[n->id] |= dep[n->in[j]->id];
		if (n->dt == DT_I32)
			dep[n->id] = 0;
	}
	fill_reach(fn, lo, hi, y, reach);
	for (int id = 0; id < G->nfwd; id++)
		G->live[id] = dep[id] && reach[id];
}

/* A scan's VJP differentiates its step with respect to the carry and the
 * parameters only (grad_scan.c): its reverse is not written for a
 * gradient that is differentiated again, nor for one with respect to an
 * input. */
static void refuse_undifferentiable(const Grad *G, int lo, int hi)
{
	for (int i = lo; i <= hi; i++) {
		const Node *n = G->fn->node[i];
		if (n->op == OP_scan && G->live[n->id])
			error_at(n->loc, "grad(...) cannot differentiate through a scan (a recurrence) yet: "
			         "only training differentiates a scan, with respect to the parameters");
	}
}

/* select_mode(a, b)'s VJP: select_mode(g, 0) to a, select_mode(0, g) to
 * b.  grad() follows the training branch alone, since training is all it
 * runs; a gradient in the forward also runs in eval (a probed saliency
 * map), where it must be the gradient of what eval computes. */
void vjp_select_both(Grad *G, Node *y, Node *g)
{
	Node *zero = konst(G, 0, g);
	for (int k = 0; k < 2; k++) {
		Node *in[2] = { k ? zero : g, k ? g : zero };
		Node *part = ir_elem(G->fn, OP_select_mode, 2, in, y->loc);
		acc(G, y->in[k], tag(G, part, k ? "select_mode' : g in evaluation" : "select_mode' : g in training"));
	}
}

static int chosen(const Node *n, Node *const *x, int nx)
{
	for (int k = 0; k < nx; k++)
		if (x[k] == n)
			return 1;
	return 0;
}

void grad_wrt(Module *m, Fn *fn, Node *y, Node *const *x, int nx, Node **dx)
{
	Grad G = { .m = m, .fn = fn, .nfwd = fn->next_id, .both_modes = 1 };
	G.adj = xalloc(sizeof *G.adj * (size_t)(G.nfwd + 1));
	G.live = xalloc((size_t)G.nfwd + 1);
	int hi = index_of(fn, y), lo = hi;
	for (int k = 0; k < nx; k++) {
		int at = index_of(fn, x[k]);
		if (at < 0 || hi < 0)
			fatal(EXIT_INTERNAL, "grad_wrt: a node is not in function '%s'", fn->name);
		if (at < lo)
			lo = at;
	}
	/* a gradient inside the forward (grad(f) of the language) is forward
	 * code to the listing, which names VJPs only after backward_from */
	int backward = fn->backward_from >= 0;
	fill_live_wrt(&G, lo, hi, y, x, nx);
	refuse_undifferentiable(&G, lo, hi);
	G.cur = y;
	if (G.live[y->id])
		G.adj[y->id] = tag(&G, konst(&G, 1, y), "d f/d f = 1");
	for (int i = hi; i >= lo; i--) {
		Node *n = fn->node[i];
		int start = fn->n;
		G.cur = n;
		if (G.adj[n->id] && !chosen(n, x, nx))
			vjp(&G, n, G.adj[n->id]);
		for (int j = start; j < fn->n; j++) {
			fn->node[j]->loc = n->loc;
			if (backward)
				fn->node[j]->of = n->id;
		}
	}
	for (int k = 0; k < nx; k++) {
		G.cur = x[k];
		dx[k] = G.adj[x[k]->id];
		if (!dx[k])
			dx[k] = tag(&G, konst(&G, 0, x[k]), "f does not depend on it: zero");
	}
}
