/* stages.c — a trainer of several training stages (nn(5), "Stages";
 * docs/design.md): each stage is a model of its own (a descriptor and
 * its eval, grad and update, nnrt_stage), and all of them share one set
 * of parameters, matched by name.
 *
 * The shared set ("the base") holds every parameter and buffer of every
 * stage, each initialized from its name and the seed as a trainer without
 * stages would.  A stage's trainer takes its tensors from the base before
 * it runs and gives them back after; a tensor it freezes (a buffer of its
 * descriptor) it only reads.  A checkpoint holds the base, the optimizer
 * state of the stage that was running, and in its metadata the stages in
 * order ("stages") and which one was running ("stage") with its step and
 * epoch, so `train --load` goes on where training stood, mid-stage
 * included, and writes the bytes a straight run writes.  A checkpoint of
 * another layout of stages is refused before anything is written. */
#include <stdlib.h>
#include <string.h>
#include "nnrt_internal.h"

struct RtStages {
	int n;
	const nnrt_stage *table;
	RtModel *model;            /* per stage */
	RtDesc **desc;
	RtDesc **layout;           /* per stage, made when first needed: what its checkpoints hold */
	char **block;              /* and their values */
	RtDesc base;               /* the tensors they share: parameters and buffers, once a name */
	char *state;               /* the base's values */
	char *names;               /* the stages' names, space-separated */
	char signature[17];        /* of the layout and every stage's signature */
};

static RtTensor *base_find(RtDesc *b, const char *name)
{
	for (int i = 0; i < b->ntensor; i++)
		if (!strcmp(b->tensor[i].name, name))
			return &b->tensor[i];
	return NULL;
}

/* Every stage's parameters and buffers, once a name, laid out in order;
 * nnc names a tensor by its declaration, so one name has one shape. */
static void add_to_base(RtStages *s, const RtDesc *d)
{
	RtDesc *b = &s->base;
	for (int i = 0; i < d->ntensor; i++) {
		const RtTensor *t = &d->tensor[i];
		if (t->role != RT_PARAM && t->role != RT_BUFFER)
			continue;
		RtTensor *have = base_find(b, t->name);
		if (have && (have->dt != t->dt || have->count != t->count))
			rt_fatal(RT_EXIT_INTERNAL, "stages disagree on the tensor %s (nnc and libnnrt disagree)", t->name);
		if (have)
			continue;
		b->tensor = rt_realloc(b->tensor, sizeof *b->tensor * (size_t)(b->ntensor + 1));
		RtTensor *u = &b->tensor[b->ntensor++];
		*u = *t;
		u->role = RT_PARAM;
		u->offset = b->state_bytes;
		b->state_bytes += (t->count * rt_dtype_size(t->dt) + 63) / 64 * 64;
	}
}

static uint64_t fnv(uint64_t h, const char *p)
{
	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ULL;
	return h;
}

RtStages *rt_stages_new(const nnrt_stage *table, int n, const RtOptions *opt)
{
	RtStages *s = rt_alloc(sizeof *s);
	*s = (RtStages){.n = n, .table = table, .model = rt_alloc(sizeof(RtModel) * (size_t)n),
	                .desc = rt_alloc(sizeof(RtDesc *) * (size_t)n), .layout = rt_alloc(sizeof(RtDesc *) * (size_t)n),
	                .block = rt_alloc(sizeof(char *) * (size_t)n), .names = rt_strdup("")};
	uint64_t h = 1469598103934665603ULL;
	for (int k = 0; k < n; k++) {
		char err[256];
		s->model[k] = (RtModel){table[k].eval, table[k].grad, table[k].update, table[k].descriptor,
		                        NULL};   /* no listing: trace runs on trainers without stages */
		s->desc[k] = rt_desc_parse(table[k].descriptor, err, sizeof err);
		if (!s->desc[k])
			rt_fatal(RT_EXIT_INTERNAL, "the descriptor of stage %s is malformed: %s (nnc and libnnrt disagree)",
			         table[k].name, err);
		add_to_base(s, s->desc[k]);
		s->names = rt_printf("%s%s%s", s->names, k ? " " : "", table[k].name);
		h = fnv(fnv(h, table[k].name), s->desc[k]->signature);
	}
	snprintf(s->signature, sizeof s->signature, "%016llx", (unsigned long long)h);
	s->base.model = s->desc[n - 1]->model;
	memcpy(s->base.signature, s->signature, sizeof s->signature);
	s->state = rt_alloc_aligned((size_t)s->base.state_bytes + 64);
	for (int i = 0; i < s->base.ntensor; i++)
		rt_init_tensor(&s->base.tensor[i], s->state, opt->seed);
	return s;
}

