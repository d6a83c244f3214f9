/* print.c — the listings a student reads (--emit=ir|grad|opt).
 *
 * One line per node, in columns:
 *   %12 = matmul %3, mlp.dense_1.W   f32[B,256]   mlp.nn:6:18   dense(x, 256)
 * Operands that are parameters or inputs print by their slot's name.
 * Backward lines add "of %k", the forward node whose VJP made them, and
 * "in CALL", that node's call; a VJP that wrote no line of its own (add's)
 * is a comment "; of %k ..." above the next line.  Once fuse() and plan()
 * ran, each line also shows its group and buffer. */
#include <string.h>
#include "ir.h"

enum { MAX_TEXT = 60, MAX_TYPE = 18 };

static const char *basename_of(const char *path)
{
	const char *slash = path ? strrchr(path, '/') : NULL;
	return slash ? slash + 1 : path;
}

static const char *loc_str(Loc l)
{
	if (!l.file || l.line <= 0)
		return "-";
	return xprintf("%s:%d:%d", basename_of(l.file), l.line, l.col);
}

/* A slot's name stands for its latest read (read.c resolves it so); an
 * earlier read, when the slot is read again in between, prints its id. */
static const char *operand(const Module *m, const Node *a, const Node *const *latest)
{
	if ((a->op == OP_param || a->op == OP_input) && a->slot >= 0 && a->slot < m->nslot && latest[a->slot] == a)
		return m->slot[a->slot].name;
	return xprintf("%%%d", a->id);
}

static const char *mnemonic(const Node *n)
{
	if ((n->op == OP_matmul || n->op == OP_bmm) && (n->ta || n->tb))
		return xprintf("%s.%c%c", op_info[n->op].name, n->ta ? 't' : 'n', n->tb ? 't' : 'n');
	return op_info[n->op].name;
}

/* "%12 = matmul %3, W", "store %9 -> W.grad", "%3 = param W". */
static const char *node_text(const Module *m, const Node *n, const Node *const *latest)
{
	const char *slot = n->slot >= 0 && n->slot < m->nslot ? m->slot[n->slot].name : "?";
	if (n->op == OP_store)
		return xprintf("store %s -> %s", operand(m, n->in[0], latest), slot);
	if (n->op == OP_yield)
		return xprintf("yield %s, %s", operand(m, n->in[0], latest), operand(m, n->in[1], latest));
	const char *s = xprintf("%%%d = %s", n->id, mnemonic(n));
	if (n->op == OP_param || n->op == OP_input)
		return xprintf("%s %s", s, slot);
	for (int i = 0; i < n->nin; i++)
		s = xprintf("%s%s %s", s, i ? "," : "", operand(m, n->in[i], latest));
	return xprintf("%s%s", s, attr_text(n));
}

static const char *type_str(const Node *n)
{
	return xprintf("%s%s", dtype_name(n->dt), shape_str(n->shape));
}

static int planned(const Fn *fn)
{
	return fn->ngroup > 0 || fn->nbuf > 0;
}

/* "g3 buf2@+1024": its fusion group and where the memory plan put it; a
 * convolution adds its patch block, "patches=buf5@+0". */
static const char *placement(const Module *m, const Fn *fn, const Node *n)
{
	const char *g = n->group >= 0 ? xprintf("g%d", n->group) : "-";
	if (n->home >= 0 && n->home < m->nslot)
		g = xprintf("%s home=%s", g, m->slot[n->home].name);
	else if (n->buf >= 0 && n->buf < fn->nbuf) {
		const Buffer *b = &fn->buf[n->buf];
		g = xprintf("%s buf%d@+%s%lld", g, n->buf, b->batch ? "B*" : "", (long long)b->offset);
	}
	if (op_info[n->op].kind == K_CONV && fn->patch_buf >= 0 && fn->patch_buf < fn->nbuf)
		g = xprintf("%s patches=buf%d@+%lld", g, fn->patch_buf, (long long)fn->buf[fn->patch_buf].offset);
	return g;
}

/* The inputs, then the parameters, each slot once, printed as found:
 * joining them into one string first was quadratic in the parameters. */
static void header_slots(FILE *out, const Module *m, const Fn *fn, int inputs)
{
	char *seen = xalloc((size_t)m->nslot + 1);
	int first = 1;
	for (int i = 0; i < fn->n; i++) {
		const Node *n = fn->node[i];
		if ((n->op != OP_param && n->op != OP_input) || n->slot < 0 || n->slot >= m->nslot || seen[n->slot] ||
		    (n->op == OP_input) != inputs)
			continue;
		seen[n->slot] = 1;
		const Slot *s = &m->slot[n->slot];
		fprintf(out, "%s%s: %s%s", first ? "" : ", ", s->name, dtype_name(s->dt), shape_str(s->shape));
		first = 0;
	}
}

static void header(FILE *out, const Module *m, const Fn *fn)
{
	fprintf(out, "fn %s(", fn->name);
	header_slots(out, m, fn, 1);
	fprintf(out, ") params(");
	header_slots(out, m, fn, 0);
	fprintf(out, ")\n");
}

/* Lines a caller prints after each node's, NULL when none (ir_print_hook). */
static PrintHook *hook;
static void *hook_ctx;

void ir_print_hook(PrintHook *h, void *ctx)
{
	hook = h;
	hook_ctx = ctx;
}

