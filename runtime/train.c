/* train.c — the trainer: memory, parameter initialization, learning-rate
 * schedules, the training loop, evaluation, prediction and checkpoint
 * metadata.  Every random draw comes from a stream named by (seed, what):
 * parameter init per tensor name, the permutation per epoch, the
 * augmentation per (epoch, sample position) — so a run resumed from a
 * checkpoint draws exactly what a straight run draws. */
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include "nnrt_internal.h"

enum { STREAM_EPOCH = 0x100000 };   /* epoch e shuffles with stream STREAM_EPOCH + e */

void rt_trainer_init(RtTrainer *t, const RtModel *m, const RtDesc *d, const RtOptions *opt)
{
	*t = (RtTrainer){.model = m, .d = d, .opt = *opt};
	t->x = rt_desc_io(d, RT_INPUT);
	t->y = rt_desc_io(d, RT_TARGET);
	t->out = rt_desc_io(d, RT_OUTPUT);
	t->max_batch = opt->batch;
	rt_check_memory(d, t->max_batch, opt->max_memory, opt->max_memory_arg);
	int64_t scratch;
	rt_planned_bytes(d, t->max_batch, &scratch, NULL);
	t->state = rt_alloc_aligned((size_t)d->state_bytes);
	t->scratch = rt_alloc_aligned((size_t)scratch);
	for (int i = 0; i < d->nio; i++) {
		const RtIo *io = &d->io[i];
		t->io[io->io] = rt_alloc_aligned((size_t)(io->per_sample * t->max_batch * rt_dtype_size(io->dt)));
	}
}

static uint64_t name_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;   /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static double init_value(const RtInit *in, RtRng *r)
{
	double fi = (double)(in->fan_in > 0 ? in->fan_in : 1);
	double fo = (double)(in->fan_out > 0 ? in->fan_out : 1);
	switch (in->kind) {
	case NNRT_INIT_NONE: case NNRT_INIT_ZEROS: return 0;
	case NNRT_INIT_ONES: return 1;
	case NNRT_INIT_CONSTANT: return in->a;
	case NNRT_INIT_NORMAL: return in->a + in->b * rt_rng_normal(r);
	case NNRT_INIT_UNIFORM: return in->a + (in->b - in->a) * rt_rng_uniform(r);
	case NNRT_INIT_XAVIER_UNIFORM: case NNRT_INIT_HE_UNIFORM: {
		double lim = in->gain * sqrt(in->kind == NNRT_INIT_XAVIER_UNIFORM ? 6.0 / (fi + fo) : 6.0 / fi);
		return lim * (2 * rt_rng_uniform(r) - 1);
	}
	case NNRT_INIT_XAVIER_NORMAL: return in->gain * sqrt(2.0 / (fi + fo)) * rt_rng_normal(r);
	case NNRT_INIT_HE_NORMAL: return in->gain * sqrt(2.0 / fi) * rt_rng_normal(r);
	case NNRT_INIT__COUNT: break;
	}
	return 0;
}

/* A tensor's values depend on its name and the seed alone, so a stage
 * draws the values a program without stages would (stages.c). */
void rt_init_tensor(const RtTensor *p, char *state, int64_t seed)
{
	RtRng r;
	rt_rng_seed(&r, (uint64_t)seed, name_hash(p->name));
	char *base = state + p->offset;
	for (int64_t k = 0; k < p->count; k++) {
		double v = init_value(&p->init, &r);
		if (p->dt == RT_F32) ((float *)base)[k] = (float)v;
		else if (p->dt == RT_F64) ((double *)base)[k] = v;
		else ((int32_t *)base)[k] = (int32_t)v;
	}
}

void rt_init_params(RtTrainer *t)
{
	const RtDesc *d = t->d;
	memset(t->state, 0, (size_t)d->state_bytes);   /* grads and optimizer state start at zero */
	for (int i = 0; i < d->ntensor; i++)
		if (d->tensor[i].role == RT_PARAM || d->tensor[i].role == RT_BUFFER)
			rt_init_tensor(&d->tensor[i], t->state, t->opt.seed);
}

