/* dot.c — the training step as a Graphviz picture that is the listing
 * (--emit=dot, nnc(1)).
 *
 * Each node is one line of --emit=grad (or, after the passes, --emit=opt),
 * with that listing's number: "%23 sub", its type, its file:line:col, a
 * constant's value, and on a backward line the rule that made it and the
 * forward line it differentiates ("of %17"), joined to that forward node
 * by a dotted edge.  Where the order of the operands matters (sub, div,
 * matmul) the edges are labelled a, b, c: the names the rules use.
 *
 * Nodes are grouped by the call that made them (Node.call, the path the
 * parameters are named by: "mlp.dense_1"), one cluster per call, nested
 * as the calls are.  A backward node goes with the call of the forward
 * node it differentiates, in a backward cluster of its own, and on that
 * node's level: the forward pass reads down, its VJPs back up beside it.
 * The update is grouped by the parameter it updates.  DotOptions.depth
 * folds the calls nested deeper than it into one box each, so a large
 * network still fits a page; edges into a folded call end at its box. */
#include <string.h>
#include "ir.h"

enum { MAX_NOTE = 48 };

typedef struct Cluster {
	const char *path;     /* "mlp.dense_1" */
	int back;             /* holds backward nodes */
	int parent;           /* enclosing cluster, or -1: the function's top */
	int box;              /* folded: drawn as one node */
	int nnode;            /* nodes it stands for, when folded */
	const char *last_note;   /* the note of the last forward node drawn in it */
} Cluster;

typedef struct Pic {
	FILE *out;
	const Module *m;
	const Fn *fn;
	const DotOptions *o;
	char tag;             /* node names: 'g' grad, 'u' update */
	const Node **by_id;
	const char **path;    /* per node index: the call (or parameter) it belongs to, or NULL */
	char *back;           /* per node index: a backward line */
	int *home;            /* per node index: its cluster, or -1 */
	Cluster *cl;
	int ncl, capcl;
	NameMap cl_index;     /* "F" or "B", then the path -> index into cl */
	NameMap edges;        /* edges drawn once: those that end at a box */
	const char *last_top_note;
} Pic;

/* A label's text: Graphviz reads \ and " as escapes, and \n as a new line. */
static const char *esc(const char *s)
{
	size_t n = strlen(s);
	char *r = xalloc(2 * n + 1), *p = r;
	for (; *s; s++) {
		if (*s == '\n') {
			*p++ = '\\', *p++ = 'n';
			continue;
		}
		if (*s == '\\' || *s == '"')
			*p++ = '\\';
		*p++ = *s;
	}
	return r;
}

static const char *clip(const char *s)
{
	return strlen(s) > MAX_NOTE ? xprintf("%.*s...", MAX_NOTE - 3, s) : s;
}

static int path_depth(const char *p)
{
	int d = 1;
	for (; *p; p++)
		d += *p == '.';
	return d;
}

/* The first k components of p ("mlp.dense_1" for k = 2 of "mlp.dense_1.W"). */
static const char *path_prefix(const char *p, int k)
{
	const char *e = p;
	for (int i = 0; *e; e++)
		if (*e == '.' && ++i == k)
			break;
	return xprintf("%.*s", (int)(e - p), p);
}

/* ---- which call each node belongs to ---- */

/* The parameter a state slot belongs to: a gradient or an optimizer
 * state is its parameter's. */
static int owner_param(const Module *m, int slot)
{
	const Slot *s = &m->slot[slot];
	return (s->role == SLOT_GRAD || s->role == SLOT_OPTSTATE) && s->of >= 0 ? s->of : slot;
}

/* The update's nodes by the parameter whose new value they make: walked
 * from the stores back to the operands; a node that serves several
 * parameters (the learning rate, a global norm) belongs to none. */
static void update_paths(Pic *P)
{
	const Fn *fn = P->fn;
	int *owner = xalloc(sizeof *owner * (size_t)(fn->next_id + 1));
	for (int i = 0; i <= fn->next_id; i++)
		owner[i] = -1;
	for (int i = fn->n - 1; i >= 0; i--) {
		const Node *n = fn->node[i];
		if ((n->op == OP_store || n->op == OP_param) && n->slot >= 0)
			owner[n->id] = owner_param(P->m, n->slot);
		for (int k = 0; k < n->nin && owner[n->id] != -1; k++) {
			int *o = &owner[n->in[k]->id];
			*o = *o == -1 || *o == owner[n->id] ? owner[n->id] : -2;
		}
	}
	for (int i = 0; i < fn->n; i++) {
		int p = owner[fn->node[i]->id];
		P->path[i] = p >= 0 ? P->m->slot[p].name : NULL;
	}
}

