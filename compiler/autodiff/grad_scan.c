/* grad_scan.c — the VJP of a scan: backpropagation through time.
 *
 * For h_t = f(h_{t-1}, x_t) (the body f, one set of weights W) and the
 * gradient G_t of every stacked state, the reverse is written as:
 *
 *   1. the states each step started from, Hprev = [h0, h_0 .. h_{T-2}],
 *      from the forward result (no recomputation of the recurrence);
 *   2. a reversed scan, BPTT proper: carrying a (the gradient reaching
 *      h_t from step t+1), step t forms g_t = G_t + a and yields
 *      a = df/dh(h_{t-1}, x_t)^T g_t; it outputs every g_t.  Its body is
 *      the body's own VJP with respect to the carry only: the one
 *      recurrence of the backward pass;
 *   3. one batched application of the body to all T steps at once
 *      (B and T together as the rows), differentiated with cotangents
 *      g_t: the weights' gradients (one large GEMM each, summed over all
 *      steps and samples), the sequences' gradients, and the initial
 *      carry's (the gradient of step 0's start).
 *
 * Steps 2 and 3 reuse vjp() of grad.c on copies of the body, so every
 * op the body may hold is differentiated by its one rule.  Step 3 needs
 * the body to treat B as a plain map dimension (an op that mixes samples,
 * like a mean over the batch, would mix steps too): batched() refuses
 * such a body with its source location. */
#include <string.h>
#include "grad.h"
#include "../passes/rewrite.h"

/* ---- a reverse walk over part of a function ---- */

/* A walk over the nodes [from, to) of fn: live = depends on a leaf in
 * `dep` (or on a trained weight, when `weights`) and reaches `out`. */
typedef struct Walk {
	Grad L;
	int from, to, weights;
} Walk;

static Walk walk_begin(Grad *G, Fn *fn, int from, int weights)
{
	Walk w = { .L = *G, .from = from, .to = fn->n, .weights = weights };
	w.L.fn = fn;
	w.L.flow = w.L.pending = NULL;   /* the enclosing walk's, placed by it */
	w.L.shown = NULL;
	w.L.nfwd = fn->next_id;
	w.L.adj = xalloc(sizeof *w.L.adj * (size_t)(fn->next_id + 1));
	w.L.live = xalloc((size_t)fn->next_id + 1);
	return w;
}

static void walk_live(Walk *w, Node *out)
{
	Fn *fn = w->L.fn;
	char *live = w->L.live, *reach = xalloc((size_t)fn->next_id + 1);
	for (int i = w->from; i < w->to; i++) {
		Node *n = fn->node[i];
		if (n->op == OP_param)
			live[n->id] = w->weights && w->L.m->slot[n->slot].role == SLOT_PARAM;
		else if (!(op_info[n->op].flags & F_NODIFF))
			for (int j = 0; j < n->nin; j++)
				live[n->id] |= live[n->in[j]->id];
		if (n->dt == DT_I32)
			live[n->id] = 0;
	}
	reach[out->id] = 1;
	for (int i = w->to - 1; i >= w->from; i--) {
		Node *n = fn->node[i];
		if (!reach[n->id] || (op_info[n->op].flags & F_NODIFF))
			continue;
		for (int j = 0; j < n->nin; j++)
			reach[n->in[j]->id] = 1;
	}
	for (int i = w->from; i < w->to; i++)
		live[fn->node[i]->id] &= reach[fn->node[i]->id];
}

/* Seed out with g and walk back; the weights' gradients go to the
 * enclosing walk's sums, to be stored when it passes the scan. */
static void walk_run(Walk *w, Node *out, Node *g)
{
	walk_live(w, out);
	Grad *L = &w->L;
	if (!L->live[out->id])
		return;
	L->adj[out->id] = g;
	Fn *fn = L->fn;
	for (int i = w->to - 1; i >= w->from; i--) {
		Node *y = fn->node[i], *gy = L->adj[y->id];
		int start = fn->n;
		L->cur = y;
		if (!gy)
			continue;
		if (y->op == OP_param)
			reach_param(L, y, gy, -2);
		else
			vjp(L, y, gy);
		own_lines(L, y, gy, start);
	}
}

/* ---- copies of the body ---- */

/* The listing names a copy's lines after the step's lines they stand
 * for, printed under the forward scan (Grad.shown); the step's arguments
 * too where they are copies (in the reversed step), not the enclosing
 * function's own values. */
