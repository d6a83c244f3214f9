/* test_codegen.c — compiled kernels against the same arithmetic in C.
 *
 * Each case builds a Module with the ir.c builders, compiles it through
 * emit_object (harness.c) under the hand plan and under the real passes,
 * runs it at two batch sizes, and compares every output element. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"

static const int64_t batches[2] = { 3, 5 };

static void fill(double *v, int64_t n, unsigned seed, double lo, double hi)
{
	for (int64_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		v[i] = lo + (hi - lo) * ((seed >> 8) & 0xffff) / 65535.0;
	}
}

static Node *bcast(Fn *fn, Node *a, Shape to) { return ir_broadcast(fn, a, to, L); }
static Node *cst(Fn *fn, DType dt, double v) { return ir_const(fn, dt, v, L); }

/* z = 2 relu(x + b) - 0.5 exp(x); loss = sum(z) / B */
static void test_chain(DType dt)
{
	Module *m = mod_new(dt);
	Fn *f = m->eval;
	Shape s = shape_of(2, DIM_BATCH, 4);
	int bs;
	Node *x = io_in(m, f, "x", SLOT_INPUT, dt, s, 0);
	Node *b = state_in(m, f, "b", SLOT_PARAM, dt, shape_of(1, 4), &bs);
	Node *r = ir_unary(f, OP_relu, ir_binary(f, OP_add, x, bcast(f, b, s), L), L);
	Node *y = ir_binary(f, OP_mul, r, bcast(f, cst(f, dt, 2), s), L);
	Node *e = ir_binary(f, OP_mul, ir_unary(f, OP_exp, x, L), bcast(f, cst(f, dt, 0.5), s), L);
	Node *z = ir_binary(f, OP_sub, y, e, L);
	io_out(m, f, "z", z, 1);
	Node *tot = ir_reduce(f, OP_sum, z, 3, L);
	Node *inv = ir_binary(f, OP_div, cst(f, dt, 1), ir_batch(f, dt, L), L);
	Node *loss = ir_binary(f, OP_mul, ir_reshape(f, tot, (Shape){ 0 }, L), inv, L);
	ir_store(f, ir_slot(m, "loss", SLOT_LOSS, dt, (Shape){ 0 }, L), loss, L);
	Compiled c = compile(m);
	double bv[4] = { 0.5, -1, 0.25, 2 };
	state_set(&c, bs, bv);
	for (int k = 0; k < 2; k++) {
		int64_t B = batches[k], n = B * 4;
		double xv[20], want[20], sum = 0, got_loss;
		fill(xv, n, 7 + (unsigned)k, -2, 2);
		for (int64_t i = 0; i < n; i++) {
			double t = xv[i] + bv[i % 4];
			want[i] = 2 * (t > 0 ? t : 0) - 0.5 * exp(xv[i]);
			sum += want[i];
		}
		void *io[NNRT_MAX_IO] = { tensor_new(dt, n, xv), tensor_new(dt, n, NULL) };
		run(&c, 0, B, io, NULL, &got_loss);
		check_near("chain with broadcast", dt, want, io[1], n);
		double wl = sum / (double)B;
		check_vals("loss store", dt, &wl, &got_loss, 1);
		free(io[0]);
		free(io[1]);
	}
	release(&c);
}

static double ref_unary(Op op, double x, double f)
{
	switch (op) {
	case OP_neg: return -x;
	case OP_exp: return exp(x);
	case OP_log: return log(x);
	case OP_sqrt: return sqrt(x);
	case OP_abs: return fabs(x);
	case OP_sign: return x > 0 ? 1 : x < 0 ? -1 : 0;
	case OP_step: return x > 0;
	case OP_tanh: return tanh(x);
	case OP_sigmoid: return 1 / (1 + exp(-x));
	case OP_relu: return x > 0 ? x : 0;
	case OP_softplus: return log1p(exp(x));
	case OP_elu: return x > 0 ? x : f * expm1(x);
	case OP_leaky_relu: return x > 0 ? x : f * x;
	case OP_stop_gradient: return x;
	case OP_sin: return sin(x);
	case OP_cos: return cos(x);
	case OP_erf: return erf(x);
	default: fprintf(stderr, "FAIL no reference value for %s: add it here\n", op_info[op].name); abort();
	}
}

/* The elementwise ops of ops.def with nin operands: every row of the table
 * is compiled and compared with the references here, so a new op without
 * a reference fails. */
static int elem_ops(int nin, Op *ops)
{
	int n = 0;
	for (int op = 0; op < OP__COUNT; op++)
		if (op_info[op].kind == K_ELEM && op_info[op].nin == nin && op != OP_select_mode)
			ops[n++] = (Op)op;
	return n;
}

