/* desc.c — the model descriptor: the text runtime/nnrt.h specifies,
 * compiled into the trainer as nnm_descriptor.
 *
 * Precisions of the format (also stated in nnrt.h):
 *   - A tensor's init fields are on the tensor's own line; they appear
 *     for SLOT_PARAM tensors with an initializer, always all six.
 *   - io, hyper, loss and tensor lines follow slot order; the loss line
 *     only says where the loss was written (its value goes to
 *     nnrt_step.loss).  A param's or buffer's at="FILE:LINE" (last on
 *     its line) and the loss's are the source locations the trainer
 *     quotes when a value turns non-finite; absent when the location is.
 *   - Strings are quoted when they are paths or data arguments; the
 *     escapes are \" \\ \n \t \r and \xHH for other control bytes (and
 *     for a hex digit right after one, which would extend it).
 *     Names (model, tensors, sources) are bare words.
 *   - Numbers are printed with %.17g (exact on reading back with strtod);
 *     integers with %lld.
 *   - The words of the training records (source kinds and keys, init
 *     kinds, optimizers, schedules and their keys, metrics) are
 *     runtime/nnrt_vocab.h's, the table the runtime parses them by;
 *     optimizer and schedule lines give every key, in its order.
 *   - batch, epochs, seed appear only when set (nnc always sets them);
 *     the runtime's defaults apply otherwise.
 *   - flops lines follow the scratch lines, one per function, then the
 *     layer lines in the order of the model (summary.c says what a
 *     layer is and how FLOPs are counted); a layer's NAME is quoted.
 *   - signature: 64-bit FNV-1a (offset basis 0xcbf29ce484222325, prime
 *     0x100000001b3) over, for each io and tensor line in order, the
 *     words NAME ROLE DTYPE SHAPE exactly as printed, each followed by one
 *     '\n' byte; printed as 16 lower-case hex digits.  A checkpoint or
 *     trainer built for another tensor table has another signature. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ir.h"

static const char *role_word(SlotRole r)
{
	switch (r) {
	case SLOT_PARAM: return "param";
	case SLOT_GRAD: return "grad";
	case SLOT_OPTSTATE: return "state";
	case SLOT_INPUT: return "input";
	case SLOT_TARGET: return "target";
	case SLOT_OUTPUT: return "output";
	case SLOT_LOSS: return "loss";
	case SLOT_HYPER: return "hyper";
	case SLOT_BUFFER: return "buffer";
	}
	return "?";
}

/* The value of each optimizer and schedule key of nnrt_vocab.h */
static double opt_value(const Config *c, nnrt_opt_key k)
{
	switch (k) {
	case NNRT_OPTK_LR: return c->lr;
	case NNRT_OPTK_MOMENTUM: return c->momentum;
	case NNRT_OPTK_NESTEROV: return c->nesterov ? 1 : 0;
	case NNRT_OPTK_WEIGHT_DECAY: return c->weight_decay;
	case NNRT_OPTK_BETA1: return c->beta1;
	case NNRT_OPTK_BETA2: return c->beta2;
	case NNRT_OPTK_EPS: return c->eps;
	case NNRT_OPTK_CLIP: return c->clip;
	case NNRT_OPTK__COUNT: break;
	}
	fatal(EXIT_INTERNAL, "desc: optimizer key %d", (int)k);
}

static double sched_value(const Config *c, nnrt_sched_key k)
{
	switch (k) {
	case NNRT_SCHEDK_WARMUP: return c->warmup;
	case NNRT_SCHEDK_STEP_SIZE: return c->step_size;
	case NNRT_SCHEDK_GAMMA: return c->gamma;
	case NNRT_SCHEDK_MIN_LR: return c->min_lr;
	case NNRT_SCHEDK__COUNT: break;
	}
	fatal(EXIT_INTERNAL, "desc: schedule key %d", (int)k);
}

static int is_io(SlotRole r) { return r == SLOT_INPUT || r == SLOT_TARGET || r == SLOT_OUTPUT; }
static int is_state(SlotRole r) { return slot_is_state(r); }

