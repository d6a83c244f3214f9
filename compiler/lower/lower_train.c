/* lower_train.c — the train block: the loss becomes Module.fwd, every
 * other item becomes Module.cfg (ir.h Config), checked here so that the
 * runtime can take the configuration verbatim.  Unknown names and wrong
 * argument types are errors, never silently defaulted. */
#include <math.h>
#include <string.h>
#include "lower.h"

/* Evaluate a call (or a bare name, as a call without arguments) against
 * a parameter list; out[i].kind == V_NONE where nothing was given. */
static void call_args(Ctx *c, const Expr *e, const char *const *names, int n, Value *out)
{
	const Expr *args[8] = { 0 };
	if (e->kind == E_CALL)
		bind_args(e->str, e, names, n, args);
	for (int i = 0; i < n; i++)
		out[i] = args[i] ? eval(c, args[i]) : (Value){ .kind = V_NONE, .loc = e->loc };
}

static const char *callee(const Expr *e, const char *what)
{
	if (e->kind != E_CALL && e->kind != E_IDENT)
		error_at(e->loc, "%s must be a name or a call, as in sgd(lr: 0.1)", what);
	return e->str;
}

static _Noreturn void unknown_choice(Loc loc, const char *what, const char *name, const char *const *known, int n)
{
	const char *s = suggest(name, known, n), *list = known[0];
	for (int i = 1; i < n; i++)
		list = xprintf("%s, %s", list, known[i]);
	if (s)
		error_at(loc, "unknown %s '%s'; did you mean '%s'? (known: %s)", what, name, s, list);
	error_at(loc, "unknown %s '%s' (known: %s)", what, name, list);
}

static double number_in(const Value *v, double dflt, double lo, double hi, int lo_open, const char *what)
{
	if (v->kind == V_NONE)
		return dflt;
	double x = need_number(v, what);
	if (!(x >= lo && x <= hi) || (lo_open && x == lo))
		error_at(v->loc, "%s must be in %s%g, %g], not %g", what, lo_open ? "(" : "[", lo, hi, x);
	return x;
}

/* ---- data ------------------------------------------------------------- */

/* The augmentation arguments (crop, flip, noise) and the image geometry
 * they need (shape) are checked here as far as the .nn file allows; the
 * rest once the loss has named the training source (check_augment). */
typedef struct SourceKind {
	const char *name;
	const char *param[8];
	int npositional;        /* stored under keys "0", "1", ... */
	int nreq;
} SourceKind;

static const SourceKind source_kinds[] = {
	{ "idx", { "images", "labels", "scale", "shape", "crop", "flip", "noise" }, 2, 1 },
	{ "csv", { "path", "label", "header", "scale", "shape", "crop", "flip", "noise" }, 1, 1 },
	{ "random", { "count", "classes" }, 0, 0 },
};

static int is_augment(const char *key)
{
	return !strcmp(key, "crop") || !strcmp(key, "flip") || !strcmp(key, "noise");
}

/* shape: [H, W, C] or [H, W] (one channel): stored as height, width and
 * channels, the words the descriptor carries. */
static void image_shape(DataSource *d, const Value *v)
{
	if (v->kind != V_LIST || v->nitem < 2 || v->nitem > 3)
		error_at(v->loc, "'shape' of '%s' is the image geometry [HEIGHT, WIDTH, CHANNELS] "
		         "(NHWC, as in shape: [28, 28, 1]), not %s", d->kind,
		         v->kind == V_LIST ? xprintf("a list of %d", v->nitem) : value_kind_name(v));
	static const char *const keys[] = { "height", "width", "channels" };
	for (int j = 0; j < 3; j++) {
		int64_t n = j < v->nitem ? need_int(&v->item[j], xprintf("the image %s", keys[j])) : 1;
		Loc loc = j < v->nitem ? v->item[j].loc : v->loc;
		if (n < 1 || n > 1 << 20)
			error_at(loc, "the image %s must be between 1 and %d, not %lld", keys[j], 1 << 20, (long long)n);
		d->arg[d->narg++] = (KeyVal){ .key = keys[j], .num = (double)n, .loc = v->loc };
	}
}

