/* ir.c — IR builders and shape helpers.
 *
 * Builders check what the elaborator has already checked for the user
 * (equal shapes, valid axes); a failure here is a bug in nnc, reported as
 * an internal error rather than a crash. */
#include <stdarg.h>
#include <string.h>
#include "ir.h"

#define CHECK(cond, loc) do { if (!(cond)) internal(loc, #cond); } while (0)

static _Noreturn void internal(Loc loc, const char *what)
{
	if (loc.file)
		fatal(EXIT_INTERNAL, "internal error at %s:%d:%d: %s", loc.file, loc.line, loc.col, what);
	fatal(EXIT_INTERNAL, "internal error: %s", what);
}

/* The result's shape by the op's one rule (shape.c), or an internal
 * error: the elaborator has checked the user's shapes before. */
static Node *settle(Node *n)
{
	Shape s;
	const char *why = op_shape(NULL, n, &s);
	if (why)
		internal(n->loc, why);
	n->shape = s;
	return n;
}

/* ---- shapes ---------------------------------------------------------- */

Shape shape_of(int rank, ...)
{
	Shape s = { .rank = rank };
	va_list ap;
	va_start(ap, rank);
	for (int i = 0; i < rank && i < MAXRANK; i++)
		s.d[i] = va_arg(ap, int64_t);
	va_end(ap);
	return s;
}

int shape_equal(Shape a, Shape b)
{
	if (a.rank != b.rank)
		return 0;
	for (int i = 0; i < a.rank; i++)
		if (a.d[i] != b.d[i])
			return 0;
	return 1;
}

int shape_has_batch(Shape s)
{
	for (int i = 0; i < s.rank; i++)
		if (s.d[i] == DIM_BATCH)
			return 1;
	return 0;
}

int64_t shape_per_sample(Shape s)
{
	int64_t n = 1;
	for (int i = 0; i < s.rank; i++)
		if (s.d[i] != DIM_BATCH)
			n *= s.d[i];
	return n;
}

int64_t shape_numel(Shape s, int64_t batch)
{
	return shape_per_sample(s) * (shape_has_batch(s) ? batch : 1);
}

/* NumPy broadcasting, aligned at the trailing dimension.  The batch
 * dimension only matches itself (or a 1). */
int shape_broadcast(Shape a, Shape b, Shape *out)
{
	Shape r = { .rank = a.rank > b.rank ? a.rank : b.rank };
	for (int i = 0; i < r.rank; i++) {
		int ia = a.rank - r.rank + i, ib = b.rank - r.rank + i;
		int64_t da = ia >= 0 ? a.d[ia] : 1, db = ib >= 0 ? b.d[ib] : 1;
		if (da == db || db == 1)
			r.d[i] = da;
		else if (da == 1)
			r.d[i] = db;
		else
			return 0;
	}
	int batches = 0;
	for (int i = 0; i < r.rank; i++)
		batches += r.d[i] == DIM_BATCH;
	if (batches > 1)
		return 0;
	*out = r;
	return 1;
}

const char *shape_str(Shape s)
{
	char buf[MAXRANK * 24 + 4], *p = buf;
	*p++ = '[';
	for (int i = 0; i < s.rank; i++) {
		if (i)
			*p++ = ',';
		if (s.d[i] == DIM_BATCH)
			*p++ = 'B';
		else
			p += sprintf(p, "%lld", (long long)s.d[i]);
	}
	*p++ = ']';
	*p = 0;
	return xstrdup(buf);
}

const char *dtype_name(DType dt)
{
	return dt == DT_F32 ? "f32" : dt == DT_F64 ? "f64" : "i32";
}

int64_t dtype_size(DType dt) { return dt == DT_F64 ? 8 : 4; }

/* ---- module and slots ---------------------------------------------- */

Module *ir_module(void)
{
	Module *m = xalloc(sizeof *m);
	m->precision = DT_F32;
	return m;
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603u;          /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211u;
	return h;
}