/* A backward node belongs to the call of the forward node it
 * differentiates; an input, the data the step is fed, to none. */
static void grad_paths(Pic *P)
{
	const Fn *fn = P->fn;
	for (int i = 0; i < fn->n; i++) {
		const Node *n = fn->node[i];
		P->back[i] = fn->backward_from >= 0 && i >= fn->backward_from;
		const Node *fwd = P->back[i] && n->of >= 0 && n->of < fn->next_id ? P->by_id[n->of] : NULL;
		P->path[i] = n->op == OP_input ? NULL : fwd ? fwd->call : n->call;
	}
}

static int cluster_of(Pic *P, int back, const char *path)
{
	if (!path)
		return -1;
	const char *key = xprintf("%c%s", back ? 'B' : 'F', path);
	int i = names_get(&P->cl_index, key);
	if (i >= 0)
		return i;
	int d = path_depth(path), parent = d > 1 ? cluster_of(P, back, path_prefix(path, d - 1)) : -1;
	if (P->ncl == P->capcl) {
		int cap = P->capcl ? 2 * P->capcl : 16;
		P->cl = xrealloc(P->cl, sizeof *P->cl * (size_t)P->capcl, sizeof *P->cl * (size_t)cap);
		P->capcl = cap;
	}
	P->cl[P->ncl] = (Cluster){ .path = path, .back = back, .parent = parent };
	names_put(&P->cl_index, key, P->ncl);
	return P->ncl++;
}

/* Each node's cluster; past the depth, the box of its call at depth+1. */
static void place(Pic *P)
{
	int depth = P->o ? P->o->depth : -1;
	for (int i = 0; i < P->fn->n; i++) {
		const char *p = P->path[i];
		if (p && depth >= 0 && path_depth(p) > depth) {
			int b = cluster_of(P, P->back[i], path_prefix(p, depth + 1));
			P->cl[b].box = 1;
			P->cl[b].nnode++;
			P->home[i] = b;
		} else
			P->home[i] = cluster_of(P, P->back[i], p);
	}
}

/* ---- nodes ---- */

static const char *endpoint(const Pic *P, int i)
{
	int h = P->home[i];
	if (h >= 0 && P->cl[h].box)
		return xprintf("%cc%d", P->tag, h);
	return xprintf("%c%d", P->tag, P->fn->node[i]->id);
}

static const char *head(const Pic *P, const Node *n)
{
	const char *slot = n->slot >= 0 && n->slot < P->m->nslot ? P->m->slot[n->slot].name : "?";
	if (n->op == OP_store)
		return xprintf("store -> %s", slot);
	if (n->op == OP_param || n->op == OP_input)
		return xprintf("%%%d %s %s", n->id, ir_mnemonic(n), slot);
	const char *s = xprintf("%%%d %s%s", n->id, ir_mnemonic(n), attr_text(n));
	return n->body ? xprintf("%s\nits step: %d lines (see the listing)", s, n->body->n) : s;
}

/* The line under the type: the rule of a backward node; a forward node's
 * note (the call written in the main file) where it changes, so a run
 * of nodes from one line of the program names that line once. */
static const char *note_line(Pic *P, int i)
{
	const Node *n = P->fn->node[i];
	if (P->back[i])
		return n->of >= 0 ? xprintf("\nof %%%d%s%s", n->of, n->note ? ": " : "", n->note ? clip(n->note) : "")
		                  : n->note ? xprintf("\n%s", clip(n->note)) : "";
	const char **last = P->home[i] >= 0 ? &P->cl[P->home[i]].last_note : &P->last_top_note;
	if (!n->note || (*last && !strcmp(*last, n->note)))
		return "";
	*last = n->note;
	return xprintf("\n%s", clip(n->note));
}

static const char *style(const Pic *P, int i)
{
	const Node *n = P->fn->node[i];
	if (n->op == OP_param || n->op == OP_input)
		return n->op == OP_param ? "shape=ellipse, style=filled, fillcolor=lightyellow"
		                         : "shape=ellipse, style=filled, fillcolor=honeydew";
	if (n->op == OP_store)
		return "shape=cds, style=filled, fillcolor=gray90";
	if (P->tag == 'u')
		return "style=\"rounded,filled\", fillcolor=lightblue";
	return P->back[i] ? "style=\"rounded,filled\", fillcolor=mistyrose" : "style=rounded";
}