RtDataSpec rt_trainer_spec(const RtTrainer *t)
{
	RtDataSpec s = {.precision = t->d->precision, .x_per = t->x->per_sample,
	                .data_dir = t->opt.data_dir, .seed = (uint64_t)t->opt.seed, .input_map = { 1, 0, 0 },
	                .x_dt = t->x->dt, .batch = t->opt.batch, .quiet = t->opt.quiet};
	if (t->y) {
		s.has_y = 1;
		s.y_dt = t->y->dt;
		s.y_per = t->y->per_sample;
	}
	if (t->out && t->y && t->y->dt == RT_I32)
		s.classes = t->out->shape.dim[t->out->shape.ndim - 1];
	if (t->d->source) {
		char *dir = rt_strdup(t->d->source), *slash = strrchr(dir, '/');
		if (slash)
			*slash = '\0';
		s.source_dir = slash ? dir : ".";
	}
	const RtSource *tr = t->d->train_source ? rt_desc_source(t->d, t->d->train_source) : NULL;
	if (tr)
		s.input_map = rt_input_map(tr);
	return s;
}

/* t_epochs: training progress in epochs at this step (fractional).  The
 * warm-up factor uses the progress at the end of the step, so the very
 * first step already moves (a factor of 0 would waste it). */
double rt_schedule_lr(const RtDesc *d, double base, double t_epochs, int64_t total_epochs)
{
	double lr = base;
	if (d->schedule == NNRT_SCHED_STEP && d->step_size > 0)
		lr = base * pow(d->gamma, floor(t_epochs / d->step_size + 1e-9));
	else if (d->schedule == NNRT_SCHED_COSINE && total_epochs > 0)
		lr = d->min_lr + (base - d->min_lr) * 0.5 * (1 + cos(M_PI * fmin(t_epochs / (double)total_epochs, 1)));
	return lr;
}

static double warmup_factor(const RtDesc *d, double t_end)
{
	return d->warmup > 0 && t_end < d->warmup ? t_end / d->warmup : 1;
}

void rt_step_prepare(RtTrainer *t, nnrt_step *s, const RtData *data, const int64_t *idx,
                     int64_t start, int64_t count)
{
	memset(s, 0, sizeof *s);
	s->batch = count;
	s->state = t->state;
	s->scratch = t->scratch;
	for (int i = 0; i < NNRT_MAX_IO; i++)
		s->io[i] = t->io[i];
	void *y = t->y ? t->io[t->y->io] : NULL;
	if (y && !data->y)   /* prediction input without labels: any valid label will do */
		memset(y, 0, (size_t)(t->y->per_sample * count * rt_dtype_size(t->y->dt)));
	rt_data_gather(data, idx, start, count, t->io[t->x->io], y);
	/* Outside training (eval, predict) each batch still draws samples of its
	 * own (the sampling builtins): its step is minus one minus its first
	 * sample's position, never a training step, the same on every run, and
	 * exact in float32 (the step input's type in an f32 model) below 2^24
	 * samples.  Training sets the step it is at (set_hyper). */
	s->hyper[t->d->hyper_step >= 0 ? t->d->hyper_step : NNRT_HYPER_STEP] = -1.0 - (double)start;
}

/* Training steps at t->step; eval and predict keep rt_step_prepare's. */
void rt_set_hyper(const RtTrainer *t, nnrt_step *s, double lr, int training)
{
	s->hyper[t->d->hyper_lr >= 0 ? t->d->hyper_lr : NNRT_HYPER_LR] = lr;
	if (training)
		s->hyper[t->d->hyper_step >= 0 ? t->d->hyper_step : NNRT_HYPER_STEP] = (double)t->step;
}

static double out_value(const RtTrainer *t, int64_t i)
{
	const void *o = t->io[t->out->io];
	return t->out->dt == RT_F32 ? ((const float *)o)[i] : ((const double *)o)[i];
}

static int64_t argmax_row(const RtTrainer *t, int64_t row, int64_t k)
{
	int64_t best = 0;
	for (int64_t j = 1; j < k; j++)
		if (out_value(t, row * k + j) > out_value(t, row * k + best))
			best = j;
	return best;
}

/* Accuracy is defined for integer class labels only (the compiler
 * refuses `report accuracy` otherwise): the argmax of each output row
 * against its label, a row per label ([B, K] outputs: one a sample;
 * [B, T, K]: one a position).  A label of -1 (a masked-language-model
 * source's unchosen position) is no question and is not counted.  With
 * one output the argmax is always class 0, the only class a label can
 * name then. */
