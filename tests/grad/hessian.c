/* hessian.c — the second-order half of test_grad.c: every case's loss
 * L(p) differentiated twice by grad_wrt (autodiff/grad_wrt.c), so that
 * the VJPs of the ops a backward pass is written in are themselves
 * checked.  The Hessian-vector product
 *     H v = d/dp sum_k (dL/dp_k . v_k)
 * against central differences of the first derivative along v,
 *     (g(p + h v) - g(p - h v)) / 2h,
 * on the reference interpreter in double precision. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "ir.h"
#include "interp.h"
#include "hessian.h"

static uint64_t state = 0x9E3779B97F4A7C15ull;

static double uniform(void)
{
	state ^= state << 13;
	state ^= state >> 7;
	state ^= state << 17;
	return -1 + 2 * (double)(state >> 11) / 9007199254740992.0;
}

static Node *loss_node(const Module *m, const Fn *fn)
{
	for (int i = 0; i < fn->n; i++)
		if (fn->node[i]->op == OP_store && m->slot[fn->node[i]->slot].role == SLOT_LOSS)
			return fn->node[i]->in[0];
	return NULL;
}

/* The sum of per-node gradients into one per parameter slot (a slot read
 * twice is one variable), stored as "<slot>.<suffix>". */
static Node **per_slot(Module *m, Fn *fn, Node **x, Node **dx, int nx, int nslot)
{
	Node **sum = xalloc(sizeof *sum * (size_t)(nslot + 1));
	for (int k = 0; k < nx; k++) {
		int s = x[k]->slot;
		sum[s] = sum[s] ? ir_binary(fn, OP_add, sum[s], dx[k], x[k]->loc) : dx[k];
	}
	(void)m;
	return sum;
}

static void store_as(Module *m, Fn *fn, Node **value, int nslot, const char *suffix, int *slot_out)
{
	for (int s = 0; s < nslot; s++)
		if (value[s]) {
			const Slot *p = &m->slot[s];
			slot_out[s] = ir_slot(m, xprintf("%s.%s", p->name, suffix), SLOT_OUTPUT, p->dt, p->shape, p->loc);
			ir_store(fn, slot_out[s], value[s], p->loc);
		}
}

/* fn: the forward, then g = dL/dp (stored "p.g1"), then H v (stored
 * "p.hv"), with v read from the inputs "p.v". */
static Fn *build(Module *m, int nslot, int *g1, int *hv, int *v)
{
	Fn *fn = ir_clone(m->fwd, "hvp");
	Node *loss = loss_node(m, fn);
	Node **x = xalloc(sizeof *x * (size_t)(fn->n + 1));
	int nx = 0;
	for (int i = 0; i < fn->n; i++)
		if (fn->node[i]->op == OP_param && m->slot[fn->node[i]->slot].role == SLOT_PARAM)
			x[nx++] = fn->node[i];
	Node **dx = xalloc(sizeof *dx * (size_t)(nx + 1));
	grad_wrt(m, fn, loss, x, nx, dx);
	Node **g = per_slot(m, fn, x, dx, nx, nslot);
	store_as(m, fn, g, nslot, "g1", g1);
	Node *s = NULL;
	for (int p = 0; p < nslot; p++) {
		if (!g[p])
			continue;
		v[p] = ir_slot(m, xprintf("%s.v", m->slot[p].name), SLOT_INPUT, m->slot[p].dt, m->slot[p].shape, loss->loc);
		Node *prod = ir_binary(fn, OP_mul, g[p], ir_input(fn, m, v[p], loss->loc), loss->loc);
		uint32_t all = (1u << prod->shape.rank) - 1;
		Node *t = ir_reshape(fn, all ? ir_reduce(fn, OP_sum, prod, all, loss->loc) : prod, (Shape){ 0 }, loss->loc);
		s = s ? ir_binary(fn, OP_add, s, t, loss->loc) : t;
	}
	grad_wrt(m, fn, s, x, nx, dx);
	store_as(m, fn, per_slot(m, fn, x, dx, nx, nslot), nslot, "hv", hv);
	return fn;
}

static void step_along(const Module *m, double **val, const int *v, int nslot, double by, int64_t batch)
{
	for (int p = 0; p < nslot; p++)
		if (v[p] >= 0)
			for (int64_t i = 0, n = shape_numel(m->slot[p].shape, batch); i < n; i++)
				val[p][i] += by * val[v[p]][i];
}

double check_hvp(const char *name, Module *m, double **filled, int64_t batch, int *failures)
{
	int nslot = m->nslot;
	int *g1 = xalloc(sizeof *g1 * (size_t)(nslot + 1)), *hv = xalloc(sizeof *hv * (size_t)(nslot + 1));
	int *v = xalloc(sizeof *v * (size_t)(nslot + 1));
	for (int s = 0; s < nslot; s++)
		g1[s] = hv[s] = v[s] = -1;
	Fn *fn = build(m, nslot, g1, hv, v);
	const char *bad = ir_verify(m, fn);
	if (bad) {
		fprintf(stderr, "FAIL %s: ir_verify(second order): %s\n", name, bad);
		++*failures;
		return INFINITY;
	}
	double **val = interp_slots(m, batch);
	for (int s = 0; s < m->nslot; s++) {
		int64_t n = shape_numel(m->slot[s].shape, batch);
		for (int64_t i = 0; i < n; i++)
			val[s][i] = s < nslot ? filled[s][i] : uniform();
	}
	double h = 1e-5, worst = 0;
	for (int p = 0; p < nslot; p++) {
		if (v[p] < 0)
			continue;
		int64_t n = shape_numel(m->slot[p].shape, batch);
		double *want = xalloc(sizeof *want * (size_t)(n + 1)), *up = xalloc(sizeof *up * (size_t)(n + 1));
		interp_run(m, fn, val, batch, 0);   /* at p itself: the last slot's differences ran beside it */
		memcpy(want, val[hv[p]], sizeof *want * (size_t)n);
		step_along(m, val, v, nslot, h, batch);
		interp_run(m, fn, val, batch, 0);
		memcpy(up, val[g1[p]], sizeof *up * (size_t)n);
		step_along(m, val, v, nslot, -2 * h, batch);
		interp_run(m, fn, val, batch, 0);
		step_along(m, val, v, nslot, h, batch);
		for (int64_t i = 0; i < n; i++) {
			double fd = (up[i] - val[g1[p]][i]) / (2 * h);
			double err = fabs(fd - want[i]) / fmax(fmax(fabs(fd), fabs(want[i])), 1e-3);
			worst = fmax(worst, err);
			if (!(err <= 1e-6)) {
				fprintf(stderr, "FAIL %s: (H v) of %s[%lld]: autodiff %.12g, finite differences %.12g\n", name,
				        m->slot[p].name, (long long)i, want[i], fd);
				++*failures;
			}
		}
	}
	interp_free_slots(m, val);
	return worst;
}
