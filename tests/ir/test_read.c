/* test_read.c — what ir_read gives back is what was printed, node for
 * node: every example and gradient-check source is compiled to three
 * points of the pipeline (after lower, after optim, after plan_state),
 * printed as --emit=ir, grad and opt print it, read back, and each
 * function compared field by field with the one printed: ids, ops,
 * operands, attributes (as CSE compares them: numbers bit for bit),
 * slots, provenance, groups and buffers.  Equal text (tests/ir/roundtrip.sh) could hide an operand
 * that resolves to another node of the same name, or a rounded constant;
 * this cannot. */
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ast.h"
#include "ir.h"

static int failures;
static const char *now;   /* "mlp.nn after optim", for messages */

static int differ(const char *what, const Node *a, const Node *b)
{
	fprintf(stderr, "FAIL %s: %%%d (%s): %s differs\n", now, a->id, op_info[a->op].name, what);
	(void)b;
	failures++;
	return 1;
}

static int same_str(const char *a, const char *b) { return (!a && !b) || (a && b && !strcmp(a, b)); }

static const char *base(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;
	return s ? s + 1 : path;
}

static const char *slot_name(const Module *m, int k) { return k >= 0 && k < m->nslot ? m->slot[k].name : NULL; }

static void same_fn(const Module *ma, const Fn *a, const Module *mb, const Fn *b);

/* a as compiled, b as read back */
static int same_node(const Module *ma, const Node *a, const Module *mb, const Node *b)
{
	if (a->op != b->op || (a->op != OP_store && a->op != OP_yield && a->id != b->id))
		return differ("op or id", a, b);
	if (a->dt != b->dt || !shape_equal(a->shape, b->shape) || a->nin != b->nin)
		return differ("type or operand count", a, b);
	for (int i = 0; i < a->nin; i++)
		if (a->in[i]->id != b->in[i]->id)
			return differ(a->in[i]->op == OP_param || a->in[i]->op == OP_input ? "a slot operand" : "an operand", a, b);
	Node same_slot = *b;                  /* slots compare by name, below; the rest as CSE does */
	same_slot.slot = a->slot, same_slot.mark = a->mark;
	same_slot.body = a->body;             /* bodies compare node by node (same_fn) */
	if (!attr_same(a, &same_slot))
		return differ(xprintf("an attribute (value %.17g printed, %.17g read)", a->f, b->f), a, b);
	/* a scan's norm buffer is not printed: the store its VJP writes names it */
	if ((a->op != OP_scan && !same_str(slot_name(ma, a->slot), slot_name(mb, b->slot)))
	    || !same_str(slot_name(ma, a->home), slot_name(mb, b->home)))
		return differ("a slot", a, b);
	if (a->loc.line != b->loc.line || a->loc.col != b->loc.col || !same_str(base(a->loc.file), b->loc.file))
		return differ("the location", a, b);
	if (!same_str(a->note, b->note) || a->of != b->of || a->group != b->group || a->buf != b->buf)
		return differ("the note, 'of', group or buffer", a, b);
	return 0;
}

static void same_fn(const Module *ma, const Fn *a, const Module *mb, const Fn *b)
{
	if (!b) {
		fprintf(stderr, "FAIL %s: function %s not read back\n", now, a->name), failures++;
		return;
	}
	if (a->n != b->n || a->backward_from != b->backward_from || a->ngroup != b->ngroup || a->nbuf != b->nbuf) {
		fprintf(stderr, "FAIL %s: %s: node count, backward start, groups or buffers differ\n", now, a->name);
		failures++;
		return;
	}
	for (int i = 0; i < a->n; i++) {
		if (same_node(ma, a->node[i], mb, b->node[i]))
			return;
		if (a->node[i]->body)
			same_fn(ma, a->node[i]->body, mb, b->node[i]->body);
	}
	for (int g = 0; g < a->ngroup; g++)
		if (!shape_equal(a->group[g].shape, b->group[g].shape) || a->group[g].n != b->group[g].n)
			fprintf(stderr, "FAIL %s: %s: g%d differs\n", now, a->name, g), failures++;
	for (int k = 0; k < a->nbuf; k++)
		if (memcmp(&a->buf[k], &b->buf[k], sizeof a->buf[k]))
			fprintf(stderr, "FAIL %s: %s: buf%d differs\n", now, a->name, k), failures++;
	if (a->scratch_fixed != b->scratch_fixed || a->scratch_per_sample != b->scratch_per_sample)
		fprintf(stderr, "FAIL %s: %s: scratch sizes differ\n", now, a->name), failures++;
}

/* Prints m as `what` shows it, reads it back and compares. */
static void round_trip(const Module *m, const char *what)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	ir_print_module(f, m, what);
	fclose(f);
	Module *r = ir_read_text(xprintf("%s.ir", what), text, len);
	if (!strcmp(what, "ir"))
		same_fn(m, m->fwd, r, r->fwd);
	if (!strcmp(what, "opt"))
		same_fn(m, m->eval, r, r->eval);
	if (strcmp(what, "ir")) {
		same_fn(m, m->grad, r, r->grad);
		same_fn(m, m->update, r, r->update);
	}
	free(text);
}

static void check_source(const char *path, const char *const *dirs)
{
	static const char *const stops[][3] = {
		{ "lower", "lower", "ir" }, { "eval", "optim", "grad" }, { "simplify", "plan_state", "opt" },
	};
	Pipeline p = { .verify = 1, .program = parse_program(path, dirs) };
	Module *m = NULL;
	for (int i = 0; i < 3; i++) {
		p.from = stops[i][0];
		p.to = stops[i][1];
		m = pipeline_run(&p, m);
		now = xprintf("%s after %s", base(path), p.to);
		round_trip(m, stops[i][2]);
	}
}

int main(void)
{
	const char *src = getenv("SRCDIR") ? getenv("SRCDIR") : ".";
	const char *env = getenv("NNC_STDLIB");
	const char *dirs[] = { env && *env ? env : xprintf("%s/stdlib", src), NULL };
	static const char *const patterns[] = { "examples/*.nn", "examples/*/*.nn", "tests/gradcheck/*.nn" };
	int n = 0;
	for (int i = 0; i < 3; i++) {
		glob_t g;
		if (glob(xprintf("%s/%s", src, patterns[i]), 0, NULL, &g) != 0)
			continue;
		for (size_t k = 0; k < g.gl_pathc; k++, n++)
			check_source(g.gl_pathv[k], dirs);
		globfree(&g);
	}
	printf("test_read: %d sources, each read back after lower, optim and plan_state\n", n);
	if (n < 40)
		fprintf(stderr, "FAIL: only %d sources found under %s\n", n, src), failures++;
	if (failures)
		fprintf(stderr, "test_read: %d failure(s)\n", failures);
	return failures != 0;
}
