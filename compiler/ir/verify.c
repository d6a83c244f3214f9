/* verify.c — the invariants of the graph IR, checked after every pass in
 * test builds.  ir_verify returns NULL when the function is well formed,
 * else a sentence naming the first node that breaks a rule and the rule.
 *
 * Checked: SSA order and unique ids; operand counts from ops.def; each
 * op's shape and dtype rule; slots of the right role; at most one batch
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

static int slot_ok(Check *c, const Node *n, int store)
{
	if (n->slot < 0 || n->slot >= c->m->nslot)
		return bad(c, n, xprintf("slot %d out of range", n->slot));
	const Slot *s = &c->m->slot[n->slot];
	SlotRole r = s->role;
	int state = slot_is_state(r);
	int io = r == SLOT_INPUT || r == SLOT_TARGET || r == SLOT_HYPER;
	if (n->op == OP_param && !state)
		return bad(c, n, xprintf("param reads '%s', which is not a state slot", s->name));
	if (n->op == OP_input && !io)
		return bad(c, n, xprintf("input reads '%s', which is not an input", s->name));
	if (store && io)
		return bad(c, n, xprintf("store into read-only slot '%s'", s->name));
	if (!shape_equal(n->shape, s->shape) || n->dt != s->dt)
		return bad(c, n, xprintf("%s%s does not match slot '%s' %s%s", dtype_name(n->dt),
		                         shape_str(n->shape), s->name, dtype_name(s->dt), shape_str(s->shape)));
	return 1;
}

static int reduce_ok(Check *c, const Node *n, Shape in)
{
	if ((n->axes >> in.rank) != 0 || n->shape.rank != in.rank)
		return bad(c, n, "axes outside the operand's rank");
	for (int i = 0; i < in.rank; i++) {
		int64_t want = n->axes >> i & 1 ? 1 : in.d[i];
		if (n->shape.d[i] != want)
			return bad(c, n, xprintf("reduced shape should be %s", shape_str(n->shape)));
	}
	return 1;
}

/* The rule of ir_matmul (ir.c): operands are matrices of their leading
 * dims by their last; the contracted dims agree; a transposed b is 2-D. */
static int matmul_ok(Check *c, const Node *n)
{
	Shape a = n->in[0]->shape, b = n->in[1]->shape, want = { 0 };
	int ok = a.rank >= 2 && b.rank >= 2 && (!n->tb || b.rank == 2);
	if (ok) {
		GemmDims g = matmul_dims(n);
		int kbatch = 0;
		int64_t kb = n->tb ? dims_product(b, 1, 2, &kbatch) : dims_product(b, 0, b.rank - 1, &kbatch);
		if (n->ta)
			want.d[want.rank++] = a.d[a.rank - 1];
		else
			for (int i = 0; i < a.rank - 1; i++)
				want.d[want.rank++] = a.d[i];
		want.d[want.rank++] = g.nb ? DIM_BATCH : g.n;
		ok = g.k == kb && g.kb == kbatch && shape_equal(want, n->shape);
	}
	if (!ok)
		return bad(c, n, xprintf("matmul%s%s of %s and %s cannot be %s", n->ta ? ".t" : "",
		                         n->tb ? ".t" : "", shape_str(a), shape_str(b), shape_str(n->shape)));
	return 1;
}

static int geometry_ok(Check *c, const Node *n)
{
	const nnrt_window *w = &n->win;
	if (w->kh < 1 || w->kw < 1 || w->sh < 1 || w->sw < 1 || w->dh < 1 || w->dw < 1 || w->ph < 0 || w->pw < 0)
		return bad(c, n, xprintf("%s: kernel, stride and dilation must be >= 1, padding >= 0",
		                         op_info[n->op].name));
	return 1;
}

static int window_ok(Check *c, const Node *n)
{
	const nnrt_window *w = &n->win;
	if (!geometry_ok(c, n))
		return 0;
	Shape img = n->op == OP_window ? n->in[0]->shape : n->shape;
	Shape pat = n->op == OP_window ? n->shape : n->in[0]->shape;
	if (img.rank != 4 || pat.rank != 6 || pat.d[0] != img.d[0] || pat.d[5] != img.d[3] ||
	    pat.d[3] != w->kh || pat.d[4] != w->kw ||
	    pat.d[1] != window_extent(img.d[1], w->kh, w->sh, w->ph, w->dh) ||
	    pat.d[2] != window_extent(img.d[2], w->kw, w->sw, w->pw, w->dw))
		return bad(c, n, xprintf("%s: patches %s do not fit image %s", op_info[n->op].name,
		                         shape_str(pat), shape_str(img)));
	return 1;
}