/* A numeric argument: the ranges the runtime relies on. */
static double source_number(const SourceKind *k, const char *key, const Value *v)
{
	double x = need_number(v, xprintf("'%s' of '%s'", key, k->name));
	int integral = strcmp(key, "scale") && strcmp(key, "flip") && strcmp(key, "noise");
	if (integral && x != floor(x))
		error_at(v->loc, "'%s' of '%s' must be an integer", key, k->name);
	if (!strcmp(key, "scale") && !(x > 0 && isfinite(x)))
		error_at(v->loc, "'scale' must be a positive number");
	if ((!strcmp(key, "count") || !strcmp(key, "classes")) && x < 1)
		error_at(v->loc, "'%s' of '%s' must be at least 1, not %g", key, k->name, x);
	if (!strcmp(key, "header") && x < 0)
		error_at(v->loc, "'header' of 'csv' counts lines; it cannot be %g", x);
	if (!strcmp(key, "crop") && !(x >= 0 && x <= 1 << 20))
		error_at(v->loc, "'crop' is the zero padding on each side, in pixels: 0 or more, not %g", x);
	if (!strcmp(key, "flip") && !(x >= 0 && x <= 1))
		error_at(v->loc, "'flip' is the probability of a horizontal mirror, in [0, 1], not %g", x);
	if (!strcmp(key, "noise") && !(x >= 0 && isfinite(x)))
		error_at(v->loc, "'noise' is the standard deviation of added Gaussian noise: 0 or more, not %g", x);
	return x;
}

static DataSource data_source(Ctx *c, const TrainItem *it)
{
	const Expr *e = it->value;
	const char *kind = callee(e, "a data source");
	const SourceKind *k = NULL;
	for (size_t i = 0; i < sizeof source_kinds / sizeof *source_kinds; i++)
		if (!strcmp(source_kinds[i].name, kind))
			k = &source_kinds[i];
	if (!k)
		unknown_choice(e->loc, "data source kind", kind, (const char *[]){ "idx", "csv", "random" }, 3);
	int n = 0;
	while (n < 8 && k->param[n])
		n++;
	Value v[8];
	call_args(c, e, k->param, n, v);
	/* Only what the user wrote is stored: the runtime owns the defaults
	 * (random's classes follow the model's outputs, for one). */
	DataSource d = { .name = it->name, .kind = k->name, .loc = it->loc };
	d.arg = xalloc(sizeof *d.arg * (size_t)(n + 2));   /* shape takes three */
	for (int i = 0; i < n; i++) {
		if (i < k->npositional) {
			if (v[i].kind == V_NONE && i < k->nreq)
				error_at(e->loc, "missing argument '%s' in call to '%s'", k->param[i], k->name);
			if (v[i].kind == V_NONE)
				continue;     /* idx without labels: inputs only */
			if (v[i].kind != V_STR)
				error_at(v[i].loc, "'%s' of '%s' must be a file name in quotes, not %s",
				         k->param[i], k->name, value_kind_name(&v[i]));
			d.arg[d.narg++] = (KeyVal){ .key = xprintf("%d", i), .str = v[i].str, .is_str = 1, .loc = v[i].loc };
			continue;
		}
		if (v[i].kind == V_NONE)
			continue;
		if (!strcmp(k->param[i], "shape")) {
			image_shape(&d, &v[i]);
			continue;
		}
		double x = source_number(k, k->param[i], &v[i]);
		d.arg[d.narg++] = (KeyVal){ .key = k->param[i], .num = x, .loc = v[i].loc };
	}
	return d;
}

static const KeyVal *source_arg(const DataSource *d, const char *key)
{
	for (int i = 0; i < d->narg; i++)
		if (!strcmp(d->arg[i].key, key))
			return &d->arg[i];
	return NULL;
}

/* Once the loss has named the training source and bound its input:
 * augmentation belongs to the training source (eval, predict and reports
 * never see it, so elsewhere it would silently do nothing); crop and flip
 * need an image geometry, which an IDX file carries and a CSV file does
 * not; a geometry must hold as many values as the model's input. */
