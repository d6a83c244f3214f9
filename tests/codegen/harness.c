/* harness.c — see harness.h. */
#include <dlfcn.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "harness.h"

Loc L = { "codegen-test", 1, 1, 1 };
int failures;
int plan_mode = PLAN_HAND;
int opt_level = 2;

static char tmpdir[64];
static int ncompiled;

Module *mod_new(DType dt)
{
	Module *m = ir_module();
	m->precision = dt;
	m->model = "t";
	m->source = "t.nn";
	m->cfg.seed = -1;
	m->eval = ir_fn("eval");
	return m;
}

Node *io_in(Module *m, Fn *fn, const char *name, SlotRole role, DType dt, Shape s, int io)
{
	int k = ir_slot(m, name, role, dt, s, L);
	m->slot[k].io = io;
	return ir_input(fn, m, k, L);
}

int io_out(Module *m, Fn *fn, const char *name, Node *v, int io)
{
	int k = ir_slot(m, name, SLOT_OUTPUT, v->dt, v->shape, L);
	m->slot[k].io = io;
	ir_store(fn, k, v, L);
	return k;
}

Node *state_in(Module *m, Fn *fn, const char *name, SlotRole role, DType dt, Shape s, int *slot)
{
	int k = -1;
	for (int i = 0; i < m->nslot; i++)
		if (strcmp(m->slot[i].name, name) == 0)
			k = i;
	if (k < 0)
		k = ir_slot(m, name, role, dt, s, L);
	if (slot)
		*slot = k;
	return ir_param(fn, m, k, L);
}

Node *hyper_in(Module *m, Fn *fn, const char *name, DType dt, int io)
{
	int k = ir_slot(m, name, SLOT_HYPER, dt, (Shape){ 0 }, L);
	m->slot[k].io = io;
	return ir_input(fn, m, k, L);
}

/* The simplest valid plan: no groups, every computed value in a buffer
 * of its own. */
static void plan_by_hand(Fn *fn)
{
	fn->ngroup = 0;
	fn->buf = calloc((size_t)fn->n, sizeof *fn->buf);
	fn->nbuf = 0;
	int64_t top[2] = { 0, 0 };
	for (int i = 0; i < fn->n; i++) {
		Node *n = fn->node[i];
		n->group = n->buf = n->home = -1;
		OpKind k = op_info[n->op].kind;
		if (k == K_LEAF || k == K_STORE || n->op == OP_reshape)
			continue;
		int batch = shape_has_batch(n->shape);
		int64_t size = (shape_per_sample(n->shape) * dtype_size(n->dt) + 63) / 64 * 64;
		fn->buf[fn->nbuf] = (Buffer){ .offset = top[batch], .size = size, .batch = batch };
		top[batch] += size;
		n->buf = fn->nbuf++;
	}
	fn->scratch_fixed = top[0];
	fn->scratch_per_sample = top[1];
}

static void sh(const char *cmd)
{
	if (system(cmd) != 0) {
		fprintf(stderr, "FAIL: %s\n", cmd);
		exit(1);
	}
}

Compiled compile(Module *m)
{
	if (!tmpdir[0]) {
		strcpy(tmpdir, "/tmp/nnc-codegen-XXXXXX");
		if (!mkdtemp(tmpdir))
			exit(1);
	}
	const char *obj = xprintf("%s/m%d.o", tmpdir, ncompiled);
	const char *so = xprintf("%s/m%d.so", tmpdir, ncompiled++);
	/* pipeline.c from fuse, or from plan_state after the plan by hand */
	Pipeline p = { .from = plan_mode == PLAN_PASSES ? "fuse" : "plan_state", .to = "emit", .verify = 1,
	               .object = obj, .opt_level = opt_level };
	Fn *fns[3] = { m->eval, m->grad, m->update };
	for (int i = 0; i < 3 && plan_mode == PLAN_HAND; i++)
		if (fns[i])
			plan_by_hand(fns[i]);
	pipeline_run(&p, m);
	if (p.status != 0) {
		fprintf(stderr, "FAIL: emit_object\n");
		exit(1);
	}
	/* the kernels compiled code calls (runtime/window.c, gather.c,
	 * softmax.c, gemm.c and pool.c under them; and arena.c, fault.c,
	 * progress.c and mpi.c, without MPI, for gather's error path), built
	 * in with the object */
	const char *src = getenv("SRCDIR") ? getenv("SRCDIR") : ".";
	sh(xprintf("cc -shared -fPIC -O2 -I%s/runtime -o %s %s %s/runtime/window.c %s/runtime/gather.c "
	           "%s/runtime/softmax.c %s/runtime/gemm.c %s/runtime/pool.c %s/runtime/arena.c %s/runtime/fault.c "
	           "%s/runtime/progress.c %s/runtime/mpi.c -lopenblas -lpthread -lm", src, so, obj, src, src, src, src,
	           src, src, src, src, src));
	Compiled c = { .m = m };
	c.so = dlopen(so, RTLD_NOW | RTLD_LOCAL);
	if (!c.so) {
		fprintf(stderr, "FAIL: dlopen: %s\n", dlerror());
		exit(1);
	}
	const char *names[3] = { "nnm_eval", "nnm_grad", "nnm_update" };
	for (int i = 0; i < 3; i++)
		*(void **)&c.fn[i] = dlsym(c.so, names[i]);
	c.descriptor = dlsym(c.so, "nnm_descriptor");
	if (!c.fn[0] || !c.fn[1] || !c.fn[2] || !c.descriptor) {
		fprintf(stderr, "FAIL: the object lacks a step function or the descriptor\n");
		exit(1);
	}
	if (strcmp(c.descriptor, describe(m)) != 0) {
		fprintf(stderr, "FAIL: nnm_descriptor differs from describe()\n");
		failures++;
	}
	c.state = calloc(1, (size_t)m->state_bytes + 64);
	return c;
}