static void count_correct(const RtTrainer *t, int64_t row, int64_t *correct, int64_t *counted)
{
	int64_t per = t->y->per_sample, k = t->out->per_sample / per;
	const int32_t *label = (const int32_t *)t->io[t->y->io] + row * per;
	for (int64_t p = 0; p < per; p++)
		if (label[p] >= 0) {
			*counted += 1;
			*correct += argmax_row(t, row * per + p, k) == label[p];
		}
}

static int reports(const RtDesc *d, nnrt_metric m)
{
	for (int i = 0; i < d->nreport; i++)
		if (d->report_metric[i] == m)
			return 1;
	return 0;
}

void rt_evaluate(RtTrainer *t, const RtData *data, RtScores *r)
{
	double sum = 0, out = 0;
	int64_t correct = 0, counted = 0;
	int can_acc = t->out && t->y && t->y->dt == RT_I32 && data->y;
	int one_out = t->out && t->out->per_sample == 1;
	for (int64_t start = 0; start < data->n; start += t->opt.batch) {
		int64_t count = data->n - start < t->opt.batch ? data->n - start : t->opt.batch;
		nnrt_step s;
		rt_step_prepare(t, &s, data, NULL, start, count);
		rt_set_hyper(t, &s, 0, 0);
		t->model->eval(&s);
		sum += s.loss * (double)count;
		for (int64_t i = 0; can_acc && i < count; i++)
			count_correct(t, i, &correct, &counted);
		for (int64_t i = 0; one_out && i < count; i++)
			out += out_value(t, i);
	}
	r->loss = sum / (double)data->n;
	r->accuracy = can_acc && counted > 0 ? (double)correct / (double)counted : NAN;
	r->output = one_out ? out / (double)data->n : NAN;
	r->reconstruction = reports(t->d, NNRT_METRIC_RECONSTRUCTION) ? rt_rbm_reconstruction(t, data) : NAN;
}

/* ---- checkpoints ----------------------------------------------------------- */

void rt_save_checkpoint(RtTrainer *t, const char *path)
{
	const RtDesc *d = t->d;
	if (rt_rank() != 0)   /* under mpirun every rank holds the same state: rank 0 writes it */
		return;
	RtMeta m = {0};
	rt_meta_set(&m, "format", "pt");
	rt_meta_set(&m, "model", d->model);
	rt_meta_set(&m, "signature", d->signature);
	rt_meta_set(&m, "step", rt_printf("%lld", (long long)t->step));
	rt_meta_set(&m, "epoch", rt_printf("%lld", (long long)t->epoch));
	rt_meta_set(&m, "position", rt_printf("%lld", (long long)t->position));
	rt_meta_set(&m, "epoch_loss", rt_printf("%.17g", t->epoch_loss));
	rt_meta_set(&m, "rng", rt_printf("xoshiro256** %016llx %016llx %016llx %016llx",
	            (unsigned long long)t->rng.s[0], (unsigned long long)t->rng.s[1],
	            (unsigned long long)t->rng.s[2], (unsigned long long)t->rng.s[3]));
	rt_meta_set(&m, "seed", rt_printf("%lld", (long long)t->opt.seed));
	rt_meta_set(&m, "optimizer", rt_printf("%s lr=%.17g momentum=%.17g nesterov=%d weight_decay=%.17g "
	            "beta1=%.17g beta2=%.17g eps=%.17g%s", nnrt_optimizer_word[d->optimizer], t->opt.lr, d->momentum, d->nesterov,
	            d->weight_decay, d->beta1, d->beta2, d->eps,
	            d->clip != 0 ? rt_printf(" clip=%.17g", d->clip) : ""));
	rt_meta_set(&m, "schedule", rt_printf("%s warmup=%.17g step_size=%.17g gamma=%.17g min_lr=%.17g",
	            nnrt_schedule_word[d->schedule], d->warmup, d->step_size, d->gamma, d->min_lr));
	rt_meta_set(&m, "batch", rt_printf("%lld", (long long)t->opt.batch));
	rt_meta_set(&m, "epochs", rt_printf("%lld", (long long)t->opt.epochs));
	rt_meta_set(&m, "shards", rt_printf("%lld", (long long)t->opt.shards));
	if (d->train_source)
		rt_meta_set(&m, "train_source", d->train_source);
	if (t->vocab)
		rt_meta_set(&m, "vocabulary", rt_vocab_format(t->vocab));
	if (t->stages)
		rt_stages_save(t, path, &m);
	else
		rt_checkpoint_save(path, d, t->state, &m);
}

