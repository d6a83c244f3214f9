/* lower_stage.c — training stages (docs/design.md, "Training stages").
 *
 * A train block with `stage NAME { ... }` items is compiled once per
 * stage, as a train block of its own (stage_program): the block's shared
 * items (data, optimizer, schedule, settings) and the stage's, which
 * replace those of the same kind and name; the stage's model is the
 * block's unless it says `model NAME`.  Each stage is then lowered,
 * differentiated and emitted alone, and the trainer runs them in order
 * over one set of parameters, matched by name (runtime/stages.c).
 *
 * What a stage updates is a slice of the parameters its loss reads: those
 * of its model, or those `update [NAME, ...]` names (a model, a layer's
 * call path, a parameter).  The rest are frozen: lower_stage makes them
 * buffers, which the stage's gradient and optimizer leave alone and its
 * checkpoint still holds (a greedy stack's lower layers, read to make
 * the data of the layer being trained). */
#include <string.h>
#include "lower.h"

/* ---- the train block of one stage --------------------------------------- */

static Decl *train_decl(const Program *p)
{
	for (int i = 0; i < p->ndecls; i++)
		if (p->decls[i]->kind == D_TRAIN)
			return p->decls[i];
	return NULL;
}

static int is_stage(const TrainItem *it) { return it->kind == TI_STAGE; }

static int same_item(const TrainItem *a, const TrainItem *b)
{
	if (a->kind != b->kind)
		return 0;
	if (a->kind == TI_DATA || a->kind == TI_SETTING)
		return !strcmp(a->name, b->name);
	return a->kind == TI_OPTIMIZER || a->kind == TI_SCHEDULE;
}

static const char *item_word(const TrainItem *it)
{
	return it->kind == TI_LOSS ? "loss" : it->kind == TI_REPORT ? "report" : it->name;
}

/* The shared items a stage may inherit: no loss, no report (each stage
 * says what it minimizes and reports), no `model` or `update` (a stage's). */
static void check_shared(const Decl *t)
{
	for (int i = 0; i < t->nitems; i++) {
		const TrainItem *it = &t->items[i];
		int setting = it->kind == TI_SETTING && (!strcmp(it->name, "model") || !strcmp(it->name, "update"));
		if (it->kind == TI_LOSS || it->kind == TI_REPORT || setting)
			error_hint(it->loc, "each stage has its own loss, reports, model and update list; the block's "
			           "data, optimizer, schedule and settings are shared by every stage",
			           "a train block with stages cannot have '%s' outside them; move it into a stage",
			           item_word(it));
		for (int j = 0; is_stage(it) && j < i; j++)
			if (is_stage(&t->items[j]) && !strcmp(t->items[j].name, it->name)) {
				note_at(t->items[j].loc, "the first stage '%s' is here", it->name);
				error_at(it->loc, "two stages are named '%s'", it->name);
			}
		for (int j = 0; is_stage(it) && j < it->nitems; j++)
			if (it->items[j].kind == TI_SETTING && !strcmp(it->items[j].name, "seed"))
				error_at(it->items[j].loc, "'seed' belongs to the train block: its stages draw from one seed "
				         "(the parameters they share are initialized from it)");
		for (int j = 0; is_stage(it) && j < it->nitems; j++)
			if (is_stage(&it->items[j]))
				error_at(it->items[j].loc, "a stage cannot hold another stage ('%s' is inside '%s'); "
				         "list the stages one after the other in the train block", it->items[j].name, it->name);
	}
}

int program_stages(const Program *p)
{
	const Decl *t = train_decl(p);
	int n = 0;
	for (int i = 0; t && i < t->nitems; i++)
		n += is_stage(&t->items[i]);
	if (n)
		check_shared(t);
	return n;
}

static const TrainItem *stage_item(const Decl *t, int k)
{
	for (int i = 0; i < t->nitems; i++)
		if (is_stage(&t->items[i]) && k-- == 0)
			return &t->items[i];
	fatal(EXIT_INTERNAL, "internal error: no stage %d", k);
}

const char *stage_name(const Program *p, int k)
{
	return stage_item(train_decl(p), k)->name;
}

