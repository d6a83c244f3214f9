/* rewrite.c — the schedule rebuilding shared by simplify and cse
 * (see rewrite.h for the contract). */
#include <string.h>
#include "rewrite.h"

void fn_append(Fn *fn, Node *n)
{
	if (fn->n == fn->cap) {
		int cap = fn->cap ? 2 * fn->cap : 64;
		fn->node = xrealloc(fn->node, sizeof *fn->node * fn->cap, sizeof *fn->node * cap);
		fn->cap = cap;
	}
	fn->node[fn->n++] = n;
}

Node *fn_copy_node(Fn *fn, const Node *n)
{
	Node *c = xalloc(sizeof *c);
	*c = *n;
	c->id = fn->next_id++;
	c->nuse = 0;
	c->group = -1;
	c->buf = -1;
	c->home = -1;
	c->mark = 0;
	fn_append(fn, c);
	return c;
}

void rw_begin(Rewrite *rw, Fn *fn)
{
	memset(rw, 0, sizeof *rw);
	rw->fn = fn;
	rw->old = fn->node;
	rw->nold = fn->n;
	rw->old_backward_from = fn->backward_from;
	rw->nmap = fn->next_id;
	rw->map = xalloc(sizeof *rw->map * (rw->nmap + 1));
	/* A fresh array: the builders append to fn->node while we read old. */
	fn->cap = rw->nold + 64;
	fn->node = xalloc(sizeof *fn->node * fn->cap);
	fn->n = 0;
	if (fn->backward_from >= 0)
		fn->backward_from = -1;
}

static Node *resolve(Rewrite *rw, Node *n)
{
	while (n->id >= 0 && n->id < rw->nmap && rw->map[n->id])
		n = rw->map[n->id];
	return n;
}

Node *rw_next(Rewrite *rw)
{
	if (rw->next >= rw->nold) {
		if (rw->old_backward_from >= rw->nold)
			rw->fn->backward_from = rw->fn->n;
		return NULL;
	}
	/* The backward region starts where its first node's rewrite starts. */
	if (rw->next == rw->old_backward_from)
		rw->fn->backward_from = rw->fn->n;
	Node *n = rw->old[rw->next++];
	for (int i = 0; i < n->nin; i++)
		n->in[i] = resolve(rw, n->in[i]);
	return n;
}

void rw_keep(Rewrite *rw, Node *n)
{
	fn_append(rw->fn, n);
}

void rw_replace(Rewrite *rw, Node *n, Node *with)
{
	if (n->id >= 0 && n->id < rw->nmap && n != with)
		rw->map[n->id] = with;
}