static int64_t meta_int(const RtMeta *m, const char *key, const char *path)
{
	const char *v = rt_meta_get(m, key);
	char *end;
	long long n = v ? strtoll(v, &end, 10) : -1;
	if (!v || *end || n < 0)
		rt_fatal(RT_EXIT_IO, "%s: metadata '%s' missing or not a count", path, key);
	return n;
}

/* A checkpoint written mid-epoch (on SIGINT/SIGTERM) records the steps
 * done in that epoch; the epoch's order is a function of (seed, epoch), so
 * training goes on with the next batch — at the same batch size. */
static void resume_position(RtTrainer *t, const RtMeta *m, const char *path)
{
	t->position = rt_meta_get(m, "position") ? meta_int(m, "position", path) : 0;
	const char *loss = rt_meta_get(m, "epoch_loss");
	t->epoch_loss = loss && t->position > 0 ? strtod(loss, NULL) : 0;
	if (t->position == 0)
		return;
	int64_t batch = meta_int(m, "batch", path);
	if (batch != t->opt.batch && !strcmp(t->opt.command, "train"))
		rt_fatal(RT_EXIT_USAGE, "%s was saved in the middle of epoch %lld with --batch %lld: resume with "
		         "--batch %lld", path, (long long)t->epoch + 1, (long long)batch, (long long)batch);
}

/* A text model's checkpoint names its vocabulary: the text sources of
 * this run must have it (check_vocab). */
void rt_take_vocab(RtTrainer *t, const RtMeta *m, const char *path, const char *what)
{
	const char *vocab = rt_meta_get(m, "vocabulary");
	if (!vocab)
		return;
	RtVocab *v = rt_alloc(sizeof *v);
	if (rt_vocab_parse(vocab, v) < 0)
		rt_fatal(RT_EXIT_IO, "%s: metadata 'vocabulary' is not a list of ascending code points "
		         "(U+000A U+0020 ...)", path);
	t->vocab = v;
	t->vocab_from = rt_printf("%s %s", what, path);
}

void rt_load_checkpoint(RtTrainer *t, const char *path)
{
	char err[512];
	RtMeta m = {0};
	if (t->stages) {
		rt_stages_load(t, path);
		return;
	}
	if (rt_checkpoint_load(path, t->d, t->state, &m, err, sizeof err) < 0)
		rt_fatal(RT_EXIT_IO, "%s", err);
	rt_resume_meta(t, &m, path);
}

void rt_resume_meta(RtTrainer *t, const RtMeta *m, const char *path)
{
	t->step = t->first_step = meta_int(m, "step", path);
	t->epoch = meta_int(m, "epoch", path);
	resume_position(t, m, path);
	rt_take_vocab(t, m, path, "the checkpoint");
	/* The shuffles of later epochs derive from the seed: keep the saved one
	 * unless the user asks for another. */
	if (!t->opt.has_seed && rt_meta_get(m, "seed"))
		t->opt.seed = meta_int(m, "seed", path);
}

/* ---- the training loop ------------------------------------------------------ */

typedef struct Reports { RtData **data; double *value; RtScores *score; int n; } Reports;

/* A text model's ids mean the characters of one vocabulary: the
 * checkpoint's, and every text source's. */
static void check_vocab(RtTrainer *t, const RtData *data)
{
	const RtVocab *a = t->vocab, *b = data->vocab;
	if (!b)
		return;
	if (!a) {
		t->vocab = b;
		t->vocab_from = rt_printf("the data source '%s'", data->name);
		return;
	}
	int64_t i = 0;
	while (i < a->n && i < b->n && a->cp[i] == b->cp[i])
		i++;
	if (i == a->n && i == b->n)
		return;
	rt_fatal(RT_EXIT_IO, "the vocabulary of %s (%lld characters) differs from that of data source '%s' "
	         "(%lld characters, %s): id %lld is %s in the first, %s in the second", t->vocab_from,
	         (long long)a->n, data->name, (long long)b->n, data->origin, (long long)i,
	         i < a->n ? rt_char_name(a->cp[i]) : "absent", i < b->n ? rt_char_name(b->cp[i]) : "absent");
}

