/* fuse.c — elementwise fusion into loop nests (ir.h Group).
 *
 * Greedy, in schedule order, without reordering: an F_ELEM node joins the
 * group of an operand when the shapes match and that group is still
 * "open" — no node outside it has used any of its members yet.  A group
 * is emitted at its last member, so keeping groups open only until their
 * first outside use gives the invariant of ir.h for free:
 *   - an outside user of a member comes after the group's last member,
 *     because the group closed at that use and never grew again;
 *   - an external operand of a member precedes the member, and if it is
 *     itself a member of another group, that use closed the other group,
 *     so the other group's emission point precedes ours too.
 * When a node's operands lie in several open groups of its shape, the
 * groups merge: none of them has an outside use yet, so the union is
 * still valid.
 *
 * Rank-0 const and batch leaves are inlined as scalars: one used by a
 * single group becomes that group's member; one used by several groups
 * is copied into each (a leaf copy costs nothing) so that inside a group
 * every const or batch operand is a member.  Non-members keep the
 * original.  A store joins the group of its value when the shapes match
 * and the group is open: it writes the slot inside the loop. */
#include <string.h>
#include "rewrite.h"

typedef struct Fuser {
	Fn *fn;
	int *parent;          /* union-find over group numbers */
	Shape *shape;
	char *closed;
	int ng, cap;
} Fuser;

static int find(Fuser *f, int g)
{
	while (f->parent[g] != g)
		g = f->parent[g] = f->parent[f->parent[g]];
	return g;
}

static int group_of(Fuser *f, const Node *n)
{
	return n->group < 0 ? -1 : find(f, n->group);
}

static int new_group(Fuser *f, Shape s)
{
	if (f->ng == f->cap) {
		int cap = f->cap ? 2 * f->cap : 64;
		f->parent = xrealloc(f->parent, sizeof *f->parent * (size_t)f->cap, sizeof *f->parent * (size_t)cap);
		f->shape = xrealloc(f->shape, sizeof *f->shape * (size_t)f->cap, sizeof *f->shape * (size_t)cap);
		f->closed = xrealloc(f->closed, (size_t)f->cap, (size_t)cap);
		f->cap = cap;
	}
	f->parent[f->ng] = f->ng;
	f->shape[f->ng] = s;
	f->closed[f->ng] = 0;
	return f->ng++;
}

static int is_scalar_leaf(const Node *n)
{
	return n->op == OP_const || n->op == OP_batch;
}

static int can_join(Fuser *f, int g, const Node *n)
{
	return g >= 0 && !f->closed[g] && shape_equal(f->shape[g], n->shape);
}

/* The group n joins (merging open candidates), or -1. */
static int choose_group(Fuser *f, Node *n)
{
	if (n->op == OP_store)
		return can_join(f, group_of(f, n->in[0]), n) ? group_of(f, n->in[0]) : -1;
	if (!(op_info[n->op].flags & F_ELEM))
		return -1;
	int target = -1;
	for (int k = 0; k < n->nin; k++) {
		int g = group_of(f, n->in[k]);
		if (!can_join(f, g, n) || g == target)
			continue;
		if (target < 0)
			target = g;
		else
			f->parent[g] = target;
	}
	return target >= 0 ? target : new_group(f, n->shape);
}

static void assign_groups(Fuser *f)
{
	Fn *fn = f->fn;
	for (int i = 0; i < fn->n; i++) {
		Node *n = fn->node[i];
		n->group = is_scalar_leaf(n) ? -1 : choose_group(f, n);
		int mine = group_of(f, n);
		/* any use from outside a group closes it */
		for (int k = 0; k < n->nin; k++) {
			int g = group_of(f, n->in[k]);
			if (g >= 0 && g != mine)
				f->closed[g] = 1;
		}
	}
}

/* Per scalar leaf: the one group using it, -2 when none, -3 when several;
 * and whether a non-member uses it. */
typedef struct LeafUse { int group; int outside; Node *clones; } LeafUse;

static void note_leaf_uses(Fuser *f, LeafUse *use)
{
	Fn *fn = f->fn;
	for (int i = 0; i < fn->n; i++)
		if (is_scalar_leaf(fn->node[i]))
			use[fn->node[i]->id] = (LeafUse){ .group = -2 };
	for (int i = 0; i < fn->n; i++) {
		Node *n = fn->node[i];
		int g = group_of(f, n);
		for (int k = 0; k < n->nin; k++) {
			if (!is_scalar_leaf(n->in[k]))
				continue;
			LeafUse *u = &use[n->in[k]->id];
			if (g < 0)
				u->outside = 1;
			else if (u->group == -2)
				u->group = g;
			else if (u->group != g)
				u->group = -3;
		}
	}
}