static int *shown_as(const Fn *fn, const Fn *body, Node **copy, int args)
{
	int *shown = xalloc(sizeof *shown * (size_t)(fn->next_id + 1));
	for (int i = 0; i <= fn->next_id; i++)
		shown[i] = -1;
	for (int i = 0; i < body->n; i++) {
		const Node *o = body->node[i];
		if (o->op != OP_yield && (args || o->op != OP_arg) && copy[o->id] && copy[o->id]->id <= fn->next_id)
			shown[copy[o->id]->id] = o->id;
	}
	return shown;
}

/* o in fn, reading `in`: a fresh id, the attributes and shape of o */
static Node *copy_node(Fn *fn, const Node *o, Node **in)
{
	Node *n = fn_copy_node(fn, o);
	for (int k = 0; k < o->nin; k++)
		n->in[k] = in[k];
	n->of = -1;
	return n;
}

static _Noreturn void not_batchable(const Node *o, const char *why)
{
	error_at(o->loc, "cannot differentiate this step of a scan: %s; the step must treat each "
	         "sample of the batch alone (B is the first dimension of every value it computes)", why);
}

/* o for all T steps at once: a value [B,...] of the body becomes
 * [B,T,...], its attributes moved past the new axis. */
static Node *batched(Fn *fn, const Node *o, Node **in, int64_t T)
{
	Node *n = copy_node(fn, o, in);
	int grew = o->shape.rank > 0 && o->shape.d[0] == DIM_BATCH;
	int in_grew = o->nin > 0 && in[0]->shape.rank > o->in[0]->shape.rank;
	if (grew)
		n->shape = shape_insert(o->shape, 1, T);
	switch (op_info[o->op].kind) {
	case K_LEAF: case K_ELEM: case K_BCAST: case K_INDEX: case K_BOXSUM: case K_SOFTMAX: case K_GATHER:
		break;
	case K_REDUCE:
		if (in_grew && (o->axes & 1))
			not_batchable(o, "it reduces over the batch");
		if (in_grew)
			n->axes = (o->axes & ~1u) << 1;
		break;
	case K_MATMUL:
		if ((in_grew && o->ta) || shape_has_batch(o->in[1]->shape))
			not_batchable(o, "a product sums over the batch");
		break;
	case K_BMM:             /* one product per leading index: T becomes one more of them */
		if (in_grew != (o->in[1]->shape.rank < in[1]->shape.rank))
			not_batchable(o, "only one operand of a stack of products varies with time");
		break;
	case K_LAYOUT:
		if (grew != in_grew)
			not_batchable(o, "a reshape moves the batch");
		if (o->op == OP_transpose && grew) {
			if (o->perm[0] != 0)
				not_batchable(o, "a transpose moves the batch");
			n->perm[1] = 1;
			for (int i = 1; i < o->shape.rank; i++)
				n->perm[i + 1] = o->perm[i] + 1;
		}
		break;
	case K_SLICE:
		if (in_grew && (o->axes & 1))
			not_batchable(o, "a slice along the batch");
		if (in_grew)
			n->axes = o->axes << 1;
		break;
	case K_CONTRAST:
		not_batchable(o, "nt_xent compares the samples of the batch with each other");
	case K_WINDOW: case K_CONV: case K_RANDOM: case K_STORE: case K_SCAN: case K_YIELD:
		not_batchable(o, xprintf("'%s' inside a step is not supported yet", op_info[o->op].name));
	}
	Shape s;
	const char *why = op_shape(NULL, n, &s);
	if (why)
		fatal(EXIT_INTERNAL, "internal error: batching %%%d (%s) of a scan body: %s", o->id, op_info[o->op].name, why);
	n->shape = s;
	return n;
}

/* Copy the body (all but its yield) into fn, args replaced by arg[k];
 * batched over T steps when T > 0.  Returns the copies by body id. */
static Node **copy_body(Fn *fn, const Fn *body, Node **arg, int64_t T, int of)
{
	Node **map = xalloc(sizeof *map * (size_t)(body->next_id + 1));
	for (int i = 0; i < body->n; i++) {
		const Node *o = body->node[i];
		if (o->op == OP_yield)
			break;
		if (o->op == OP_arg) {
			map[o->id] = arg[o->k];
			continue;
		}
		Node *in[MAXIN];
		for (int k = 0; k < o->nin; k++)
			in[k] = map[o->in[k]->id];
		map[o->id] = T > 0 ? batched(fn, o, in, T) : copy_node(fn, o, in);
		map[o->id]->of = of;
	}
	return map;
}