static RtData *load_source(RtTrainer *t, const char *name, RtData **cache, int *ncache)
{
	for (int i = 0; i < *ncache; i++)
		if (!strcmp(cache[i]->name, name))
			return cache[i];
	RtDataSpec spec = rt_trainer_spec(t);
	RtData *data = cache[(*ncache)++] = rt_data_load(rt_desc_source(t->d, name), &spec);
	check_vocab(t, data);
	return data;
}

/* The value of a report from a data set's scores. */
static double metric_value(nnrt_metric m, const RtScores *s)
{
	switch (m) {
	case NNRT_METRIC_ACCURACY: return s->accuracy;
	case NNRT_METRIC_LOSS: return s->loss;
	case NNRT_METRIC_BPC: return s->loss / M_LN2;   /* nats per character to bits */
	case NNRT_METRIC_FREE_ENERGY: return s->output;
	case NNRT_METRIC_RECONSTRUCTION: return s->reconstruction;
	case NNRT_METRIC__COUNT: break;
	}
	return NAN;
}

/* score[i] keeps report i's scores, so a second metric on the same
 * source costs no second pass over it. */
static void run_reports(RtTrainer *t, Reports *r)
{
	for (int i = 0; i < r->n; i++) {
		int j = 0;
		while (j < i && r->data[j] != r->data[i])
			j++;
		if (j == i)
			rt_evaluate(t, r->data[i], &r->score[i]);
		else
			r->score[i] = r->score[j];
		r->value[i] = metric_value(t->d->report_metric[i], &r->score[i]);
	}
}

static void print_epoch(const RtTrainer *t, double train_loss, const Reports *r, double secs)
{
	if (t->opt.quiet)
		return;
	printf("epoch %lld/%lld loss %.6g", (long long)t->epoch, (long long)t->opt.epochs, train_loss);
	for (int i = 0; i < r->n; i++)
		printf(" %s.%s %.6g", t->d->report_source[i], nnrt_metric_word[t->d->report_metric[i]], r->value[i]);
	printf(" (%.2f s)\n", secs);
	fflush(stdout);
}

/* SIGINT/SIGTERM: save where training stands (mid-epoch if need be) and
 * exit 128 + the signal, as a shell reports a process it interrupted. */
static void stop_if_signalled(RtTrainer *t)
{
	int sig = rt_stop_agreed();   /* under mpirun: every rank stops at the same step */
	if (!sig)
		return;
	if (rt_rank() != 0)
		exit(128 + sig);
	const char *path = t->opt.save ? t->opt.save : rt_printf("%s.interrupted.safetensors", rt_progname);
	rt_save_checkpoint(t, path);
	fflush(stdout);
	fprintf(stderr, "%s: interrupted by %s after step %lld (epoch %lld, %lld steps into it): "
	        "saved %s; resume with --load %s\n", rt_progname, rt_signal_name(sig), (long long)t->step,
	        (long long)t->epoch + 1, (long long)t->position, path, path);
	exit(128 + sig);
}

/* The samples an epoch trains on: all n, but for a last batch smaller
 * than the model's min_batch, which is left out (as PyTorch's
 * drop_last would), since its batch statistics do not exist.  Which
 * samples that spares changes with each epoch's order. */
static int64_t epoch_samples(const RtTrainer *t, int64_t n)
{
	int64_t rest = n % t->opt.batch;
	return rest > 0 && (rest < t->d->min_batch || t->d->carry_batch) ? n - rest : n;
}

/* One epoch of steps, from step t->position on (0 unless resumed
 * mid-epoch); returns the mean training loss. */
/* A stateful scan carries its state from batch to batch along the streams
 * of a text; an epoch starts the streams again from their beginning, so
 * it starts from the zero state too (as PyTorch's word_language_model
 * does), not from where the streams ended.  Only ordered data has
 * streams: over shuffled samples a carried state (an RBM's persistent
 * chains) runs on across epochs.  The carried states are the buffers
 * lower_scan.c and lower_repeat.c name CALL.scan_N.state and
 * CALL.repeat_N.state. */