static void check_augment(Ctx *c)
{
	const Config *cfg = &c->m->cfg;
	Shape in = c->field[0]->shape;
	int64_t per = 1;
	for (int i = 1; i < in.rank; i++)
		per *= in.d[i];
	for (int i = 0; i < cfg->ndata; i++) {
		const DataSource *d = &cfg->data[i];
		const KeyVal *h = source_arg(d, "height");
		for (int j = 0; j < d->narg; j++) {
			const KeyVal *a = &d->arg[j];
			if (!is_augment(a->key))
				continue;
			if (strcmp(d->name, c->source))
				error_at(a->loc, "'%s' augments training batches only, but '%s' is not the training "
				         "source (the loss reads '%s')", a->key, d->name, c->source);
			if (strcmp(a->key, "noise") && !h && !strcmp(d->kind, "csv"))
				error_at(a->loc, "'%s' needs the image geometry, which a CSV file does not give: "
				         "add shape: [HEIGHT, WIDTH, CHANNELS]", a->key);
		}
		if (!h)
			continue;
		int64_t height = (int64_t)h->num, width = (int64_t)source_arg(d, "width")->num;
		int64_t hw = height * width * (int64_t)source_arg(d, "channels")->num;
		if (hw != per)
			error_at(h->loc, "the image shape holds %lld values per sample, but the model input %s "
			         "takes %lld", (long long)hw, type_str(c->field[0]->dt, in), (long long)per);
		const KeyVal *crop = source_arg(d, "crop");
		if (crop && (crop->num >= (double)height || crop->num >= (double)width))
			error_at(crop->loc, "'crop' pads more than the %lldx%lld images hold: use at most %lld",
			         (long long)height, (long long)width, (long long)((height < width ? height : width) - 1));
	}
}

static void lower_data(Ctx *c)
{
	Config *cfg = &c->m->cfg;
	for (int i = 0; i < c->train->nitems; i++) {
		const TrainItem *it = &c->train->items[i];
		if (it->kind != TI_DATA)
			continue;
		for (int j = 0; j < cfg->ndata; j++)
			if (!strcmp(cfg->data[j].name, it->name)) {
				note_at(cfg->data[j].loc, "'%s' is first declared here", it->name);
				error_at(it->loc, "data source '%s' is declared twice", it->name);
			}
		DataSource d = data_source(c, it);   /* before growing: its arguments may name sources */
		cfg->data = xrealloc(cfg->data, sizeof *cfg->data * (size_t)cfg->ndata, sizeof *cfg->data * (size_t)(cfg->ndata + 1));
		cfg->data[cfg->ndata++] = d;
	}
}

/* ---- the loss --------------------------------------------------------- */

static const TrainItem *only_item(const Decl *t, TrainItemKind kind, const char *what)
{
	const TrainItem *found = NULL;
	for (int i = 0; i < t->nitems; i++) {
		if (t->items[i].kind != kind)
			continue;
		if (found) {
			note_at(found->loc, "the first '%s' is here", what);
			error_at(t->items[i].loc, "the train block has two '%s' items", what);
		}
		found = &t->items[i];
	}
	return found;
}

static void lower_loss(Ctx *c)
{
	const TrainItem *it = only_item(c->train, TI_LOSS, "loss");
	if (!it)
		error_at(c->train->loc, "the train block has no 'loss = ...': say what to minimize, "
		         "e.g. loss = cross_entropy(%s(train.x), train.y)", c->train->name);
	c->note = "loss";
	Value v = eval(c, it->value);
	stamp(c);
	c->note = NULL;
	Node *loss = need_tensor(c, &v, "the loss");
	if (loss->shape.rank != 0 || loss->dt == DT_I32)
		error_at(it->value->loc, "the loss must be a float scalar, not %s; reduce it with mean(...) or sum(...)",
		         type_str(loss->dt, loss->shape));
	if (!c->output)
		error_at(it->value->loc, "the loss never calls the model '%s' on the data", c->model->name);
	if (!c->field[0] && !c->field[1])
		error_at(it->value->loc, "the loss reads no data; use the fields of a data source, as in train.x");
	if (!c->field[0])
		error_at(it->value->loc, "the loss never passes '%s.x' to the model", c->source);
	Module *m = c->m;
	int ls = ir_slot(m, "loss", SLOT_LOSS, loss->dt, loss->shape, it->loc);
	int os = ir_slot(m, "out", SLOT_OUTPUT, c->output->dt, c->output->shape, it->loc);
	m->slot[os].io = 2;
	ir_store(c->fn, ls, loss, it->loc)->note = "loss";
	ir_store(c->fn, os, c->output, it->loc)->note = "model output";
}

