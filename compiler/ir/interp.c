/* interp.c — reference semantics of every op of ops.def, in double; the
 * elementwise ops' come from the table itself (op_scalar).
 * Tensors are row-major; the batch dimension B takes the value `batch`. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "interp.h"
#include "nnrt_contrast.h"

typedef struct Dims { int rank; int64_t d[MAXRANK]; int64_t n; } Dims;

static Dims dims_of(Shape s, int64_t batch)
{
	Dims r = { .rank = s.rank, .n = 1 };
	for (int i = 0; i < s.rank; i++) {
		r.d[i] = s.d[i] == DIM_BATCH ? batch : s.d[i];
		r.n *= r.d[i];
	}
	return r;
}

static void unravel(int64_t idx, const Dims *d, int64_t *coord)
{
	for (int i = d->rank - 1; i >= 0; i--) {
		coord[i] = idx % d->d[i];
		idx /= d->d[i];
	}
}

static int64_t ravel(const int64_t *coord, const Dims *d)
{
	int64_t idx = 0;
	for (int i = 0; i < d->rank; i++)
		idx = idx * d->d[i] + coord[i];
	return idx;
}

static double *alloc_values(int64_t n)
{
	double *v = calloc((size_t)(n ? n : 1), sizeof *v);
	if (!v)
		fatal(EXIT_NOMEM, "interp: out of memory");
	return v;
}

double **interp_slots(const Module *m, int64_t batch)
{
	double **slot = calloc((size_t)(m->nslot ? m->nslot : 1), sizeof *slot);
	if (!slot)
		fatal(EXIT_NOMEM, "interp: out of memory");
	for (int i = 0; i < m->nslot; i++)
		slot[i] = alloc_values(shape_numel(m->slot[i].shape, batch));
	return slot;
}

void interp_free_slots(const Module *m, double **slot)
{
	for (int i = 0; i < m->nslot; i++)
		free(slot[i]);
	free(slot);
}

/* out[o] = x[the index of o in x's shape, NumPy-aligned on the right,
 * size-1 dims of x repeated]. */
static void run_broadcast(const Dims *in, const double *x, const Dims *out, double *y)
{
	int64_t c[MAXRANK], ci[MAXRANK];
	int lead = out->rank - in->rank;
	for (int64_t o = 0; o < out->n; o++) {
		unravel(o, out, c);
		for (int i = 0; i < in->rank; i++)
			ci[i] = in->d[i] == 1 ? 0 : c[i + lead];
		y[o] = x[ravel(ci, in)];
	}
}

static void run_reduce(const Node *n, const Dims *in, const double *x, const Dims *out, double *y)
{
	int64_t c[MAXRANK];
	for (int64_t o = 0; o < out->n; o++)
		y[o] = n->op == OP_amax ? -INFINITY : 0;
	for (int64_t i = 0; i < in->n; i++) {
		unravel(i, in, c);
		for (int k = 0; k < in->rank; k++)
			if (n->axes >> k & 1)
				c[k] = 0;
		int64_t o = ravel(c, out);
		if (n->op == OP_sum)
			y[o] += x[i];
		else if (x[i] > y[o])
			y[o] = x[i];
	}
}

/* Operands as matrices: rows = leading dims flattened, columns = last. */
static void run_matmul(const Node *n, const Dims *da, const double *a, const Dims *db,
                       const double *b, const Dims *out, double *y)
{
	int64_t ca = da->d[da->rank - 1], cb = db->d[db->rank - 1];
	int64_t N = out->d[out->rank - 1], M = out->n / N, K = n->ta ? da->n / ca : ca;
	for (int64_t i = 0; i < M; i++)
		for (int64_t j = 0; j < N; j++) {
			double s = 0;
			for (int64_t k = 0; k < K; k++) {
				double av = n->ta ? a[k * ca + i] : a[i * ca + k];
				double bv = n->tb ? b[j * cb + k] : b[k * cb + j];
				s += av * bv;
			}
			y[i * N + j] = s;
		}
}

/* bmm: one product of the last two axes per leading index. */
static void run_bmm(const Node *n, const Dims *da, const double *a, const Dims *db,
                    const double *b, const Dims *out, double *y)
{
	int r = out->rank;
	int64_t M = out->d[r - 2], N = out->d[r - 1], K = da->d[r - (n->ta ? 2 : 1)];
	int64_t ra = da->d[r - 2], ca = da->d[r - 1], rb = db->d[r - 2], cb = db->d[r - 1];
	for (int64_t p = 0; p < out->n / (M * N); p++) {
		const double *ap = a + p * ra * ca, *bp = b + p * rb * cb;
		double *yp = y + p * M * N;
		for (int64_t i = 0; i < M; i++)
			for (int64_t j = 0; j < N; j++) {
				double s = 0;
				for (int64_t k = 0; k < K; k++)
					s += (n->ta ? ap[k * ca + i] : ap[i * ca + k]) * (n->tb ? bp[j * cb + k] : bp[k * cb + j]);
				yp[i * N + j] = s;
			}
	}
}