const char *rt_stages_layout(const RtStages *s) { return s->names; }

/* Copies the tensors a trainer shares with the base: in (base to trainer)
 * or out (trainer to base; a frozen parameter comes back unchanged). */
static void share(RtStages *s, RtTrainer *t, int out)
{
	const RtDesc *d = t->d;
	for (int i = 0; i < d->ntensor; i++) {
		const RtTensor *x = &d->tensor[i];
		const RtTensor *b = x->role == RT_PARAM || x->role == RT_BUFFER ? base_find(&s->base, x->name) : NULL;
		if (!b)
			continue;
		size_t bytes = (size_t)(x->count * rt_dtype_size(x->dt));
		if (out)
			memcpy(s->state + b->offset, t->state + x->offset, bytes);
		else
			memcpy(t->state + x->offset, s->state + b->offset, bytes);
	}
}

/* The checkpoint's tensors while stage k runs: the base, then stage k's
 * optimizer state (in *state, after a copy of the base's values); made
 * once a stage, so that saving every epoch allocates nothing. */
static RtDesc *stage_layout(RtStages *s, int k, char **state)
{
	if (s->layout[k]) {
		*state = s->block[k];
		memcpy(*state, s->state, (size_t)s->base.state_bytes);
		return s->layout[k];
	}
	RtDesc *d = s->layout[k] = rt_alloc(sizeof *d);
	*d = s->base;
	const RtDesc *sd = s->desc[k];
	d->tensor = rt_alloc(sizeof *d->tensor * (size_t)(s->base.ntensor + sd->ntensor));
	memcpy(d->tensor, s->base.tensor, sizeof *d->tensor * (size_t)s->base.ntensor);
	for (int i = 0; i < sd->ntensor; i++)
		if (sd->tensor[i].role == RT_STATE) {
			RtTensor *u = &d->tensor[d->ntensor++];
			*u = sd->tensor[i];
			u->offset = d->state_bytes;
			d->state_bytes += (u->count * rt_dtype_size(u->dt) + 63) / 64 * 64;
		}
	*state = s->block[k] = rt_alloc_aligned((size_t)d->state_bytes + 64);
	memcpy(*state, s->state, (size_t)s->base.state_bytes);
	return d;
}

/* Optimizer state between a trainer and a stage layout's block. */
static void share_optimizer(const RtDesc *layout, char *block, RtTrainer *t, int out)
{
	for (int i = 0; i < t->d->ntensor; i++) {
		const RtTensor *x = &t->d->tensor[i];
		for (int j = 0; x->role == RT_STATE && j < layout->ntensor; j++)
			if (layout->tensor[j].role == RT_STATE && !strcmp(layout->tensor[j].name, x->name)) {
				size_t bytes = (size_t)(x->count * rt_dtype_size(x->dt));
				if (out)
					memcpy(block + layout->tensor[j].offset, t->state + x->offset, bytes);
				else
					memcpy(t->state + x->offset, block + layout->tensor[j].offset, bytes);
			}
	}
}

void rt_stages_save(RtTrainer *t, const char *path, RtMeta *meta)
{
	RtStages *s = t->stages;
	share(s, t, 1);
	char *block;
	RtDesc *d = stage_layout(s, t->stage, &block);
	share_optimizer(d, block, t, 1);
	rt_meta_set(meta, "model", s->base.model);
	rt_meta_set(meta, "signature", s->signature);
	rt_meta_set(meta, "stages", s->names);
	rt_meta_set(meta, "stage", s->table[t->stage].name);
	rt_checkpoint_save(path, d, block, meta);
}

static int stage_index(const RtStages *s, const char *name)
{
	for (int k = 0; name && k < s->n; k++)
		if (!strcmp(s->table[k].name, name))
			return k;
	return -1;
}

/* Reads path into the base; returns the stage that was running and its
 * layout's block (optimizer state) in *block, the metadata in *m. */
