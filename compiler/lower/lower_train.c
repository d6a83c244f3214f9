/* lower_train.c — the train block: the loss becomes Module.fwd, every
 * other item becomes Module.cfg (ir.h Config), checked here so that the
 * runtime can take the configuration verbatim.  Unknown names and wrong
 * argument types are errors, never silently defaulted.  The words and the
 * range of every number are runtime/nnrt_vocab.h's, the table the runtime
 * checks the descriptor against: what passes here passes there. */
#include <float.h>
#include <math.h>
#include <string.h>
#include "lower.h"

enum { MAX_CALL_PARAMS = 12 };

/* Evaluate a call (or a bare name, as a call without arguments) against
 * a parameter list; out[i].kind == V_NONE where nothing was given. */
static void call_args(Ctx *c, const Expr *e, const char *const *names, int n, Value *out)
{
	const Expr *args[MAX_CALL_PARAMS] = { 0 };
	if (n > MAX_CALL_PARAMS)
		fatal(EXIT_INTERNAL, "call_args: %d parameters", n);
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
	const char *s = nearest(name, known, n), *list = known[0];
	for (int i = 1; i < n; i++)
		list = xprintf("%s, %s", list, known[i]);
	if (s)
		error_at(loc, "unknown %s '%s'; did you mean '%s'? (known: %s)", what, name, s, list);
	error_at(loc, "unknown %s '%s' (known: %s)", what, name, list);
}

static const char *num_text(double x, int integer)
{
	return integer && fabs(x) < 1e15 ? xprintf("%.0f", x) : xprintf("%g", x);
}

/* "in [0, 1]", "an integer in [1, 1048576]", "0 or more", "above 0" */
static const char *range_text(const nnrt_range *r)
{
	const char *in = r->integer ? "an integer " : "";
	if (r->hi == DBL_MAX)
		return r->lo == -DBL_MAX ? "finite" : xprintf("%s%s %s", in, r->lo_open ? "above" : "at least",
		                                              num_text(r->lo, r->integer));
	return xprintf("%sin %s%s, %s]", r->integer ? "an integer " : "", r->lo_open ? "(" : "[",
	               num_text(r->lo, r->integer), num_text(r->hi, r->integer));
}

/* The argument v, or dflt when it was not given, within range r (the
 * table's, or a narrower one of the .nn language's own). */
static double number_in(const Value *v, double dflt, nnrt_range r, const char *what)
{
	if (v->kind == V_NONE)
		return dflt;
	double x = need_number(v, what);
	if (!nnrt_in_range(&r, x))
		error_at(v->loc, "%s must be %s, not %g", what, range_text(&r), x);
	return x;
}

/* ---- data ------------------------------------------------------------- */

/* The augmentation arguments (crop, flip, noise) and the image geometry
 * they need (shape) are checked here as far as the .nn file allows; the
 * rest once the loss has named the training source (check_augment). */
enum { MAX_SOURCE_PARAMS = MAX_CALL_PARAMS };

/* The parameters of a source kind's call: its keys in the table's order,
 * the file names first, the three geometry keys as the one 'shape'. */
static int source_params(nnrt_source_kind kind, const nnrt_data_key **key, const char **name)
{
	int n = 0;
	for (int i = 0; i < NNRT_NDATA_KEYS; i++) {
		const nnrt_data_key *k = &nnrt_data_keys[i];
		if (!(k->kinds >> kind & 1) || (n && !strcmp(name[n - 1], k->name)))
			continue;
		if (n == MAX_SOURCE_PARAMS)
			fatal(EXIT_INTERNAL, "data source '%s' has more than %d parameters", nnrt_source_word[kind], n);
		key[n] = k;
		name[n++] = k->name;
	}
	return n;
}

static int is_augment(const char *key)
{
	return !strcmp(key, "resize") || !strcmp(key, "crop") || !strcmp(key, "flip") || !strcmp(key, "erase")
	       || !strcmp(key, "noise");
}

