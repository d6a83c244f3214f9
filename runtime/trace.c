/* trace.c — `trace`: one training step, line by line, with its values.
 *
 * A trainer carries its step as `nnc --emit=grad` printed it (nnm_listing,
 * kept by compiler/pipeline.c before any pass renumbers or fuses).  trace
 * reads it back (compiler/ir/read.c), gives it the parameters (--load, or
 * the seeded initial ones) and the batch training takes at that step —
 * picked by train.c's and shard.c's own functions, so the epoch's order,
 * augmentation, masks, the learning rate and dropout's draws are those of
 * the run — runs it on the reference interpreter in double
 * (compiler/ir/interp.c), and prints the listing again through its own
 * printer with each value on a comment line under its line: the numbers
 * in the numbering a student reads.  The compiled step then runs on the
 * same batch, and the last lines compare the two. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "nnrt_internal.h"
#include "ir.h"
#include "interp.h"

typedef struct Trace {
	const Module *m;
	const Fn *fn[2];           /* grad, update */
	double **val[2];           /* their values by node id */
	int64_t batch;
	int64_t values;            /* --values: how many of a tensor's values to print */
	int digits;                /* --digits */
} Trace;

/* ---- the values under each line ----------------------------------------- */

static void put_number(FILE *out, double v, int integral, int digits)
{
	if (integral && isfinite(v))
		fprintf(out, "%lld", (long long)v);
	else
		fprintf(out, "%.*g", digits, v);
}

/* "[64,10]": the shape at this batch */
static void put_shape(FILE *out, Shape s, int64_t batch)
{
	fputc('[', out);
	for (int i = 0; i < s.rank; i++)
		fprintf(out, "%s%lld", i ? "," : "", (long long)(s.d[i] == DIM_BATCH ? batch : s.d[i]));
	fputs("] ", out);
}

/* "[64,10] min -1.2 mean 0.03 max 2.1: 0.5 -0.25 ..."; a scalar is its
 * value alone, a tensor of one element its shape and value. */
static void put_summary(FILE *out, const Trace *tr, const Node *n, const double *v)
{
	int integral = n->dt == DT_I32;
	int64_t count = shape_numel(n->shape, tr->batch);
	if (n->shape.rank > 0)
		put_shape(out, n->shape, tr->batch);
	if (count == 1) {
		put_number(out, v[0], integral, tr->digits);
		return;
	}
	double lo = INFINITY, hi = -INFINITY, sum = 0;
	int64_t bad = 0;
	for (int64_t i = 0; i < count; i++) {
		if (!isfinite(v[i])) {
			bad++;
			continue;
		}
		lo = v[i] < lo ? v[i] : lo;
		hi = v[i] > hi ? v[i] : hi;
		sum += v[i];
	}
	if (bad < count) {
		fputs("min ", out);
		put_number(out, lo, integral, tr->digits);
		fprintf(out, " mean %.*g max ", tr->digits, sum / (double)(count - bad));
		put_number(out, hi, integral, tr->digits);
	}
	if (bad)
		fprintf(out, "%s%lld not finite", bad < count ? ", " : "", (long long)bad);
	if (tr->values > 0)
		fputc(':', out);
	for (int64_t i = 0; i < count && i < tr->values; i++) {
		fputc(' ', out);
		put_number(out, v[i], integral, tr->digits);
	}
	if (count > tr->values && tr->values > 0)
		fputs(" ...", out);
}

/* ir_print's hook: a line of grad or update gets its value (a store the
 * value it stores); the lines of a scan's body, run once per step, none. */
static void value_line(FILE *out, const Fn *fn, const Node *n, int indent, void *ctx)
{
	const Trace *tr = ctx;
	int f = fn == tr->fn[0] ? 0 : fn == tr->fn[1] ? 1 : -1;
	if (f < 0 || !tr->val[f] || n->op == OP_yield)
		return;
	const double *v = n->op == OP_store ? tr->val[f][n->in[0]->id] : tr->val[f][n->id];
	if (!v)
		return;
	fprintf(out, "%*s; ", indent, "");
	put_summary(out, tr, n, v);
	fputc('\n', out);
}

/* ---- the step's inputs ---------------------------------------------------- */

static double element(const void *p, RtDType dt, int64_t i)
{
	return dt == RT_F32 ? ((const float *)p)[i] : dt == RT_F64 ? ((const double *)p)[i] : ((const int32_t *)p)[i];
}