void release(Compiled *c)
{
	free(c->state);
	dlclose(c->so);
	c->state = NULL, c->so = NULL;
}

void run(Compiled *c, int fn, int64_t batch, void **io, const double *hyper, double *loss)
{
	Fn *f = fn == 0 ? c->m->eval : fn == 1 ? c->m->grad : c->m->update;
	size_t bytes = f ? (size_t)(f->scratch_fixed + f->scratch_per_sample * batch) : 0;
	/* poison the scratch so a value read before it is written shows */
	char *scratch = malloc(bytes + 64);
	memset(scratch, 0xff, bytes + 64);
	nnrt_step s = { .batch = batch, .state = c->state, .scratch = scratch, .loss = NAN };
	for (int i = 0; io && i < NNRT_MAX_IO; i++)
		s.io[i] = io[i];
	for (int i = 0; hyper && i < NNRT_MAX_HYPER; i++)
		s.hyper[i] = hyper[i];
	c->fn[fn](&s);
	if (loss)
		*loss = s.loss;
	free(scratch);
}

void state_set(Compiled *c, int slot, const double *v)
{
	const Slot *s = &c->m->slot[slot];
	int64_t n = shape_numel(s->shape, 1);
	void *t = tensor_new(s->dt, n, v);
	memcpy(c->state + s->offset, t, (size_t)(n * dtype_size(s->dt)));
	free(t);
}

void state_get(Compiled *c, int slot, double *v)
{
	const Slot *s = &c->m->slot[slot];
	for (int64_t i = 0; i < shape_numel(s->shape, 1); i++)
		v[i] = tensor_at(s->dt, c->state + s->offset, i);
}

void *tensor_new(DType dt, int64_t n, const double *v)
{
	char *p = calloc((size_t)n + 1, 8);
	for (int64_t i = 0; v && i < n; i++) {
		if (dt == DT_F64)
			((double *)p)[i] = v[i];
		else if (dt == DT_F32)
			((float *)p)[i] = (float)v[i];
		else
			((int32_t *)p)[i] = (int32_t)v[i];
	}
	return p;
}

double tensor_at(DType dt, const void *p, int64_t i)
{
	return dt == DT_F64 ? ((const double *)p)[i] : dt == DT_F32 ? ((const float *)p)[i]
		: ((const int32_t *)p)[i];
}

/* Tolerances by the precision the kernel computed in. */
void check_vals(const char *what, DType dt, const double *want, const double *got, int64_t n)
{
	double tol = dt == DT_F64 ? 1e-12 : 1e-4;
	for (int64_t i = 0; i < n; i++) {
		double g = got[i], w = want[i];
		int ok = (isnan(w) && isnan(g)) || (isinf(w) && g == w) || fabs(g - w) <= tol * (1 + fabs(w));
		if (!ok) {
			fprintf(stderr, "FAIL: %s [%s plan, %s]: element %lld is %.9g, expected %.9g\n", what,
				plan_mode == PLAN_HAND ? "hand" : "passes", dtype_name(dt), (long long)i, g, w);
			failures++;
			return;
		}
	}
}

void check_near(const char *what, DType dt, const double *want, const void *got, int64_t n)
{
	double *g = malloc(sizeof *g * (size_t)(n + 1));
	for (int64_t i = 0; i < n; i++)
		g[i] = tensor_at(dt, got, i);
	check_vals(what, dt, want, g, n);
	free(g);
}