/* ---- optimizer and schedule ------------------------------------------- */

static void lower_optimizer(Ctx *c)
{
	Config *cfg = &c->m->cfg;
	*cfg = (Config){ .data = cfg->data, .ndata = cfg->ndata, .train_source = cfg->train_source,
		.optimizer = "sgd", .lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8,
		.schedule = "constant", .gamma = 0.1, .batch = 32, .epochs = 1, .seed = 1 };
	const TrainItem *it = only_item(c->train, TI_OPTIMIZER, "optimizer");
	if (!it)
		return;
	const char *name = callee(it->value, "the optimizer");
	static const char *const known[] = { "sgd", "adam", "adamw" };
	int sgd = !strcmp(name, "sgd");
	if (!sgd && strcmp(name, "adam") && strcmp(name, "adamw"))
		unknown_choice(it->value->loc, "optimizer", name, known, 3);
	cfg->optimizer = sgd ? "sgd" : !strcmp(name, "adam") ? "adam" : "adamw";
	Value v[5];
	if (sgd) {
		call_args(c, it->value, (const char *[]){ "lr", "momentum", "nesterov", "weight_decay" }, 4, v);
		cfg->lr = number_in(&v[0], 0.01, 0, 1e6, 1, "lr");
		cfg->momentum = number_in(&v[1], 0, 0, 0.999999, 0, "momentum");
		cfg->nesterov = (int)number_in(&v[2], 0, 0, 1, 0, "nesterov");
		cfg->weight_decay = number_in(&v[3], 0, 0, 1e6, 0, "weight_decay");
		if (cfg->nesterov && cfg->momentum == 0)
			error_at(v[2].loc, "nesterov needs a momentum above 0");
		return;
	}
	call_args(c, it->value, (const char *[]){ "lr", "beta1", "beta2", "eps", "weight_decay" }, 5, v);
	cfg->lr = number_in(&v[0], 0.001, 0, 1e6, 1, "lr");
	cfg->beta1 = number_in(&v[1], 0.9, 0, 0.999999, 0, "beta1");
	cfg->beta2 = number_in(&v[2], 0.999, 0, 0.999999999, 0, "beta2");
	cfg->eps = number_in(&v[3], 1e-8, 0, 1, 1, "eps");
	cfg->weight_decay = number_in(&v[4], !strcmp(name, "adamw") ? 0.01 : 0, 0, 1e6, 0, "weight_decay");
}

static void lower_schedule(Ctx *c)
{
	Config *cfg = &c->m->cfg;
	const TrainItem *it = only_item(c->train, TI_SCHEDULE, "schedule");
	if (!it)
		return;
	const char *name = callee(it->value, "the schedule");
	static const char *const known[] = { "constant", "step", "cosine" };
	Value v[3];
	if (!strcmp(name, "constant")) {
		call_args(c, it->value, (const char *[]){ "warmup" }, 1, v);
	} else if (!strcmp(name, "step")) {
		call_args(c, it->value, (const char *[]){ "warmup", "every", "gamma" }, 3, v);
		if (v[1].kind == V_NONE)
			error_at(it->value->loc, "step needs 'every: EPOCHS', the epochs between decays");
		cfg->step_size = number_in(&v[1], 1, 0, 1e9, 1, "every");
		cfg->gamma = number_in(&v[2], 0.1, 0, 1, 1, "gamma");
	} else if (!strcmp(name, "cosine")) {
		call_args(c, it->value, (const char *[]){ "warmup", "min_lr" }, 2, v);
		cfg->min_lr = number_in(&v[1], 0, 0, cfg->lr, 0, "min_lr (at most lr)");
	} else
		unknown_choice(it->value->loc, "schedule", name, known, 3);
	cfg->schedule = !strcmp(name, "constant") ? "constant" : !strcmp(name, "step") ? "step" : "cosine";
	cfg->warmup = number_in(&v[0], 0, 0, 1e9, 0, "warmup");
}