/* Every unary op over a [2,7] parameter, each stored into a parameter slot. */
static void test_unary(DType dt)
{
	Op ops[OP__COUNT];
	enum { N = 14 };
	int NOP = elem_ops(1, ops), out[OP__COUNT];
	Module *m = mod_new(dt);
	Fn *f = m->eval;
	Shape s = shape_of(2, 2, 7);
	int xs, ps;
	Node *x = state_in(m, f, "x", SLOT_PARAM, dt, s, &xs);
	Node *p = state_in(m, f, "p", SLOT_PARAM, dt, s, &ps);
	for (int i = 0; i < NOP; i++) {
		Node *a = ops[i] == OP_log || ops[i] == OP_sqrt ? p : x;
		Node *u = ir_unary(f, ops[i], a, L);
		u->f = ops[i] == OP_elu ? 0.7 : 0.05;
		out[i] = ir_slot(m, xprintf("u.%s", op_info[ops[i]].name), SLOT_PARAM, dt, s, L);
		ir_store(f, out[i], u, L);
	}
	Compiled c = compile(m);
	double xv[N] = { -30, -3, -1, -0.5, -1e-3, 0, 1e-3, 0.25, 0.5, 1, 2, 3, 10, 40 }, pv[N], got[N], want[N];
	fill(pv, N, 3, 0.01, 5);
	state_set(&c, xs, xv);
	state_set(&c, ps, pv);
	run(&c, 0, 1, NULL, NULL, NULL);
	for (int i = 0; i < NOP; i++) {
		const double *a = ops[i] == OP_log || ops[i] == OP_sqrt ? pv : xv;
		for (int j = 0; j < N; j++)
			want[j] = ref_unary(ops[i], a[j], ops[i] == OP_elu ? 0.7 : 0.05);
		state_get(&c, out[i], got);
		check_vals(op_info[ops[i]].name, dt, want, got, N);
	}
	release(&c);
}

static double ref_binary(Op op, double a, double b)
{
	switch (op) {
	case OP_add: return a + b;
	case OP_sub: return a - b;
	case OP_mul: return a * b;
	case OP_div: return a / b;
	case OP_pow: return pow(a, b);
	case OP_max: return a > b ? a : b;
	case OP_min: return a < b ? a : b;
	case OP_eq: return a == b;
	default: fprintf(stderr, "FAIL no reference value for %s: add it here\n", op_info[op].name); abort();
	}
}

/* Every binary op (and, through ternary(), every three-operand op) over
 * [3,5] parameters, each stored into a parameter slot. */
static void test_binary(DType dt)
{
	Op ops[OP__COUNT];
	enum { N = 15 };
	int NOP = elem_ops(2, ops), out[OP__COUNT];
	Module *m = mod_new(dt);
	Fn *f = m->eval;
	Shape s = shape_of(2, 3, 5);
	int xs, ys, ps;
	Node *x = state_in(m, f, "x", SLOT_PARAM, dt, s, &xs);
	Node *y = state_in(m, f, "y", SLOT_PARAM, dt, s, &ys);
	Node *p = state_in(m, f, "p", SLOT_PARAM, dt, s, &ps);
	for (int i = 0; i < NOP; i++) {
		Node *a = ops[i] == OP_pow ? p : x;
		out[i] = ir_slot(m, xprintf("b.%s", op_info[ops[i]].name), SLOT_PARAM, dt, s, L);
		ir_store(f, out[i], ir_binary(f, ops[i], a, y, L), L);
	}
	Compiled c = compile(m);
	double xv[N], yv[N], pv[N], want[N], got[N];
	fill(xv, N, 11, -3, 3);
	fill(yv, N, 12, -3, 3);
	fill(pv, N, 13, 0.1, 3);
	yv[2] = xv[2];
	yv[7] = xv[7];
	state_set(&c, xs, xv);
	state_set(&c, ys, yv);
	state_set(&c, ps, pv);
	run(&c, 0, 2, NULL, NULL, NULL);
	for (int i = 0; i < NOP; i++) {
		/* compare against the operands as the kernel saw them (rounded to dt) */
		for (int j = 0; j < N; j++) {
			double a = ops[i] == OP_pow ? pv[j] : xv[j], b = yv[j];
			if (dt == DT_F32)
				a = (float)a, b = (float)b;
			want[j] = ref_binary(ops[i], a, b);
		}
		state_get(&c, out[i], got);
		check_vals(op_info[ops[i]].name, dt, want, got, N);
	}
	release(&c);
}

static double ref_ternary(Op op, double a, double b, double c)
{
	switch (op) {
	case OP_where: return a != 0 ? b : c;
	case OP_clip: return a < b ? b : a > c ? c : a;   /* lo <= hi here; else hi wins, as torch.clamp */
	default: fprintf(stderr, "FAIL no reference value for %s: add it here\n", op_info[op].name); abort();
	}
}