static int load_base(RtStages *s, const char *path, RtMeta *m, RtDesc **layout, char **block)
{
	char err[512];
	if (rt_checkpoint_meta(path, m, err, sizeof err) < 0)
		rt_fatal(RT_EXIT_IO, "%s", err);
	const char *stages = rt_meta_get(m, "stages"), *model = rt_meta_get(m, "model");
	if (!stages)
		rt_fatal(RT_EXIT_IO, "%s: a checkpoint of model '%s' without stages, but this trainer trains in the "
		         "stages '%s'", path, model ? model : "?", s->names);
	if (strcmp(stages, s->names))
		rt_fatal(RT_EXIT_IO, "%s: a checkpoint of the stages '%s', but this trainer's are '%s' (another layout "
		         "of stages)", path, stages, s->names);
	int k = stage_index(s, rt_meta_get(m, "stage"));
	if (k < 0)
		rt_fatal(RT_EXIT_IO, "%s: metadata 'stage' names no stage of '%s'", path, s->names);
	const char *sig = rt_meta_get(m, "signature");
	if (!sig || strcmp(sig, s->signature))
		rt_fatal(RT_EXIT_IO, "%s: a checkpoint of the stages '%s' as another program declares them (signature "
		         "%s, this trainer's %s): a stage's model, its inputs or outputs, or what it updates differ",
		         path, stages, sig ? sig : "(none)", s->signature);
	*m = (RtMeta){0};
	*layout = stage_layout(s, k, block);
	if (rt_checkpoint_load(path, *layout, *block, m, err, sizeof err) < 0)
		rt_fatal(RT_EXIT_IO, "%s", err);
	memcpy(s->state, *block, (size_t)s->base.state_bytes);
	return k;
}

void rt_stages_load(RtTrainer *t, const char *path)
{
	RtMeta m = {0};
	RtDesc *layout;
	char *block;
	load_base(t->stages, path, &m, &layout, &block);
	share(t->stages, t, 0);
	rt_take_vocab(t, &m, path, "the checkpoint");
}

/* run.csv -> run.rbm1.csv: each stage's log a file of its own */
static const char *stage_file(const char *path, const char *stage)
{
	if (!path)
		return NULL;
	const char *slash = strrchr(path, '/'), *dot = strrchr(path, '.');
	if (!dot || (slash && dot < slash) || dot == (slash ? slash + 1 : path))
		return rt_printf("%s.%s", path, stage);
	return rt_printf("%.*s.%s%s", (int)(dot - path), path, stage, dot);
}

/* A stage's options: the command line's where given, else its own. */
static RtOptions stage_options(const RtDesc *d, const RtOptions *o, const char *stage)
{
	RtOptions k = *o;
	k.log = stage_file(o->log, stage);
	k.grad_norms = stage_file(o->grad_norms, stage);
	if (!o->has_epochs)
		k.epochs = d->epochs;
	if (!o->has_batch)
		k.batch = d->batch;
	if (!o->has_lr)
		k.lr = d->lr;
	return k;
}

static int run_stage(RtStages *s, int k, const RtOptions *o, const RtMeta *resume, const char *path,
                     const RtDesc *layout, char *block)
{
	RtOptions ok = stage_options(s->desc[k], o, s->table[k].name);
	RtTrainer t;
	rt_trainer_init(&t, &s->model[k], s->desc[k], &ok);
	memset(t.state, 0, (size_t)s->desc[k]->state_bytes);
	t.stages = s;
	t.stage = k;
	share(s, &t, 0);
	if (resume) {
		share_optimizer(layout, block, &t, 0);
		rt_resume_meta(&t, resume, path);
	}
	if (!o->quiet)
		printf("stage %s (%d of %d): model %s, %lld epochs\n", s->table[k].name, k + 1, s->n, s->desc[k]->model,
		       (long long)t.opt.epochs);
	int rc = rt_train(&t);
	share(s, &t, 1);
	return rc;
}

int rt_train_stages(RtStages *s, const RtOptions *opt)
{
	RtOptions o = *opt;
	RtMeta m = {0};
	RtDesc *layout = NULL;
	char *block = NULL;
	int first = 0, last = s->n - 1, loaded = -1;
	if (o.load) {
		loaded = first = load_base(s, o.load, &m, &layout, &block);
		const char *seed = rt_meta_get(&m, "seed");
		if (!o.has_seed && seed) {   /* the seed the checkpoint's run drew with, for every stage */
			o.seed = strtoll(seed, NULL, 10);
			rt_set_random_seed((uint64_t)o.seed);
		}
	}
	if (o.stage) {
		first = last = stage_index(s, o.stage);
		if (first < 0)
			rt_fatal(RT_EXIT_USAGE, "--stage %s: no such stage (the stages: %s)", o.stage, s->names);
	}
	for (int k = first; k <= last; k++) {
		int rc = run_stage(s, k, &o, k == loaded ? &m : NULL, o.load, layout, block);
		if (rc)
			return rc;
	}
	return 0;
}