static void copy_in(double *to, const void *from, RtDType dt, int64_t n)
{
	for (int64_t i = 0; i < n; i++)
		to[i] = element(from, dt, i);
}

static const RtTensor *tensor_named(const RtDesc *d, const char *name)
{
	for (int i = 0; i < d->ntensor; i++)
		if (!strcmp(d->tensor[i].name, name))
			return &d->tensor[i];
	return NULL;
}

static const RtIo *io_named(const RtDesc *d, const char *name)
{
	for (int i = 0; i < d->nio; i++)
		if (!strcmp(d->io[i].name, name))
			return &d->io[i];
	return NULL;
}

static _Noreturn void disagree(const char *slot, const char *why)
{
	rt_fatal(RT_EXIT_INTERNAL, "trace: the listing's '%s' %s (the listing and the descriptor disagree)", slot, why);
}

/* Every slot the listing reads, from the state block, the batch's io
 * buffers or the step's hyper-parameters; outputs stay zero. */
static void fill_slots(const RtTrainer *t, const Module *m, double **slot, const nnrt_step *s, int64_t batch)
{
	for (int k = 0; k < m->nslot; k++) {
		const Slot *sl = &m->slot[k];
		int64_t n = shape_numel(sl->shape, batch);
		if (sl->role == SLOT_PARAM || sl->role == SLOT_GRAD || sl->role == SLOT_OPTSTATE || sl->role == SLOT_BUFFER) {
			const RtTensor *x = tensor_named(t->d, sl->name);
			if (!x || x->count != n)
				disagree(sl->name, x ? "has another size" : "is no tensor of the descriptor");
			copy_in(slot[k], t->state + x->offset, x->dt, n);
		} else if (sl->role == SLOT_INPUT || sl->role == SLOT_TARGET) {
			const RtIo *io = io_named(t->d, sl->name);
			if (!io || io->per_sample * batch != n)
				disagree(sl->name, io ? "has another size" : "is no io of the descriptor");
			copy_in(slot[k], t->io[io->io], io->dt, n);
		} else if (sl->role == SLOT_HYPER) {
			int lr = !strcmp(sl->name, "lr");
			if (!lr && strcmp(sl->name, "step"))
				disagree(sl->name, "is no hyper-parameter the runtime knows");
			int h = lr ? t->d->hyper_lr : t->d->hyper_step;
			double v = s->hyper[h >= 0 ? h : lr ? NNRT_HYPER_LR : NNRT_HYPER_STEP];
			slot[k][0] = sl->dt == DT_F32 ? (float)v : v;   /* as compiled code reads it */
		}
	}
}

/* uniform as compiled code draws it (random.c): the float type's bits */
static void runtime_uniform(double *y, int64_t n, DType dt, int64_t stream, double step)
{
	if (dt == DT_F64) {
		nnrt_uniform_f64(y, n, stream, step);
		return;
	}
	float *f = rt_alloc(sizeof(float) * (size_t)(n ? n : 1));
	nnrt_uniform_f32(f, n, stream, step);
	copy_in(y, f, RT_F32, n);
	free(f);
}

/* ---- which step ----------------------------------------------------------- */

/* --step N as given; --batch-index I in the epoch the next step is in;
 * else the next step (the loaded checkpoint's steps, plus one). */
static int64_t chosen_step(const RtTrainer *t, const RtData *data, int64_t nb)
{
	const RtOptions *o = &t->opt;
	if (o->trace_batch >= 0 && o->trace_batch >= nb)
		rt_fatal(RT_EXIT_USAGE, "--batch-index %lld: an epoch of data source '%s' has %lld batch%s of %lld "
		         "(indices 0 to %lld)", (long long)o->trace_batch, data->name, (long long)nb, nb == 1 ? "" : "es",
		         (long long)o->batch, (long long)nb - 1);
	if (o->trace_batch >= 0)
		return t->step / nb * nb + o->trace_batch + 1;
	return o->trace_step > 0 ? o->trace_step : t->step + 1;
}

