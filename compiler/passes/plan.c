/* plan.c — the static memory plan of a Fn and the layout of the state block.
 *
 * Which values get memory:
 *   - a non-member, non-leaf value (matmul, sum, amax, transpose);
 *   - a group member used outside its group (by a non-member or by a
 *     member of another group); members used only inside stay in registers;
 *   - never a leaf (param/input live in their slots; const and batch are
 *     inlined), a store, or a reshape: a reshape aliases its operand, so the
 *     operand's live range covers the reshape's uses;
 *   - never a homed value: a non-member, non-reshape value whose only use
 *     is a store into a slot this Fn does not read is computed straight
 *     into the slot (Node.home) and the store emits nothing.  (A reshape
 *     feeding a store is not homed: Node.home must have the slot's shape,
 *     and the reshape's operand has another; the store copies.)
 * Live ranges are closed intervals of emission positions (a member is
 * defined where its group is emitted, at its last member), so a value is
 * never placed over an operand of the op that defines it.  Buffers are
 * placed first-fit in order of definition, in two arenas: fixed buffers
 * (bytes from scratch) and batch buffers (bytes per sample, scaled by the
 * batch at run time, after the fixed part).  Every offset is a multiple of
 * 64, so a batch offset times any batch is 64-aligned too.
 *
 * The conv kernels' patch block (Fn.patch_buf) comes last in the fixed
 * arena: runtime/conv.c makes a convolution's patch matrix a block of rows
 * at a time in it, so compiled code allocates nothing; one block serves
 * every convolution of the function, since they run one at a time, and it
 * holds the largest block any of them makes (nnrt_conv_block_bytes). */
#include <stdlib.h>
#include <string.h>
#include "ir.h"
#include "../runtime/nnrt.h"

enum { ALIGN = 64 };

static int64_t align_up(int64_t n) { return (n + ALIGN - 1) / ALIGN * ALIGN; }

/* A leaf has no memory of its own; iota, computed by a loop, does. */
static int is_leaf(const Node *n) { return op_info[n->op].kind == K_LEAF && n->op != OP_iota; }

static const Node *memory_root(const Node *n)
{
	while (n->op == OP_reshape)
		n = n->in[0];
	return n;
}

/* A value that could be written into a slot directly. */
static int homeable(const Node *n)
{
	return n->nuse == 1 && n->group < 0 && !is_leaf(n) && n->op != OP_store;
}

static void fill_homes(Fn *fn)
{
	int nslot = 0;
	for (int i = 0; i < fn->n; i++)
		if (fn->node[i]->slot + 1 > nslot)
			nslot = fn->node[i]->slot + 1;
	char *read = xalloc((size_t)nslot + 1);
	for (int i = 0; i < fn->n; i++)
		if (is_leaf(fn->node[i]) && fn->node[i]->slot >= 0)
			read[fn->node[i]->slot] = 1;
	for (int i = 0; i < fn->n; i++) {
		Node *s = fn->node[i];
		if (s->op != OP_store || s->group >= 0 || read[s->slot])
			continue;
		Node *v = s->in[0];
		if (homeable(v) && v->op != OP_reshape && shape_equal(v->shape, s->shape))
			v->home = s->slot;
	}
}

/* Emission position of each node, in Node.mark. */
static void fill_positions(Fn *fn)
{
	for (int i = 0; i < fn->n; i++)
		fn->node[i]->mark = i;
	for (int g = 0; g < fn->ngroup; g++) {
		Group *gr = &fn->group[g];
		int at = gr->member[gr->n - 1]->mark;
		for (int j = 0; j < gr->n; j++)
			gr->member[j]->mark = at;
	}
}

static int needs_buffer(const Node *n, const char *used_outside, int i)
{
	if (n->op == OP_arg)
		return 1;     /* a scan body's argument: the loop copies into it */
	if (is_leaf(n) || n->op == OP_store || n->op == OP_yield || n->op == OP_reshape || n->home >= 0)
		return 0;
	return n->group < 0 || used_outside[i];
}

typedef struct Live { int node, start, end; } Live;

