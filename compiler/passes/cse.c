/* cse.c — common subexpression elimination by hash-consing.
 *
 * Two nodes are one value when they have the same op, dtype, shape,
 * operands (after earlier merges) and attributes (attr.c, by ops.def).
 * Leaves of the same slot are one node, unless a store into the slot
 * lies between them (Node.mark holds the slot's count of stores so far).
 * Stores are effects and are never merged.  The first node of a class is
 * kept: it precedes every use of the later ones, so SSA order holds. */
#include <string.h>
#include "rewrite.h"

typedef struct Table { Node **node; uint32_t cap; } Table;

static uint64_t hash_node(const Node *n)
{
	uint64_t h = hash_mix(n->op, n->dt);
	h = hash_mix(h, (uint64_t)n->shape.rank);
	for (int i = 0; i < n->shape.rank; i++)
		h = hash_mix(h, (uint64_t)n->shape.d[i]);
	for (int i = 0; i < n->nin; i++)
		h = hash_mix(h, (uint64_t)n->in[i]->id);
	return attr_hash(n, h);
}

static int same_value(const Node *a, const Node *b)
{
	if (a->op != b->op || a->dt != b->dt || a->nin != b->nin || !shape_equal(a->shape, b->shape))
		return 0;
	for (int i = 0; i < a->nin; i++)
		if (a->in[i] != b->in[i])
			return 0;
	return attr_same(a, b);
}

/* The earlier node with n's value, after inserting n if there is none. */
static Node *intern(Table *t, Node *n)
{
	uint32_t i = (uint32_t)hash_node(n) & (t->cap - 1);
	for (; t->node[i]; i = (i + 1) & (t->cap - 1))
		if (same_value(t->node[i], n))
			return t->node[i];
	t->node[i] = n;
	return n;
}

static int max_slot(const Fn *fn)
{
	int m = 0;
	for (int i = 0; i < fn->n; i++)
		if (fn->node[i]->slot + 1 > m)
			m = fn->node[i]->slot + 1;
	return m;
}

void cse(Fn *fn)
{
	int *stores = xalloc(sizeof *stores * (size_t)(max_slot(fn) + 1));
	Table t = { 0 };
	t.cap = 64;
	while (t.cap < 2u * (uint32_t)fn->n + 2)
		t.cap *= 2;
	t.node = xalloc(sizeof *t.node * t.cap);
	Rewrite rw;
	rw_begin(&rw, fn);
	for (Node *n; (n = rw_next(&rw));) {
		int leaf_slot = n->nin == 0 && n->slot >= 0;
		n->mark = leaf_slot ? stores[n->slot] : 0;
		if (n->op == OP_store && n->slot >= 0)
			stores[n->slot]++;
		Node *r = op_info[n->op].flags & F_EFFECT ? n : intern(&t, n);
		if (r == n)
			rw_keep(&rw, n);
		else
			rw_replace(&rw, n, r);
	}
}
