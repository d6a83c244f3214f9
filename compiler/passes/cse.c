/* cse.c — common subexpression elimination by hash-consing.
 *
 * Two nodes are one value when they have the same op, dtype, shape,
 * operands (after earlier merges) and the attributes their op kind uses.
 * Leaves of the same slot are one node, unless a store into the slot
 * lies between them (Node.mark holds the slot's count of stores so far).
 * Stores are effects and are never merged.  The first node of a class is
 * kept: it precedes every use of the later ones, so SSA order holds. */
#include <string.h>
#include "rewrite.h"

typedef struct Table { Node **node; uint32_t cap; } Table;

static uint64_t mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0x100000001b3ull;
}

static uint64_t f_bits(double f)
{
	uint64_t u;
	memcpy(&u, &f, sizeof u);
	return u;
}

static uint64_t hash_node(const Node *n)
{
	uint64_t h = mix(n->op, n->dt);
	h = mix(h, (uint64_t)n->shape.rank);
	for (int i = 0; i < n->shape.rank; i++)
		h = mix(h, (uint64_t)n->shape.d[i]);
	for (int i = 0; i < n->nin; i++)
		h = mix(h, (uint64_t)n->in[i]->id);
	h = mix(h, (uint64_t)n->slot);
	h = mix(h, (uint64_t)n->mark);
	h = mix(h, f_bits(n->f));
	return mix(h, n->axes);
}

/* The attributes that matter for n's op; others may hold anything. */
static int same_attributes(const Node *a, const Node *b)
{
	switch (op_info[a->op].kind) {
	case K_LEAF:
		return a->slot == b->slot && a->mark == b->mark && f_bits(a->f) == f_bits(b->f);
	case K_ELEM:
		return f_bits(a->f) == f_bits(b->f);
	case K_REDUCE:
		return a->axes == b->axes;
	case K_MATMUL:
		return a->ta == b->ta && a->tb == b->tb;
	case K_LAYOUT:
		return a->op != OP_transpose
		       || !memcmp(a->perm, b->perm, sizeof(int) * (size_t)a->shape.rank);
	case K_INDEX: case K_RANDOM: case K_BOXSUM:
		return a->k == b->k;
	case K_SLICE:
		return a->k == b->k && a->axes == b->axes;
	case K_WINDOW: case K_CONV:
		return !memcmp(&a->win, &b->win, sizeof a->win) && f_bits(a->f) == f_bits(b->f);
	default:
		return 1;
	}
}

static int same_value(const Node *a, const Node *b)
{
	if (a->op != b->op || a->dt != b->dt || a->nin != b->nin || !shape_equal(a->shape, b->shape))
		return 0;
	for (int i = 0; i < a->nin; i++)
		if (a->in[i] != b->in[i])
			return 0;
	return same_attributes(a, b);
}

/* The earlier node with n's value, after inserting n if there is none.
 * The unary kinds hash f too: elu and leaky_relu keep alpha there, and
 * the builders leave it 0 elsewhere. */
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