static int by_start(const void *a, const void *b)
{
	const Live *x = a, *y = b;
	return x->start != y->start ? x->start - y->start : x->node - y->node;
}

/* The buffers of one arena that are live where the next buffer starts,
 * sorted by offset.  Buffers are placed in order of their start, so these
 * are exactly the placed buffers whose live range meets the next one's, and
 * they were placed apart: their bytes are disjoint. */
typedef struct Arena { int *buf; int n; } Arena;

/* Drop the buffers whose live range ended before `start`: starts only grow,
 * so they never meet a later buffer again. */
static void arena_expire(Arena *a, const Live *live, int start)
{
	int kept = 0;
	for (int i = 0; i < a->n; i++)
		if (live[a->buf[i]].end >= start)
			a->buf[kept++] = a->buf[i];
	a->n = kept;
}

/* Lowest 64-aligned offset where [offset, offset + size) misses every
 * buffer of the arena: the first gap, walking them by offset. */
static int64_t first_fit(const Fn *fn, const Arena *a, int64_t size)
{
	int64_t offset = 0;
	for (int i = 0; i < a->n; i++) {
		const Buffer *b = &fn->buf[a->buf[i]];
		if (b->offset >= offset + size)
			break;
		if (align_up(b->offset + b->size) > offset)
			offset = align_up(b->offset + b->size);
	}
	return offset;
}

static void arena_insert(Arena *a, const Fn *fn, int j)
{
	int at = a->n;
	while (at > 0 && fn->buf[a->buf[at - 1]].offset > fn->buf[j].offset)
		at--;
	memmove(a->buf + at + 1, a->buf + at, sizeof *a->buf * (size_t)(a->n - at));
	a->buf[at] = j;
	a->n++;
}

static void place_buffers(Fn *fn, Live *live, int nlive)
{
	qsort(live, (size_t)nlive, sizeof *live, by_start);
	fn->buf = xalloc(sizeof *fn->buf * (size_t)(nlive + 1));
	fn->nbuf = nlive;
	int64_t top[2] = { 0, 0 };
	Arena arena[2] = { { xalloc(sizeof(int) * (size_t)(nlive + 1)), 0 },
	                   { xalloc(sizeof(int) * (size_t)(nlive + 1)), 0 } };
	for (int j = 0; j < nlive; j++) {
		Node *n = fn->node[live[j].node];
		int batch = shape_has_batch(n->shape);
		int64_t size = shape_per_sample(n->shape) * dtype_size(n->dt);
		if (n->body)   /* a scan's workspace follows its result: its body's scratch */
			size += n->body->scratch_fixed + n->body->scratch_per_sample;
		arena_expire(&arena[batch], live, live[j].start);
		int64_t at = first_fit(fn, &arena[batch], size ? size : 1);
		fn->buf[j] = (Buffer){ .offset = at, .size = size, .batch = batch };
		arena_insert(&arena[batch], fn, j);
		n->buf = j;
		if (align_up(at + size) > top[batch])
			top[batch] = align_up(at + size);
	}
	fn->scratch_fixed = top[0];
	fn->scratch_per_sample = top[1];
}

static void plan_patches(Fn *fn)
{
	int64_t size = patch_block_bytes(fn);
	fn->patch_buf = -1;
	if (size == 0)
		return;
	fn->buf = xrealloc(fn->buf, sizeof *fn->buf * (size_t)fn->nbuf, sizeof *fn->buf * (size_t)(fn->nbuf + 1));
	fn->buf[fn->nbuf] = (Buffer){ .offset = fn->scratch_fixed, .size = size, .batch = 0 };
	fn->patch_buf = fn->nbuf++;
	fn->scratch_fixed = align_up(fn->scratch_fixed + size);
}