static int width(const char **col, int n, int cap)
{
	int w = 0;
	for (int i = 0; i < n; i++) {
		int l = (int)strlen(col[i]);
		if (l > w)
			w = l;
	}
	return w < cap ? w : cap;
}

/* Bytes the plan saved: what the buffers would take side by side, less
 * the scratch block they share (buffers with disjoint lifetimes may
 * occupy the same bytes). */
static void memory_summary(FILE *out, const Fn *fn, int indent)
{
	int64_t apart[2] = { 0, 0 };
	for (int b = 0; b < fn->nbuf; b++)
		apart[fn->buf[b].batch != 0] += fn->buf[b].size;
	int64_t saved_fixed = apart[0] - fn->scratch_fixed, saved_sample = apart[1] - fn->scratch_per_sample;
	fprintf(out, "%*s; memory plan: scratch %lld bytes fixed + %lld bytes per sample, %d buffers; "
	        "reuse saves %lld bytes fixed + %lld per sample\n", indent, "",
	        (long long)fn->scratch_fixed, (long long)fn->scratch_per_sample, fn->nbuf,
	        (long long)(saved_fixed > 0 ? saved_fixed : 0), (long long)(saved_sample > 0 ? saved_sample : 0));
}

/* The lines of fn, `indent` spaces in; a scan's body follows its line,
 * two spaces further in, so the step is printed once however many times
 * it runs. */
static void print_lines(FILE *out, const Module *m, const Fn *fn, int indent)
{
	int n = fn->n;
	const char **text = xalloc(sizeof *text * (size_t)(n + 1));
	const char **type = xalloc(sizeof *type * (size_t)(n + 1));
	const char **where = xalloc(sizeof *where * (size_t)(n + 1));
	const char **place = xalloc(sizeof *place * (size_t)(n + 1));
	const Node **latest = xalloc(sizeof *latest * (size_t)(m->nslot + 1));
	for (int i = 0; i < n; i++) {
		text[i] = node_text(m, fn->node[i], latest);
		const Node *nd = fn->node[i];
		if ((nd->op == OP_param || nd->op == OP_input) && nd->slot >= 0 && nd->slot < m->nslot)
			latest[nd->slot] = nd;
		type[i] = type_str(fn->node[i]);
		where[i] = loc_str(fn->node[i]->loc);
		place[i] = planned(fn) ? placement(m, fn, fn->node[i]) : "";
	}
	int wt = width(text, n, MAX_TEXT), wy = width(type, n, MAX_TYPE);
	int wl = width(where, n, 40), wp = width(place, n, 40);
	for (int i = 0; i < n; i++) {
		const Node *nd = fn->node[i];
		if (i == fn->backward_from)
			fprintf(out, "%*s; backward: each line is part of the VJP of the forward line it names\n", indent, "");
		for (const char *c = nd->comment, *e; c; c = *e ? e + 1 : NULL) {
			e = c + strcspn(c, "\n");
			fprintf(out, "%*s; %.*s\n", indent, "", (int)(e - c), c);
		}
		const char *line = xprintf("%*s%-*s  %-*s", indent, "", wt, text[i], wy, type[i]);
		if (planned(fn))
			line = xprintf("%s  %-*s", line, wp, place[i]);
		line = xprintf("%s  %-*s", line, wl, where[i]);
		if (fn->backward_from >= 0 && i >= fn->backward_from)
			line = xprintf("%s  %-6s", line, nd->of >= 0 ? xprintf("of %%%d", nd->of) : "");
		if (nd->note)
			line = xprintf("%s  %s", line, nd->note);
		int len = (int)strlen(line);
		while (len > 0 && line[len - 1] == ' ')
			len--;
		fprintf(out, "%.*s\n", len, line);
		if (hook)
			hook(out, fn, nd, indent, hook_ctx);
		if (nd->body)
			print_lines(out, m, nd->body, indent + 4);
	}
	if (planned(fn))
		memory_summary(out, fn, indent);
}

void ir_print(FILE *out, const Module *m, const Fn *fn)
{
	header(out, m, fn);
	print_lines(out, m, fn, 2);
}

/* The optimizer's own description rides on its nodes' notes. */
static const char *update_title(const Fn *fn)
{
	for (int i = 0; i < fn->n; i++)
		if (fn->node[i]->note)
			return fn->node[i]->note;
	return "(no parameters)";
}

void ir_print_module(FILE *out, const Module *m, const char *what)
{
	if (strcmp(what, "ir") == 0) {
		if (m->fwd)
			ir_print(out, m, m->fwd);
		return;
	}
	if (strcmp(what, "opt") == 0 && m->eval) {
		ir_print(out, m, m->eval);
		fputc('\n', out);
	}
	if (m->grad)
		ir_print(out, m, m->grad);
	if (m->update) {
		fprintf(out, "  ; update: %s\n", update_title(m->update));
		ir_print(out, m, m->update);
	}
}

/* The columns above, for dot.c: a picture that is the listing labels
 * its nodes with the listing's own text. */
const char *ir_mnemonic(const Node *n) { return mnemonic(n); }
const char *ir_type_text(const Node *n) { return type_str(n); }
const char *ir_loc_text(Loc l) { return loc_str(l); }
int ir_planned(const Fn *fn) { return planned(fn); }
const char *ir_placement(const Module *m, const Fn *fn, const Node *n) { return placement(m, fn, n); }