/* Where the nodes [from, fn->n) read `was`, read `now`: the copy of the
 * step's result is the forward's own value, so the copies of the step
 * that only fed it fall to DCE (a tanh cell's VJP needs its output, not
 * its products). */
static void reuse(Fn *fn, int from, Node *was, Node *now)
{
	for (int i = from; i < fn->n; i++)
		for (int k = 0; k < fn->node[i]->nin; k++)
			if (fn->node[i]->in[k] == was)
				fn->node[i]->in[k] = now;
}

/* ---- the VJP ---- */

/* The state each step starts from: the initial carry, then the stacked
 * states of steps 0 .. T-2. */
static Node *starts(Grad *G, Node *S)
{
	Node *init = S->in[0];
	int64_t T = S->k;
	Node *first = ir_reshape(G->fn, init, shape_insert(init->shape, 1, 1), S->loc);
	Node *h = ir_unslice(G->fn, first, S->shape, 1, 0, S->loc);
	if (T > 1) {
		Node *prev = ir_slice(G->fn, S, 1, 0, T - 1, S->loc);
		h = ir_binary(G->fn, OP_add, h, ir_unslice(G->fn, prev, S->shape, 1, 1, S->loc), S->loc);
	}
	return tag(G, h, "the state each step starts from: h0, then h_0 .. h_{T-2}");
}

/* Whether each node of rb (by id) is used by the yield, through any chain. */
static char *used_by_yield(const Fn *rb)
{
	char *live = xalloc((size_t)rb->next_id + 1);
	for (int i = rb->n - 1; i >= 0; i--) {
		const Node *n = rb->node[i];
		if (n->op == OP_yield)
			live[n->id] = 1;
		for (int k = 0; live[n->id] && k < n->nin; k++)
			live[n->in[k]->id] = 1;
	}
	return live;
}

/* The products of the step's copy in rb that its VJP still needs (an
 * LSTM's gates come from h Wh) are read instead from the batched copy,
 * which made them for all steps in one GEMM: each becomes a sequence of
 * the reversed scan (in[]), read by a new arg at the front of rb. */
static int feed_products(Fn *rb, const Fn *body, Node **copy, Node **batched_copy, Node **in, int nin, Loc loc)
{
	char *live = used_by_yield(rb);
	for (int i = 0; i < body->n && nin < MAXIN; i++) {
		const Node *o = body->node[i];
		if (o->op != OP_matmul || !live[copy[o->id]->id] || !batched_copy[o->id])
			continue;
		Node *a = ir_arg(rb, nin, o->dt, o->shape, loc);
		memmove(rb->node + 1, rb->node, sizeof *rb->node * (size_t)(rb->n - 1));
		rb->node[0] = a;
		if (rb->backward_from >= 0)
			rb->backward_from++;
		reuse(rb, 1, copy[o->id], a);
		in[nin++] = batched_copy[o->id];
	}
	return nin;
}

/* The reversed scan: carry a, sequences G, Hprev, the states, the inputs
 * and the step's products; each step yields the carry's gradient and
 * outputs g_t = G_t + a. */