static void test_ternary(DType dt)
{
	Op ops[OP__COUNT];
	enum { N = 12 };
	int NOP = elem_ops(3, ops), out[OP__COUNT], slot[3];
	Module *m = mod_new(dt);
	Fn *f = m->eval;
	Shape s = shape_of(2, 3, 4);
	Node *in[3];
	for (int k = 0; k < 3; k++)
		in[k] = state_in(m, f, xprintf("t%d", k), SLOT_PARAM, dt, s, &slot[k]);
	for (int i = 0; i < NOP; i++) {
		out[i] = ir_slot(m, xprintf("t.%s", op_info[ops[i]].name), SLOT_PARAM, dt, s, L);
		ir_store(f, out[i], ir_elem(f, ops[i], 3, in, L), L);
	}
	Compiled c = compile(m);
	double v[3][N] = { { -2, 0, 0.5, 3, 0, -0.25, 1, 2, -3, 0, 4, 0.1 },
	                   { -1, -1, -1, -1, -0.5, -0.5, 0, 0, 0.5, 0.5, 1, 1 },
	                   { 1, 1, 1, 1, 0.5, 0.5, 2, 2, 3, 3, 3, 3 } }, want[N], got[N];
	for (int k = 0; k < 3; k++)
		state_set(&c, slot[k], v[k]);
	run(&c, 0, 1, NULL, NULL, NULL);
	for (int i = 0; i < NOP; i++) {
		for (int j = 0; j < N; j++)
			want[j] = ref_ternary(ops[i], v[0][j], v[1][j], v[2][j]);
		state_get(&c, out[i], got);
		check_vals(op_info[ops[i]].name, dt, want, got, N);
	}
	release(&c);
}

/* C[B,4] = op(A) op(W), A = x or its transpose, for all four flag pairs. */
static void test_matmul(DType dt)
{
	for (int ta = 0; ta < 2; ta++)
		for (int tb = 0; tb < 2; tb++) {
			Module *m = mod_new(dt);
			Fn *f = m->eval;
			int ws;
			Node *a = io_in(m, f, "a", SLOT_INPUT, dt, ta ? shape_of(2, 3, DIM_BATCH) : shape_of(2, DIM_BATCH, 3), 0);
			Node *w = state_in(m, f, "w", SLOT_PARAM, dt, tb ? shape_of(2, 4, 3) : shape_of(2, 3, 4), &ws);
			io_out(m, f, "c", ir_matmul(f, a, w, ta, tb, L), 1);
			Compiled c = compile(m);
			double wv[12], av[15], want[20];
			fill(wv, 12, 21, -1, 1);
			state_set(&c, ws, wv);
			for (int k = 0; k < 2; k++) {
				int64_t B = batches[k];
				fill(av, B * 3, 22 + (unsigned)k, -1, 1);
				for (int64_t i = 0; i < B; i++)
					for (int j = 0; j < 4; j++) {
						double acc = 0;
						for (int q = 0; q < 3; q++)
							acc += av[ta ? q * B + i : i * 3 + q] * wv[tb ? j * 3 + q : q * 4 + j];
						want[i * 4 + j] = acc;
					}
				void *io[NNRT_MAX_IO] = { tensor_new(dt, B * 3, av), tensor_new(dt, B * 4, NULL) };
				run(&c, 0, B, io, NULL, NULL);
				check_near(xprintf("matmul ta=%d tb=%d", ta, tb), dt, want, io[1], B * 4);
				free(io[0]);
				free(io[1]);
			}
			release(&c);
		}
}

/* sum or amax of x[B,3,4] over each nonempty set of axes. */
static void test_reduce(DType dt, Op op)
{
	Module *m = mod_new(dt);
	Fn *f = m->eval;
	Node *x = io_in(m, f, "x", SLOT_INPUT, dt, shape_of(3, DIM_BATCH, 3, 4), 0);
	for (uint32_t axes = 1; axes < 8; axes++)
		io_out(m, f, xprintf("r%u", axes), ir_reduce(f, op, x, axes, L), (int)axes);
	Compiled c = compile(m);
	for (int k = 0; k < 2; k++) {
		int64_t B = batches[k], d[3] = { B, 3, 4 };
		double xv[60], want[60];
		fill(xv, B * 12, 31 + (unsigned)k, -5, 5);
		void *io[NNRT_MAX_IO] = { tensor_new(dt, B * 12, xv) };
		for (int i = 1; i < 8; i++)
			io[i] = tensor_new(dt, B * 12, NULL);
		run(&c, 0, B, io, NULL, NULL);
		for (uint32_t axes = 1; axes < 8; axes++) {
			int64_t od[3], n = 1;
			for (int i = 0; i < 3; i++)
				n *= od[i] = axes & (1u << i) ? 1 : d[i];
			for (int64_t i = 0; i < n; i++)
				want[i] = op == OP_sum ? 0 : -INFINITY;
			for (int64_t i = 0; i < B; i++)
				for (int j = 0; j < 3; j++)
					for (int q = 0; q < 4; q++) {
						int64_t o = ((od[0] > 1 ? i : 0) * od[1] + (od[1] > 1 ? j : 0)) * od[2] + (od[2] > 1 ? q : 0);
						double v = xv[(i * 3 + j) * 4 + q];
						if (dt == DT_F32)
							v = (float)v;
						want[o] = op == OP_sum ? want[o] + v : fmax(want[o], v);
					}
			check_near(xprintf("%s axes=%u batch=%lld", op_info[op].name, axes, (long long)B), dt, want, io[axes], n);
		}
		for (int i = 0; i < 8; i++)
			free(io[i]);
	}
	release(&c);
}