/* shape: [H, W, C] or [H, W] (one channel): stored as height, width and
 * channels, the words the descriptor carries. */
static void image_shape(DataSource *d, const Value *v)
{
	const char *kind = nnrt_source_word[d->kind];
	if (v->kind != V_LIST || v->nitem < 2 || v->nitem > 3)
		error_at(v->loc, "'shape' of '%s' is the image geometry [HEIGHT, WIDTH, CHANNELS] "
		         "(NHWC, as in shape: [28, 28, 1]), not %s", kind,
		         v->kind == V_LIST ? xprintf("a list of %d", v->nitem) : value_kind_name(v));
	static const char *const keys[] = { "height", "width", "channels" };
	for (int j = 0; j < 3; j++) {
		const nnrt_data_key *k = nnrt_data_key_of(d->kind, keys[j]);
		int64_t n = j < v->nitem ? need_int(&v->item[j], xprintf("the image %s", keys[j])) : 1;
		Loc loc = j < v->nitem ? v->item[j].loc : v->loc;
		if (!nnrt_in_range(&k->range, (double)n))
			error_at(loc, "the image %s must be %s, not %lld", keys[j], range_text(&k->range), (long long)n);
		d->arg[d->narg++] = (KeyVal){ .key = k->word, .num = (double)n, .loc = v->loc };
	}
}

/* A numeric argument, in the table's range for it. */
static double source_number(const nnrt_data_key *k, nnrt_source_kind kind, const Value *v)
{
	double x = need_number(v, xprintf("'%s' of '%s'", k->name, nnrt_source_word[kind]));
	if (!nnrt_in_range(&k->range, x))
		error_at(v->loc, "'%s' of '%s' must be %s (%s), not %s", k->name, nnrt_source_word[kind],
		         range_text(&k->range), k->what, num_text(x, k->range.integer && x == floor(x)));
	return x;
}

/* A quoted argument: a file name ("0", "1" in the descriptor) or a word. */
static void source_path(DataSource *d, const nnrt_data_key *k, const Value *v, Loc call)
{
	const char *kind = nnrt_source_word[d->kind];
	if (v->kind == V_NONE && k->path == 2)
		error_at(call, "missing argument '%s' in call to '%s'", k->name, kind);
	if (v->kind == V_NONE)
		return;     /* idx without labels: inputs only */
	if (v->kind != V_STR)
		error_at(v->loc, "'%s' of '%s' must be %s in quotes, not %s", k->name, kind,
		         k->path == 3 ? "a word" : "a file name", value_kind_name(v));
	if (k->path == 3 && !nnrt_is_word(k->what, v->str)) {
		const char *list = "";
		for (const char *p = k->what; *p; p += strcspn(p, " "), p += *p == ' ')
			list = xprintf("%s%s\"%.*s\"", list, *list ? " or " : "", (int)strcspn(p, " "), p);
		error_at(v->loc, "'%s' of '%s' must be %s, not \"%s\"", k->name, kind, list, v->str);
	}
	d->arg[d->narg++] = (KeyVal){ .key = k->word, .str = v->str, .is_str = 1, .loc = v->loc };
}

