/* verify.c — the invariants of the graph IR, checked after every pass in
 * test builds.  ir_verify returns NULL when the function is well formed,
 * else a sentence naming the first node that breaks a rule and the rule.
 *
 * Checked: SSA order and unique ids; operand counts from ops.def; each
 * op's shape and dtype rule (shape.c, the builders' own); slots of the right role; at most one batch
 * dimension per shape; and, once fuse() and plan() have filled them, the
 * group and buffer invariants stated in ir.h. */
#include <stdlib.h>
#include <string.h>
#include "ir.h"

typedef struct Check {
	const Module *m;
	const Fn *fn;
	int *pos;            /* by id: schedule index, or -1 before definition */
	const char *err;
} Check;

static const char *where(const Node *n)
{
	unsigned op = n->op;
	return xprintf("%%%d (%s)", n->id, op < OP__COUNT ? op_info[op].name : "unknown op");
}

static int bad(Check *c, const Node *n, const char *what)
{
	if (!c->err)
		c->err = xprintf("%s: %s", where(n), what);
	return 0;
}

static int shape_ok(Shape s)
{
	if (s.rank < 0 || s.rank > MAXRANK)
		return 0;
	int batches = 0;
	for (int i = 0; i < s.rank; i++) {
		if (s.d[i] == DIM_BATCH)
			batches++;
		else if (s.d[i] < 1)
			return 0;
	}
	return batches <= 1;
}

/* The op's rule (shape.c) and the node's own shape agree. */
static int rule_ok(Check *c, const Node *n)
{
	Shape want;
	const char *why = op_shape(c->m, n, &want);
	if (why)
		return bad(c, n, why);
	if (!shape_equal(want, n->shape))
		return bad(c, n, xprintf("result shape differs from its rule's: %s, the rule gives %s",
		                         shape_str(n->shape), shape_str(want)));
	return 1;
}

static int node_ok(Check *c, const Node *n, int index)
{
	if (n->id < 0 || n->id >= c->fn->next_id)
		return bad(c, n, xprintf("id outside [0, next_id %d)", c->fn->next_id));
	if (c->pos[n->id] >= 0)
		return bad(c, n, xprintf("id used twice (also at index %d)", c->pos[n->id]));
	if ((unsigned)n->op >= OP__COUNT)
		return bad(c, n, "unknown op");
	if (n->nin < 0 || n->nin > MAXIN || (op_info[n->op].nin >= 0 && op_info[n->op].nin != n->nin))
		return bad(c, n, xprintf("%d operands, the op takes %d", n->nin, op_info[n->op].nin));
	for (int i = 0; i < n->nin; i++) {
		const Node *a = n->in[i];
		if (!a || a->id < 0 || a->id >= c->fn->next_id || c->pos[a->id] < 0 ||
		    c->fn->node[c->pos[a->id]] != a)
			return bad(c, n, xprintf("operand %d is not defined before its use", i));
		if (a->op == OP_store)
			return bad(c, n, "a store has no value to use");
	}
	if (!shape_ok(n->shape))
		return bad(c, n, xprintf("bad shape %s (at most one batch dim)", shape_str(n->shape)));
	c->pos[n->id] = index;
	if (n->op == OP_scan) {
		const char *e = n->body ? ir_verify(c->m, n->body) : "no body";
		if (e)
			return bad(c, n, xprintf("scan body: %s", e));
	}
	return rule_ok(c, n);
}

static int groups_ok(Check *c);
static int buffers_ok(Check *c);

/* ---- after fuse: a group is emitted at its last member's position ---- */

static int emitted_at(const Check *c, const Node *n)
{
	if (n->group >= 0 && n->group < c->fn->ngroup) {
		const Group *g = &c->fn->group[n->group];
		return c->pos[g->member[g->n - 1]->id];
	}
	return c->pos[n->id];
}

