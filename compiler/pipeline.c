/* pipeline.c — the stages of docs/design.md, in order, each with a name.
 *
 * nnc, the fuzzer, the IR tests and the C test harnesses all run the
 * stages from this one table, so no caller keeps a copy of the sequence
 * that could drift from it.  A run covers a range of the table; the
 * per-function passes between module stages run as one block on each
 * function in turn (eval, then grad, then update), the order main.c has
 * always used.  With Pipeline.verify, ir_verify checks every function a
 * stage touched; with Pipeline.print_after, the functions are printed
 * after each run of that pass (QBE's -d). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ir.h"

/* Which functions a module stage made or changed. */
typedef enum { TOUCH_FWD, TOUCH_EVAL, TOUCH_GRAD, TOUCH_UPDATE, TOUCH_ALL, TOUCH_NONE } Touch;

/* What a stage needs that a module read from a listing may lack or have
 * already gone past: passes before fuse rewrite nodes that groups and
 * buffers would still name. */
enum { NEED_SOURCE = 1, NEED_FWD = 2, NEED_CONFIG = 4, NEED_UNPLANNED = 8, NEED_LOSS = 16 };

typedef struct Stage {
	const char *name;
	void (*fn_pass)(Fn *);                        /* a per-function pass, or NULL */
	Module *(*module_stage)(Pipeline *, Module *);
	Touch touch;
	int needs;
} Stage;

static Module *run_lower(Pipeline *p, Module *m)
{
	(void)m;
	m = lower(p->program);
	if (p->source)
		m->source = p->source;
	return m;
}

static Module *run_eval(Pipeline *p, Module *m)
{
	(void)p;
	m->eval = ir_clone(m->fwd, "eval");
	resolve_mode(m, m->eval, 0);
	return m;
}

/* select_mode's VJP follows the training operand, so grad differentiates
 * the forward graph before resolve_mode picks that operand. */
static Module *run_grad(Pipeline *p, Module *m)
{
	(void)p;
	m->grad = grad(m, m->fwd);
	resolve_mode(m, m->grad, 1);
	return m;
}

/* The listing --emit=grad prints, kept for a trainer that will be
 * emitted: its trace runs and prints these very lines (runtime/trace.c),
 * so its numbering is the listing's, before the passes renumber. */
static const char *grad_listing(const Module *m)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		fatal(EXIT_NOMEM, "out of memory keeping the listing");
	ir_print_module(f, m, "grad");
	if (fclose(f) != 0 || !text)
		fatal(EXIT_NOMEM, "out of memory keeping the listing");
	const char *kept = xstrndup(text, len);
	free(text);
	return kept;
}

static Module *run_optim(Pipeline *p, Module *m)
{
	m->update = optim(m);
	if (p->object || p->llvm_text)
		m->listing = grad_listing(m);
	return m;
}
static Module *run_plan_state(Pipeline *p, Module *m) { (void)p; plan_state(m); return m; }
static Module *run_describe(Pipeline *p, Module *m) { p->descriptor = describe(m); return m; }

static Module *run_emit(Pipeline *p, Module *m)
{
	if (!p->object && !p->llvm_text)
		fatal(EXIT_INTERNAL, "internal error: the emit stage has neither an object path nor a stream");
	p->status = emit_object(m, p->object, p->opt_level, p->llvm_text);
	return m;
}