/* The copy of leaf c that lives in group g (clones are chained through
 * their mark field while fuse runs). */
static Node *leaf_in_group(Fuser *f, LeafUse *u, Node *c, int g)
{
	for (Node *k = u->clones; k; k = k->in[0])
		if (k->group == g)
			return k;
	Node *k = fn_copy_node(f->fn, c);
	k->group = g;
	k->nin = 0;
	/* in[0] of a leaf is unused: it chains the copies until fuse ends */
	k->in[0] = u->clones;
	u->clones = k;
	return k;
}

/* Rebuild the schedule, placing each leaf copy just before its first user. */
static void place_leaves(Fuser *f, LeafUse *use)
{
	Fn *fn = f->fn;
	Node **old = fn->node;
	int nold = fn->n, back = fn->backward_from;
	fn->node = xalloc(sizeof *fn->node * (size_t)(nold + 16));
	fn->cap = nold + 16;
	fn->n = 0;
	for (int i = 0; i < nold; i++) {
		Node *n = old[i];
		int g = group_of(f, n);
		if (i == back)
			fn->backward_from = fn->n;
		if (is_scalar_leaf(n)) {
			LeafUse *u = &use[n->id];
			if (u->group >= 0 && !u->outside)
				n->group = u->group;
			else if (!u->outside && u->group == -3)
				continue;   /* every user has its own copy */
			fn_append(fn, n);
			continue;
		}
		for (int k = 0; g >= 0 && k < n->nin; k++) {
			Node *c = n->in[k];
			if (is_scalar_leaf(c) && group_of(f, c) != g && !(use[c->id].group == g && !use[c->id].outside))
				n->in[k] = leaf_in_group(f, &use[c->id], c, g);
		}
		fn_append(fn, n);
	}
	for (int i = 0; i < fn->n; i++)
		if (is_scalar_leaf(fn->node[i]))
			fn->node[i]->in[0] = NULL;
}

/* Number the groups in order of emission and fill Fn.group. */
static void fill_groups(Fuser *f)
{
	Fn *fn = f->fn;
	int *number = xalloc(sizeof *number * (size_t)(f->ng + 1));
	int *count = xalloc(sizeof *count * (size_t)(f->ng + 1));
	memset(number, -1, sizeof *number * (size_t)(f->ng + 1));
	for (int i = 0; i < fn->n; i++)
		fn->node[i]->group = group_of(f, fn->node[i]);
	fn->ngroup = 0;
	/* emission order = order of last members: walk backwards, number, reverse */
	int *order = xalloc(sizeof *order * (size_t)(f->ng + 1));
	for (int i = fn->n - 1; i >= 0; i--) {
		int g = fn->node[i]->group;
		if (g >= 0 && number[g] < 0)
			number[g] = 0, order[fn->ngroup++] = g;
	}
	for (int j = 0; j < fn->ngroup; j++)
		number[order[fn->ngroup - 1 - j]] = j;
	fn->group = xalloc(sizeof *fn->group * (size_t)(fn->ngroup + 1));
	for (int i = 0; i < fn->n; i++) {
		Node *n = fn->node[i];
		if (n->group >= 0)
			count[n->group = number[n->group]]++;
	}
	for (int j = 0; j < fn->ngroup; j++) {
		fn->group[j].shape = f->shape[order[fn->ngroup - 1 - j]];
		fn->group[j].member = xalloc(sizeof(Node *) * (size_t)count[j]);
	}
	for (int i = 0; i < fn->n; i++) {
		Node *n = fn->node[i];
		if (n->group >= 0) {
			Group *g = &fn->group[n->group];
			g->member[g->n++] = n;
		}
	}
}

void fuse(Fn *fn)
{
	Fuser f = { .fn = fn };
	for (int i = 0; i < fn->n; i++)
		fn->node[i]->group = -1;
	assign_groups(&f);
	LeafUse *use = xalloc(sizeof *use * (size_t)(fn->next_id + 1));
	note_leaf_uses(&f, use);
	place_leaves(&f, use);
	fill_groups(&f);
	fill_uses(fn);
}
