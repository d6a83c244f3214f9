/* shape.c — the one shape and dtype rule of every op, by its kind
 * (ops.def).  The builders of ir.c take their result's shape from it and
 * the verifier compares each node's shape with it, so the two cannot
 * disagree.  Ops whose result shape is an attribute of their own
 * (broadcast, reshape, slice's length, unslice, unwindow, conv, uniform,
 * leaves, store) have it checked against their operands instead. */
#include <string.h>
#include "ir.h"

static const char *slot_rule(const Module *m, const Node *n, Shape *out)
{
	*out = n->shape;
	if (!m)
		return NULL;   /* a builder without the module: the verifier checks slots */
	if (n->slot < 0 || n->slot >= m->nslot)
		return xprintf("slot %d out of range", n->slot);
	const Slot *s = &m->slot[n->slot];
	int io = s->role == SLOT_INPUT || s->role == SLOT_TARGET || s->role == SLOT_HYPER;
	if (n->op == OP_param && !slot_is_state(s->role))
		return xprintf("param reads '%s', which is not a state slot", s->name);
	if (n->op == OP_input && !io)
		return xprintf("input reads '%s', which is not an input", s->name);
	if (n->op == OP_store && io)
		return xprintf("store into read-only slot '%s'", s->name);
	if (!shape_equal(n->shape, s->shape) || n->dt != s->dt)
		return xprintf("%s%s does not match slot '%s' %s%s", dtype_name(n->dt), shape_str(n->shape),
		               s->name, dtype_name(s->dt), shape_str(s->shape));
	if (n->op == OP_store && !shape_equal(n->in[0]->shape, n->shape))
		return "a store's value has another shape than its slot";
	return NULL;
}

static const char *reduce_rule(const Node *n, Shape in, Shape *out)
{
	if ((n->axes >> in.rank) != 0)
		return "axes outside the operand's rank";
	*out = in;
	for (int i = 0; i < in.rank; i++)
		if (n->axes >> i & 1)
			out->d[i] = 1;
	return NULL;
}

/* The dims of s from..to-1 as a shape (a run of rows or of columns). */
static Shape dims_range(Shape s, int from, int to)
{
	Shape r = { 0 };
	for (int i = from; i < to; i++)
		r.d[r.rank++] = s.d[i];
	return r;
}

/* An operand of rank r is a matrix: rows are its dims 0..r-2 flattened,
 * columns its last dim; transposed, the other way round.  The contracted
 * dims of a and b must be the same list, so a [B,P,K]^T [B,P,N] sums over
 * the batch and the positions P (a convolution's weight gradient). */
static const char *matmul_rule(const Node *n, Shape *out)
{
	Shape sa = n->in[0]->shape, sb = n->in[1]->shape;
	int ok = sa.rank >= 2 && sb.rank >= 2 && (!n->tb || sb.rank == 2);
	if (ok) {
		Shape rows = n->ta ? dims_range(sa, sa.rank - 1, sa.rank) : dims_range(sa, 0, sa.rank - 1);
		Shape ka = n->ta ? dims_range(sa, 0, sa.rank - 1) : dims_range(sa, sa.rank - 1, sa.rank);
		Shape kb = n->tb ? dims_range(sb, 1, 2) : dims_range(sb, 0, sb.rank - 1);
		int64_t cols = n->tb ? sb.d[0] : sb.d[sb.rank - 1];
		ok = shape_equal(ka, kb) && rows.rank < MAXRANK && !(cols == DIM_BATCH && shape_has_batch(rows));
		rows.d[rows.rank++] = cols;
		*out = rows;
	}
	return ok ? NULL : xprintf("matmul%s%s of %s and %s: the contracted dims differ", n->ta ? ".t" : "",
	                           n->tb ? ".t" : "", shape_str(sa), shape_str(sb));
}

/* bmm: equal ranks >= 3, equal leading dims, and B (if anywhere) among
 * them: the last two axes of each operand are its matrix. */
static const char *bmm_rule(const Node *n, Shape *out)
{
	Shape sa = n->in[0]->shape, sb = n->in[1]->shape;
	int r = sa.rank, ok = r >= 3 && sb.rank == r;
	for (int i = 0; ok && i < r - 2; i++)
		ok = sa.d[i] == sb.d[i];
	for (int i = r - 2; ok && i < r; i++)
		ok = sa.d[i] != DIM_BATCH && sb.d[i] != DIM_BATCH;
	if (!ok)
		return xprintf("bmm of %s and %s: equal ranks >= 3, equal leading dims, B not in a matrix",
		               shape_str(sa), shape_str(sb));
	int64_t m = sa.d[n->ta ? r - 1 : r - 2], ka = sa.d[n->ta ? r - 2 : r - 1];
	int64_t kb = sb.d[n->tb ? r - 1 : r - 2], nn = sb.d[n->tb ? r - 2 : r - 1];
	if (ka != kb)
		return xprintf("bmm%s%s of %s and %s: the contracted dims differ", n->ta ? ".t" : "",
		               n->tb ? ".t" : "", shape_str(sa), shape_str(sb));
	*out = sa;
	out->d[r - 2] = m;
	out->d[r - 1] = nn;
	return NULL;
}

