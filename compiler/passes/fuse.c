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
 * Cheap values are rematerialized rather than shared: a rank-0 const or
 * batch leaf, and a broadcast of any rank-0 leaf, take no part in the
 * greedy walk; afterwards each group that uses one gets its own member
 * copy (a leaf's first group takes the original when no non-member needs
 * it), so inside a group every const/batch operand is a member and a
 * broadcast constant never travels through memory.  Non-members keep the
 * original; originals no one uses any more are dropped.  A store joins
 * the group of its value when the shapes match
 * and the group is open: it writes the slot inside the loop. */
#include <string.h>
#include "rewrite.h"

typedef struct Fuser {
	Fn *fn;
	int *parent;          /* union-find over group numbers */
	Shape *shape;
	char *closed;
	int *size;            /* members so far, by group number (the root's counts) */
	int ng, cap;
	int nremat;           /* ids below this index the Remat table */
	struct Copy **copies; /* by group number: the copies of rematerialized nodes in it */
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
		f->size = xrealloc(f->size, sizeof *f->size * (size_t)f->cap, sizeof *f->size * (size_t)cap);
		f->cap = cap;
	}
	f->parent[f->ng] = f->ng;
	f->shape[f->ng] = s;
	f->closed[f->ng] = 0;
	f->size[f->ng] = 0;
	return f->ng++;
}

static int is_scalar_leaf(const Node *n)
{
	return n->op == OP_const || n->op == OP_batch;
}

/* Cheap to compute anywhere, so copied into each group that uses it
 * rather than shared through memory: rank-0 const and batch leaves, and
 * a broadcast of any rank-0 leaf (constants, B, the learning rate). */
static int is_remat(const Node *n)
{
	if (is_scalar_leaf(n))
		return 1;
	return n->op == OP_broadcast && n->in[0]->shape.rank == 0 && op_info[n->in[0]->op].kind == K_LEAF;
}

/* Members of one group at most.  A group is one loop body for LLVM,
 * whose passes take time superlinear in its size: 512 chained tanh in one
 * body took 7-9 s at -O3.  Past the cap a chain continues in a new group,
 * through memory; the examples' largest groups hold about 110 members. */
enum { MAX_GROUP = 128 };

static int can_join(Fuser *f, int g, const Node *n)
{
	return g >= 0 && !f->closed[g] && f->size[g] < MAX_GROUP && shape_equal(f->shape[g], n->shape);
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
		else if (f->size[target] + f->size[g] < MAX_GROUP) {
			f->parent[g] = target;
			f->size[target] += f->size[g];
		}
	}
	return target >= 0 ? target : new_group(f, n->shape);
}

/* A read of a slot that an open group stores into closes that group: the
 * read must see the whole stored tensor, not a loop half done. */
static void close_on_reread(Fuser *f, int *store_group, const Node *n)
{
	if (n->op == OP_store && n->group >= 0)
		store_group[n->slot] = n->group;
	else if (op_info[n->op].kind == K_LEAF && n->slot >= 0 && store_group[n->slot] >= 0)
		f->closed[find(f, store_group[n->slot])] = 1;
}

static void assign_groups(Fuser *f)
{
	Fn *fn = f->fn;
	int nslot = 0;
	for (int i = 0; i < fn->n; i++)
		if (fn->node[i]->slot + 1 > nslot)
			nslot = fn->node[i]->slot + 1;
	int *store_group = xalloc(sizeof *store_group * (size_t)(nslot + 1));
	memset(store_group, -1, sizeof *store_group * (size_t)(nslot + 1));
	for (int i = 0; i < fn->n; i++) {
		Node *n = fn->node[i];
		n->group = is_remat(n) ? -1 : choose_group(f, n);
		int mine = group_of(f, n);
		if (mine >= 0)
			f->size[mine]++;
		/* any use from outside a group closes it */
		for (int k = 0; k < n->nin; k++) {
			int g = group_of(f, n->in[k]);
			if (g >= 0 && g != mine)
				f->closed[g] = 1;
		}
		close_on_reread(f, store_group, n);
	}
}

/* Per rematerialized node: whether the original stays for a non-member,
 * and whether a group already owns the original. */
typedef struct Remat { char outside, claimed, alive; } Remat;

/* The copies, listed by the group they belong to: a constant that
 * thousands of groups use must not be searched for in a list of them,
 * while a group uses few such nodes (it has MAX_GROUP members at most). */
typedef struct Copy { int of; Node *node; struct Copy *next; } Copy;

/* Reverse order: a user's own "outside" is known before its operands'. */
static void note_outside_uses(Fuser *f, Remat *r)
{
	Fn *fn = f->fn;
	for (int i = fn->n - 1; i >= 0; i--) {
		Node *u = fn->node[i];
		int from_outside = is_remat(u) ? r[u->id].outside : group_of(f, u) < 0;
		for (int k = 0; k < u->nin; k++)
			if (is_remat(u->in[k]) && from_outside)
				r[u->in[k]->id].outside = 1;
	}
}

/* The value of remat node c inside group g: the original for the first
 * group of a scalar leaf that no non-member needs, else a copy appended
 * now (just before its first user in g). */
static Node *remat_in_group(Fuser *f, Remat *r, Node *c, int g)
{
	if (group_of(f, c) == g)
		return c;
	for (Copy *k = f->copies[g]; k; k = k->next)
		if (k->of == c->id)
			return k->node;
	if (is_scalar_leaf(c) && !r[c->id].outside && !r[c->id].claimed) {
		r[c->id].claimed = 1;
		c->group = g;
		return c;
	}
	Node *in = c->nin ? c->in[0] : NULL;
	if (in && is_remat(in))
		in = remat_in_group(f, r, in, g);
	Node *copy = fn_copy_node(f->fn, c);
	copy->group = g;
	if (in)
		copy->in[0] = in;
	Copy *k = xalloc(sizeof *k);
	*k = (Copy){ c->id, copy, f->copies[g] };
	f->copies[g] = k;
	return copy;
}

/* Rebuild the schedule with the copies in place. */
static void place_remats(Fuser *f, Remat *r)
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
		for (int k = 0; g >= 0 && !is_remat(n) && k < n->nin; k++)
			if (is_remat(n->in[k]))
				n->in[k] = remat_in_group(f, r, n->in[k], g);
		fn_append(fn, n);
	}
}

/* Drop originals that no one uses any more (every user got a copy). */
static void drop_unused_remats(Fuser *f, Remat *r)
{
	Fn *fn = f->fn;
	for (int i = fn->n - 1; i >= 0; i--) {
		Node *n = fn->node[i];
		n->mark = !is_remat(n) || group_of(f, n) >= 0 || r[n->id].alive ? 0 : -1;
		if (n->mark == -1)
			continue;
		for (int k = 0; k < n->nin; k++)
			if (is_remat(n->in[k]) && n->in[k]->id < f->nremat)
				r[n->in[k]->id].alive = 1;
	}
	ir_remove_dead(fn);
	for (int i = 0; i < fn->n; i++)
		fn->node[i]->mark = 0;
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
	f.nremat = fn->next_id;
	f.copies = xalloc(sizeof *f.copies * (size_t)(f.ng + 1));
	Remat *r = xalloc(sizeof *r * (size_t)(fn->next_id + 1));
	note_outside_uses(&f, r);
	place_remats(&f, r);
	drop_unused_remats(&f, r);
	fill_groups(&f);
	fill_uses(fn);
}