/* The index of name's cell, or of the empty cell where it would go. */
static int name_cell(const NameMap *nm, const char *name)
{
	int mask = nm->cap - 1, i = (int)(name_hash(name) & (uint64_t)mask);
	while (nm->key[i] && strcmp(nm->key[i], name) != 0)
		i = (i + 1) & mask;
	return i;
}

int names_get(const NameMap *nm, const char *name)
{
	if (!nm->cap)
		return -1;
	int i = name_cell(nm, name);
	return nm->key[i] ? nm->val[i] : -1;
}

void names_put(NameMap *nm, const char *name, int val)
{
	if (2 * (nm->n + 1) > nm->cap) {
		NameMap grown = { xalloc(sizeof *grown.key * (size_t)(nm->cap ? 2 * nm->cap : 64)),
		                  xalloc(sizeof *grown.val * (size_t)(nm->cap ? 2 * nm->cap : 64)),
		                  nm->cap ? 2 * nm->cap : 64, nm->n };
		for (int i = 0; i < nm->cap; i++)
			if (nm->key[i]) {
				int j = name_cell(&grown, nm->key[i]);
				grown.key[j] = nm->key[i];
				grown.val[j] = nm->val[i];
			}
		*nm = grown;
	}
	int i = name_cell(nm, name);
	if (!nm->key[i]) {
		nm->key[i] = name;
		nm->n++;
	}
	nm->val[i] = val;
}

int ir_find_slot(const Module *m, const char *name)
{
	return names_get(&m->slot_names, name);
}

int ir_slot(Module *m, const char *name, SlotRole role, DType dt, Shape shape, Loc loc)
{
	CHECK(ir_find_slot(m, name) < 0, loc);
	if (m->nslot == m->capslot) {
		int cap = m->capslot ? 2 * m->capslot : 16;
		m->slot = xrealloc(m->slot, sizeof *m->slot * (size_t)m->capslot, sizeof *m->slot * (size_t)cap);
		m->capslot = cap;
	}
	Slot *s = &m->slot[m->nslot];
	*s = (Slot){ .name = xstrdup(name), .role = role, .dt = dt, .shape = shape, .loc = loc, .of = -1, .io = -1 };
	names_put(&m->slot_names, s->name, m->nslot);
	return m->nslot++;
}

/* ---- functions and nodes ------------------------------------------- */

Fn *ir_fn(const char *name)
{
	Fn *fn = xalloc(sizeof *fn);
	fn->name = xstrdup(name);
	fn->backward_from = -1;
	fn->patch_buf = -1;
	return fn;
}

static void append(Fn *fn, Node *n)
{
	if (fn->n == fn->cap) {
		int cap = fn->cap ? 2 * fn->cap : 64;
		fn->node = xrealloc(fn->node, sizeof *fn->node * (size_t)fn->cap, sizeof *fn->node * (size_t)cap);
		fn->cap = cap;
	}
	fn->node[fn->n++] = n;
}

Node *ir_node(Fn *fn, Op op, DType dt, Shape shape, int nin, Node **in, Loc loc)
{
	CHECK(nin >= 0 && nin <= MAXIN, loc);
	CHECK(op_info[op].nin < 0 || op_info[op].nin == nin, loc);
	Node *n = xalloc(sizeof *n);
	n->op = op;
	n->id = fn->next_id++;
	n->dt = dt;
	n->shape = shape;
	n->nin = nin;
	for (int i = 0; i < nin; i++) {
		CHECK(in[i] != NULL, loc);
		n->in[i] = in[i];
	}
	n->loc = loc;
	n->of = -1;
	n->group = -1;
	n->buf = -1;
	n->home = -1;
	n->slot = -1;
	append(fn, n);
	return n;
}

Node *ir_const(Fn *fn, DType dt, double v, Loc loc)
{
	Node *n = ir_node(fn, OP_const, dt, (Shape){ 0 }, 0, NULL, loc);
	n->f = v;
	return n;
}

Node *ir_iota(Fn *fn, DType dt, Shape s, Loc loc)
{
	return settle(ir_node(fn, OP_iota, dt, s, 0, NULL, loc));
}

Node *ir_batch(Fn *fn, DType dt, Loc loc)
{
	return ir_node(fn, OP_batch, dt, (Shape){ 0 }, 0, NULL, loc);
}