static const char *layout_rule(const Node *n, Shape in, Shape *out)
{
	*out = n->shape;
	if (n->op == OP_reshape)
		return shape_per_sample(in) == shape_per_sample(n->shape) && shape_has_batch(in) == shape_has_batch(n->shape)
		       ? NULL : xprintf("reshape %s -> %s changes the element count", shape_str(in), shape_str(n->shape));
	unsigned seen = 0;
	out->rank = in.rank;
	for (int i = 0; i < in.rank; i++) {
		int p = n->perm[i];
		if (p < 0 || p >= in.rank || (seen >> p & 1))
			return "transpose: bad permutation";
		seen |= 1u << p;
		out->d[i] = in.d[p];
	}
	return NULL;
}

static const char *geometry_rule(const Node *n)
{
	const nnrt_window *w = &n->win;
	if (w->kh < 1 || w->kw < 1 || w->sh < 1 || w->sw < 1 || w->dh < 1 || w->dw < 1 || w->ph < 0 || w->pw < 0)
		return xprintf("%s: kernel, stride and dilation must be >= 1, padding >= 0", op_info[n->op].name);
	return NULL;
}

/* window: patches [B,OH,OW,KH,KW,C] of the image; unwindow: the image
 * (its attribute shape) the patches fit. */
static const char *window_rule(const Node *n, Shape *out)
{
	const nnrt_window *w = &n->win;
	const char *e = geometry_rule(n);
	Shape img = n->op == OP_window ? n->in[0]->shape : n->shape;
	if (e || img.rank != 4)
		return e ? e : xprintf("%s: the image %s is not [B,H,W,C]", op_info[n->op].name, shape_str(img));
	Shape pat = shape_of(6, img.d[0], window_extent(img.d[1], w->kh, w->sh, w->ph, w->dh),
	                     window_extent(img.d[2], w->kw, w->sw, w->pw, w->dw), (int64_t)w->kh, (int64_t)w->kw, img.d[3]);
	if (pat.d[1] < 1 || pat.d[2] < 1)
		return xprintf("%s: the window does not fit image %s", op_info[n->op].name, shape_str(img));
	*out = n->op == OP_window ? pat : img;
	if (n->op == OP_unwindow && !shape_equal(n->in[0]->shape, pat))
		return xprintf("unwindow: patches %s do not fit image %s", shape_str(n->in[0]->shape), shape_str(img));
	return NULL;
}

/* conv*: the image, the output grid and the weights fit the geometry. */
static const char *conv_rule(const Node *n, Shape *out)
{
	const nnrt_window *w = &n->win;
	const char *e = geometry_rule(n);
	if (e)
		return e;
	ConvShapes s = conv_shapes(n);
	Shape img = s.image, g = s.grid, k = s.weights;
	*out = n->shape;
	if (img.rank != 4 || g.rank != 4 || k.rank != 2 || g.d[0] != img.d[0] ||
	    g.d[1] != window_extent(img.d[1], w->kh, w->sh, w->ph, w->dh) ||
	    g.d[2] != window_extent(img.d[2], w->kw, w->sw, w->pw, w->dw) ||
	    k.d[0] != (int64_t)w->kh * w->kw * img.d[3] || k.d[1] != g.d[3])
		return xprintf("%s: image %s, output %s and weights %s do not fit", op_info[n->op].name,
		               shape_str(img), shape_str(g), shape_str(k));
	return NULL;
}

static const char *slice_rule(const Node *n, Shape in, Shape *out)
{
	Shape part = n->op == OP_slice ? n->shape : in, whole = n->op == OP_slice ? in : n->shape;
	int ax = n->axes ? slice_axis(n) : -1, ok = ax >= 0 && n->axes == 1u << ax && part.rank == whole.rank
	         && ax < whole.rank && whole.d[ax] != DIM_BATCH && n->k >= 0 && n->k + part.d[ax] <= whole.d[ax];
	for (int i = 0; ok && i < whole.rank; i++)
		ok = i == ax || part.d[i] == whole.d[i];
	*out = n->shape;
	return ok ? NULL : xprintf("%s: part %s at %lld does not fit %s", op_info[n->op].name, shape_str(part),
	                           (long long)n->k, shape_str(whole));
}

/* gather: out = ids' shape + [D]; scatter_add: out (its own shape) is the
 * table [V,D] and the rows are ids' shape + [D]. */
static const char *gather_rule(const Node *n, Shape *out)
{
	Shape table = n->op == OP_gather ? n->in[0]->shape : n->shape, ids = n->in[1]->shape;
	Shape rows = ids;
	if (n->in[1]->dt != DT_I32 || n->dt == DT_I32 || ids.rank >= MAXRANK)
		return xprintf("%s: i32 ids and a float table", op_info[n->op].name);
	if (table.rank != 2 || table.d[0] == DIM_BATCH || table.d[1] == DIM_BATCH)
		return xprintf("%s: the table %s is not [V,D] without B", op_info[n->op].name, shape_str(table));
	rows.d[rows.rank++] = table.d[1];
	if (n->op == OP_scatter_add && !shape_equal(n->in[0]->shape, rows))
		return xprintf("scatter_add: rows %s are not ids' shape + [D], %s", shape_str(n->in[0]->shape),
		               shape_str(rows));
	*out = n->op == OP_gather ? rows : table;
	return NULL;
}