static void draw_node(Pic *P, int i, int indent)
{
	const Node *n = P->fn->node[i];
	const char *label = xprintf("%s\n%s", head(P, n), ir_type_text(n));
	if (ir_planned(P->fn))
		label = xprintf("%s  %s", label, ir_placement(P->m, P->fn, n));
	label = xprintf("%s\n%s%s", label, ir_loc_text(n->loc), note_line(P, i));
	const char *more = P->o && P->o->extra ? P->o->extra(P->o->ctx, P->fn, n) : NULL;
	if (more && *more)
		label = xprintf("%s\n%s", label, more);
	fprintf(P->out, "%*s%c%d [label=\"%s\", %s];\n", indent, "", P->tag, n->id, esc(label), style(P, i));
}

static void draw_box(const Pic *P, int c, int indent)
{
	const Cluster *k = &P->cl[c];
	fprintf(P->out, "%*s%cc%d [label=\"%s\\n%s%d lines\", shape=box3d, style=filled, fillcolor=%s];\n",
	        indent, "", P->tag, c, esc(k->path), k->back ? "backward, " : "", k->nnode,
	        P->tag == 'u' ? "lightblue" : k->back ? "mistyrose" : "white");
}

/* A cluster: its own nodes, its boxes, then the calls inside it. */
static void draw_cluster(Pic *P, int c, int indent)
{
	const Cluster *k = &P->cl[c];
	fprintf(P->out, "%*ssubgraph cluster_%c%d {\n%*slabel=\"%s%s\"; style=rounded; color=gray50;\n",
	        indent, "", P->tag, c, indent + 2, "", esc(k->path),
	        P->tag == 'u' ? " (update)" : k->back ? " (backward)" : "");
	for (int i = 0; i < P->fn->n; i++)
		if (P->home[i] == c)
			draw_node(P, i, indent + 2);
	for (int d = 0; d < P->ncl; d++)
		if (P->cl[d].parent == c) {
			if (P->cl[d].box)
				draw_box(P, d, indent + 2);
			else
				draw_cluster(P, d, indent + 2);
		}
	fprintf(P->out, "%*s}\n", indent, "");
}

/* ---- edges ---- */

/* Whether swapping a binary elementwise op's operands changes its value,
 * asked of the op's own scalar definition (ops.def) at two points. */
static int order_matters(const Node *n)
{
	if (n->nin < 2)
		return 0;
	if (op_info[n->op].kind != K_ELEM || n->nin != 2)
		return 1;
	const double p[2][2] = { { 0.375, 1.75 }, { -2.5, 0.625 } };
	for (int t = 0; t < 2; t++) {
		double ab = op_scalar(n->op, p[t], n->f), ba = op_scalar(n->op, (double[]){ p[t][1], p[t][0] }, n->f);
		if (ab != ba && (ab == ab || ba == ba))
			return 1;
	}
	return 0;
}

/* One edge; an edge that ends at a box is drawn once, however many of
 * the folded nodes it stands for. */
static void edge(Pic *P, const char *from, const char *to, const char *attrs, int to_box)
{
	if (to_box) {
		const char *key = xprintf("%s %s %s", from, to, attrs);
		if (!strcmp(from, to) || names_get(&P->edges, key) >= 0)
			return;
		names_put(&P->edges, key, 1);
	}
	fprintf(P->out, "  %s -> %s%s%s%s;\n", from, to, *attrs ? " [" : "", attrs, *attrs ? "]" : "");
}

/* A backward node beside the forward node it differentiates: the
 * forward pass reads down the left, its VJPs back up the right. */
static void same_rank(Pic *P, const char *back, const char *fwd)
{
	const char *key = xprintf("rank %s %s", back, fwd);
	if (!strcmp(back, fwd) || names_get(&P->edges, key) >= 0)
		return;
	names_put(&P->edges, key, 1);
	fprintf(P->out, "  { rank=same; %s; %s; }\n", fwd, back);
}

static int boxed(const Pic *P, int i)
{
	return P->home[i] >= 0 && P->cl[P->home[i]].box;
}

/* stored: per slot, the endpoint of the grad function's store, set
 * here while drawing grad; the update's reads of it are joined to it, so
 * the gradients visibly flow into the update. */