Node *ir_elem(Fn *fn, Op op, int nin, Node **in, Loc loc)
{
	CHECK(op_info[op].kind == K_ELEM && op_info[op].nin == nin, loc);
	return settle(ir_node(fn, op, in[0]->dt, in[0]->shape, nin, in, loc));
}

Node *ir_unary(Fn *fn, Op op, Node *a, Loc loc)
{
	return ir_elem(fn, op, 1, &a, loc);
}

Node *ir_binary(Fn *fn, Op op, Node *a, Node *b, Loc loc)
{
	Node *in[2] = { a, b };
	return ir_elem(fn, op, 2, in, loc);
}

Node *ir_broadcast(Fn *fn, Node *a, Shape to, Loc loc)
{
	if (shape_equal(a->shape, to))
		return a;
	return settle(ir_node(fn, OP_broadcast, a->dt, to, 1, &a, loc));
}

Node *ir_reduce(Fn *fn, Op op, Node *a, uint32_t axes, Loc loc)
{
	CHECK(op_info[op].kind == K_REDUCE, loc);
	Node *n = ir_node(fn, op, a->dt, a->shape, 1, &a, loc);
	n->axes = axes;
	return settle(n);
}

/* The rule of an operand of rank > 2 as a matrix is matmul_rule's (shape.c). */
static Node *product(Fn *fn, Op op, Node *a, Node *b, int ta, int tb, Loc loc)
{
	Node *in[2] = { a, b };
	Node *r = ir_node(fn, op, a->dt, a->shape, 2, in, loc);
	r->ta = ta;
	r->tb = tb;
	return settle(r);
}

Node *ir_matmul(Fn *fn, Node *a, Node *b, int ta, int tb, Loc loc)
{
	return product(fn, OP_matmul, a, b, ta, tb, loc);
}

Node *ir_bmm(Fn *fn, Node *a, Node *b, int ta, int tb, Loc loc)
{
	return product(fn, OP_bmm, a, b, ta, tb, loc);
}

int64_t dims_product(Shape s, int from, int to, int *batch)
{
	int64_t p = 1;
	for (int i = from; i < to; i++)
		if (s.d[i] == DIM_BATCH)
			++*batch;
		else
			p *= s.d[i];
	return p;
}

GemmDims matmul_dims(const Node *mm)
{
	Shape sa = mm->in[0]->shape, sb = mm->in[1]->shape;
	GemmDims g = { 0 };
	int last = sa.rank - 1;
	g.m = mm->ta ? dims_product(sa, last, sa.rank, &g.mb) : dims_product(sa, 0, last, &g.mb);
	g.k = mm->ta ? dims_product(sa, 0, last, &g.kb) : dims_product(sa, last, sa.rank, &g.kb);
	g.n = mm->tb ? dims_product(sb, 0, 1, &g.nb) : dims_product(sb, sb.rank - 1, sb.rank, &g.nb);
	return g;
}

GemmDims bmm_dims(const Node *mm, int64_t *count, int *count_b)
{
	Shape sa = mm->in[0]->shape, sb = mm->in[1]->shape;
	int r = sa.rank;
	*count_b = 0;
	*count = dims_product(sa, 0, r - 2, count_b);
	return (GemmDims){ .m = sa.d[mm->ta ? r - 1 : r - 2], .k = sa.d[mm->ta ? r - 2 : r - 1],
	                   .n = sb.d[mm->tb ? r - 2 : r - 1] };
}

int slice_axis(const Node *n)
{
	return __builtin_ctz(n->axes);
}

Node *ir_boxsum(Fn *fn, Node *a, int64_t width, Loc loc)
{
	Node *n = ir_node(fn, OP_boxsum, a->dt, a->shape, 1, &a, loc);
	n->k = width;
	return settle(n);
}

/* g NULL: nt_xent(a, b) [B]; else nt_xent_grad(g, a, b) [B, D], its
 * adjoint with respect to a. */