/* nt_xent: two codes [B, D] -> [B]; nt_xent_grad: g [B] and the codes ->
 * [B, D].  tau > 0. */
static const char *contrast_rule(const Node *n, Shape *out)
{
	int g = n->op == OP_nt_xent_grad;
	Shape a = n->in[g]->shape, b = n->in[g + 1]->shape;
	if (n->dt == DT_I32 || a.rank != 2 || a.d[0] != DIM_BATCH || a.d[1] == DIM_BATCH || !shape_equal(a, b)
	    || !(n->f > 0))
		return xprintf("%s: two float codes [B, D] of one shape, tau > 0; not %s, %s", op_info[n->op].name,
		               shape_str(a), shape_str(b));
	if (g && (n->in[0]->shape.rank != 1 || n->in[0]->shape.d[0] != DIM_BATCH))
		return xprintf("nt_xent_grad: the gradient %s is not [B]", shape_str(n->in[0]->shape));
	*out = g ? a : (Shape){ .rank = 1, .d = { DIM_BATCH } };
	return NULL;
}

static const char *dtype_rule(const Node *n)
{
	if (op_info[n->op].kind == K_GATHER)
		return n->in[0]->dt == n->dt ? NULL : "the table (rows) and the result differ in dtype";
	if (op_info[n->op].kind == K_SCAN || op_info[n->op].kind == K_YIELD)
		return NULL;   /* token sequences drive float carries: scan_rule checks each */
	for (int i = 0; i < n->nin; i++)
		if (n->op != OP_uniform && (n->in[i]->dt != n->in[0]->dt || (n->op != OP_onehot && n->in[i]->dt != n->dt)))
			return "operand dtypes differ";
	return NULL;
}

const char *op_shape(const Module *m, const Node *n, Shape *out)
{
	Shape in = n->nin ? n->in[0]->shape : (Shape){ 0 }, r;
	const char *e = dtype_rule(n);
	if (e)
		return e;
	*out = n->shape;
	switch (op_info[n->op].kind) {
	case K_LEAF:
		if (n->op == OP_param || n->op == OP_input)
			return slot_rule(m, n, out);
		if (n->op == OP_arg)
			return n->k >= 0 && n->k < MAXIN ? NULL : "arg: index out of range";
		if (n->op == OP_iota)
			return n->shape.rank >= 1 && n->shape.d[n->shape.rank - 1] != DIM_BATCH && n->dt != DT_I32
			       ? NULL : "iota: float values along a last axis that is not B";
		*out = (Shape){ 0 };
		return NULL;
	case K_STORE: return slot_rule(m, n, out);
	case K_ELEM:
		for (int i = 1; i < n->nin; i++)
			if (!shape_equal(n->in[i]->shape, in))
				return xprintf("operand %d's shape differs from operand 0's: %s, %s", i,
				               shape_str(n->in[i]->shape), shape_str(in));
		*out = in;
		return NULL;
	case K_BCAST:
		return shape_broadcast(in, n->shape, &r) && shape_equal(r, n->shape)
		       ? NULL : xprintf("%s does not broadcast to %s", shape_str(in), shape_str(n->shape));
	case K_REDUCE: return reduce_rule(n, in, out);
	case K_MATMUL: return matmul_rule(n, out);
	case K_BMM: return bmm_rule(n, out);
	case K_LAYOUT: return layout_rule(n, in, out);
	case K_INDEX:
		if (n->in[0]->dt != DT_I32 || n->k < 1 || in.rank >= MAXRANK || n->dt == DT_I32)
			return "onehot needs i32 labels, k >= 1 and a float result";
		*out = in;
		out->d[out->rank++] = n->k;
		return NULL;
	case K_WINDOW: return window_rule(n, out);
	case K_CONV: return conv_rule(n, out);
	case K_BOXSUM:
		*out = in;
		return n->dt != DT_I32 && in.rank >= 1 && in.d[in.rank - 1] != DIM_BATCH && n->k >= 1 && n->k % 2 == 1
		       ? NULL : "boxsum: a float operand of rank >= 1 whose last dim is not B, an odd width";
	case K_SOFTMAX:
		*out = in;
		return n->dt != DT_I32 && in.rank >= 1 && in.d[in.rank - 1] != DIM_BATCH
		       ? NULL : "softmax: a float operand of rank >= 1 whose last dim is not B";
	case K_SLICE: return slice_rule(n, in, out);
	case K_RANDOM:
		return n->dt != DT_I32 && in.rank == 0 ? NULL : "uniform: float values, a scalar step operand";
	case K_GATHER: return gather_rule(n, out);
	case K_SCAN: return scan_rule(n, out);
	case K_YIELD: return NULL;   /* its shape is its output's; scan_rule checks it against the args */
	case K_CONTRAST: return contrast_rule(n, out);
	}
	return "unknown op kind";
}