static Node *bptt(Grad *G, Node *S, Node *g, Node *hprev, Node **batched_copy)
{
	Node *init = S->in[0];
	int nseq = S->nin - 1;
	Fn *rb = ir_fn("body");
	Node *a = ir_arg(rb, 0, init->dt, init->shape, S->loc);
	Node *gs = ir_arg(rb, 1, g->dt, init->shape, S->loc);
	Node *arg[MAXIN] = { ir_arg(rb, 2, init->dt, init->shape, S->loc) };
	Node *state = ir_arg(rb, 3, init->dt, init->shape, S->loc);
	for (int k = 1; k <= nseq; k++)
		arg[k] = ir_arg(rb, 3 + k, S->in[k]->dt, shape_remove(S->in[k]->shape, 1), S->loc);
	Node *gt = ir_binary(rb, OP_add, gs, a, S->loc);
	gt->note = "g_t: the output's gradient and the next step's";
	int from = rb->n;
	Node **copy = copy_body(rb, S->body, arg, 0, -1);
	Node *carry = copy[scan_yield(S->body)->in[0]->id];
	Walk w = walk_begin(G, rb, from, 0);
	w.L.shown = shown_as(rb, S->body, copy, 1);
	w.L.shown_scan = S->id;
	w.L.shown_inside = 1;
	w.L.live[arg[0]->id] = 1;
	rb->backward_from = rb->n;   /* the step's copy above, its VJP below */
	walk_run(&w, carry, gt);
	reuse(rb, w.to, carry, state);
	Node *an = w.L.adj[arg[0]->id];
	if (!an)
		an = ir_broadcast(rb, ir_const(rb, init->dt, 0, S->loc), init->shape, S->loc);
	ir_yield(rb, an, gt, S->loc)->comment = w.L.pending;   /* a comment no line followed */
	Node *in[MAXIN] = { konst(G, 0, init), g, hprev, S };
	for (int k = 1; k <= nseq; k++)
		in[3 + k] = S->in[k];
	int nin = feed_products(rb, S->body, copy, batched_copy, in, 4 + nseq, S->loc);
	Node *R = ir_scan(G->fn, rb, in, nin, S->k, 1, S->loc);
	return tag(G, R, "BPTT: the carry's gradient, step T-1 down to 0");
}

/* ||dL/dh_t|| over the batch and the state, for each step t, into the
 * scan's buffer: the gradient's flow through time, for --log-grad-norms. */
static void store_norms(Grad *G, Node *S, Node *gsteps)
{
	if (S->slot < 0)
		return;
	uint32_t axes = ((1u << gsteps->shape.rank) - 1) & ~2u;
	Node *sq = ir_binary(G->fn, OP_mul, gsteps, gsteps, S->loc);
	Node *n = ir_unary(G->fn, OP_sqrt, ir_reduce(G->fn, OP_sum, sq, axes, S->loc), S->loc);
	Node *st = ir_store(G->fn, S->slot, ir_reshape(G->fn, n, G->m->slot[S->slot].shape, S->loc), S->loc);
	st->note = "|d loss/d h_t| per step, for --log-grad-norms";
}

void vjp_scan(Grad *G, Node *S, Node *g)
{
	Node *y = scan_yield(S->body);
	if (S->reverse || y->in[0] != y->in[1])
		fatal(EXIT_INTERNAL, "internal error: grad: scan %%%d yields an output other than its carry", S->id);
	if (S->nin - 1 > SCAN_MAX_SEQ)
		fatal(EXIT_INTERNAL, "internal error: grad: scan %%%d has more than %d sequences", S->id, SCAN_MAX_SEQ);
	Node *hprev = starts(G, S);
	/* the batched step over every (sample, step): made first, so the
	 * reversed scan can read its products */
	Node *arg[MAXIN] = { hprev };
	for (int k = 1; k < S->nin; k++)
		arg[k] = S->in[k];
	Fn *fn = G->fn;
	int from = fn->n;
	Node **copy = copy_body(fn, S->body, arg, S->k, S->id);
	Node *out = copy[y->in[0]->id];
	int to = fn->n;
	Node *gsteps = bptt(G, S, g, hprev, copy);
	store_norms(G, S, gsteps);
	Walk w = walk_begin(G, fn, from, 1);
	w.to = to;
	w.L.shown = shown_as(fn, S->body, copy, 0);
	w.L.shown_scan = S->id;
	w.L.shown_inside = 0;
	w.L.live[hprev->id] = G->live[S->in[0]->id];
	for (int k = 1; k < S->nin; k++)
		w.L.live[S->in[k]->id] = G->live[S->in[k]->id];
	walk_run(&w, out, gsteps);
	reuse(fn, w.to, out, S);
	hold_comment(G, w.L.pending, fn->n);
	G->cur = S;
	Node *gh = w.L.adj[hprev->id];
	if (gh) {
		Node *g0 = ir_reshape(fn, ir_slice(fn, gh, 1, 0, 1, S->loc), S->in[0]->shape, S->loc);
		acc(G, S->in[0], tag(G, g0, "the initial carry's gradient: step 0's start"));
	}
	for (int k = 1; k < S->nin; k++)
		if (w.L.adj[S->in[k]->id])
			acc(G, S->in[k], w.L.adj[S->in[k]->id]);
}