static int group_members_ok(Check *c, int gi)
{
	const Group *g = &c->fn->group[gi];
	if (g->n < 1)
		return bad(c, c->fn->node[0], xprintf("group g%d is empty", gi));
	for (int j = 0; j < g->n; j++) {
		const Node *n = g->member[j];
		if (!n || n->id < 0 || n->id >= c->fn->next_id || c->pos[n->id] < 0)
			return bad(c, c->fn->node[0], xprintf("group g%d lists a node not in the schedule", gi));
		if (n->group != gi)
			return bad(c, n, xprintf("listed in g%d but its group is %d", gi, n->group));
		if (j && c->pos[n->id] <= c->pos[g->member[j - 1]->id])
			return bad(c, n, xprintf("members of g%d out of schedule order", gi));
	}
	return 1;
}

/* ir.h: every member's operands from outside the group come before the
 * group's position, and every use from outside comes after it. */
static int groups_ok(Check *c)
{
	const Fn *fn = c->fn;
	int *count = xalloc(sizeof *count * (size_t)fn->ngroup);
	for (int gi = 0; gi < fn->ngroup; gi++)
		if (!group_members_ok(c, gi))
			return 0;
	for (int i = 0; i < fn->n; i++) {
		const Node *n = fn->node[i];
		if (n->group < -1 || n->group >= fn->ngroup)
			return bad(c, n, xprintf("group %d out of range", n->group));
		if (n->group >= 0)
			count[n->group]++;
		for (int k = 0; k < n->nin; k++) {
			const Node *a = n->in[k];
			if (n->group >= 0 && a->group == n->group)
				continue;
			if (emitted_at(c, a) >= emitted_at(c, n))
				return bad(c, n, xprintf("operand %%%d is computed (in its group) after this use", a->id));
		}
	}
	for (int gi = 0; gi < fn->ngroup; gi++)
		if (count[gi] != fn->group[gi].n)
			return bad(c, fn->node[0], xprintf("g%d lists %d members, %d nodes say they are in it",
			                                   gi, fn->group[gi].n, count[gi]));
	return 1;
}

/* ---- after plan: buffers ---- */

typedef struct Range { int def, last; const Node *n; } Range;

static int64_t value_bytes(const Node *n)
{
	return dtype_size(n->dt) * shape_per_sample(n->shape);
}

static int buffer_fits(Check *c, const Node *n)
{
	const Fn *fn = c->fn;
	if (n->buf < -1 || n->buf >= fn->nbuf)
		return bad(c, n, xprintf("buffer %d out of range", n->buf));
	if (n->home < -1 || n->home >= c->m->nslot)
		return bad(c, n, xprintf("home slot %d out of range", n->home));
	if (n->home >= 0 && !shape_equal(c->m->slot[n->home].shape, n->shape))
		return bad(c, n, xprintf("home slot '%s' has another shape", c->m->slot[n->home].name));
	if (n->buf < 0)
		return 1;
	const Buffer *b = &fn->buf[n->buf];
	int64_t room = b->batch ? fn->scratch_per_sample : fn->scratch_fixed;
	if (b->batch != shape_has_batch(n->shape))
		return bad(c, n, xprintf("buf%d is %sper sample, the value is not", n->buf, b->batch ? "" : "not "));
	if (b->size < value_bytes(n))
		return bad(c, n, xprintf("buf%d holds %lld bytes, the value needs %lld", n->buf,
		                         (long long)b->size, (long long)value_bytes(n)));
	if (b->offset < 0 || b->offset + b->size > room)
		return bad(c, n, xprintf("buf%d lies outside the scratch block", n->buf));
	return 1;
}

/* conv*: the function's patch block (plan.c) holds this convolution's
 * blocks of patch rows, in the fixed scratch, sharing no byte with any
 * value: the kernel writes it while its operands and result are live. */
static int patches_fit(Check *c, const Node *n)
{
	const Fn *fn = c->fn;
	int p = fn->patch_buf;
	int64_t need = nnrt_conv_block_bytes(conv_shapes(n).weights.d[0], dtype_size(n->dt));
	if (p < 0 || p >= fn->nbuf || fn->buf[p].batch || fn->buf[p].size < need ||
	    fn->buf[p].offset < 0 || fn->buf[p].offset + fn->buf[p].size > fn->scratch_fixed)
		return bad(c, n, xprintf("%s needs a patch block of %lld bytes in the fixed scratch",
		                         op_info[n->op].name, (long long)need));
	const Buffer *pb = &fn->buf[p];
	for (int i = 0; i < fn->n; i++) {
		const Node *v = fn->node[i];
		const Buffer *b = v->buf >= 0 ? &fn->buf[v->buf] : NULL;
		if (b && (v->buf == p || (!b->batch && b->offset < pb->offset + pb->size && pb->offset < b->offset + b->size)))
			return bad(c, v, xprintf("buf%d shares bytes with the patch block buf%d", v->buf, p));
	}
	return 1;
}