/* window: patch[b,oh,ow,kh,kw,c] = image[b, oh*s - p + kh*d, ow*s - p + kw*d, c],
 * or the fill value outside the image; unwindow adds each patch entry
 * back at that place (entries outside the image are dropped). */
static void run_window(const Node *n, const Dims *img, const Dims *pat, const double *x, double *y)
{
	const nnrt_window *w = &n->win;
	int64_t c[MAXRANK];
	if (n->op == OP_unwindow)
		memset(y, 0, sizeof(double) * (size_t)img->n);
	for (int64_t o = 0; o < pat->n; o++) {
		unravel(o, pat, c);
		int64_t h = c[1] * w->sh - w->ph + c[3] * w->dh;
		int64_t v = c[2] * w->sw - w->pw + c[4] * w->dw;
		int inside = h >= 0 && h < img->d[1] && v >= 0 && v < img->d[2];
		int64_t at = ((c[0] * img->d[1] + h) * img->d[2] + v) * img->d[3] + c[5];
		if (n->op == OP_window)
			y[o] = inside ? x[at] : n->f;
		else if (inside)
			y[at] += x[o];
	}
}

/* conv, conv_dw, conv_dx: the sums of window and matmul written out, term
 * by term: out[b,oh,ow,o] = sum over (kh,kw,c) of image * weights, and its
 * two adjoints; taps outside the image are zero. */
static void run_conv(const Node *n, const double *const *v, int64_t batch, double *y)
{
	ConvShapes s = conv_shapes(n);
	Dims img = dims_of(s.image, batch), grid = dims_of(s.grid, batch);
	const nnrt_window *w = &n->win;
	int64_t nk = s.weights.d[0], no = s.weights.d[1], c = img.d[3];
	/* y is zeroed: every op adds its terms */
	const double *a = v[0], *b = v[1];
	for (int64_t cell = 0; cell < grid.n / no; cell++) {
		int64_t p = cell % grid.d[2], q = cell / grid.d[2] % grid.d[1], bi = cell / grid.d[2] / grid.d[1];
		for (int64_t k = 0; k < nk; k++) {
			int64_t kh = k / c / w->kw, kw = k / c % w->kw, ch = k % c;
			int64_t r = q * w->sh - w->ph + kh * w->dh;
			int64_t col = p * w->sw - w->pw + kw * w->dw;
			if (r < 0 || r >= img.d[1] || col < 0 || col >= img.d[2])
				continue;
			int64_t at = ((bi * img.d[1] + r) * img.d[2] + col) * c + ch;
			for (int64_t o = 0; o < no; o++) {
				if (n->op == OP_conv)
					y[cell * no + o] += a[at] * b[k * no + o];
				else if (n->op == OP_conv_dw)
					y[k * no + o] += a[at] * b[cell * no + o];
				else
					y[at] += a[cell * no + o] * b[k * no + o];
			}
		}
	}
}

/* boxsum: y[.., c] = sum of x[.., c + d] for |d| <= k/2 inside the axis */
static void run_boxsum(const Node *n, const Dims *d, const double *x, double *y)
{
	int64_t len = d->d[d->rank - 1], half = n->k / 2;
	for (int64_t i = 0; i < d->n; i++) {
		int64_t c = i % len;
		for (int64_t e = c - half; e <= c + half; e++)
			if (e >= 0 && e < len)
				y[i] += x[i - c + e];
	}
}

/* softmax along the last axis: exp(x - max) / sum per row; a row of
 * -inf only is zeros, a row holding NaN or +inf is NaN. */
static void run_softmax(const Dims *d, const double *x, double *y)
{
	int64_t len = d->d[d->rank - 1];
	for (int64_t r = 0; r < d->n; r += len) {
		double m = -INFINITY, s = 0;
		int nan = 0;
		for (int64_t c = 0; c < len; c++) {
			m = x[r + c] > m ? x[r + c] : m;
			nan |= isnan(x[r + c]);
		}
		for (int64_t c = 0; c < len; c++)
			s += y[r + c] = exp(x[r + c] - m);
		for (int64_t c = 0; c < len; c++)
			y[r + c] = nan || m == INFINITY ? NAN : m == -INFINITY ? 0 : y[r + c] / s;
	}
}

/* gather: y[i,:] = table[ids[i],:]; scatter_add: y = 0, then y[ids[i],:]
 * += rows[i,:] in the order of i. */