void plan(Fn *fn)
{
	fill_uses(fn);
	for (int i = 0; i < fn->n; i++)
		fn->node[i]->buf = fn->node[i]->home = -1;
	fill_homes(fn);
	char *used_outside = xalloc((size_t)fn->n + 1);
	int *index = xalloc(sizeof *index * (size_t)(fn->next_id + 1));
	for (int i = 0; i < fn->n; i++)
		index[fn->node[i]->id] = i;
	for (int i = 0; i < fn->n; i++)
		for (int k = 0; k < fn->node[i]->nin; k++) {
			const Node *o = fn->node[i]->in[k];
			if (o->group >= 0 && o->group != fn->node[i]->group)
				used_outside[index[o->id]] = 1;
		}
	fill_positions(fn);
	int *live_of = xalloc(sizeof *live_of * (size_t)(fn->n + 1));
	Live *live = xalloc(sizeof *live * (size_t)(fn->n + 1));
	int nlive = 0;
	for (int i = 0; i < fn->n; i++) {
		live_of[i] = -1;
		if (needs_buffer(fn->node[i], used_outside, i)) {
			live_of[i] = nlive;
			live[nlive++] = (Live){ i, fn->node[i]->mark, fn->node[i]->mark };
		}
	}
	/* a scan body's args hold the step's inputs from its start to its end */
	for (int i = 0; i < fn->n; i++)
		if (fn->node[i]->op == OP_arg)
			live[live_of[i]].start = 0, live[live_of[i]].end = fn->n;
	/* a use through any chain of reshapes keeps the root's memory alive */
	for (int i = 0; i < fn->n; i++)
		for (int k = 0; k < fn->node[i]->nin; k++) {
			int r = live_of[index[memory_root(fn->node[i]->in[k])->id]];
			if (r >= 0 && fn->node[i]->mark > live[r].end)
				live[r].end = fn->node[i]->mark;
		}
	place_buffers(fn, live, nlive);
	plan_patches(fn);
	for (int i = 0; i < fn->n; i++)
		fn->node[i]->mark = 0;
}

/* ---- the state block ------------------------------------------------ */

static void place_role(Module *m, SlotRole role, int64_t *at)
{
	for (int i = 0; i < m->nslot; i++) {
		Slot *s = &m->slot[i];
		if (s->role != role)
			continue;
		int64_t rows = 1;
		if (shape_has_batch(s->shape)) {   /* a scan's carried state: one row per stream */
			if (role != SLOT_BUFFER || !m->carry_batch || m->cfg.batch < 1)
				fatal(EXIT_INTERNAL, "internal error: state tensor %s has a batch dimension", s->name);
			rows = m->cfg.batch;
		}
		s->offset = *at;
		*at = align_up(*at + rows * shape_per_sample(s->shape) * dtype_size(s->dt));
	}
}

static int is_io(SlotRole r) { return r == SLOT_INPUT || r == SLOT_TARGET || r == SLOT_OUTPUT; }

/* Keep the elaborator's io numbers; number the rest (and any duplicate)
 * with the lowest free indices, in slot order. */
static void number_io(Module *m)
{
	char used[NNRT_MAX_IO] = { 0 };
	int count = 0;
	for (int i = 0; i < m->nslot; i++) {
		Slot *s = &m->slot[i];
		if (!is_io(s->role))
			continue;
		if (++count > NNRT_MAX_IO)
			fatal(EXIT_SOURCE, "%s: a model may have at most %d data fields and outputs (found more, at %s)",
			      m->source ? m->source : m->model, NNRT_MAX_IO, s->name);
		if (s->io >= 0 && s->io < NNRT_MAX_IO && !used[s->io])
			used[s->io] = 1;
		else
			s->io = -1;
	}
	for (int i = 0; i < m->nslot; i++) {
		Slot *s = &m->slot[i];
		if (!is_io(s->role) || s->io >= 0)
			continue;
		int k = 0;
		while (used[k])
			k++;
		used[k] = 1;
		s->io = k;
	}
}

void plan_state(Module *m)
{
	int64_t at = 0;
	place_role(m, SLOT_PARAM, &at);
	place_role(m, SLOT_GRAD, &at);
	place_role(m, SLOT_OPTSTATE, &at);
	place_role(m, SLOT_BUFFER, &at);
	m->state_bytes = at;
	number_io(m);
}