/* Two values share memory only when their live ranges do not overlap:
 * the plan may give two buffers the same bytes (one after the other), so
 * what is checked is the bytes, not the buffer index.  A range runs from
 * where the value is written to its last read.  A value may be written
 * where another is last read only by an elementwise op (it reads each
 * element before writing it, in place). */
static int same_bytes(const Fn *fn, const Node *a, const Node *b)
{
	const Buffer *x = &fn->buf[a->buf], *y = &fn->buf[b->buf];
	if (a->buf == b->buf)
		return 1;
	return x->batch == y->batch && x->offset < y->offset + value_bytes(b) &&
	       y->offset < x->offset + value_bytes(a);
}

static int ranges_ok(Check *c, Range *r, int nr)
{
	for (int i = 0; i < nr; i++)
		for (int j = 0; j < nr; j++) {
			if (i == j || r[i].def > r[j].def || (r[i].def == r[j].def && i > j) ||
			    r[j].def > r[i].last || !same_bytes(c->fn, r[i].n, r[j].n))
				continue;
			int touch = r[j].def == r[i].last && r[j].def != r[i].def &&
			            (op_info[r[j].n->op].flags & F_ELEM) && r[j].n->op != OP_broadcast;
			if (!touch)
				return bad(c, r[j].n, xprintf("shares bytes of buf%d with %%%d (buf%d), which is still live",
				                              r[j].n->buf, r[i].n->id, r[i].n->buf));
		}
	return 1;
}

static int buffers_ok(Check *c)
{
	const Fn *fn = c->fn;
	Range *r = xalloc(sizeof *r * (size_t)(fn->n + 1));
	int *slot_of = xalloc(sizeof *slot_of * (size_t)(fn->next_id + 1));
	int nr = 0;
	for (int i = 0; i < fn->n; i++) {
		const Node *n = fn->node[i];
		if (!buffer_fits(c, n) || (op_info[n->op].kind == K_CONV && !patches_fit(c, n)))
			return 0;
		if (n->buf >= 0) {
			slot_of[n->id] = nr + 1;
			r[nr++] = (Range){ emitted_at(c, n), emitted_at(c, n), n };
		}
	}
	for (int i = 0; i < fn->n; i++)
		for (int k = 0; k < fn->node[i]->nin; k++) {
			/* a reshape without memory of its own reads its operand's */
			const Node *a = fn->node[i]->in[k];
			while (a->op == OP_reshape && a->buf < 0 && a->home < 0)
				a = a->in[0];
			int s = slot_of[a->id];
			int at = emitted_at(c, fn->node[i]);
			if (s && at > r[s - 1].last)
				r[s - 1].last = at;
		}
	return ranges_ok(c, r, nr);
}

const char *ir_verify(const Module *m, const Fn *fn)
{
	Check c = { m, fn, NULL, NULL };
	if (fn->next_id < 0 || fn->n < 0)
		return "negative node count";
	if (fn->backward_from < -1 || fn->backward_from > fn->n)
		return xprintf("backward_from %d outside the schedule of %d nodes", fn->backward_from, fn->n);
	c.pos = xalloc(sizeof *c.pos * (size_t)(fn->next_id + 1));
	for (int i = 0; i <= fn->next_id; i++)
		c.pos[i] = -1;
	for (int i = 0; i < fn->n; i++)
		if (!fn->node[i] || !node_ok(&c, fn->node[i], i))
			return c.err ? xprintf("%s: %s", fn->name, c.err) : xprintf("%s: node %d is NULL", fn->name, i);
	if ((fn->ngroup > 0 && !groups_ok(&c)) || (fn->nbuf > 0 && !buffers_ok(&c)))
		return xprintf("%s: %s", fn->name, c.err);
	return NULL;
}
