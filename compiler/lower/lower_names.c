/* lower_names.c — the names of parameters: call paths, sharing, and
 * collisions.
 *
 * A parameter is named by the path of calls that declared it: a model's
 * name ("mlp"), then FN_K for the K-th call of FN written in the calling
 * body ("mlp.dense_2"), then the parameter ("mlp.dense_2.W").  A model has
 * one set of parameters, shared by all its calls wherever they are made;
 * every call of a fn owns its own.
 *
 * The paths form a tree: inner nodes are calls, leaves are parameters
 * and batch norm's running statistics.  Each node remembers what made it
 * (the declaration called, or the param statement) and its parent node,
 * so a path reached again is either the same thing reached again (a model
 * called twice: its parameters are shared) or a different thing that
 * happens to spell the same name (model 'reg_1' and the first call of
 * fn 'reg'): an error naming both, never a silent merge.  Nodes are made
 * on demand, when a parameter below them is declared, so calls that
 * declare nothing never collide.  A leaf is never an inner node, which
 * also keeps "<param>.grad" and the optimizer's "<param>.m" apart from
 * every other parameter's name. */
#include <string.h>
#include "lower.h"

/* The builtin that keeps state under its own call path. */
static const char batch_norm_owner[] = "batch_norm", scan_owner[] = "scan", repeat_owner[] = "repeat";

/* The next number for a call of `callee` written in the current body. */
const char *call_path_of(Ctx *c, const char *callee, int *ordinal)
{
	Frame *f = c->frame;
	Counter *k;
	for (k = f->calls; k && strcmp(k->name, callee) != 0; k = k->next)
		;
	if (!k) {
		k = xalloc(sizeof *k);
		*k = (Counter){ callee, 0, f->calls };
		f->calls = k;
	}
	k->n++;
	if (ordinal)
		*ordinal = k->n;
	return f->path ? xprintf("%s.%s_%d", f->path, callee, k->n) : xprintf("%s_%d", callee, k->n);
}

/* A model is named by itself wherever it is called; a fn call by its
 * place in the calling body. */
void name_frame(Ctx *c, Frame *callee, const Decl *d, Loc call)
{
	if (d->kind == D_MODEL) {
		callee->path = d->name;
		callee->what = xprintf("model '%s'", d->name);
		callee->site = d->loc;
		return;
	}
	int k;
	callee->path = call_path_of(c, d->name, &k);
	callee->what = xprintf("call %d of '%s'", k, d->name);
	callee->site = call;
}

/* The node for `path`, made now or found again; `leaf` is the parameter
 * whose declaration asked, for the message. */
static PathNode *claim(Ctx *c, PathNode want, const char *leaf)
{
	int i = names_get(&c->paths, want.path);
	if (i < 0) {
		PathNode *n = xalloc(sizeof *n);
		*n = want;
		if (c->npath == c->cappath) {
			int cap = c->cappath ? 2 * c->cappath : 64;
			c->path_node = xrealloc(c->path_node, sizeof *c->path_node * (size_t)c->cappath,
			                        sizeof *c->path_node * (size_t)cap);
			c->cappath = cap;
		}
		c->path_node[c->npath] = n;
		names_put(&c->paths, n->path, c->npath++);
		return n;
	}
	PathNode *old = c->path_node[i];
	if (old->leaf == want.leaf && old->owner == want.owner && old->parent == want.parent)
		return old;
	note_at(old->loc, "'%s' is the name of %s", want.path, old->what);
	error_at(want.loc, "%s would also be named '%s' (as %s at %s:%d:%d), so %s '%s' would be one tensor "
	         "for both; rename one of them", want.what, want.path, old->what, old->loc.file, old->loc.line,
	         old->loc.col, strchr(leaf, '.') ? "parameter" : "the name", leaf);
}

static PathNode *frame_node(Ctx *c, Frame *f, const char *leaf)
{
	if (!f->decl)
		return NULL;      /* the train block: paths start at the top */
	if (!f->node) {
		PathNode *parent = f->decl->kind == D_MODEL ? NULL : frame_node(c, f->up, leaf);
		f->node = claim(c, (PathNode){ .path = f->path, .owner = f->decl, .parent = parent,
		                               .what = f->what, .loc = f->site, .slot = -1 }, leaf);
	}
	return f->node;
}

/* Make or share the leaf at `path`: shared only with the same
 * declaration reached through the same calls, and then of one type. */
static int claim_leaf(Ctx *c, PathNode want, SlotRole role, DType dt, Shape sh, Init init)
{
	PathNode *n = claim(c, want, want.path);
	if (n->slot < 0) {
		n->slot = ir_slot(c->m, n->path, role, dt, sh, want.loc);
		c->m->slot[n->slot].init = init;
		return n->slot;
	}
	const Slot *s = &c->m->slot[n->slot];
	if (s->dt == dt && shape_equal(s->shape, sh))
		return n->slot;
	const Frame *model = c->frame;      /* only a model's calls share: one encloses this */
	while (model && (!model->decl || model->decl->kind != D_MODEL))
		model = model->up;
	if (!model)
		error_at(want.loc, "'%s' would be %s here but is %s", n->path, type_str(dt, sh), type_str(s->dt, s->shape));
	note_at(want.loc, "'%s' is declared here", n->path);
	error_at(model->call, "this call of model '%s' would make its parameter '%s' %s, but an earlier "
	         "call made it %s; every call of a model shares its parameters", model->decl->name, n->path,
	         type_str(dt, sh), type_str(s->dt, s->shape));
}

int param_slot(Ctx *c, const Stmt *s, DType dt, Shape sh, Init init)
{
	const char *path = xprintf("%s.%s", c->frame->path, s->name);
	PathNode want = { .path = path, .leaf = 1, .owner = s, .parent = frame_node(c, c->frame, path),
	                  .what = xprintf("parameter '%s'", s->name), .loc = s->loc, .slot = -1 };
	return claim_leaf(c, want, SLOT_PARAM, dt, sh, init);
}

/* batch_norm's running statistic `what` under the call's own path (its
 * number taken where the call is written, see call_builtin). */
int buffer_slot(Ctx *c, const char *call_path, const char *callee, const char *what, DType dt, Shape sh,
                InitKind kind, Loc loc)
{
	const char *path = xprintf("%s.%s", call_path, what);
	PathNode *parent = frame_node(c, c->frame, path);
	PathNode call = { .path = call_path, .owner = !strcmp(callee, "scan") ? scan_owner
	                                                 : !strcmp(callee, "repeat") ? repeat_owner : batch_norm_owner,
	                  .parent = parent, .what = xprintf("a call of '%s'", callee), .loc = loc, .slot = -1 };
	PathNode want = { .path = path, .leaf = 1, .owner = what, .parent = claim(c, call, path),
	                  .what = xprintf("%s's '%s'", callee, what), .loc = loc, .slot = -1 };
	int64_t n = shape_per_sample(sh);
	Init init = { .kind = kind, .gain = 1, .fan_in = n, .fan_out = n };
	return claim_leaf(c, want, SLOT_BUFFER, dt, sh, init);
}