Node *ir_nt_xent(Fn *fn, Node *g, Node *a, Node *b, double tau, Loc loc)
{
	Node *in[3] = { g, a, b };
	Node *n = g ? ir_node(fn, OP_nt_xent_grad, a->dt, a->shape, 3, in, loc)
	            : ir_node(fn, OP_nt_xent, a->dt, (Shape){ .rank = 1, .d = { DIM_BATCH } }, 2, in + 1, loc);
	n->f = tau;
	return settle(n);
}

Node *ir_softmax(Fn *fn, Node *a, Loc loc)
{
	return settle(ir_node(fn, OP_softmax, a->dt, a->shape, 1, &a, loc));
}

Node *ir_gather(Fn *fn, Node *table, Node *ids, Loc loc)
{
	Node *in[2] = { table, ids };
	return settle(ir_node(fn, OP_gather, table->dt, ids->shape, 2, in, loc));
}

Node *ir_scatter_add(Fn *fn, Node *rows, Node *ids, Shape table, Loc loc)
{
	Node *in[2] = { rows, ids };
	return settle(ir_node(fn, OP_scatter_add, rows->dt, table, 2, in, loc));
}

Node *ir_slice(Fn *fn, Node *a, int axis, int64_t start, int64_t len, Loc loc)
{
	Shape s = a->shape;
	CHECK(axis >= 0 && axis < s.rank, loc);
	s.d[axis] = len;
	Node *n = ir_node(fn, OP_slice, a->dt, s, 1, &a, loc);
	n->axes = 1u << axis;
	n->k = start;
	return settle(n);
}

Node *ir_unslice(Fn *fn, Node *part, Shape whole, int axis, int64_t start, Loc loc)
{
	Node *n = ir_node(fn, OP_unslice, part->dt, whole, 1, &part, loc);
	n->axes = 1u << axis;
	n->k = start;
	return settle(n);
}

int64_t window_extent(int64_t in, int k, int stride, int pad, int dilation)
{
	int64_t span = (int64_t)dilation * (k - 1) + 1;
	return in + 2 * (int64_t)pad < span ? 0 : (in + 2 * (int64_t)pad - span) / stride + 1;
}

Node *ir_window(Fn *fn, Node *image, nnrt_window win, double pad, Loc loc)
{
	Node *n = ir_node(fn, OP_window, image->dt, image->shape, 1, &image, loc);
	n->win = win;
	n->f = pad;
	return settle(n);
}

Node *ir_unwindow(Fn *fn, Node *patches, Shape image, nnrt_window win, Loc loc)
{
	Node *n = ir_node(fn, OP_unwindow, patches->dt, image, 1, &patches, loc);
	n->win = win;
	return settle(n);
}

Node *ir_conv(Fn *fn, Op op, Node *a, Node *b, Shape out, nnrt_window win, Loc loc)
{
	Node *in[2] = { a, b };
	Node *n = ir_node(fn, op, a->dt, out, 2, in, loc);
	n->win = win;
	return settle(n);
}

ConvShapes conv_shapes(const Node *n)
{
	if (n->op == OP_conv)
		return (ConvShapes){ n->in[0]->shape, n->shape, n->in[1]->shape };
	if (n->op == OP_conv_dw)
		return (ConvShapes){ n->in[0]->shape, n->in[1]->shape, n->shape };
	return (ConvShapes){ n->shape, n->in[0]->shape, n->in[1]->shape };   /* conv_dx */
}

/* Here, not in plan.c which places the block, so that the listing reader
 * (which sizes a planned listing's block as plan.c does) links without
 * the passes: the trainer's trace carries the reader. */
int64_t patch_block_bytes(const Fn *fn)
{
	int64_t size = 0;
	for (int i = 0; i < fn->n; i++) {
		const Node *n = fn->node[i];
		if (op_info[n->op].kind != K_CONV)
			continue;
		int64_t bytes = nnrt_conv_block_bytes(conv_shapes(n).weights.d[0], dtype_size(n->dt));
		size = bytes > size ? bytes : size;
	}
	return size;
}

Node *ir_reshape(Fn *fn, Node *a, Shape to, Loc loc)
{
	return settle(ir_node(fn, OP_reshape, a->dt, to, 1, &a, loc));
}