/* softmax along the last axis of x [B,3,19] (runtime/softmax.c) against
 * the sum in double, within a few ulp: ordinary rows, a row masked by
 * -1e9 past its third place, a row of -inf only (all zeros), a row with
 * -inf in part (zeros there), a row holding NaN (all NaN). */
static void test_softmax(DType dt)
{
	enum { LEN = 19 };
	Module *m = mod_new(dt);
	Fn *f = m->eval;
	Node *x = io_in(m, f, "x", SLOT_INPUT, dt, shape_of(3, DIM_BATCH, 3, LEN), 0);
	io_out(m, f, "y", ir_softmax(f, x, L), 1);
	Compiled c = compile(m);
	for (int k = 0; k < 2; k++) {
		int64_t B = batches[k], n = B * 3 * LEN;
		double xv[5 * 3 * LEN], want[5 * 3 * LEN];
		fill(xv, n, 41 + (unsigned)k, -5, 5);
		for (int i = 3; i < LEN; i++)
			xv[LEN + i] = -1e9;
		for (int i = 0; i < LEN; i++)
			xv[2 * LEN + i] = -INFINITY;
		xv[3 * LEN + 4] = xv[3 * LEN + 7] = -INFINITY;
		xv[4 * LEN + 5] = NAN;
		for (int64_t r = 0; r < n; r += LEN) {
			double mx = -INFINITY, s = 0;
			for (int i = 0; i < LEN; i++)
				mx = fmax(mx, dt == DT_F32 ? (float)xv[r + i] : xv[r + i]);
			for (int i = 0; i < LEN; i++)
				s += want[r + i] = exp((dt == DT_F32 ? (float)xv[r + i] : xv[r + i]) - mx);
			for (int i = 0; i < LEN; i++)
				want[r + i] = r == 4 * LEN ? NAN : mx == -INFINITY ? 0 : want[r + i] / s;
		}
		void *io[NNRT_MAX_IO] = { tensor_new(dt, n, xv), tensor_new(dt, n, NULL) };
		run(&c, 0, B, io, NULL, NULL);
		for (int64_t i = 0; i < n; i++) {
			double g = tensor_at(dt, io[1], i), w = want[i];
			if (isnan(w) ? !isnan(g) : !(fabs(g - w) <= (dt == DT_F32 ? 1e-6 : 1e-14) * w + 1e-300)) {
				fprintf(stderr, "FAIL: softmax [%s plan, %s, batch %lld]: element %lld is %.9g, expected %.9g\n",
					plan_mode == PLAN_HAND ? "hand" : "passes", dtype_name(dt), (long long)B, (long long)i, g, w);
				failures++;
				break;
			}
		}
		free(io[0]);
		free(io[1]);
	}
	release(&c);
}

/* transposes of x[B,3,4], a 2-D one through a reshape, and a broadcast
 * along a middle dimension. */
static void test_layout(DType dt)
{
	Module *m = mod_new(dt);
	Fn *f = m->eval;
	Shape s = shape_of(3, DIM_BATCH, 3, 4);
	int ys;
	Node *x = io_in(m, f, "x", SLOT_INPUT, dt, s, 0);
	io_out(m, f, "t201", ir_transpose(f, x, (int[]){ 2, 0, 1 }, L), 1);
	Node *flat = ir_reshape(f, x, shape_of(2, DIM_BATCH, 12), L);
	io_out(m, f, "t10", ir_transpose(f, flat, (int[]){ 1, 0 }, L), 2);
	Node *y = state_in(m, f, "y", SLOT_PARAM, dt, shape_of(2, 3, 1), &ys);
	io_out(m, f, "mid", ir_binary(f, OP_add, x, bcast(f, y, s), L), 3);
	Compiled c = compile(m);
	double yv[3] = { 10, 20, 30 };
	state_set(&c, ys, yv);
	for (int k = 0; k < 2; k++) {
		int64_t B = batches[k], n = B * 12;
		double xv[60], w1[60], w2[60], w3[60];
		fill(xv, n, 41 + (unsigned)k, -5, 5);
		for (int64_t i = 0; i < B; i++)
			for (int j = 0; j < 3; j++)
				for (int q = 0; q < 4; q++) {
					double v = xv[(i * 3 + j) * 4 + q];
					w1[(q * B + i) * 3 + j] = v;
					w2[(j * 4 + q) * B + i] = v;
					w3[(i * 3 + j) * 4 + q] = (dt == DT_F32 ? (float)v : v) + yv[j];
				}
		void *io[NNRT_MAX_IO] = { tensor_new(dt, n, xv), tensor_new(dt, n, NULL), tensor_new(dt, n, NULL),
				tensor_new(dt, n, NULL) };
		run(&c, 0, B, io, NULL, NULL);
		check_near("transpose 2,0,1", dt, w1, io[1], n);
		check_near("reshape + transpose 1,0", dt, w2, io[2], n);
		check_near("broadcast along a middle dim", dt, w3, io[3], n);
		for (int i = 0; i < 4; i++)
			free(io[i]);
	}
	release(&c);
}