static const Stage stages[] = {
	{ "lower",      NULL,     run_lower,      TOUCH_FWD,    NEED_SOURCE },
	{ "eval",       NULL,     run_eval,       TOUCH_EVAL,   NEED_FWD | NEED_UNPLANNED },
	{ "grad",       NULL,     run_grad,       TOUCH_GRAD,   NEED_FWD | NEED_UNPLANNED | NEED_LOSS },
	{ "optim",      NULL,     run_optim,      TOUCH_UPDATE, NEED_CONFIG },
	{ "simplify",   simplify, NULL,           TOUCH_NONE,   NEED_UNPLANNED },
	{ "cse",        cse,      NULL,           TOUCH_NONE,   NEED_UNPLANNED },
	{ "dce",        dce,      NULL,           TOUCH_NONE,   NEED_UNPLANNED },
	{ "convfuse",   convfuse, NULL,           TOUCH_NONE,   NEED_UNPLANNED },
	{ "dce",        dce,      NULL,           TOUCH_NONE,   NEED_UNPLANNED },   /* the windows convfuse left */
	{ "fuse",       fuse,     NULL,           TOUCH_NONE,   0 },
	{ "plan",       plan,     NULL,           TOUCH_NONE,   0 },
	{ "plan_state", NULL,     run_plan_state, TOUCH_ALL,    0 },
	{ "describe",   NULL,     run_describe,   TOUCH_NONE,   NEED_CONFIG },
	{ "emit",       NULL,     run_emit,       TOUCH_NONE,   NEED_CONFIG },
};
enum { NSTAGE = sizeof stages / sizeof *stages };

/* First (last) stage of that name; -1 when none. */
static int stage_index(const char *name, int last)
{
	int found = -1;
	for (int i = 0; i < NSTAGE && name; i++)
		if (!strcmp(stages[i].name, name) && (found < 0 || last))
			found = i;
	return found;
}

/* emit writes an object, not IR, so it cannot be printed after. */
int pipeline_has_pass(const char *name)
{
	return stage_index(name, 0) >= 0 && strcmp(name, "emit") != 0;
}

const char *pipeline_pass_names(void)
{
	const char *s = "";
	for (int i = 0; i < NSTAGE; i++)
		if (pipeline_has_pass(stages[i].name) && stage_index(stages[i].name, 0) == i)
			s = xprintf("%s%s%s", s, *s ? ", " : "", stages[i].name);
	return s;
}

/* The functions the per-function passes run on: eval, grad and update;
 * a module that holds only the forward function (a --emit=ir listing)
 * has that one. */
static int module_fns(Module *m, Fn **fns)
{
	int n = 0;
	Fn *all[3] = { m->eval, m->grad, m->update };
	for (int i = 0; i < 3; i++)
		if (all[i])
			fns[n++] = all[i];
	if (n == 0 && m->fwd)
		fns[n++] = m->fwd;
	return n;
}

static void check(const Pipeline *p, const Module *m, const Fn *fn, const char *after)
{
	if (!p->verify || !fn)
		return;
	const char *why = ir_verify(m, fn);
	if (why)
		fatal(EXIT_INTERNAL, "internal error: IR of '%s' invalid after %s: %s", fn->name, after, why);
}

static int printing(const Pipeline *p, const char *name)
{
	return p->print_after && !strcmp(p->print_after, name);
}

static Fn *touched(const Module *m, Touch t)
{
	return t == TOUCH_FWD ? m->fwd : t == TOUCH_EVAL ? m->eval : t == TOUCH_GRAD ? m->grad
	     : t == TOUCH_UPDATE ? m->update : NULL;
}

/* One function as --emit=opt shows it: eval followed by a blank line,
 * update under its title. */
static void print_fn(const Pipeline *p, const Module *m, Fn *fn)
{
	Module one = *m;
	one.fwd = fn == m->fwd ? fn : NULL;
	one.eval = fn == m->eval ? fn : NULL;
	one.grad = fn == m->grad ? fn : NULL;
	one.update = fn == m->update ? fn : NULL;
	if (one.fwd || one.eval || one.grad || one.update)
		ir_print_module(p->out, &one, one.fwd ? "ir" : "opt");
	else
		ir_print(p->out, m, fn);       /* a function of no module: a test's */
}

static void after_module_stage(const Pipeline *p, const Module *m, const Stage *s)
{
	Fn *fn = touched(m, s->touch);
	check(p, m, fn, s->name);
	if (s->touch == TOUCH_ALL) {
		check(p, m, m->eval, s->name);
		check(p, m, m->grad, s->name);
		check(p, m, m->update, s->name);
	}
	if (!printing(p, s->name))
		return;
	if (fn)
		print_fn(p, m, fn);
	else if (s->touch == TOUCH_ALL)
		ir_print_module(p->out, m, "opt");
	else if (p->descriptor && s->module_stage == run_describe)
		fputs(p->descriptor, p->out);
}