static void run_gather(const Node *n, const double *const *x, const Dims *ids, const Dims *table, double *y)
{
	int64_t dim = table->d[1];
	for (int64_t i = 0; i < ids->n; i++) {
		double id = x[1][i];
		if (!(id >= 0 && id < (double)table->d[0]))
			fatal(EXIT_INTERNAL, "interp: %s: id %g outside [0, %lld)", op_info[n->op].name, id,
			      (long long)table->d[0]);
		for (int64_t d = 0; d < dim; d++) {
			if (n->op == OP_gather)
				y[i * dim + d] = x[0][(int64_t)id * dim + d];
			else
				y[(int64_t)id * dim + d] += x[0][i * dim + d];
		}
	}
}

static void run_transpose(const Node *n, const Dims *in, const double *x, const Dims *out, double *y)
{
	int64_t c[MAXRANK], ci[MAXRANK];
	for (int64_t o = 0; o < out->n; o++) {
		unravel(o, out, c);
		for (int i = 0; i < out->rank; i++)
			ci[n->perm[i]] = c[i];
		y[o] = x[ravel(ci, in)];
	}
}

static void run_onehot(const Node *n, const double *x, const Dims *out, double *y)
{
	for (int64_t o = 0; o < out->n; o++)
		y[o] = x[o / n->k] == (double)(o % n->k);
}

static double *run_node(const Module *m, const Node *n, double **val, double **slot, int64_t batch);

static InterpUniform *uniform;

void interp_set_uniform(InterpUniform *draw) { uniform = draw; }

/* Copy step t of a [B,T,inner] tensor to or from a [B,inner] one. */
static void step_copy(double *seq, double *step, int64_t b, int64_t T, int64_t t, int64_t inner, int into_seq)
{
	for (int64_t i = 0; i < b; i++) {
		double *s = seq + (i * T + t) * inner, *d = step + i * inner;
		memcpy(into_seq ? s : d, into_seq ? d : s, sizeof(double) * (size_t)inner);
	}
}

/* A scan: the body once per step, its args set from the carry and from
 * step t of each sequence, its outputs stacked along axis 1. */
static void run_scan(const Module *m, const Node *n, double **x, double **slot, int64_t batch, double *y)
{
	const Fn *body = n->body;
	const Node *yl = scan_yield(body);
	int64_t T = n->k, ncarry = shape_numel(n->in[0]->shape, batch);
	int64_t nout = shape_numel(yl->in[1]->shape, batch), b = batch;   /* every operand starts with B */
	double **val = calloc((size_t)body->next_id + 1, sizeof *val), *carry = alloc_values(ncarry);
	if (!val)
		fatal(EXIT_NOMEM, "interp: out of memory");
	memcpy(carry, x[0], sizeof(double) * (size_t)ncarry);
	for (int64_t s = 0; s < T; s++) {
		int64_t t = n->reverse ? T - 1 - s : s;
		for (int i = 0; i < body->n; i++) {
			const Node *a = body->node[i];
			if (a->op == OP_arg) {
				int64_t cnt = shape_numel(a->shape, batch);
				val[a->id] = alloc_values(cnt);
				if (a->k == 0)
					memcpy(val[a->id], carry, sizeof(double) * (size_t)cnt);
				else
					step_copy(x[a->k], val[a->id], b, T, t, cnt / b, 0);
			} else if (a->op != OP_yield)
				val[a->id] = run_node(m, a, val, slot, batch);
		}
		step_copy(y, val[yl->in[1]->id], b, T, t, nout / b, 1);
		memcpy(carry, val[yl->in[0]->id], sizeof(double) * (size_t)ncarry);
		for (int i = 0; i <= body->next_id; i++) {
			free(val[i]);
			val[i] = NULL;
		}
	}
	free(carry);
	free(val);
}