static void draw_edges(Pic *P, const char **stored)
{
	const Fn *fn = P->fn;
	int *index = xalloc(sizeof *index * (size_t)(fn->next_id + 1));
	for (int i = 0; i < fn->n; i++)
		index[fn->node[i]->id] = i;
	const char *color = P->tag == 'u' ? "color=blue" : "";
	for (int i = 0; i < fn->n; i++) {
		const Node *n = fn->node[i];
		const char *to = endpoint(P, i);
		int ordered = order_matters(n) && !boxed(P, i);
		const char *c = P->back[i] ? "color=red" : color;
		for (int k = 0; k < n->nin; k++) {
			const char *lab = ordered ? xprintf("headlabel=\"%c\", labelfontsize=9, labelfontcolor=gray30", 'a' + k) : "";
			edge(P, endpoint(P, index[n->in[k]->id]), to, xprintf("%s%s%s", c, *c && *lab ? ", " : "", lab),
			     boxed(P, i));
		}
		if (P->back[i] && n->of >= 0 && n->of < fn->next_id && P->by_id[n->of]) {
			const char *fwd = endpoint(P, index[n->of]);
			edge(P, to, fwd, "style=dotted, color=gray40, constraint=false, arrowhead=empty",
			     boxed(P, index[n->of]) || boxed(P, i));
			same_rank(P, to, fwd);
		}
		int slot = n->slot >= 0 && n->slot < P->m->nslot ? n->slot : -1;
		if (P->tag == 'g' && n->op == OP_store && slot >= 0)
			stored[slot] = to;
		if (P->tag == 'u' && n->op == OP_param && slot >= 0 && stored[slot])
			edge(P, stored[slot], to, "style=dashed, color=gray40", 1);
	}
}

/* ---- the functions ---- */

static void draw_fn(FILE *out, const Module *m, const Fn *fn, const DotOptions *o, const char **stored)
{
	Pic P = { .out = out, .m = m, .fn = fn, .o = o, .tag = fn == m->update ? 'u' : 'g' };
	P.by_id = xalloc(sizeof *P.by_id * (size_t)(fn->next_id + 1));
	for (int i = 0; i < fn->n; i++)
		P.by_id[fn->node[i]->id] = fn->node[i];
	P.path = xalloc(sizeof *P.path * (size_t)(fn->n + 1));
	P.back = xalloc((size_t)fn->n + 1);
	P.home = xalloc(sizeof *P.home * (size_t)(fn->n + 1));
	if (P.tag == 'u')
		update_paths(&P);
	else
		grad_paths(&P);
	place(&P);
	fprintf(out, "  subgraph cluster_%s {\n    label=\"fn %s\"; fontsize=14; color=gray70;\n", fn->name, fn->name);
	for (int i = 0; i < fn->n; i++)
		if (P.home[i] < 0)
			draw_node(&P, i, 4);
	for (int c = 0; c < P.ncl; c++)
		if (P.cl[c].parent < 0) {
			if (P.cl[c].box)
				draw_box(&P, c, 4);
			else
				draw_cluster(&P, c, 4);
		}
	fprintf(out, "  }\n");
	draw_edges(&P, stored);
}

/* The step as one graph: grad (forward white, backward red), then the
 * update (blue), each store of a gradient joined to its reads. */
void ir_dot(FILE *out, const Module *m, const DotOptions *o)
{
	const char **stored = xalloc(sizeof *stored * (size_t)(m->nslot + 1));
	fprintf(out, "digraph nnc {\n  rankdir=TB; newrank=true; splines=line; nodesep=0.2; ranksep=0.3;\n"
	        "  node [shape=box, fontsize=10, fontname=\"Helvetica\"];\n"
	        "  edge [fontsize=9, arrowsize=0.6];\n  graph [fontname=\"Helvetica\", fontsize=11, labeljust=l];\n");
	fprintf(out, "  label=\"The training step of %s, numbered as --emit=%s: forward white, backward red "
	        "(dotted: to the forward line it differentiates), update blue; a, b: the operands in order\"; "
	        "labelloc=t; fontsize=13;\n", m->model ? esc(m->model) : "the model",
	        m->grad && ir_planned(m->grad) ? "opt" : "grad");
	if (m->grad)
		draw_fn(out, m, m->grad, o, stored);
	if (m->update)
		draw_fn(out, m, m->update, o, stored);
	fprintf(out, "}\n");
}