static void put_quoted(FILE *f, const char *s)
{
	int hex_escape = 0;
	fputc('"', f);
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': fputs("\\\"", f); break;
		case '\\': fputs("\\\\", f); break;
		case '\n': fputs("\\n", f); break;
		case '\t': fputs("\\t", f); break;
		case '\r': fputs("\\r", f); break;
		default:
			/* after \xHH a hex digit would extend the escape: escape it too */
			if (*p < 0x20 || *p == 0x7f || (hex_escape && isxdigit(*p))) {
				fprintf(f, "\\x%02x", *p);
				hex_escape = 1;
				continue;
			}
			fputc(*p, f);
		}
		hex_escape = 0;
	}
	fputc('"', f);
}

static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return (h ^ '\n') * 0x100000001b3ull;
}

static uint64_t signature(const Module *m)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (int i = 0; i < m->nslot; i++) {
		const Slot *s = &m->slot[i];
		if (!is_io(s->role) && !is_state(s->role))
			continue;
		h = fnv1a(h, s->name);
		h = fnv1a(h, role_word(s->role));
		h = fnv1a(h, dtype_name(s->dt));
		h = fnv1a(h, shape_str(s->shape));
	}
	return h;
}

/* " at=\"FILE:LINE\"": where a parameter or the loss was written, so the
 * trainer can name the source line of a non-finite value. */
static void put_at(FILE *f, const char *key, Loc loc)
{
	if (loc.line <= 0 || !loc.file)
		return;
	fprintf(f, " %s=", key);
	put_quoted(f, xprintf("%s:%d", loc.file, loc.line));
}

static void put_tensor(FILE *f, const Module *m, const Slot *s)
{
	Shape sh = s->shape;   /* a carried state holds one row per sample of the training batch */
	for (int i = 0; i < sh.rank; i++)
		if (sh.d[i] == DIM_BATCH)
			sh.d[i] = m->cfg.batch;
	fprintf(f, "tensor %s %s %s %s offset=%lld", s->name, role_word(s->role), dtype_name(s->dt),
	        shape_str(sh), (long long)s->offset);
	if (s->role != SLOT_PARAM && s->of >= 0 && s->of < m->nslot)
		fprintf(f, " of=%s", m->slot[s->of].name);
	const Init *in = &s->init;
	if ((s->role == SLOT_PARAM || s->role == SLOT_BUFFER) && in->kind != INIT_NONE)
		fprintf(f, " init=%s a=%.17g b=%.17g gain=%.17g fan_in=%lld fan_out=%lld", nnrt_init_word[in->kind],
		        in->a, in->b, in->gain, (long long)in->fan_in, (long long)in->fan_out);
	if (s->role == SLOT_PARAM || s->role == SLOT_BUFFER)
		put_at(f, "at", s->loc);
	fputc('\n', f);
}

static void put_slots(FILE *f, const Module *m)
{
	for (int i = 0; i < m->nslot; i++) {
		const Slot *s = &m->slot[i];
		if (is_io(s->role))
			fprintf(f, "io %s %s %s %s io=%d\n", s->name, role_word(s->role), dtype_name(s->dt),
			        shape_str(s->shape), s->io);
		else if (s->role == SLOT_HYPER)
			fprintf(f, "hyper %s io=%d\n", s->name, s->io);
		else if (s->role == SLOT_LOSS && s->loc.line > 0) {
			fputs("loss", f);
			put_at(f, "at", s->loc);
			fputc('\n', f);
		}
	}
	if (m->output_is)
		fprintf(f, "output_is %s\n", m->output_is);
	if (m->carry_batch) {
		fprintf(f, "carry_batch %lld", (long long)m->cfg.batch);
		put_at(f, "at", m->carry_at);
		fputc('\n', f);
	}
	if (m->min_batch > 1) {
		fprintf(f, "min_batch %lld", (long long)m->min_batch);
		put_at(f, "at", m->min_batch_at);
		fputc('\n', f);
	}
	for (int i = 0; i < m->nslot; i++)
		if (is_state(m->slot[i].role))
			put_tensor(f, m, &m->slot[i]);
	fprintf(f, "state_bytes %lld\n", (long long)m->state_bytes);
	const Fn *fns[] = { m->eval, m->grad, m->update };
	for (int i = 0; i < 3; i++)
		if (fns[i])
			fprintf(f, "scratch %s fixed=%lld per_sample=%lld\n", fns[i]->name,
			        (long long)fns[i]->scratch_fixed, (long long)fns[i]->scratch_per_sample);
}