/* onehot of i32 labels, alone and fused with a product. */
static void test_onehot(DType dt)
{
	Module *m = mod_new(dt);
	Fn *f = m->eval;
	Node *y = io_in(m, f, "y", SLOT_TARGET, DT_I32, shape_of(1, DIM_BATCH), 0);
	Node *x = io_in(m, f, "x", SLOT_INPUT, dt, shape_of(2, DIM_BATCH, 6), 1);
	Node *oh = ir_onehot(f, y, 6, dt, L);
	io_out(m, f, "oh", oh, 2);
	io_out(m, f, "picked", ir_binary(f, OP_mul, oh, x, L), 3);
	Compiled c = compile(m);
	double lv[5] = { 0, 5, 2, -1, 6 }, xv[30], w1[30], w2[30];
	fill(xv, 30, 51, -1, 1);
	for (int k = 0; k < 2; k++) {
		int64_t B = batches[k];
		for (int64_t i = 0; i < B * 6; i++) {
			w1[i] = lv[i / 6] == (double)(i % 6);
			w2[i] = w1[i] * (dt == DT_F32 ? (float)xv[i] : xv[i]);
		}
		void *io[NNRT_MAX_IO] = { tensor_new(DT_I32, B, lv), tensor_new(dt, B * 6, xv), tensor_new(dt, B * 6, NULL),
				tensor_new(dt, B * 6, NULL) };
		run(&c, 0, B, io, NULL, NULL);
		check_near("onehot", dt, w1, io[2], B * 6);
		check_near("onehot * x", dt, w2, io[3], B * 6);
		for (int i = 0; i < 4; i++)
			free(io[i]);
	}
	release(&c);
}

/* gather rows of a [4,3] table by ids i32[B,2] (ids repeat), and
 * scatter_add of rows [B,2,3] back into a [4,3] table. */
static void test_gather(DType dt)
{
	Module *m = mod_new(dt);
	Fn *f = m->eval;
	int ts;
	Node *ids = io_in(m, f, "ids", SLOT_INPUT, DT_I32, shape_of(2, DIM_BATCH, 2), 0);
	Node *rows = io_in(m, f, "rows", SLOT_INPUT, dt, shape_of(3, DIM_BATCH, 2, 3), 1);
	Node *table = state_in(m, f, "table", SLOT_PARAM, dt, shape_of(2, 4, 3), &ts);
	io_out(m, f, "gathered", ir_gather(f, table, ids, L), 2);
	io_out(m, f, "summed", ir_scatter_add(f, rows, ids, shape_of(2, 4, 3), L), 3);
	Compiled c = compile(m);
	double tv[12], rv[30], idv[10] = { 3, 0, 1, 3, 2, 2, 0, 3, 1, 1 }, w1[30], w2[12];
	fill(tv, 12, 61, -1, 1);
	fill(rv, 30, 62, -1, 1);
	state_set(&c, ts, tv);
	for (int k = 0; k < 2; k++) {
		int64_t B = batches[k];
		memset(w2, 0, sizeof w2);
		for (int64_t i = 0; i < B * 2; i++)
			for (int d = 0; d < 3; d++) {
				int id = (int)idv[i];
				w1[i * 3 + d] = dt == DT_F32 ? (float)tv[id * 3 + d] : tv[id * 3 + d];
				w2[id * 3 + d] += dt == DT_F32 ? (float)rv[i * 3 + d] : rv[i * 3 + d];
			}
		void *io[NNRT_MAX_IO] = { tensor_new(DT_I32, B * 2, idv), tensor_new(dt, B * 6, rv), tensor_new(dt, B * 6, NULL),
				tensor_new(dt, 12, NULL) };
		run(&c, 0, B, io, NULL, NULL);
		check_near("gather", dt, w1, io[2], B * 6);
		check_near("scatter_add", dt, w2, io[3], 12);
		for (int i = 0; i < 4; i++)
			free(io[i]);
	}
	release(&c);
}

/* SGD with momentum as an update Fn: v := 0.9 v + g; W := W - lr v,
 * both parameters updated in place. */
static void test_update(DType dt)
{
	Module *m = mod_new(dt);
	Fn *f = m->update = ir_fn("update");
	Shape s = shape_of(2, 3, 4);
	int ws, gs, vs;
	Node *w = state_in(m, f, "W", SLOT_PARAM, dt, s, &ws);
	Node *g = state_in(m, f, "W.grad", SLOT_GRAD, dt, s, &gs);
	Node *v = state_in(m, f, "W.momentum", SLOT_OPTSTATE, dt, s, &vs);
	m->slot[gs].of = m->slot[vs].of = ws;
	Node *lr = hyper_in(m, f, "lr", dt, NNRT_HYPER_LR);
	Node *nv = ir_binary(f, OP_add, ir_binary(f, OP_mul, bcast(f, cst(f, dt, 0.9), s), v, L), g, L);
	ir_store(f, vs, nv, L);
	Node *nw = ir_binary(f, OP_sub, w, ir_binary(f, OP_mul, bcast(f, lr, s), nv, L), L);
	ir_store(f, ws, nw, L);
	Compiled c = compile(m);
	double wv[12], gv[12], vv[12] = { 0 }, got[12];
	fill(wv, 12, 61, -1, 1);
	fill(gv, 12, 62, -1, 1);
	state_set(&c, ws, wv);
	state_set(&c, gs, gv);
	state_set(&c, vs, vv);
	double hyper[4] = { 0.1, 1, 0, 0 };
	for (int step = 0; step < 2; step++) {
		run(&c, 2, 1, NULL, hyper, NULL);
		for (int i = 0; i < 12; i++) {
			vv[i] = 0.9 * vv[i] + gv[i];
			wv[i] -= 0.1 * vv[i];
		}
		state_get(&c, ws, got);
		check_vals("in-place parameter update", dt, wv, got, 12);
		state_get(&c, vs, got);
		check_vals("in-place momentum update", dt, vv, got, 12);
	}
	release(&c);
}