/* The value of node n, given the values of its operands. */
static double *run_node(const Module *m, const Node *n, double **val, double **slot, int64_t batch)
{
	Dims out = dims_of(n->shape, batch), in[MAXIN];
	const double *x[MAXIN];
	for (int i = 0; i < n->nin; i++) {
		in[i] = dims_of(n->in[i]->shape, batch);
		x[i] = val[n->in[i]->id];
	}
	if (n->op == OP_store) {
		memcpy(slot[n->slot], x[0], sizeof(double) * (size_t)out.n);
		return NULL;
	}
	double *y = alloc_values(out.n);
	switch (op_info[n->op].kind) {
	case K_LEAF:
		if (n->op == OP_param || n->op == OP_input)
			memcpy(y, slot[n->slot], sizeof(double) * (size_t)out.n);
		else if (n->op == OP_iota)
			for (int64_t i = 0; i < out.n; i++)
				y[i] = (double)(i % out.d[out.rank - 1]);
		else
			y[0] = n->op == OP_const ? n->f : (double)batch;
		break;
	case K_ELEM:
		for (int64_t i = 0; i < out.n; i++) {
			double v[MAXIN];
			for (int j = 0; j < n->nin; j++)
				v[j] = x[j][i];
			y[i] = op_scalar(n->op, v, n->f);
		}
		break;
	case K_BCAST: run_broadcast(&in[0], x[0], &out, y); break;
	case K_REDUCE: run_reduce(n, &in[0], x[0], &out, y); break;
	case K_MATMUL: run_matmul(n, &in[0], x[0], &in[1], x[1], &out, y); break;
	case K_BMM: run_bmm(n, &in[0], x[0], &in[1], x[1], &out, y); break;
	case K_LAYOUT:
		if (n->op == OP_reshape)
			memcpy(y, x[0], sizeof(double) * (size_t)out.n);
		else
			run_transpose(n, &in[0], x[0], &out, y);
		break;
	case K_INDEX: run_onehot(n, x[0], &out, y); break;
	case K_SLICE: {   /* outer x axis x inner blocks; the part sits at k along the axis */
		int ax = slice_axis(n);
		const Dims *whole = n->op == OP_slice ? &in[0] : &out, *part = n->op == OP_slice ? &out : &in[0];
		int64_t inner = 1, outer = 1;
		for (int i = ax + 1; i < whole->rank; i++)
			inner *= whole->d[i];
		for (int i = 0; i < ax; i++)
			outer *= whole->d[i];
		if (n->op == OP_unslice)
			memset(y, 0, sizeof(double) * (size_t)out.n);
		for (int64_t o = 0; o < outer; o++)
			for (int64_t j = 0; j < part->d[ax] * inner; j++) {
				int64_t w = (o * whole->d[ax] + n->k) * inner + j, p = o * part->d[ax] * inner + j;
				if (n->op == OP_slice)
					y[p] = x[0][w];
				else
					y[w] = x[0][p];
			}
		break;
	}
	case K_RANDOM:   /* uniform: any fixed U[0,1) sequence per (stream, step) */
		if (uniform) {
			uniform(y, out.n, n->dt, n->k, x[0][0]);
			break;
		}
		for (int64_t i = 0; i < out.n; i++) {
			uint64_t h = ((uint64_t)n->k * 0x9e3779b97f4a7c15u) ^ ((uint64_t)(int64_t)x[0][0] << 32) ^ (uint64_t)i;
			h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9u;
			h = (h ^ (h >> 27)) * 0x94d049bb133111ebu;
			y[i] = (double)((h ^ (h >> 31)) >> 11) * 0x1.0p-53;
		}
		break;
	case K_WINDOW:
		if (n->op == OP_window)
			run_window(n, &in[0], &out, x[0], y);
		else
			run_window(n, &out, &in[0], x[0], y);
		break;
	case K_CONV:
		run_conv(n, x, batch, y);
		break;
	case K_BOXSUM:
		run_boxsum(n, &out, x[0], y);
		break;
	case K_SOFTMAX:
		run_softmax(&out, x[0], y);
		break;
	case K_STORE: case K_YIELD: break;
	case K_SCAN:
		run_scan(m, n, (double **)x, slot, batch, y);
		break;
	case K_GATHER:
		run_gather(n, x, &in[1], n->op == OP_gather ? &in[0] : &out, y);
		break;
	case K_CONTRAST: {
		int64_t d = in[n->nin - 1].d[1];
		if (n->op == OP_nt_xent ? nnrt_nt_xent(batch, d, x[0], x[1], n->f, y)
		                        : nnrt_nt_xent_grad(batch, d, x[0], x[1], x[2], n->f, y))
			fatal(EXIT_NOMEM, "interp: out of memory");
		break;
	}
	}
	(void)m;
	return y;
}

double **interp_run(const Module *m, const Fn *fn, double **slot, int64_t batch, int keep)
{
	double **val = calloc((size_t)fn->next_id + 1, sizeof *val);
	if (!val)
		fatal(EXIT_NOMEM, "interp: out of memory");
	for (int i = 0; i < fn->n; i++) {
		const Node *n = fn->node[i];
		val[n->id] = run_node(m, n, val, slot, batch);
	}
	if (keep)
		return val;
	interp_free_values(fn, val);
	return NULL;
}

void interp_free_values(const Fn *fn, double **val)
{
	if (!val)
		return;
	for (int i = 0; i <= fn->next_id; i++)
		free(val[i]);
	free(val);
}