/* The FLOPs of each function and the layer table (summary.c). */
static void put_summary(FILE *f, const Module *m)
{
	Summary s = summarize(m);
	const Fn *fns[] = { m->eval, m->grad, m->update };
	const Flops *flops[] = { &s.eval, &s.grad, &s.update };
	for (int i = 0; i < 3; i++)
		if (fns[i])
			fprintf(f, "flops %s fixed=%lld per_sample=%lld\n", fns[i]->name,
			        (long long)flops[i]->fixed, (long long)flops[i]->per_sample);
	for (int i = 0; i < s.nlayer; i++) {
		const Layer *l = &s.layer[i];
		fputs("layer ", f);
		put_quoted(f, l->name);
		fprintf(f, " %s params=%lld flops_fixed=%lld flops_per_sample=%lld\n", shape_str(l->shape),
		        (long long)l->params, (long long)l->flops.fixed, (long long)l->flops.per_sample);
	}
}

static void put_data(FILE *f, const DataSource *d)
{
	fprintf(f, "data %s %s", d->name, nnrt_source_word[d->kind]);
	for (int k = 0; k < d->narg; k++) {
		fprintf(f, " %s=", d->arg[k].key);
		if (d->arg[k].is_str)
			put_quoted(f, d->arg[k].str);
		else
			fprintf(f, "%.17g", d->arg[k].num);
	}
	fputc('\n', f);
}

static void put_config(FILE *f, const Config *c)
{
	for (int i = 0; i < c->ndata; i++)
		put_data(f, &c->data[i]);
	if (c->train_source)
		fprintf(f, "train_source %s\n", c->train_source);
	fprintf(f, "optimizer %s", nnrt_optimizer_word[c->optimizer]);
	for (int k = 0; k < NNRT_OPTK__COUNT; k++)
		if (k != NNRT_OPTK_CLIP || c->clip != 0)
			fprintf(f, " %s=%.17g", nnrt_opt_key_word[k], opt_value(c, (nnrt_opt_key)k));
	fprintf(f, "\nschedule %s", nnrt_schedule_word[c->schedule]);
	for (int k = 0; k < NNRT_SCHEDK__COUNT; k++)
		fprintf(f, " %s=%.17g", nnrt_sched_key_word[k], sched_value(c, (nnrt_sched_key)k));
	fputc('\n', f);
	if (c->batch > 0)
		fprintf(f, "batch %lld\n", (long long)c->batch);
	if (c->epochs > 0)
		fprintf(f, "epochs %lld\n", (long long)c->epochs);
	if (c->seed >= 0)
		fprintf(f, "seed %lld\n", (long long)c->seed);
	for (int i = 0; i < c->nreport; i++)
		fprintf(f, "report %s %s\n", nnrt_metric_word[c->report_metric[i]], c->report_source[i]);
}

const char *describe(const Module *m)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		fatal(EXIT_NOMEM, "out of memory writing the model descriptor");
	fprintf(f, "nnc-model 1\nmodel %s\nsource ", m->model ? m->model : "model");
	put_quoted(f, m->source ? m->source : "");
	fprintf(f, "\nprecision %s\nsignature %016llx\n", dtype_name(m->precision),
	        (unsigned long long)signature(m));
	put_slots(f, m);
	put_summary(f, m);
	put_config(f, &m->cfg);
	fputs("end\n", f);
	if (fclose(f) != 0)
		fatal(EXIT_NOMEM, "out of memory writing the model descriptor");
	char *copy = xstrdup(text);
	free(text);
	return copy;
}