static DataSource data_source(Ctx *c, const TrainItem *it)
{
	const Expr *e = it->value;
	const char *word = callee(e, "a data source");
	int kind = nnrt_word_index(nnrt_source_word, NNRT_SOURCE__COUNT, word);
	if (kind < 0)
		unknown_choice(e->loc, "data source kind", word, nnrt_source_word, NNRT_SOURCE__COUNT);
	const nnrt_data_key *key[MAX_SOURCE_PARAMS];
	const char *name[MAX_SOURCE_PARAMS];
	int n = source_params((nnrt_source_kind)kind, key, name);
	Value v[MAX_SOURCE_PARAMS];
	call_args(c, e, name, n, v);
	/* Only what the user wrote is stored: the runtime owns the defaults
	 * (random's classes follow the model's outputs, for one). */
	DataSource d = { .name = it->name, .kind = (nnrt_source_kind)kind, .loc = it->loc };
	d.arg = xalloc(sizeof *d.arg * (size_t)(n + 2));   /* shape takes three */
	for (int i = 0; i < n; i++) {
		if (key[i]->path)
			source_path(&d, key[i], &v[i], e->loc);
		else if (v[i].kind == V_NONE)
			continue;
		else if (!strcmp(name[i], "shape"))
			image_shape(&d, &v[i]);
		else
			d.arg[d.narg++] = (KeyVal){ .key = key[i]->word, .num = source_number(key[i], d.kind, &v[i]),
			                            .loc = v[i].loc };
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
static int64_t per_sample(Shape s)
{
	int64_t per = 1;
	for (int i = 1; i < s.rank; i++)
		per *= s.d[i];
	return per;
}

static void check_augment(Ctx *c)
{
	const Config *cfg = &c->m->cfg;
	Shape in = c->field[0]->shape;
	int64_t per = per_sample(in);
	const DataSource *train = NULL;
	for (int i = 0; i < cfg->ndata; i++)
		if (!strcmp(cfg->data[i].name, c->source))
			train = &cfg->data[i];
	const KeyVal *train_views = train ? source_arg(train, "views") : NULL;
	for (int i = 0; i < cfg->ndata; i++) {
		const DataSource *d = &cfg->data[i];
		const KeyVal *h = source_arg(d, "height"), *dv = source_arg(d, "views");
		double v0 = train_views ? train_views->num : 1, v1 = dv ? dv->num : 1;
		if (v0 != v1 && (d->kind == NNRT_SOURCE_IDX || d->kind == NNRT_SOURCE_CSV))
			error_at(dv ? dv->loc : d->loc, "'%s' gives %g view%s of each image but the training source '%s' "
			         "gives %g: every source feeds the same model input, so all give the same views", d->name, v1,
			         v1 == 1 ? "" : "s", c->source, v0);
		for (int j = 0; j < d->narg; j++) {
			const KeyVal *a = &d->arg[j];
			if (!is_augment(a->key))
				continue;
			if (strcmp(d->name, c->source))
				error_at(a->loc, "'%s' augments training batches only, but '%s' is not the training "
				         "source (the loss reads '%s')", a->key, d->name, c->source);
			if (strcmp(a->key, "noise") && !h && d->kind == NNRT_SOURCE_CSV)
				error_at(a->loc, "'%s' needs the image geometry, which a CSV file does not give: "
				         "add shape: [HEIGHT, WIDTH, CHANNELS]", a->key);
		}
		if (!h)
			continue;
		int64_t height = (int64_t)h->num, width = (int64_t)source_arg(d, "width")->num;
		const KeyVal *views = source_arg(d, "views");
		int64_t nv = views ? (int64_t)views->num : 1;
		int64_t hw = height * width * (int64_t)source_arg(d, "channels")->num;
		if (hw * nv != per)
			error_at(h->loc, "the image shape holds %lld values%s, but the model input %s takes %lld",
			         (long long)(hw * nv), nv > 1 ? xprintf(" in %lld views", (long long)nv) : " per sample",
			         type_str(c->field[0]->dt, in), (long long)per);
		const KeyVal *crop = source_arg(d, "crop");
		if (crop && (crop->num >= (double)height || crop->num >= (double)width))
			error_at(crop->loc, "'crop' pads more than the %lldx%lld images hold: use at most %lld",
			         (long long)height, (long long)width, (long long)((height < width ? height : width) - 1));
	}
}

/* An adding source makes samples [T, 2] and one float target, the sum:
 * the model input must hold 2T values per sample, and without 'length'
 * T is half of what it holds. */
static void check_adding(Ctx *c)
{
	const Config *cfg = &c->m->cfg;
	const Node *x = c->field[0], *y = c->field[1];
	int64_t per = per_sample(x->shape);
	for (int i = 0; i < cfg->ndata; i++) {
		const DataSource *d = &cfg->data[i];
		if (d->kind != NNRT_SOURCE_ADDING)
			continue;
		const KeyVal *len = source_arg(d, "length");
		if (len && 2 * (int64_t)len->num != per)
			error_at(len->loc, "adding(length: %lld) makes samples [%lld, 2] of %lld values, but the model "
			         "input %s takes %lld", (long long)len->num, (long long)len->num,
			         2 * (long long)len->num, type_str(x->dt, x->shape), (long long)per);
		if (!len && (per % 2 || per < 4))
			error_at(d->loc, "adding without 'length' takes T from the model input, but %s holds %lld "
			         "values per sample, not 2T for a T of 2 or more", type_str(x->dt, x->shape), (long long)per);
		if (y && (y->dt == DT_I32 || per_sample(y->shape) != 1))
			error_at(d->loc, "the adding problem's target is one float per sample (the sum of the two "
			         "marked values), but the loss reads '%s.y' as %s: regress on it, as in mse(net(%s.x), %s.y) "
			         "with an output [B, 1]", c->source, type_str(y->dt, y->shape), c->source, c->source);
	}
}

/* x and y of an id source d (text, sequences) read as i32[B, want[f]],
 * length: the source's length, holds[f]: what each field holds. */
/* want[f]: the length of field f's rows, i32[B, want], or 0 for one id a
 * sample, i32[B]. */
static void check_id_fields(Ctx *c, const DataSource *d, const int64_t want[2], const char *const holds[2])
{
	int64_t len = (int64_t)source_arg(d, "length")->num;
	for (int f = 0; f < 2; f++) {
		const Node *n = c->field[f];
		int rank = want[f] ? 2 : 1;
		if (!n || (n->dt == DT_I32 && n->shape.rank == rank && (rank == 1 || n->shape.d[1] == want[f])))
			continue;
		error_at(n->loc, "'%s.%s' of the %s source '%s' holds %s, %s, but here it is %s", c->source,
		         f ? "y" : "x", nnrt_source_word[d->kind], d->name, holds[f], rank == 1 ? "i32[B]"
		         : xprintf("i32[B, %lld] (length: %lld)", (long long)want[f], (long long)len),
		         type_str(n->dt, n->shape));
	}
}

/* A text source's fields are character ids, x and y i32[B, T] with T
 * its length (runtime/data_text.c batches it so); with labels: "files"
 * y is one class a sample, i32[B].  A sequences source's
 * (runtime/data_seq.c): x i32[B, 2L], the L input digits, the start mark
 * and the target shifted right (what the decoder reads under teacher
 * forcing); y i32[B, L], the target; and the model's output [B, L, K],
 * logits at each target position, K at least the vocabulary's 11 ids.
 * Checked for every such source, as a report source feeds the same model
 * input. */
static void check_ids(Ctx *c)
{
	const Config *cfg = &c->m->cfg;
	for (int i = 0; i < cfg->ndata; i++) {
		const DataSource *d = &cfg->data[i];
		if (d->kind != NNRT_SOURCE_TEXT && d->kind != NNRT_SOURCE_SEQUENCES)
			continue;
		int64_t L = (int64_t)source_arg(d, "length")->num;
		if (d->kind == NNRT_SOURCE_TEXT) {
			const KeyVal *labels = source_arg(d, "labels"), *mask = source_arg(d, "mask");
			if (labels && mask)
				error_at(mask->loc, "a text source gives masked-language-model targets (mask) or a "
				         "category a text (labels), not both");
			check_id_fields(c, d, (int64_t[]){ L, labels ? 0 : L }, (const char *const[]){ "character ids",
			                labels ? "the index of the text's file" : mask ? "the masked characters' ids "
			                "(-1 elsewhere)" : "the next character's ids" });
			continue;
		}
		check_id_fields(c, d, (int64_t[]){ 2 * L, L }, (const char *const[]){ "the input ids, the start mark "
		                "and the target shifted right", "the target ids" });
		Shape o = c->output->shape;
		if (o.rank != 3 || o.d[1] != L || o.d[2] < 11)
			error_at(d->loc, "a model trained on sequences(length: %lld) returns logits [B, %lld, K] with K >= 11 "
			         "(the start mark and ten digits), but '%s' returns %s", (long long)L, (long long)L,
			         c->model->name, type_str(c->output->dt, o));
	}
}

/* Whether some text source of the train block gives labels of -1 (mask:
 * positions not to predict), which the losses and accuracy then skip. */
int source_ignores_labels(const Ctx *c)
{
	const Config *cfg = &c->m->cfg;
	for (int i = 0; i < cfg->ndata; i++)
		if (cfg->data[i].kind == NNRT_SOURCE_TEXT && source_arg(&cfg->data[i], "mask"))
			return 1;
	return 0;
}

int source_gives_ids(const Ctx *c)
{
	const Config *cfg = &c->m->cfg;
	for (int i = 0; c->source && i < cfg->ndata; i++)
		if (!strcmp(cfg->data[i].name, c->source))
			return cfg->data[i].kind == NNRT_SOURCE_TEXT || cfg->data[i].kind == NNRT_SOURCE_SEQUENCES;
	return 0;
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
		if (d.kind == NNRT_SOURCE_TEXT && !source_arg(&d, "length"))
			error_at(it->value->loc, "'text' needs 'length: T', the characters of a sequence "
			         "(the model reads i32[B, T])");
		if (d.kind == NNRT_SOURCE_SEQUENCES && (!source_arg(&d, "task") || !source_arg(&d, "length")))
			error_at(it->value->loc, "'sequences' needs a task and 'length: L', as in "
			         "sequences(\"sort\", length: 8): the model reads i32[B, 2L] and predicts i32[B, L]");
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
	if (!it && c->train->stage)
		error_at(c->train->loc, "stage '%s' has no 'loss = ...': say what it minimizes", c->train->stage);
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
	store_probes(c);
}

/* ---- optimizer and schedule ------------------------------------------- */

/* The table's range of an optimizer or schedule key */
#define OPT_RANGE(k) nnrt_opt_key_range[NNRT_OPTK_##k]
#define SCHED_RANGE(k) nnrt_sched_key_range[NNRT_SCHEDK_##k]

static void lower_optimizer(Ctx *c)
{
	Config *cfg = &c->m->cfg;
	*cfg = (Config){ .data = cfg->data, .ndata = cfg->ndata, .train_source = cfg->train_source,
		.optimizer = NNRT_OPT_SGD, .lr = 0.01, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8,
		.schedule = NNRT_SCHED_CONSTANT, .gamma = 0.1, .batch = 32, .epochs = 1, .seed = 1 };
	const TrainItem *it = only_item(c->train, TI_OPTIMIZER, "optimizer");
	if (!it)
		return;
	const char *name = callee(it->value, "the optimizer");
	int o = nnrt_word_index(nnrt_optimizer_word, NNRT_OPT__COUNT, name);
	if (o < 0)
		unknown_choice(it->value->loc, "optimizer", name, nnrt_optimizer_word, NNRT_OPT__COUNT);
	cfg->optimizer = (nnrt_optimizer)o;
	Value v[6];
	if (cfg->optimizer == NNRT_OPT_SGD) {
		call_args(c, it->value, (const char *[]){ "lr", "momentum", "nesterov", "weight_decay", "clip" }, 5, v);
		cfg->clip = number_in(&v[4], 0, OPT_RANGE(CLIP), "clip");
		cfg->lr = number_in(&v[0], 0.01, OPT_RANGE(LR), "lr");
		warn_optimizer(c, name, &v[0], cfg->lr);
		cfg->momentum = number_in(&v[1], 0, OPT_RANGE(MOMENTUM), "momentum");
		cfg->nesterov = (int)number_in(&v[2], 0, OPT_RANGE(NESTEROV), "nesterov");
		cfg->weight_decay = number_in(&v[3], 0, OPT_RANGE(WEIGHT_DECAY), "weight_decay");
		if (cfg->nesterov && cfg->momentum == 0)
			error_at(v[2].loc, "nesterov needs a momentum above 0");
		return;
	}
	call_args(c, it->value, (const char *[]){ "lr", "beta1", "beta2", "eps", "weight_decay", "clip" }, 6, v);
	cfg->clip = number_in(&v[5], 0, OPT_RANGE(CLIP), "clip");
	cfg->lr = number_in(&v[0], 0.001, OPT_RANGE(LR), "lr");
	warn_optimizer(c, name, &v[0], cfg->lr);
	cfg->beta1 = number_in(&v[1], 0.9, OPT_RANGE(BETA1), "beta1");
	cfg->beta2 = number_in(&v[2], 0.999, OPT_RANGE(BETA2), "beta2");
	cfg->eps = number_in(&v[3], 1e-8, OPT_RANGE(EPS), "eps");
	cfg->weight_decay = number_in(&v[4], cfg->optimizer == NNRT_OPT_ADAMW ? 0.01 : 0, OPT_RANGE(WEIGHT_DECAY),
	                              "weight_decay");
}

static void lower_schedule(Ctx *c)
{
	Config *cfg = &c->m->cfg;
	const TrainItem *it = only_item(c->train, TI_SCHEDULE, "schedule");
	if (!it)
		return;
	const char *name = callee(it->value, "the schedule");
	int k = nnrt_word_index(nnrt_schedule_word, NNRT_SCHED__COUNT, name);
	if (k < 0)
		unknown_choice(it->value->loc, "schedule", name, nnrt_schedule_word, NNRT_SCHED__COUNT);
	cfg->schedule = (nnrt_schedule)k;
	Value v[3];
	switch (cfg->schedule) {
	case NNRT_SCHED_CONSTANT:
		call_args(c, it->value, (const char *[]){ "warmup" }, 1, v);
		break;
	case NNRT_SCHED_STEP: {
		call_args(c, it->value, (const char *[]){ "warmup", "every", "gamma" }, 3, v);
		if (v[1].kind == V_NONE)
			error_at(it->value->loc, "step needs 'every: EPOCHS', the epochs between decays");
		nnrt_range every = SCHED_RANGE(STEP_SIZE);
		every.lo_open = 1;   /* the table allows 0, which the other schedules write */
		cfg->step_size = number_in(&v[1], 1, every, "every");
		cfg->gamma = number_in(&v[2], 0.1, SCHED_RANGE(GAMMA), "gamma");
		break;
	}
	case NNRT_SCHED_COSINE: {
		call_args(c, it->value, (const char *[]){ "warmup", "min_lr" }, 2, v);
		nnrt_range min_lr = SCHED_RANGE(MIN_LR);
		min_lr.hi = fmin(min_lr.hi, cfg->lr);
		cfg->min_lr = number_in(&v[1], 0, min_lr, "min_lr (at most lr)");
		break;
	}
	case NNRT_SCHED__COUNT:
		fatal(EXIT_INTERNAL, "schedule %d", k);
	}
	cfg->warmup = number_in(&v[0], 0, SCHED_RANGE(WARMUP), "warmup");
}

/* ---- settings and reports --------------------------------------------- */

/* A train item nn does not have: an optimizer's argument written as a
 * setting (lr 0.1), or a near miss of a setting (epoch 3). */
static _Noreturn void unknown_setting(const TrainItem *it)
{
	const char *s = nearest(it->name, nnrt_setting_word, NNRT_SET__COUNT), *key = NULL;
	int k = nnrt_word_index(nnrt_opt_key_word, NNRT_OPTK__COUNT, it->name);
	if (k >= 0)
		key = nnrt_opt_key_word[k];
	else if (!s)
		key = nearest(it->name, nnrt_opt_key_word, NNRT_OPTK__COUNT);
	if (key) {
		int adam = !strcmp(key, "beta1") || !strcmp(key, "beta2") || !strcmp(key, "eps");
		error_hint(it->loc, xprintf("write it as an argument of the optimizer: optimizer = %s(%s: ...)",
		                            adam ? "adam" : "sgd", key),
		           "'%s' is not a setting of the train block; '%s' belongs to the optimizer", it->name, key);
	}
	const char *items = "a train block holds data NAME = ..., loss = ..., optimizer = ..., schedule = ..., "
	                    "report METRICS on SOURCE, and the settings batch N, epochs N, seed N";
	if (s)
		error_hint(it->loc, items, "unknown setting '%s'; did you mean '%s'? (known: %s)", it->name, s,
		           name_list(nnrt_setting_word, NNRT_SET__COUNT));
	error_hint(it->loc, items, "unknown setting '%s' (known: %s)", it->name,
	           name_list(nnrt_setting_word, NNRT_SET__COUNT));
}

static void lower_settings(Ctx *c)
{
	Config *cfg = &c->m->cfg;
	int seen[NNRT_SET__COUNT] = { 0 };
	for (int i = 0; i < c->train->nitems; i++) {
		const TrainItem *it = &c->train->items[i];
		if (it->kind != TI_SETTING)
			continue;
		if (!strcmp(it->name, "update") && c->train->stage)
			continue;   /* the slice the stage updates: lower_stage.c */
		if (!strcmp(it->name, "update") || !strcmp(it->name, "model"))
			error_at(it->loc, "'%s' belongs to a training stage, 'stage NAME { ... }': it says what the "
			         "stage %s", it->name, it->name[0] == 'u' ? "updates" : "trains");
		int k = nnrt_word_index(nnrt_setting_word, NNRT_SET__COUNT, it->name);
		if (k < 0)
			unknown_setting(it);
		if (seen[k]++)
			error_at(it->loc, "'%s' is set twice", it->name);
		Value v = eval(c, it->value);
		int64_t n = need_int(&v, xprintf("'%s'", it->name));
		int64_t lo = nnrt_setting_lo[k], hi = nnrt_setting_hi[k];
		if (n < lo || n > hi)
			error_at(it->value->loc, "'%s' must be %s, not %lld", it->name,
			         hi == INT64_MAX ? xprintf("%lld or more", (long long)lo)
			                         : xprintf("between %lld and %lld", (long long)lo, (long long)hi),
			         (long long)n);
		*(k == NNRT_SET_BATCH ? &cfg->batch : k == NNRT_SET_EPOCHS ? &cfg->epochs : &cfg->seed) = n;
	}
}

static nnrt_source_kind source_kind(const Config *cfg, const char *name)
{
	for (int i = 0; i < cfg->ndata; i++)
		if (!strcmp(cfg->data[i].name, name))
			return cfg->data[i].kind;
	return NNRT_SOURCE__COUNT;
}

/* 'report reconstruction' is computed by the trainer from the RBM's
 * parameters (runtime/rbm.c), which it finds by these names. */
static void check_rbm(Ctx *c, Loc at)
{
	const char *model = c->model->name, *names[3] = { "W", "b", "c" };
	const Slot *p[3];
	for (int i = 0; i < 3; i++) {
		int k = ir_find_slot(c->m, xprintf("%s.%s", model, names[i]));
		p[i] = k >= 0 && c->m->slot[k].role == SLOT_PARAM ? &c->m->slot[k] : NULL;
		if (!p[i])
			error_at(at, "'reconstruction' needs a restricted Boltzmann machine: a model whose body declares "
			         "'param W: float[V, H]', 'param b: float[V]' and 'param c: float[H]' (stdlib/rbm.nn); "
			         "'%s' declares no '%s'", model, names[i]);
	}
	Shape w = p[0]->shape;
	if (w.rank != 2 || p[1]->shape.rank != 1 || p[2]->shape.rank != 1 || p[1]->shape.d[0] != w.d[0]
	    || p[2]->shape.d[0] != w.d[1] || w.d[0] != per_sample(c->field[0]->shape))
		error_at(at, "'reconstruction' needs W [V, H], b [V] and c [H] with V the model input's %lld values; "
		         "'%s' has W %s, b %s, c %s", (long long)per_sample(c->field[0]->shape), model,
		         type_str(p[0]->dt, w), type_str(p[1]->dt, p[1]->shape), type_str(p[2]->dt, p[2]->shape));
}

static void lower_reports(Ctx *c)
{
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
			int metric = nnrt_word_index(nnrt_metric_word, NNRT_METRIC__COUNT, mt);
			if (metric < 0)
				unknown_choice(it->metric_locs[k], "metric", mt, nnrt_metric_word, NNRT_METRIC__COUNT);
			if (metric == NNRT_METRIC_BPC && (source_kind(cfg, it->name) != NNRT_SOURCE_TEXT
			                                  || !c->m->output_is || strcmp(c->m->output_is, "logits")))
				error_at(it->metric_locs[k], "'bpc' (bits per character: the loss / ln 2) needs a text source "
				         "and the loss cross_entropy of the model's output");
			if (metric == NNRT_METRIC_ACCURACY && (!c->field[1] || c->field[1]->dt != DT_I32
			                                           || c->output->shape.rank != c->field[1]->shape.rank + 1
			                                           || c->output->shape.rank > 3))
				error_at(it->metric_locs[k], "'accuracy' needs integer class labels (the loss must read "
				         "'%s.y' as labels, e.g. through cross_entropy) and a model output [B, K]", c->source);
			if (metric == NNRT_METRIC_FREE_ENERGY && per_sample(c->output->shape) != 1)
				error_at(it->metric_locs[k], "'free_energy' is the mean of the model's output, one value per "
				         "sample (an RBM's free energy F(v)), but '%s' returns %s", c->model->name,
				         type_str(c->output->dt, c->output->shape));
			if (metric == NNRT_METRIC_RECONSTRUCTION)
				check_rbm(c, it->metric_locs[k]);
			int n = cfg->nreport++;
			cfg->report_metric = xrealloc(cfg->report_metric, sizeof *cfg->report_metric * (size_t)n,
			                              sizeof *cfg->report_metric * (size_t)(n + 1));
			cfg->report_source = xrealloc(cfg->report_source, sizeof(char *) * (size_t)n, sizeof(char *) * (size_t)(n + 1));
			cfg->report_metric[n] = (nnrt_metric)metric;
			cfg->report_source[n] = it->name;
		}
	}
}