static void header(const RtTrainer *t, int64_t step, int64_t nb, int64_t count, double lr, int64_t done)
{
	printf("; trace of %s, training step %lld: epoch %lld, batch index %lld of %lld (%lld samples from position "
	       "%lld of the epoch's order), lr %.*g\n", t->d->model, (long long)step, (long long)t->epoch + 1,
	       (long long)t->position, (long long)nb, (long long)count, (long long)(t->position * t->opt.batch),
	       t->opt.trace_digits, lr);
	if (t->opt.load)
		printf("; parameters: %s, saved after step %lld\n", t->opt.load, (long long)done);
	else
		printf("; parameters: the initial ones (seed %lld)\n", (long long)t->opt.seed);
	printf("; values computed in double by the reference interpreter, each under its line: a scalar,\n"
	       "; or [shape] min mean max: the first %lld values (--values N, --digits D)\n",
	       (long long)t->opt.trace_values);
}

/* The compiled step on the same batch, against what grad's stores stored
 * in the trace (the slots themselves hold the update's by now). */
static void compare(RtTrainer *t, const Trace *tr, nnrt_step *s)
{
	t->model->grad(s);
	double worst = 0, largest = 0, traced_loss = NAN;
	for (int i = 0; i < tr->fn[0]->n; i++) {
		const Node *n = tr->fn[0]->node[i];
		const Slot *sl = n->op == OP_store ? &tr->m->slot[n->slot] : NULL;
		if (!sl || (sl->role != SLOT_LOSS && sl->role != SLOT_GRAD))
			continue;
		const double *x = tr->val[0][n->in[0]->id];
		if (sl->role == SLOT_LOSS) {
			traced_loss = x[0];
			continue;
		}
		const RtTensor *g = tensor_named(t->d, sl->name);
		for (int64_t k = 0; k < g->count; k++) {
			double c = element(t->state + g->offset, g->dt, k);
			worst = fabs(c - x[k]) > worst ? fabs(c - x[k]) : worst;
			largest = fabs(x[k]) > largest ? fabs(x[k]) : largest;
		}
	}
	printf("; loss %.*g (the compiled step: %.*g)\n", tr->digits, traced_loss, tr->digits, s->loss);
	printf("; gradients: the compiled step's differ by at most %.3g", worst);
	if (largest > 0)
		printf(", %.3g of the largest gradient (%.3g)", worst / largest, largest);
	printf("\n");
}

int rt_trace(RtTrainer *t)
{
	const RtDesc *d = t->d;
	if (t->stages)
		rt_fatal(RT_EXIT_USAGE, "trace runs on trainers without training stages; this one has %s: trace "
		         "the stage's model in a train block of its own", rt_stages_layout(t->stages));
	if (!t->model->listing || !*t->model->listing)
		rt_fatal(RT_EXIT_INTERNAL, "trace: this trainer holds no listing of its step (its object file was "
		         "written without one); compile the model again");
	if (t->opt.shards > 1)
		rt_fatal(RT_EXIT_USAGE, "--shards %lld: trace runs the batch as one shard", (long long)t->opt.shards);
	int64_t done = t->step;
	RtData *data = rt_train_source(t);
	rt_check_min_batch(t, t->opt.batch, data);
	t->augment = rt_augment_new(rt_desc_source(d, d->train_source), data);
	t->perm = rt_alloc(sizeof(int64_t) * (size_t)data->n);
	int64_t nb = rt_epoch_batches(t, data), step = chosen_step(t, data, nb);
	t->epoch = (step - 1) / nb;
	t->position = (step - 1) % nb;
	t->step = step;
	rt_epoch_start(t, data);
	int64_t count = rt_batch_count(t, data, t->position);
	double lr = rt_step_lr(t, t->position, nb);
	nnrt_step s;
	rt_batch_prepare(t, data, t->position * t->opt.batch, count, lr, &s);

	Module *m = ir_read_text("listing", t->model->listing, strlen(t->model->listing));
	double **slot = interp_slots(m, count);
	fill_slots(t, m, slot, &s, count);
	interp_set_uniform(runtime_uniform);
	Trace tr = { .m = m, .fn = { m->grad, m->update }, .batch = count, .values = t->opt.trace_values,
	             .digits = t->opt.trace_digits };
	tr.val[0] = interp_run(m, m->grad, slot, count, 1);
	if (m->update)
		tr.val[1] = interp_run(m, m->update, slot, count, 1);
	header(t, step, nb, count, lr, done);
	ir_print_hook(value_line, &tr);
	ir_print_module(stdout, m, "grad");
	ir_print_hook(NULL, NULL);
	compare(t, &tr, &s);
	interp_free_values(m->grad, tr.val[0]);
	interp_free_values(m->update, tr.val[1]);
	interp_free_slots(m, slot);
	return fflush(stdout) == 0 ? 0 : RT_EXIT_IO;
}