static void reset_carried_state(RtTrainer *t)
{
	const RtDesc *d = t->d;
	static const char suffix[] = ".state";
	for (int i = 0; d->carry_batch && i < d->ntensor; i++) {
		const RtTensor *x = &d->tensor[i];
		size_t len = strlen(x->name);
		if (x->role == RT_BUFFER && len > sizeof suffix - 1 && !strcmp(x->name + len - (sizeof suffix - 1), suffix))
			memset(t->state + x->offset, 0, (size_t)(x->count * rt_dtype_size(x->dt)));
	}
}

int64_t rt_epoch_batches(const RtTrainer *t, const RtData *data)
{
	return (epoch_samples(t, data->n) + t->opt.batch - 1) / t->opt.batch;
}

void rt_epoch_start(RtTrainer *t, const RtData *data)
{
	if (t->position == 0 && data->ordered)
		reset_carried_state(t);
	rt_rng_seed(&t->rng, (uint64_t)t->opt.seed, STREAM_EPOCH + (uint64_t)t->epoch);
	if (!data->ordered)
		rt_rng_permutation(&t->rng, t->perm, data->n);
}

/* Batch i of nb in epoch t->epoch: the schedule, times the warm-up's factor. */
double rt_step_lr(const RtTrainer *t, int64_t i, int64_t nb)
{
	double progress = (double)t->epoch + (double)i / (double)nb;
	return rt_schedule_lr(t->d, t->opt.lr, progress, t->opt.epochs)
	       * warmup_factor(t->d, (double)t->epoch + (double)(i + 1) / (double)nb);
}

int64_t rt_batch_count(const RtTrainer *t, const RtData *data, int64_t i)
{
	int64_t n = epoch_samples(t, data->n), b = t->opt.batch;
	return n - i * b < b ? n - i * b : b;
}

static double train_epoch(RtTrainer *t, const RtData *data, RtProgress *prog)
{
	rt_epoch_start(t, data);
	int64_t n = epoch_samples(t, data->n), b = t->opt.batch, nb = rt_epoch_batches(t, data);
	for (int64_t i = t->position; i < nb; i++) {
		int64_t count = rt_batch_count(t, data, i);
		nnrt_step s;
		double lr = rt_step_lr(t, i, nb);
		t->step++;
		double loss = rt_shards_grad(t, data, i * b, count, lr, &s);   /* shard.c: the ranks meet here */
		rt_gradlog_step(t->grad_log, t);   /* before the check: a blow-up's last norms are kept */
		rt_check_numerics(t, loss, count);
		t->model->update(&s);
		rt_fault_signal(t->step);
		t->epoch_loss += loss * (double)count;
		t->position = i + 1;
		rt_progress_update(prog, i * b + count, n, t->epoch_loss / (double)(i * b + count));
		stop_if_signalled(t);
	}
	double mean = t->epoch_loss / (double)n;
	t->position = 0;
	t->epoch_loss = 0;
	return mean;
}

static RtData *train_data(RtTrainer *t, RtData **cache, int *ncache)
{
	if (!t->d->train_source)
		rt_fatal(RT_EXIT_USAGE, "this model has no training source (no loss in its train block)");
	return load_source(t, t->d->train_source, cache, ncache);
}

RtData *rt_train_source(RtTrainer *t)
{
	RtData *cache[1];
	int ncache = 0;
	return train_data(t, cache, &ncache);
}

/* A training-mode step on fewer samples than batch statistics need
 * would write NaN into the running variance (the unbiased variance of
 * one value is 0/0), as PyTorch refuses it: before the first step. */
void rt_check_min_batch(const RtTrainer *t, int64_t batch, const RtData *data)
{
	const RtDesc *d = t->d;
	if (d->carry_batch && batch != d->carry_batch)
		rt_fatal(RT_EXIT_USAGE, "--batch %lld: the stateful scan or persistent chain%s%s carries its state from "
		         "one batch to the next, row by row, so every training batch has its %lld rows; use --batch %lld "
		         "(or recompile with another batch)", (long long)batch, d->carry_batch_at ? " at " : "",
		         d->carry_batch_at ? d->carry_batch_at : "", (long long)d->carry_batch, (long long)d->carry_batch);
	if (d->carry_batch && data->n < d->carry_batch)
		rt_fatal(RT_EXIT_IO, "data source '%s' has %lld samples, fewer than one batch of %lld the state kept across "
		         "batches needs (a stateful scan or persistent chain)",
		         data->name, (long long)data->n, (long long)d->carry_batch);
	if (batch >= d->min_batch && data->n >= d->min_batch)
		return;
	const char *why = rt_printf("the batch norm or nt_xent%s%s reads the batch as a whole (each channel's "
	                            "statistics, or every sample against the others), which needs %lld samples",
	                            d->min_batch_at ? " at " : "",
	                            d->min_batch_at ? d->min_batch_at : "", (long long)d->min_batch);
	if (data->n < d->min_batch)
		rt_fatal(RT_EXIT_IO, "data source '%s' has %lld sample%s, but %s", data->name, (long long)data->n,
		         data->n == 1 ? "" : "s", why);
	rt_fatal(RT_EXIT_USAGE, "--batch %lld: %s; use --batch %lld or more", (long long)batch, why,
	         (long long)d->min_batch);
}

