/* summary.c — the layer table of the trained model and the FLOPs of each
 * function, for `trainer info` (the summary Keras and torchinfo print).
 *
 * A layer is one call written in the main .nn file: lower() gives every
 * node the text of the innermost such call as its note, and each call
 * evaluation makes a note string of its own, so the note pointer tells
 * two calls apart even when their text is the same.  A stdlib layer
 * (dense) or a builtin (relu) called in the model is therefore one row;
 * a fn of the main file that the model calls shows its own calls as
 * rows.  Operators written in the model's body itself (h + x) carry the
 * note of the model's call; they form one row per source line, named
 * "FILE:LINE: ops".  Only the nodes the model output depends on count,
 * so the loss is not a layer.  Each layer reports the shape of its last
 * value, the parameters it uses first, and its forward FLOPs.
 *
 * Counting rule (node_flops): a matmul costs 2 M N K (a multiply and an
 * add per term); every other elementwise op one per output element,
 * whatever it computes (exp counts as add); sum and amax one per input
 * element; leaves, broadcasts, layout changes, onehot, stop_gradient and
 * stores move data and cost nothing.  Counts are fixed + per_sample * B. */
#include <ctype.h>
#include <string.h>
#include "ir.h"

static Flops flops_add(Flops a, Flops b) { return (Flops){ a.per_sample + b.per_sample, a.fixed + b.fixed }; }

/* Elements of a shape: per sample when it has the batch dimension. */
static Flops elements(Shape s)
{
	int64_t n = shape_per_sample(s);
	return shape_has_batch(s) ? (Flops){ n, 0 } : (Flops){ 0, n };
}

/* 2 M N K = 2 * (elements of the product) * K.  An operand of rank > 2
 * is a matrix of its leading dims (rows) by its last dim, so K is a's
 * last dim, or when a is transposed its leading dims, which may hold B
 * (a weight gradient sums over the batch); then the product has no B. */
static Flops matmul_flops(const Node *n)
{
	Shape a = n->in[0]->shape;
	Shape k = { .rank = 1, .d = { a.d[a.rank - 1] } };
	if (n->ta) {
		k.rank = a.rank - 1;
		memcpy(k.d, a.d, sizeof k.d[0] * (size_t)k.rank);
	}
	Flops out = elements(n->shape), kk = elements(k);
	if (kk.per_sample)
		return (Flops){ 2 * (out.fixed + out.per_sample) * kk.per_sample, 0 };
	return (Flops){ 2 * out.per_sample * kk.fixed, 2 * out.fixed * kk.fixed };
}

/* bmm: 2 M N K per product, one product per element of the result's
 * leading dims (those carry B, if any). */
static Flops bmm_flops(const Node *n)
{
	Shape a = n->in[0]->shape;
	Flops out = elements(n->shape);
	int64_t k = a.d[a.rank - (n->ta ? 2 : 1)];
	return (Flops){ 2 * out.per_sample * k, 2 * out.fixed * k };
}

/* conv*: the matmul of patches [M,K] and weights [K,O] they replace,
 * 2 M K O; conv_dx also sums each of its M K patch values into the image,
 * as unwindow does. */
static Flops conv_flops(const Node *n)
{
	ConvShapes s = conv_shapes(n);
	int64_t k = s.weights.d[0], o = s.weights.d[1];
	Flops grid = elements(s.grid);
	Flops f = { 2 * k * grid.per_sample, 2 * k * grid.fixed };
	if (n->op == OP_conv_dx)
		f = flops_add(f, (Flops){ grid.per_sample / o * k, grid.fixed / o * k });
	return f;
}

/* The FLOPs of one node, by its kind: an elementwise op is one per
 * element (the identities none); a convolution lowered to patches and a
 * matmul is counted by its matmul. */
static Flops fn_flops(const Fn *fn);