/* Every initializer's numbers within the table's ranges, which the
 * runtime checks again (the initializers' own rules are narrower: a
 * positive gain, a std of 0 or more). */
static void check_inits(Ctx *c)
{
	const Module *m = c->m;
	for (int i = 0; i < m->nslot; i++) {
		const Slot *s = &m->slot[i];
		if ((s->role != SLOT_PARAM && s->role != SLOT_BUFFER) || s->init.kind == INIT_NONE)
			continue;
		const double v[NNRT_INITK__COUNT] = {
			[NNRT_INITK_A] = s->init.a, [NNRT_INITK_B] = s->init.b, [NNRT_INITK_GAIN] = s->init.gain,
			[NNRT_INITK_FAN_IN] = (double)s->init.fan_in, [NNRT_INITK_FAN_OUT] = (double)s->init.fan_out,
		};
		for (int k = 0; k < NNRT_INITK__COUNT; k++)
			if (!nnrt_in_range(&nnrt_init_key_range[k], v[k]))
				error_at(s->loc, "the initializer of '%s' has %s = %g, which must be %s", s->name,
				         nnrt_init_key_word[k], v[k], range_text(&nnrt_init_key_range[k]));
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
	check_inits(c);
	c->m->cfg.train_source = c->source;
	check_augment(c);
	check_adding(c);
	check_ids(c);
	lower_reports(c);
}