int rt_train(RtTrainer *t)
{
	const RtDesc *d = t->d;
	RtData *cache[64];
	int ncache = 0;
	rt_signals_install();   /* before loading: a signal then stops after the first step */
	RtData *data = train_data(t, cache, &ncache);
	rt_check_min_batch(t, t->opt.batch, data);
	rt_shards_check(t);
	t->augment = rt_augment_new(rt_desc_source(d, d->train_source), data);
	Reports r = {rt_alloc(sizeof(RtData *) * (size_t)(d->nreport + 1)),
	             rt_alloc(sizeof(double) * (size_t)(d->nreport + 1)),
	             rt_alloc(sizeof(RtScores) * (size_t)(d->nreport + 1)), d->nreport};
	for (int i = 0; i < d->nreport && ncache < 63; i++)
		r.data[i] = load_source(t, d->report_source[i], cache, &ncache);
	t->perm = rt_alloc(sizeof(int64_t) * (size_t)data->n);
	if (t->opt.log)
		t->log = rt_metrics_open(t->opt.log, t);
	if (t->opt.grad_norms)
		t->grad_log = rt_gradlog_open(t->opt.grad_norms, d);
	if (t->epoch >= t->opt.epochs && !t->opt.quiet)
		printf("already trained for %lld epochs (--epochs %lld): nothing to do\n",
		       (long long)t->epoch, (long long)t->opt.epochs);
	double t0 = rt_now(), train_secs = 0;
	int64_t samples = 0;
	while (t->epoch < t->opt.epochs) {
		RtProgress prog;
		double te = rt_now();
		rt_progress_begin(&prog, t->opt.quiet, t->epoch + 1, t->opt.epochs);
		double loss = train_epoch(t, data, &prog);
		train_secs += rt_now() - te;
		rt_progress_end(&prog);
		samples += epoch_samples(t, data->n);
		t->epoch++;
		if (rt_rank() == 0)   /* under mpirun only rank 0 reports */
			run_reports(t, &r);
		print_epoch(t, loss, &r, rt_now() - te);
		double lr_end = rt_schedule_lr(d, t->opt.lr, (double)t->epoch, t->opt.epochs);
		rt_metrics_row(t->log, t, lr_end, loss, r.value, rt_now() - t0);
		stop_if_signalled(t);
		if (t->opt.save && t->opt.save_every > 0 && t->epoch % t->opt.save_every == 0 && t->epoch < t->opt.epochs)
			rt_save_checkpoint(t, t->opt.save);
	}
	double secs = rt_now() - t0;
	if (t->opt.save)
		rt_save_checkpoint(t, t->opt.save);
	if (t->log && fclose(t->log) != 0)
		rt_fatal(RT_EXIT_IO, "cannot write the metrics log %s", t->opt.log);
	rt_gradlog_close(t->grad_log);
	if (!t->opt.quiet && samples > 0)
		printf("trained %lld samples in %.2f s (%.0f samples/s; %.2f s with evaluation)\n",
		       (long long)samples, train_secs, train_secs > 0 ? (double)samples / train_secs : 0.0, secs);
	return 0;
}

int rt_eval(RtTrainer *t)
{
	const RtDesc *d = t->d;
	RtData *cache[64];
	int ncache = 0;
	RtScores s;
	if (d->nreport == 0) {   /* nothing asked: the training loss */
		RtData *data = train_data(t, cache, &ncache);
		rt_evaluate(t, data, &s);
		printf("%s.loss %.6g\n", data->name, s.loss);
		return 0;
	}
	for (int i = 0; i < d->nreport && ncache < 63; i++) {
		RtData *data = load_source(t, d->report_source[i], cache, &ncache);
		rt_evaluate(t, data, &s);
		printf("%s.%s %.6g\n", data->name, nnrt_metric_word[d->report_metric[i]],
		       metric_value(d->report_metric[i], &s));
	}
	return 0;
}