/* The program with its train block replaced by stage k's. */
Program *stage_program(const Program *p, int k)
{
	const Decl *t = train_decl(p);
	const TrainItem *st = stage_item(t, k);
	Decl *d = xalloc(sizeof *d);
	*d = *t;
	d->stage = st->name;
	d->staged = t;
	d->loc = st->loc;   /* where its errors point until `model` says otherwise */
	d->items = xalloc(sizeof *d->items * (size_t)(t->nitems + st->nitems));
	d->nitems = 0;
	for (int i = 0; i < t->nitems; i++) {
		int replaced = is_stage(&t->items[i]);
		for (int j = 0; j < st->nitems && !replaced; j++)
			replaced = same_item(&t->items[i], &st->items[j]);
		if (!replaced)
			d->items[d->nitems++] = t->items[i];
	}
	for (int j = 0; j < st->nitems; j++) {
		const TrainItem *it = &st->items[j];
		if (it->kind == TI_SETTING && !strcmp(it->name, "model")) {
			d->name = it->value->str;
			d->loc = it->value->loc;
		} else
			d->items[d->nitems++] = *it;
	}
	Program *q = xalloc(sizeof *q);
	*q = *p;
	q->decls = xalloc(sizeof *q->decls * (size_t)p->ndecls);
	for (int i = 0; i < p->ndecls; i++)
		q->decls[i] = p->decls[i] == t ? d : p->decls[i];
	return q;
}

/* ---- the slice a stage updates ------------------------------------------ */

/* MODEL, MODEL.LAYER, MODEL.LAYER.NAME as written */
static const char *path_of(const Expr *e)
{
	if (e->kind == E_IDENT)
		return e->str;
	if (e->kind == E_FIELD) {
		const char *up = path_of(e->a);
		return up ? xprintf("%s.%s", up, e->str) : NULL;
	}
	return NULL;
}

static int under(const char *slot, const char *path)
{
	size_t n = strlen(path);
	return !strncmp(slot, path, n) && (slot[n] == '\0' || slot[n] == '.');
}

/* Every parameter path and each call path above one: what `update` may name. */
static const char **slice_names(const Module *m, int *n)
{
	const char **names = xalloc(sizeof *names * (size_t)(m->nslot * MAXRANK + 1));
	*n = 0;
	for (int i = 0; i < m->nslot; i++) {
		if (m->slot[i].role != SLOT_PARAM)
			continue;
		const char *s = m->slot[i].name;
		for (const char *dot = strchr(s, '.'); dot; dot = strchr(dot + 1, '.'))
			names[(*n)++] = xprintf("%.*s", (int)(dot - s), s);
		names[(*n)++] = s;
	}
	return names;
}

/* The parameters under path are the stage's; `update` must name some
 * (a model without parameters trains nothing, and says nothing). */
static void own(Ctx *c, char *owned, const char *path, Loc loc, int named)
{
	const Module *m = c->m;
	int found = 0;
	for (int i = 0; i < m->nslot; i++)
		if (m->slot[i].role == SLOT_PARAM && under(m->slot[i].name, path))
			owned[i] = 1, found = 1;
	if (found || !named)
		return;
	int n;
	const char **names = slice_names(m, &n);
	const char *s = suggest(path, names, n);
	error_hint(loc, "a stage updates parameters its loss reads, named by a model, a layer's call path "
	           "(mlp.dense_1) or a parameter (rbm.W); `nnc --emit=desc` lists them",
	           "stage '%s' updates '%s', but its loss reads no parameter of that name%s%s%s",
	           c->train->stage, path, s ? "; did you mean '" : "", s ? s : "", s ? "'?" : "");
}

static const TrainItem *update_item(const Decl *t)
{
	for (int i = 0; i < t->nitems; i++)
		if (t->items[i].kind == TI_SETTING && !strcmp(t->items[i].name, "update"))
			return &t->items[i];
	return NULL;
}

static void freeze(Ctx *c)
{
	Module *m = c->m;
	char *owned = xalloc((size_t)m->nslot + 1);
	const TrainItem *up = update_item(c->train);
	const Expr *e = up ? up->value : NULL;
	int n = e && e->kind == E_LIST ? e->nargs : 1;
	for (int i = 0; i < n; i++) {
		const Expr *item = e && e->kind == E_LIST ? e->args[i].value : e;
		const char *path = item ? path_of(item) : c->model->name;
		if (!path)
			error_at(item->loc, "'update' lists names: a model, a layer's call path or a parameter, "
			         "as in update [rbm2, dbn.dense_1]");
		own(c, owned, path, item ? item->loc : c->train->loc, item != NULL);
	}
	for (int i = 0; i < m->nslot; i++)
		if (m->slot[i].role == SLOT_PARAM && !owned[i])
			m->slot[i].role = SLOT_BUFFER;
}

void lower_stage(Ctx *c)
{
	const Decl *t = c->train;
	if (!t->stage)
		return;
	Module *m = c->m;
	m->stage = t->stage;
	m->stage_names = xalloc(sizeof *m->stage_names * (size_t)t->staged->nitems);
	for (int i = 0; i < t->staged->nitems; i++) {
		const TrainItem *it = &t->staged->items[i];
		if (!is_stage(it))
			continue;
		if (!strcmp(it->name, t->stage))
			m->stage_index = m->nstage;
		m->stage_names[m->nstage++] = it->name;
	}
	freeze(c);
}