/* A pass on the bodies of fn's scans, innermost first, then on fn. */
static void pass_deep(void (*pass)(Fn *), Fn *fn)
{
	for (int i = 0; i < fn->n; i++)
		if (fn->node[i]->body)
			pass_deep(pass, fn->node[i]->body);
	pass(fn);
}

/* Stages first..last, all per-function passes, on one function. */
static void fn_block(const Pipeline *p, const Module *m, Fn *fn, int first, int last)
{
	for (int i = first; i <= last; i++) {
		pass_deep(stages[i].fn_pass, fn);
		check(p, m, fn, stages[i].name);
		if (printing(p, stages[i].name))
			print_fn(p, m, fn);
	}
}

static void range(int *first, int *last, const Pipeline *p)
{
	*first = p->from ? stage_index(p->from, 0) : 0;
	*last = p->to ? stage_index(p->to, 1) : NSTAGE - 1;
	if (*first < 0 || *last < 0)
		fatal(EXIT_INTERNAL, "internal error: no pass named '%s'", *first < 0 ? p->from : p->to);
}

static Module *run_range(Pipeline *p, Module *m, int first, int last)
{
	for (int i = first; i <= last;) {
		if (stages[i].module_stage) {
			m = stages[i].module_stage(p, m);
			after_module_stage(p, m, &stages[i++]);
			continue;
		}
		int end = i;
		while (end + 1 <= last && stages[end + 1].fn_pass)
			end++;
		Fn *fns[3];
		for (int k = 0, n = module_fns(m, fns); k < n; k++)
			fn_block(p, m, fns[k], i, end);
		i = end + 1;
	}
	return m;
}

Module *pipeline_run(Pipeline *p, Module *m)
{
	int first, last;
	range(&first, &last, p);
	return run_range(p, m, first, last);
}

void pipeline_run_fn(Pipeline *p, const Module *m, Fn *fn)
{
	int first, last;
	range(&first, &last, p);
	for (int i = first; i <= last; i++)
		if (!stages[i].fn_pass)
			fatal(EXIT_INTERNAL, "internal error: %s is not a per-function pass", stages[i].name);
	check(p, m, fn, "building");
	fn_block(p, m, fn, first, last);
}

static int stores_loss(const Module *m, const Fn *fn)
{
	for (int i = 0; i < fn->n; i++)
		if (fn->node[i]->op == OP_store && m->slot[fn->node[i]->slot].role == SLOT_LOSS)
			return 1;
	return 0;
}

const char *pipeline_pass(Pipeline *p, Module *m, const char *name)
{
	int i = stage_index(name, 0);
	if (i < 0 || !pipeline_has_pass(name))
		return xprintf("no pass named '%s' (the passes: %s)", name, pipeline_pass_names());
	const Stage *s = &stages[i];
	if (s->needs & NEED_SOURCE)
		return xprintf("%s starts from a .nn source, not from IR", name);
	if ((s->needs & NEED_FWD) && !m->fwd)
		return xprintf("%s needs the forward function 'fwd' (an --emit=ir listing)", name);
	if ((s->needs & NEED_LOSS) && !stores_loss(m, m->fwd))
		return xprintf("%s needs 'fwd' to store the loss (store %%ID -> loss)", name);
	if ((s->needs & NEED_CONFIG) && !m->cfg.optimizer)
		return xprintf("%s needs the training configuration, which a listing does not hold", name);
	Fn *fns[3];
	int n = s->fn_pass ? module_fns(m, fns) : (fns[0] = m->fwd, 1);
	for (int k = 0; k < n && (s->needs & NEED_UNPLANNED); k++)
		if (fns[k]->ngroup || fns[k]->nbuf)
			return xprintf("%s comes before fuse and plan, and '%s' is already fused or planned", name,
			               fns[k]->name);
	run_range(p, m, i, i);
	return NULL;
}