/* exp, tanh, sigmoid and erf in f32 are polynomial expansions
 * (llvm_math.c): a dense sweep against libm at a few ulp (erf: 1e-6,
 * what GELU is promised), plus the special values. */
static void test_math_f32(void)
{
	enum { N = 4001, NW = 2001, NS = 6, NOP = 4 };
	static const Op ops[NOP] = { OP_exp, OP_tanh, OP_sigmoid, OP_erf };
	Module *m = mod_new(DT_F32);
	Fn *f = m->eval;
	int xs, out[NOP];
	Node *x = state_in(m, f, "x", SLOT_PARAM, DT_F32, shape_of(1, N + NS), &xs);
	for (int i = 0; i < NOP; i++) {
		out[i] = ir_slot(m, xprintf("m.%s", op_info[ops[i]].name), SLOT_PARAM, DT_F32, shape_of(1, N + NS), L);
		ir_store(f, out[i], ir_unary(f, ops[i], x, L), L);
	}
	Compiled c = compile(m);
	static double xv[N + NS], got[N + NS];
	for (int i = 0; i < N; i++)
		xv[i] = i < NW ? (float)(-87.0 + 175.0 * i / (NW - 1))   /* the whole range, then erf's */
			       : (float)(-5.0 + 10.0 * (i - NW) / (N - NW - 1));
	double special[NS] = { -INFINITY, INFINITY, NAN, -100, 1e-6, -3e-3 };
	for (int i = 0; i < NS; i++)
		xv[N + i] = special[i];
	state_set(&c, xs, xv);
	run(&c, 0, 1, NULL, NULL, NULL);
	for (int k = 0; k < NOP; k++) {
		state_get(&c, out[k], got);
		for (int i = 0; i < N + NS; i++) {
			if (i >= NW && i < N && ops[k] != OP_erf)
				continue;            /* the dense sweep is erf's */
			double w = ops[k] == OP_exp ? exp(xv[i]) : ops[k] == OP_tanh ? tanh(xv[i])
				 : ops[k] == OP_erf ? erf(xv[i]) : 1 / (1 + exp(-xv[i]));
			int ok = isnan(w) ? isnan(got[i]) : isinf(w) ? got[i] == w
				: fabs(got[i] - w) <= (ops[k] == OP_erf ? 1e-6 : 4e-7) * fabs(w) + 1e-37;
			if (!ok) {
				fprintf(stderr, "FAIL: f32 %s(%.9g) is %.9g, expected %.9g\n", op_info[ops[k]].name,
					xv[i], got[i], w);
				failures++;
				break;
			}
		}
	}
	release(&c);
}

/* log and pow in f32 are polynomial expansions too (llvm_math.c): log over
 * every binade, subnormals included, at a few ulp; pow over bases from
 * 1e-3 to 1e3 and the exponents of local_response_norm and beyond at
 * (2 + |y ln x|) ulp, its error bound; then IEEE's special cases. */