/* What predict prints of each output row (--output, nnc-trainer(1)):
 * the class, the probabilities or the logits, as far as the loss says
 * what the output is (output_is); by default the class for a model of
 * integer labels, else the row as computed. */
typedef enum { PRINT_ROW, PRINT_CLASS, PRINT_PROBS, PRINT_LOGITS } PrintMode;

static PrintMode print_mode(const RtTrainer *t)
{
	const char *want = t->opt.output, *is = t->d->output_is, *at = t->d->loss_at;
	if (!want)
		return t->y && t->y->dt == RT_I32 ? PRINT_CLASS : PRINT_ROW;
	if (!strcmp(want, "logits"))
		return PRINT_LOGITS;
	if (!strcmp(want, "probs") && !is)
		rt_fatal(RT_EXIT_USAGE, "--output probs: the loss%s%s reads the model's output neither as logits "
		         "(cross_entropy of it) nor as probabilities (binary_cross_entropy of it), so it has no "
		         "probabilities to print; --output logits prints it as computed", at ? " at " : "", at ? at : "");
	if (!strcmp(want, "probs"))
		return PRINT_PROBS;
	if (t->out->per_sample == 1 && !(is && !strcmp(is, "probabilities")) && !(t->y && t->y->dt == RT_I32))
		rt_fatal(RT_EXIT_USAGE, "--output class: the model has one output and the loss does not read it as a "
		         "probability or a class score, so no class follows from it; --output logits prints it");
	return PRINT_CLASS;
}

static void print_row(RtTrainer *t, int64_t row, PrintMode mode)
{
	int64_t k = t->out->per_sample;
	int probs_in = t->d->output_is && !strcmp(t->d->output_is, "probabilities");
	if (mode == PRINT_CLASS) {
		printf("%lld\n", k == 1 && probs_in ? (long long)(out_value(t, row) > 0.5)
		                                     : (long long)argmax_row(t, row, k));
		return;
	}
	double top = out_value(t, row * k + argmax_row(t, row, k)), sum = 0;
	for (int64_t j = 0; j < k; j++)
		sum += exp(out_value(t, row * k + j) - top);
	for (int64_t j = 0; j < k; j++) {
		double v = out_value(t, row * k + j);
		if (mode == PRINT_PROBS && !probs_in)   /* softmax, shifted by the row's maximum */
			v = exp(v - top) / sum;
		else if (mode == PRINT_LOGITS && probs_in)
			v = log(v) - log1p(-v);
		printf("%s%.9g", j ? " " : "", v);
	}
	printf("\n");
}

int rt_predict(RtTrainer *t)
{
	const RtDesc *d = t->d;
	if (!t->out)
		rt_fatal(RT_EXIT_USAGE, "this model has no output to predict");
	if (t->x->dt == RT_I32)
		rt_fatal(RT_EXIT_USAGE, "predict reads samples of numbers; this model reads ids: draw text from it "
		         "with 'sample' (a language model) or its outputs with 'decode' (an encoder-decoder)");
	PrintMode mode = print_mode(t);
	RtDataSpec spec = rt_trainer_spec(t);
	RtData *data;
	if (t->opt.input) {
		data = rt_data_from_file(t->opt.input, &spec);
	} else {
		const char *name = d->nreport ? d->report_source[0] : d->train_source;
		if (!name)
			rt_fatal(RT_EXIT_USAGE, "no data source to predict on: use --input FILE");
		data = rt_data_load(rt_desc_source(d, name), &spec);
	}
	for (int64_t start = 0; start < data->n; start += t->opt.batch) {
		int64_t count = data->n - start < t->opt.batch ? data->n - start : t->opt.batch;
		nnrt_step s;
		rt_step_prepare(t, &s, data, NULL, start, count);
		rt_set_hyper(t, &s, 0, 0);
		t->model->eval(&s);
		for (int64_t i = 0; i < count; i++)
			print_row(t, i, mode);
	}
	return fflush(stdout) == 0 ? 0 : RT_EXIT_IO;
}