/* conv*: the image, the output grid and the weights fit the geometry. */
static int conv_ok(Check *c, const Node *n)
{
	const nnrt_window *w = &n->win;
	if (!geometry_ok(c, n))
		return 0;
	ConvShapes s = conv_shapes(n);
	Shape img = s.image, g = s.grid, k = s.weights;
	if (n->in[0]->dt != n->dt || n->in[1]->dt != n->dt || n->dt == DT_I32)
		return bad(c, n, xprintf("%s: operands and result must share one float type", op_info[n->op].name));
	if (img.rank != 4 || g.rank != 4 || k.rank != 2 || g.d[0] != img.d[0] ||
	    g.d[1] != window_extent(img.d[1], w->kh, w->sh, w->ph, w->dh) ||
	    g.d[2] != window_extent(img.d[2], w->kw, w->sw, w->pw, w->dw) ||
	    k.d[0] != (int64_t)w->kh * w->kw * img.d[3] || k.d[1] != g.d[3])
		return bad(c, n, xprintf("%s: image %s, output %s and weights %s do not fit", op_info[n->op].name,
		                         shape_str(img), shape_str(g), shape_str(k)));
	return 1;
}

static int layout_ok(Check *c, const Node *n, Shape in)
{
	if (n->op == OP_reshape) {
		if (shape_per_sample(in) != shape_per_sample(n->shape) ||
		    shape_has_batch(in) != shape_has_batch(n->shape))
			return bad(c, n, xprintf("reshape %s -> %s changes the element count",
			                         shape_str(in), shape_str(n->shape)));
		return 1;
	}
	unsigned seen = 0;
	if (in.rank != n->shape.rank)
		return bad(c, n, "transpose changes the rank");
	for (int i = 0; i < in.rank; i++) {
		int p = n->perm[i];
		if (p < 0 || p >= in.rank || (seen >> p & 1) || n->shape.d[i] != in.d[p])
			return bad(c, n, "transpose: bad permutation");
		seen |= 1u << p;
	}
	return 1;
}

/* The shape and dtype rule of n's kind (ops.def). */
static int rule_ok(Check *c, const Node *n)
{
	Shape in = n->nin ? n->in[0]->shape : (Shape){ 0 };
	for (int i = 0; i < n->nin; i++)
		if (n->op != OP_uniform && (n->in[i]->dt != n->in[0]->dt || (n->op != OP_onehot && n->in[i]->dt != n->dt)))
			return bad(c, n, "operand dtypes differ");
	switch (op_info[n->op].kind) {
	case K_LEAF:
		if (n->op == OP_param || n->op == OP_input)
			return slot_ok(c, n, 0);
		return n->shape.rank == 0 || bad(c, n, "a constant is a scalar, shape []");
	case K_ELEM:
		for (int i = 0; i < n->nin; i++)
			if (!shape_equal(n->in[i]->shape, n->shape))
				return bad(c, n, xprintf("operand %d's shape differs from the result's: %s, %s",
				                         i, shape_str(n->in[i]->shape), shape_str(n->shape)));
		return 1;
	case K_BCAST: {
		Shape r;
		return (shape_broadcast(in, n->shape, &r) && shape_equal(r, n->shape)) ||
		       bad(c, n, xprintf("%s does not broadcast to %s", shape_str(in), shape_str(n->shape)));
	}
	case K_REDUCE: return reduce_ok(c, n, in);
	case K_MATMUL: return matmul_ok(c, n);
	case K_LAYOUT: return layout_ok(c, n, in);
	case K_INDEX: {
		Shape want = in;
		if (n->in[0]->dt != DT_I32 || n->k < 1 || in.rank >= MAXRANK)
			return bad(c, n, "onehot needs i32 labels and k >= 1");
		want.d[want.rank++] = n->k;
		return shape_equal(want, n->shape) || bad(c, n, "onehot shape is labels' shape + [k]");
	}
	case K_WINDOW: return window_ok(c, n);
	case K_CONV: return conv_ok(c, n);
	case K_BOXSUM:
		return (n->dt != DT_I32 && in.rank >= 1 && in.d[in.rank - 1] != DIM_BATCH && shape_equal(in, n->shape) &&
		        n->k >= 1 && n->k % 2 == 1) ||
		       bad(c, n, "boxsum: a float operand of rank >= 1 whose last dim is not B, its shape, an odd width");
	case K_SLICE: {
		Shape part = n->op == OP_slice ? n->shape : in, whole = n->op == OP_slice ? in : n->shape;
		int ax = n->axes ? slice_axis(n) : -1, ok = ax >= 0 && n->axes == 1u << ax && part.rank == whole.rank
		         && ax < whole.rank && whole.d[ax] != DIM_BATCH && n->k >= 0 && n->k + part.d[ax] <= whole.d[ax];
		for (int i = 0; ok && i < whole.rank; i++)
			ok = i == ax || part.d[i] == whole.d[i];
		return ok || bad(c, n, xprintf("%s: part %s at %lld does not fit %s", op_info[n->op].name,
		                                shape_str(part), (long long)n->k, shape_str(whole)));
	}
	case K_RANDOM:
		return (n->dt != DT_I32 && in.rank == 0) || bad(c, n, "uniform: float values, a scalar step operand");
	case K_STORE:
		return slot_ok(c, n, 1);
	}
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
		if (!buffer_fits(c, n))
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