static void test_log_pow_f32(void)
{
	enum { NL = 2000, NP = 700, NSL = 6, NSP = 14 };
	static const double ys[7] = { -2.5, -0.75, -0.25, 0.5, 0.75, 1.5, 3 };
	static const double special_log[NSL] = { 0, -1, INFINITY, NAN, 1, 1e-40 };
	static const double special_pow[NSP][3] = {      /* x, y, x^y */
		{ -2, 3, -8 }, { -2, 2, 4 }, { -2, 0.5, NAN }, { 0, 2, 0 }, { 0, -1, INFINITY }, { 0, 0, 1 },
		{ NAN, 0, 1 }, { 1, NAN, 1 }, { 2, INFINITY, INFINITY }, { 0.5, INFINITY, 0 },
		{ INFINITY, -1, 0 }, { NAN, 2, NAN }, { 2, NAN, NAN }, { -0.5, -3, -8 } };
	Module *m = mod_new(DT_F32);
	Fn *f = m->eval;
	int xs, ys_slot, bs, out_log, out_pow;
	Node *x = state_in(m, f, "x", SLOT_PARAM, DT_F32, shape_of(1, NL + NSL), &xs);
	Node *b = state_in(m, f, "b", SLOT_PARAM, DT_F32, shape_of(1, NP + NSP), &bs);
	Node *y = state_in(m, f, "y", SLOT_PARAM, DT_F32, shape_of(1, NP + NSP), &ys_slot);
	out_log = ir_slot(m, "m.log", SLOT_PARAM, DT_F32, shape_of(1, NL + NSL), L);
	out_pow = ir_slot(m, "m.pow", SLOT_PARAM, DT_F32, shape_of(1, NP + NSP), L);
	ir_store(f, out_log, ir_unary(f, OP_log, x, L), L);
	ir_store(f, out_pow, ir_binary(f, OP_pow, b, y, L), L);
	Compiled c = compile(m);
	static double xv[NL + NSL], bv[NP + NSP], yv[NP + NSP], got[NL + NSL];
	for (int i = 0; i < NL; i++)           /* 2^-149 .. 2^127, ~7 points a binade */
		xv[i] = (float)ldexp(1 + 0.37 * (i % 3), -149 + (int)(276.0 * i / NL));
	for (int i = 0; i < NSL; i++)
		xv[NL + i] = special_log[i];
	for (int i = 0; i < NP; i++) {
		bv[i] = (float)pow(10, -3 + 6.0 * (i / 7) / (NP / 7 - 1));
		yv[i] = ys[i % 7];
	}
	for (int i = 0; i < NSP; i++)
		bv[NP + i] = special_pow[i][0], yv[NP + i] = special_pow[i][1];
	state_set(&c, xs, xv);
	state_set(&c, bs, bv);
	state_set(&c, ys_slot, yv);
	run(&c, 0, 1, NULL, NULL, NULL);
	state_get(&c, out_log, got);
	for (int i = 0; i < NL + NSL; i++) {
		double w = log(xv[i]);
		int ok = isnan(w) ? isnan(got[i]) : isinf(w) ? got[i] == w : fabs(got[i] - w) <= 3.6e-7 * fabs(w) + 1e-45;
		if (!ok) {
			fprintf(stderr, "FAIL: f32 log(%.9g) is %.9g, expected %.9g\n", xv[i], got[i], w);
			failures++;
			break;
		}
	}
	state_get(&c, out_pow, got);
	for (int i = 0; i < NP + NSP; i++) {
		double w = i < NP ? pow(bv[i], yv[i]) : special_pow[i - NP][2];
		double tol = 1.2e-7 * (2 + fabs(yv[i] * log(fabs(bv[i]))));
		if (!isfinite(tol))          /* special cases: exact */
			tol = 0;
		int ok = isnan(w) ? isnan(got[i]) : isinf(w) ? got[i] == w : fabs(got[i] - w) <= tol * fabs(w);
		if (!ok) {
			fprintf(stderr, "FAIL: f32 pow(%.9g, %.9g) is %.9g, expected %.9g\n", bv[i], yv[i], got[i], w);
			failures++;
			break;
		}
	}
	release(&c);
}

/* A convolution as window + GEMM (lower_vision.c), against the direct
 * sum y[b,i,j,o] = sum x[b, i s - p + kh d, j s - p + kw d, c] W[kh,kw,c,o];
 * and unwindow(window(x)), which is x times the number of windows that
 * cover each pixel. */
enum { CH = 5, CW = 6, CC = 2, KH = 3, KW = 2, CO = 3 };
static const nnrt_window conv_win = { .kh = KH, .kw = KW, .sh = 2, .sw = 1, .ph = 1, .pw = 0, .dh = 1, .dw = 2 };

/* The image pixel of tap (kh, kw) of window (i, j), or -1 in the padding. */
static int64_t conv_tap(int64_t i, int64_t j, int kh, int kw)
{
	const nnrt_window *g = &conv_win;
	int64_t r = i * g->sh - g->ph + kh * g->dh;
	int64_t q = j * g->sw - g->pw + kw * g->dw;
	return r < 0 || r >= CH || q < 0 || q >= CW ? -1 : r * CW + q;
}

static double conv_ref(const double *x, const double *w, int64_t b, int64_t i, int64_t j, int64_t o)
{
	double s = 0;
	for (int kh = 0; kh < KH; kh++)
		for (int kw = 0; kw < KW; kw++) {
			int64_t at = conv_tap(i, j, kh, kw);
			for (int c = 0; at >= 0 && c < CC; c++)
				s += x[(b * CH * CW + at) * CC + c] * w[((kh * KW + kw) * CC + c) * CO + o];
		}
	return s;
}