static Flops node_flops(const Node *n)
{
	switch (op_info[n->op].kind) {
	case K_LEAF: case K_STORE: case K_BCAST: case K_LAYOUT: case K_INDEX:
	case K_SLICE:            /* copies */
		return (Flops){ 0, 0 };
	case K_ELEM:
		if (n->op == OP_stop_gradient || n->op == OP_select_mode)
			return (Flops){ 0, 0 };
		return elements(n->shape);
	case K_REDUCE:
		return elements(n->in[0]->shape);
	case K_MATMUL:
		return matmul_flops(n);
	case K_BMM:
		return bmm_flops(n);
	case K_WINDOW:           /* window gathers (the matmul after it computes); unwindow sums */
		return n->op == OP_window ? (Flops){ 0, 0 } : elements(n->in[0]->shape);
	case K_CONV:
		return conv_flops(n);
	case K_BOXSUM: {         /* one add per term */
		Flops e = elements(n->shape);
		return (Flops){ e.per_sample * n->k, e.fixed * n->k };
	}
	case K_SOFTMAX: {        /* a compare, a subtraction and exp, an add, a division */
		Flops e = elements(n->shape);
		return (Flops){ e.per_sample * 5, e.fixed * 5 };
	}
	case K_RANDOM:           /* one draw per element (dropout's mask) */
		return elements(n->shape);
	case K_GATHER:           /* gather copies; scatter_add adds each row */
		return n->op == OP_gather ? (Flops){ 0, 0 } : elements(n->in[0]->shape);
	case K_YIELD:
		return (Flops){ 0, 0 };
	case K_CONTRAST: {       /* 8 B D for the (2B)^2 dot products of each sample's D: B^2 is not
	                            a count this table holds, so it reads as 8 D per sample */
		int64_t d = n->shape.rank == 2 ? n->shape.d[1] : n->in[0]->shape.d[1];
		return (Flops){ 8 * d, 0 };
	}
	case K_SCAN: {           /* the body, once per step */
		Flops f = fn_flops(n->body);
		return (Flops){ f.per_sample * n->k, f.fixed * n->k };
	}
	}
	return (Flops){ 0, 0 };
}

static Flops fn_flops(const Fn *fn)
{
	Flops f = { 0, 0 };
	for (int i = 0; fn && i < fn->n; i++)
		f = flops_add(f, node_flops(fn->node[i]));
	return f;
}

/* ---- layers ---------------------------------------------------------- */

typedef struct Rows {
	Summary *s;
	int cap;
	const char **note;    /* per row: the note that made it */
	int *line;            /* per row: the source line of a model-body row, else -1 */
	const char **ops;     /* per row, model-body rows: ops that compute, ops that move */
	const char **moves;
} Rows;

static int is_name_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

/* "relu(dense(x, 256, init: he))" -> "relu(dense(...))": the arguments of
 * a call inside the call are rows of their own, just above this one.
 * Parentheses of arithmetic and quoted strings are kept as written. */
static const char *short_name(const char *text)
{
	char *out = xalloc(strlen(text) * 3 + 1), *o = out;
	int depth = 0;
	for (const char *p = text; *p; p++) {
		if (*p == '"') {
			do
				*o++ = *p++;
			while (*p && *p != '"');
			if (!*p)
				break;
		} else if (*p == '(' && depth > 0 && p > text && is_name_char(p[-1])) {
			int inner = 1, quoted = 0;
			while (p[1] && inner > 0) {
				p++;
				quoted ^= *p == '"';
				inner += quoted ? 0 : (*p == '(') - (*p == ')');
			}
			o += sprintf(o, "(...)");
			continue;
		} else if (*p == '(') {
			depth++;
		} else if (*p == ')') {
			depth--;
		}
		*o++ = *p;
	}
	*o = '\0';
	return out;
}

/* list + ", " + word, unless the word is in the list already */
static const char *add_word(const char *list, const char *word)
{
	if (!list)
		return word;
	size_t n = strlen(word);
	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ',' || !p[n]))
			return list;
	return xprintf("%s, %s", list, word);
}

static const char *base_name(const char *path)
{
	const char *s = path ? strrchr(path, '/') : NULL;
	return s ? s + 1 : path ? path : "?";
}

static int new_row(Rows *r, const char *note, int line, const char *name)
{
	Summary *s = r->s;
	if (s->nlayer == r->cap) {
		int cap = r->cap ? 2 * r->cap : 16;
		s->layer = xrealloc(s->layer, sizeof *s->layer * (size_t)r->cap, sizeof *s->layer * (size_t)cap);
		r->note = xrealloc(r->note, sizeof *r->note * (size_t)r->cap, sizeof *r->note * (size_t)cap);
		r->line = xrealloc(r->line, sizeof *r->line * (size_t)r->cap, sizeof *r->line * (size_t)cap);
		r->ops = xrealloc(r->ops, sizeof *r->ops * (size_t)r->cap, sizeof *r->ops * (size_t)cap);
		r->moves = xrealloc(r->moves, sizeof *r->moves * (size_t)r->cap, sizeof *r->moves * (size_t)cap);
		r->cap = cap;
	}
	int i = s->nlayer++;
	s->layer[i] = (Layer){ .name = name };
	r->note[i] = note;
	r->line[i] = line;
	r->ops[i] = r->moves[i] = NULL;
	return i;
}