Node *ir_transpose(Fn *fn, Node *a, const int *perm, Loc loc)
{
	Node *n = ir_node(fn, OP_transpose, a->dt, a->shape, 1, &a, loc);
	memcpy(n->perm, perm, sizeof(int) * (size_t)a->shape.rank);
	return settle(n);
}

Node *ir_onehot(Fn *fn, Node *labels, int64_t k, DType dt, Loc loc)
{
	Node *n = ir_node(fn, OP_onehot, dt, labels->shape, 1, &labels, loc);
	n->k = k;
	return settle(n);
}

int ir_hyper_slot(Module *m, const char *name, int io)
{
	int s = ir_find_slot(m, name);
	if (s >= 0 && m->slot[s].role == SLOT_HYPER)
		return s;
	s = ir_slot(m, name, SLOT_HYPER, m->precision, (Shape){ 0 }, (Loc){ 0 });
	m->slot[s].io = io;
	return s;
}

int slot_is_state(SlotRole r)
{
	return r == SLOT_PARAM || r == SLOT_GRAD || r == SLOT_OPTSTATE || r == SLOT_BUFFER;
}

Node *ir_uniform(Fn *fn, Node *step, DType dt, Shape s, int64_t stream, Loc loc)
{
	Node *n = ir_node(fn, OP_uniform, dt, s, 1, &step, loc);
	n->k = stream;
	return settle(n);
}

Node *ir_param(Fn *fn, const Module *m, int slot, Loc loc)
{
	CHECK(slot >= 0 && slot < m->nslot, loc);
	const Slot *s = &m->slot[slot];
	CHECK(slot_is_state(s->role), loc);
	Node *n = ir_node(fn, OP_param, s->dt, s->shape, 0, NULL, loc);
	n->slot = slot;
	return n;
}

Node *ir_input(Fn *fn, const Module *m, int slot, Loc loc)
{
	CHECK(slot >= 0 && slot < m->nslot, loc);
	const Slot *s = &m->slot[slot];
	CHECK(s->role == SLOT_INPUT || s->role == SLOT_TARGET || s->role == SLOT_HYPER, loc);
	Node *n = ir_node(fn, OP_input, s->dt, s->shape, 0, NULL, loc);
	n->slot = slot;
	return n;
}

Node *ir_store(Fn *fn, int slot, Node *value, Loc loc)
{
	Node *n = ir_node(fn, OP_store, value->dt, value->shape, 1, &value, loc);
	n->slot = slot;
	return n;
}

/* A deep copy that keeps ids, so listings of eval and grad name the same
 * forward values alike. */
Fn *ir_clone(const Fn *fn, const char *name)
{
	Fn *c = ir_fn(name);
	c->next_id = fn->next_id;
	c->backward_from = fn->backward_from;
	Node **map = xalloc(sizeof *map * (size_t)(fn->next_id + 1));
	for (int i = 0; i < fn->n; i++) {
		const Node *o = fn->node[i];
		Node *n = xalloc(sizeof *n);
		*n = *o;
		if (o->body)   /* each function compiles a body of its own */
			n->body = ir_clone(o->body, o->body->name);
		for (int k = 0; k < o->nin; k++) {
			CHECK(o->in[k]->id < fn->next_id && map[o->in[k]->id], o->loc);
			n->in[k] = map[o->in[k]->id];
		}
		map[o->id] = n;
		append(c, n);
	}
	return c;
}

/* A comment heads the lines after it: when its line goes, the next line
 * that stays takes it. */
void ir_remove_dead(Fn *fn)
{
	int j = 0, back = -1;
	const char *comment = NULL;
	for (int i = 0; i < fn->n; i++) {
		Node *n = fn->node[i];
		if (i == fn->backward_from)
			back = j;
		if (n->comment)
			comment = comment ? xprintf("%s\n%s", comment, n->comment) : n->comment;
		n->comment = NULL;
		if (n->mark != -1) {
			n->comment = comment;
			comment = NULL;
			fn->node[j++] = n;
		}
	}
	if (fn->backward_from >= 0)
		fn->backward_from = back >= 0 ? back : j;
	fn->n = j;
}