static void test_conv(DType dt)
{
	Module *m = mod_new(dt);
	Fn *f = m->eval;
	int ws;
	Node *x = io_in(m, f, "x", SLOT_INPUT, dt, shape_of(4, DIM_BATCH, CH, CW, CC), 0);
	Node *w = state_in(m, f, "W", SLOT_PARAM, dt, shape_of(4, KH, KW, CC, CO), &ws);
	Node *p = ir_window(f, x, conv_win, 0, L);
	int64_t oh = p->shape.d[1], ow = p->shape.d[2];
	Node *rows = ir_reshape(f, p, shape_of(4, DIM_BATCH, oh, ow, (int64_t)KH * KW * CC), L);
	Node *y = ir_matmul(f, rows, ir_reshape(f, w, shape_of(2, (int64_t)KH * KW * CC, CO), L), 0, 0, L);
	io_out(m, f, "y", y, 1);
	io_out(m, f, "z", ir_unwindow(f, p, x->shape, conv_win, L), 2);
	Compiled c = compile(m);
	double wv[KH * KW * CC * CO];
	fill(wv, KH * KW * CC * CO, 3, -1, 1);
	state_set(&c, ws, wv);
	for (int k = 0; k < 2; k++) {
		int64_t B = batches[k], nx = B * CH * CW * CC, ny = B * oh * ow * CO;
		double *xv = malloc(sizeof(double) * (size_t)nx), *want = malloc(sizeof(double) * (size_t)ny);
		double *wz = malloc(sizeof(double) * (size_t)nx);
		int64_t cover[CH * CW] = { 0 };
		fill(xv, nx, 11 + (unsigned)k, -2, 2);
		for (int64_t i = 0; i < oh; i++)
			for (int64_t j = 0; j < ow; j++) {
				for (int kh = 0; kh < KH; kh++)
					for (int kw = 0; kw < KW; kw++)
						if (conv_tap(i, j, kh, kw) >= 0)
							cover[conv_tap(i, j, kh, kw)]++;
				for (int64_t b = 0; b < B; b++)
					for (int64_t o = 0; o < CO; o++)
						want[((b * oh + i) * ow + j) * CO + o] = conv_ref(xv, wv, b, i, j, o);
			}
		for (int64_t i = 0; i < nx; i++)
			wz[i] = xv[i] * (double)cover[i / CC % (CH * CW)];
		void *io[NNRT_MAX_IO] = { tensor_new(dt, nx, xv), tensor_new(dt, ny, NULL), tensor_new(dt, nx, NULL) };
		run(&c, 0, B, io, NULL, NULL);
		check_near("conv2d as window + matmul", dt, want, io[1], ny);
		check_near("unwindow of window", dt, wz, io[2], nx);
		for (int i = 0; i < 3; i++)
			free(io[i]);
		free(xv), free(want), free(wz);
	}
	release(&c);
}

/* The elementwise loops must vectorize: the optimized IR of a bias + relu
 * + sigmoid kernel over [B,256], then a log and a pow of it, holds vector
 * operations and no call of expf, logf or powf (nor the intrinsics that
 * become them). */
static void test_vectorized(void)
{
	Module *m = mod_new(DT_F32);
	Fn *f = m->eval;
	Shape s = shape_of(2, DIM_BATCH, 256);
	Node *x = io_in(m, f, "x", SLOT_INPUT, DT_F32, s, 0);
	Node *b = state_in(m, f, "b", SLOT_PARAM, DT_F32, shape_of(1, 256), NULL);
	Node *h = ir_unary(f, OP_relu, ir_binary(f, OP_add, x, bcast(f, b, s), L), L);
	Node *sg = ir_unary(f, OP_sigmoid, h, L);
	io_out(m, f, "h", ir_binary(f, OP_pow, ir_unary(f, OP_log, sg, L), bcast(f, cst(f, DT_F32, 0.75), s), L), 1);
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);
	Pipeline p = { .from = "fuse", .to = "emit", .verify = 1, .opt_level = 2, .llvm_text = out };
	pipeline_run(&p, m);
	fclose(out);
	static const char *const scalar_calls[] = { "@expf", "@logf", "@powf", "@llvm.exp.", "@llvm.log.", "@llvm.pow." };
	int scalar = 0;
	for (size_t i = 0; i < sizeof scalar_calls / sizeof *scalar_calls; i++)
		scalar |= strstr(text, scalar_calls[i]) != NULL;
	if (!strstr(text, " x float>") || scalar) {
		fprintf(stderr, "FAIL: the relu/sigmoid/log/pow kernel did not vectorize at -O2\n");
		failures++;
	}
	free(text);
}

int main(int argc, char **argv)
{
	if (argc > 1)
		opt_level = atoi(argv[1]);
	for (plan_mode = PLAN_HAND; plan_mode <= PLAN_PASSES; plan_mode++)
		for (DType dt = DT_F32; dt <= DT_F64; dt++) {
			test_chain(dt);
			test_unary(dt);
			test_binary(dt);
			test_ternary(dt);
			test_gather(dt);
			test_matmul(dt);
			test_reduce(dt, OP_sum);
			test_reduce(dt, OP_amax);
			test_softmax(dt);
			test_layout(dt);
			test_onehot(dt);
			test_conv(dt);
			test_update(dt);
		}
	plan_mode = PLAN_HAND;
	test_math_f32();
	test_log_pow_f32();
	plan_mode = PLAN_PASSES;
	test_math_f32();
	test_log_pow_f32();
	test_vectorized();
	if (failures) {
		fprintf(stderr, "%d codegen check(s) failed\n", failures);
		return 1;
	}
	printf("codegen: all checks passed (-O%d)\n", opt_level);
	return 0;
}