/* ---- settings and reports --------------------------------------------- */

static void lower_settings(Ctx *c)
{
	static const char *const known[] = { "batch", "epochs", "seed" };
	Config *cfg = &c->m->cfg;
	int seen[3] = { 0 };
	for (int i = 0; i < c->train->nitems; i++) {
		const TrainItem *it = &c->train->items[i];
		if (it->kind != TI_SETTING)
			continue;
		int k = -1;
		for (int j = 0; j < 3; j++)
			if (!strcmp(it->name, known[j]))
				k = j;
		if (k < 0)
			unknown_choice(it->loc, "setting", it->name, known, 3);
		if (seen[k]++)
			error_at(it->loc, "'%s' is set twice", it->name);
		Value v = eval(c, it->value);
		int64_t n = need_int(&v, xprintf("'%s'", it->name));
		int64_t lo = k == 2 ? 0 : 1, hi = k == 0 ? 1 << 20 : k == 1 ? 1000000 : INT64_MAX;
		if (n < lo || n > hi)
			error_at(it->value->loc, "'%s' must be %s, not %lld", it->name,
			         k == 2 ? "0 or more" : xprintf("between 1 and %lld", (long long)hi), (long long)n);
		*(k == 0 ? &cfg->batch : k == 1 ? &cfg->epochs : &cfg->seed) = n;
	}
}

static void lower_reports(Ctx *c)
{
	static const char *const known[] = { "accuracy", "loss" };
	Config *cfg = &c->m->cfg;
	for (int i = 0; i < c->train->nitems; i++) {
		const TrainItem *it = &c->train->items[i];
		if (it->kind != TI_REPORT)
			continue;
		int found = 0;
		const char **names = xalloc(sizeof *names * (size_t)(cfg->ndata + 1));
		for (int j = 0; j < cfg->ndata; j++) {
			names[j] = cfg->data[j].name;
			found |= !strcmp(names[j], it->name);
		}
		if (!found && cfg->ndata)
			unknown_choice(it->loc, "data source", it->name, names, cfg->ndata);
		if (!found)
			error_at(it->loc, "unknown data source '%s'", it->name);
		for (int k = 0; k < it->nmetrics; k++) {
			const char *mt = it->metrics[k];
			if (strcmp(mt, "accuracy") && strcmp(mt, "loss"))
				unknown_choice(it->metric_locs[k], "metric", mt, known, 2);
			if (!strcmp(mt, "accuracy") && (!c->field[1] || c->field[1]->dt != DT_I32 || c->output->shape.rank != 2))
				error_at(it->metric_locs[k], "'accuracy' needs integer class labels (the loss must read "
				         "'%s.y' as labels, e.g. through cross_entropy) and a model output [B, K]", c->source);
			int n = cfg->nreport++;
			cfg->report_metric = xrealloc(cfg->report_metric, sizeof(char *) * (size_t)n, sizeof(char *) * (size_t)(n + 1));
			cfg->report_source = xrealloc(cfg->report_source, sizeof(char *) * (size_t)n, sizeof(char *) * (size_t)(n + 1));
			cfg->report_metric[n] = !strcmp(mt, "loss") ? "loss" : "accuracy";
			cfg->report_source[n] = it->name;
		}
	}
}

void lower_train(Ctx *c)
{
	Frame *f = xalloc(sizeof *f);
	c->frame = f;
	lower_data(c);
	lower_optimizer(c);
	lower_schedule(c);
	lower_settings(c);
	lower_loss(c);
	c->m->cfg.train_source = c->source;
	check_augment(c);
	lower_reports(c);
}