/* The row a node belongs to: its call's row, or for the model's own
 * operators the previous row when it holds the same line, else a new one. */
static int row_of(Rows *r, const Node *n, int body)
{
	int last = r->s->nlayer - 1;
	if (body) {
		if (last >= 0 && r->note[last] == n->note && r->line[last] == n->loc.line)
			return last;
		return new_row(r, n->note, n->loc.line, xprintf("%s:%d", base_name(n->loc.file), n->loc.line));
	}
	for (int i = last; i >= 0; i--)
		if (r->note[i] == n->note && r->line[i] < 0)
			return i;
	return new_row(r, n->note, -1, short_name(n->note));
}

/* in_model[id]: the model output depends on node id (operands precede users). */
static char *fill_in_model(const Module *m, const Fn *fn)
{
	char *in = xalloc((size_t)fn->next_id + 1);
	for (int i = fn->n - 1; i >= 0; i--) {
		const Node *n = fn->node[i];
		if (n->op == OP_store && m->slot[n->slot].role == SLOT_OUTPUT)
			in[n->in[0]->id] = 1;
		if (n->op != OP_store && in[n->id])
			for (int k = 0; k < n->nin; k++)
				in[n->in[k]->id] = 1;
	}
	return in;
}

static void add_node(Rows *r, const Module *m, const Node *n, char *counted)
{
	size_t len = strlen(m->model);
	int body = !n->note || (!strncmp(n->note, m->model, len) && n->note[len] == '(');
	int i = row_of(r, n, body);
	Layer *l = &r->s->layer[i];
	Flops f = node_flops(n);
	l->shape = n->shape;
	l->flops = flops_add(l->flops, f);
	for (int k = 0; k < n->nin; k++) {
		const Node *p = n->in[k];
		if (p->op == OP_param && m->slot[p->slot].role == SLOT_PARAM && !counted[p->slot]) {
			counted[p->slot] = 1;
			l->params += shape_per_sample(m->slot[p->slot].shape);
		}
	}
	if (!body)
		return;
	if (f.per_sample || f.fixed)
		r->ops[i] = add_word(r->ops[i], op_info[n->op].name);
	else
		r->moves[i] = add_word(r->moves[i], op_info[n->op].name);
}

/* Parameters the model output does not depend on, so the table's total
 * is the parameter total whatever the program does. */
static void add_unused(Rows *r, const Module *m, const char *counted)
{
	int64_t rest = 0;
	for (int i = 0; i < m->nslot; i++)
		if (m->slot[i].role == SLOT_PARAM && !counted[i])
			rest += shape_per_sample(m->slot[i].shape);
	if (!rest)
		return;
	const char *name = "(unused by the model output)";
	int row = new_row(r, name, -1, name);       /* before indexing: new_row may move the array */
	r->s->layer[row].params = rest;
}

static void fill_layers(Summary *s, const Module *m, const Fn *fn)
{
	Rows r = { .s = s };
	char *in = fill_in_model(m, fn), *counted = xalloc((size_t)m->nslot + 1);
	for (int i = 0; i < fn->n; i++) {
		const Node *n = fn->node[i];
		/* leaves belong to their users; "loss" marks train-block expressions */
		if (in[n->id] && op_info[n->op].kind != K_LEAF && !(n->note && !strcmp(n->note, "loss")))
			add_node(&r, m, n, counted);
	}
	for (int i = 0; i < s->nlayer; i++)
		if (r.line[i] >= 0)
			s->layer[i].name = xprintf("%s: %s", s->layer[i].name, r.ops[i] ? r.ops[i] : r.moves[i]);
	add_unused(&r, m, counted);
}

Summary summarize(const Module *m)
{
	Summary s = { .eval = fn_flops(m->eval), .grad = fn_flops(m->grad), .update = fn_flops(m->update) };
	if (m->fwd && m->model)
		fill_layers(&s, m, m->fwd);
	return s;
}
