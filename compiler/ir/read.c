/* read.c — the listings print.c writes (--emit=ir|grad|opt,
 * --emit-after), read back into a Module, so passes can be tested on IR
 * text (tests/ir/, docs/passes.md).
 *
 * One line at a time:
 *   fn NAME(SLOT: TYPE, ...) params(SLOT: TYPE, ...)
 *     %ID = OP OPERAND, ... ATTRIBUTE ...  TYPE  [PLACE]  [WHERE]  [of %ID]  [NOTE]
 *     store OPERAND -> SLOT                TYPE  [PLACE]  [WHERE]  [of %ID]  [NOTE]
 *   TYPE    f32|f64|i32 [DIM, ...]; DIM is B or a positive number
 *   OPERAND %ID, or a slot's name: the latest param or input of that slot
 *           before this line (print.c names an operand so only then)
 *   PLACE   - | gN, then bufN@+OFFSET, bufN@+B*OFFSET or home=SLOT, then
 *           on a convolution patches=bufN@+OFFSET
 *   WHERE   - | FILE:LINE:COL
 * A ';' starts a comment line; "; backward" marks where grad's backward
 * lines begin, and "; of %ID ..." lines belong to the node after them.
 * Columns after TYPE are optional.  The slots' roles are not printed, so
 * they follow from the names the compiler gives (ir.h, Slot): see
 * slot_roles.  Tokens are read_lex.c's, attributes read_attr.c's.
 *
 * Everything read is checked before a pass sees it: syntax here, the
 * invariants by ir_verify; either failure is an error at the line's
 * file:line:col, never an internal error. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include "nnrt.h"
#include "read.h"

/* ---- slots ------------------------------------------------------------ */

static unsigned hash(const char *s, int n)
{
	unsigned h = 2166136261u;
	for (int i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

/* Slots by name: open addressing over slot index + 1, kept at most half full. */
static void index_slot(Reader *r, int k)
{
	if (2 * (r->m->nslot + 1) > r->nhash) {
		int n = r->nhash ? 2 * r->nhash : 64;
		r->hash = xalloc(sizeof *r->hash * (size_t)n);
		r->nhash = n;
		for (int i = 0; i < r->m->nslot; i++)
			if (i != k)
				index_slot(r, i);
	}
	const char *name = r->m->slot[k].name;
	unsigned h = hash(name, (int)strlen(name)) & (unsigned)(r->nhash - 1);
	while (r->hash[h])
		h = (h + 1) & (unsigned)(r->nhash - 1);
	r->hash[h] = k + 1;
}

static int slot_named(const Reader *r, Tok t)
{
	if (!r->nhash)
		return -1;
	for (unsigned h = hash(t.s, t.n) & (unsigned)(r->nhash - 1); r->hash[h]; h = (h + 1) & (unsigned)(r->nhash - 1))
		if (rd_is(t, r->m->slot[r->hash[h] - 1].name))
			return r->hash[h] - 1;
	return -1;
}

/* The slot called t, made with this type on first mention; every
 * mention gives it the same type.  Its role waits for slot_roles. */
static int slot_typed(Reader *r, Tok t, DType dt, Shape s)
{
	int k = slot_named(r, t);
	if (k < 0) {
		k = ir_slot(r->m, xprintf("%.*s", t.n, t.s), SLOT_OUTPUT, dt, s, rd_loc_at(r, t.s, t.n));
		index_slot(r, k);
		if (k >= r->capuse) {
			int cap = 2 * k + 16;
			r->use = xrealloc(r->use, sizeof *r->use * (size_t)r->capuse, sizeof *r->use * (size_t)cap);
			r->latest = xrealloc(r->latest, sizeof *r->latest * (size_t)r->capuse, sizeof *r->latest * (size_t)cap);
			r->capuse = cap;
		}
		return k;
	}
	const Slot *sl = &r->m->slot[k];
	if (sl->dt != dt || !shape_equal(sl->shape, s))
		rd_fail_at(r, t.s, t.n, "slot '%s' is %s%s here but %s%s before", sl->name, dtype_name(dt), shape_str(s),
		        dtype_name(sl->dt), shape_str(sl->shape));
	return k;
}

static void mark_read(Reader *r, Tok t, int k, int input)
{
	SlotUse *u = &r->use[k];
	if (input ? u->param : u->input)
		rd_fail_at(r, t.s, t.n, "slot '%s' is read with %s here and with %s elsewhere", r->m->slot[k].name,
		        input ? "input" : "param", input ? "param" : "input");
	if (input)
		u->input = 1;
	else
		u->param = 1;
}

/* "x: f32[B,784], y: i32[B]" and the closing parenthesis. */
static void declarations(Reader *r, int input)
{
	if (rd_accept(r, ")"))
		return;
	do {
		Tok t = rd_name(r, "a slot's name");
		rd_expect(r, ":");
		DType dt;
		Shape s;
		rd_type(r, &dt, &s);
		mark_read(r, t, slot_typed(r, t, dt, s), input);
	} while (rd_accept(r, ","));
	rd_expect(r, ")");
}

/* ---- lines --------------------------------------------------------------- */

static int node_id(Reader *r, Tok t)
{
	return (int)rd_integer(r, (Tok){ t.s + 1, t.n - 1 }, 0, MAX_ID - 1, "an id after '%'");
}

/* %ID, or a slot's name for its latest read. */
static Node *operand(Reader *r)
{
	rd_spaces(r);
	if (r->p < r->eol && *r->p == '%') {
		Tok t = rd_word(r, ",");
		int id = node_id(r, t);
		if (id >= r->cap_id || !r->by_id[id])
			rd_fail_at(r, t.s, t.n, "%%%d is not defined before this line", id);
		return r->by_id[id];
	}
	Tok t = rd_name(r, "an operand: %ID or a slot's name");
	int k = slot_named(r, t);
	if (k < 0 || !r->latest[k])
		rd_fail_at(r, t.s, t.n, "'%s' names no slot read (param or input) before this line", rd_shown(t));
	return r->latest[k];
}

static Op mnemonic(Reader *r, Node *n)
{
	Tok t = rd_word(r, "");
	for (int op = 0; op < OP__COUNT; op++)
		if (rd_is(t, op_info[op].name))
			return (Op)op;
	static const char *const flags[] = { "matmul.nn", "matmul.nt", "matmul.tn", "matmul.tt",
					     "bmm.nn", "bmm.nt", "bmm.tn", "bmm.tt" };
	for (int i = 0; i < 8; i++)
		if (rd_is(t, flags[i])) {
			n->ta = i >> 1 & 1, n->tb = i & 1;
			return i < 4 ? OP_matmul : OP_bmm;
		}
	rd_fail_at(r, t.s, t.n, "unknown op '%s'", rd_shown(t));
}

/* What a line says before its type: the node it makes, short of type
 * and schedule, and the slot a param, input or store names. */
typedef struct Line { Node n; Tok slot; const char *start; } Line;

static void operands(Reader *r, Line *l)
{
	int nin = op_info[l->n.op].nin;
	for (int i = 0; nin < 0 ? i == 0 || rd_accept(r, ",") : i < nin; i++) {
		if (i == MAXIN)
			rd_fail_at(r, r->p, 1, "%s takes at most %d operands", op_info[l->n.op].name, MAXIN);
		if (i && nin >= 0)
			rd_expect(r, ",");
		l->n.in[l->n.nin++] = operand(r);
	}
}

static void instruction(Reader *r, Line *l)
{
	Tok t = rd_word(r, "");
	l->start = t.s;
	if (rd_is(t, "yield")) {
		if (!r->depth)
			rd_fail_at(r, t.s, t.n, "a yield outside a scan's body");
		l->n.op = OP_yield;
		l->n.id = -1;
		l->n.in[l->n.nin++] = operand(r);
		rd_expect(r, ",");
		l->n.in[l->n.nin++] = operand(r);
		return;
	}
	if (rd_is(t, "store")) {
		l->n.op = OP_store;
		l->n.id = -1;
		l->n.in[l->n.nin++] = operand(r);
		rd_expect(r, "->");
		l->slot = rd_name(r, "the slot stored into");
		return;
	}
	if (!t.n || t.s[0] != '%')
		rd_fail_at(r, t.s, t.n, "expected '%%ID = op ...', 'store ...', 'fn ...' or a ';' comment");
	l->n.id = node_id(r, t);
	if (l->n.id < r->cap_id && r->by_id[l->n.id])
		rd_fail_at(r, t.s, t.n, "%%%d is defined twice", l->n.id);
	rd_expect(r, "=");
	l->n.op = mnemonic(r, &l->n);
	if (l->n.op == OP_param || l->n.op == OP_input) {
		l->slot = rd_name(r, "the slot read");
		return;
	}
	operands(r, l);
	rd_attributes(r, &l->n);
}

static int is_group(Tok t) { return t.n > 1 && t.s[0] == 'g' && rd_digits(t.s + 1, t.n - 1); }
static int is_buf(Tok t) { return t.n > 3 && !strncmp(t.s, "buf", 3) && memchr(t.s, '@', (size_t)t.n); }
static int is_home(Tok t) { return t.n > 5 && !strncmp(t.s, "home=", 5); }

/* "-" or FILE:LINE:COL; *colon, when given, gets the colon before LINE. */
static int is_where(Tok t, const char **colon)
{
	if (rd_is(t, "-"))
		return 1;
	const char *last = NULL, *before = NULL;     /* the last two colons */
	for (const char *p = t.s + t.n - 1; p > t.s && !before; p--)
		if (*p == ':') {
			before = last ? p : NULL;
			last = last ? last : p;
		}
	if (!before || !rd_digits(before + 1, (int)(last - before - 1)) || !rd_digits(last + 1, (int)(t.s + t.n - last - 1)))
		return 0;
	if (colon)
		*colon = before;
	return 1;
}

/* The function's buffer n, made (unplaced, size -1) with those before it. */
static Buffer *buffer_at(FnRead *f, int n)
{
	Fn *fn = f->fn;
	if (n >= f->capbuf) {
		int cap = n + 1 > 2 * f->capbuf ? n + 1 : 2 * f->capbuf;
		fn->buf = xrealloc(fn->buf, sizeof *fn->buf * (size_t)f->capbuf, sizeof *fn->buf * (size_t)cap);
		f->capbuf = cap;
	}
	for (; fn->nbuf <= n; fn->nbuf++)
		fn->buf[fn->nbuf] = (Buffer){ .size = -1 };
	return &fn->buf[n];
}

/* bufN@+OFFSET or bufN@+B*OFFSET: buffer N, placed as the listing says
 * (the same place on every line that names it); its size is the caller's. */
static Buffer *buffer(Reader *r, Tok t, int *index)
{
	const char *at = memchr(t.s, '@', (size_t)t.n), *end = t.s + t.n;
	if (!at || t.n < 4 || strncmp(t.s, "buf", 3) || at + 2 > end || at[1] != '+')
		rd_fail_at(r, t.s, t.n, "a buffer is written bufN@+OFFSET or bufN@+B*OFFSET");
	*index = (int)rd_integer(r, (Tok){ t.s + 3, (int)(at - t.s - 3) }, 0, MAX_PLACE - 1, "a buffer number");
	int batch = end - at > 4 && !strncmp(at + 2, "B*", 2);
	Tok off = { at + 2 + 2 * batch, (int)(end - at - 2 - 2 * batch) };
	int64_t offset = rd_integer(r, off, 0, MAX_ELEMS, "a buffer's offset");
	Buffer *b = buffer_at(r->cur, *index);
	if (b->size >= 0 && (b->offset != offset || b->batch != batch))
		rd_fail_at(r, t.s, t.n, "buf%d is placed elsewhere on an earlier line", *index);
	if (b->size < 0)
		*b = (Buffer){ .offset = offset, .size = 0, .batch = batch };
	return b;
}

/* The value's own buffer: as large as the largest value given it. */
static void value_buffer(Reader *r, Node *n, Tok t)
{
	Buffer *b = buffer(r, t, &n->buf);
	int64_t bytes = shape_per_sample(n->shape) * dtype_size(n->dt);
	if (bytes > b->size)
		b->size = bytes;
}

/* patches=bufN@+OFFSET on a convolution: the function's patch block,
 * sized when the function is read (buffers). */
static void patch_buffer(Reader *r, Node *n, Tok t)
{
	Fn *fn = r->cur->fn;
	int index;
	if (op_info[n->op].kind != K_CONV)
		rd_fail_at(r, t.s, t.n, "only a convolution names the patch block");
	buffer(r, (Tok){ t.s + 8, t.n - 8 }, &index);
	if (fn->patch_buf >= 0 && fn->patch_buf != index)
		rd_fail_at(r, t.s, t.n, "the patch block is buf%d on an earlier line", fn->patch_buf);
	fn->patch_buf = index;
}

static int is_patches(Tok t) { return t.n > 8 && !strncmp(t.s, "patches=", 8); }

/* The fusion group, then the buffer or the home slot, then a
 * convolution's patch block. */
static void placement(Reader *r, Node *n)
{
	Tok t = rd_word(r, "");
	if (is_group(t))
		n->group = (int)rd_integer(r, (Tok){ t.s + 1, t.n - 1 }, 0, MAX_PLACE - 1, "a group number");
	else if (!rd_is(t, "-"))
		r->p = t.s;                           /* the group column left out */
	t = rd_peek(r);
	if (is_buf(t))
		value_buffer(r, n, rd_word(r, ""));
	else if (is_home(t)) {
		r->p = t.s + 5;
		Tok s = rd_name(r, "the home slot's name");
		if (r->p != t.s + t.n)
			rd_fail_at(r, r->p, 1, "a home is written home=SLOT");
		n->home = slot_typed(r, s, n->dt, n->shape);
	}
	if (is_patches(rd_peek(r)))
		patch_buffer(r, n, rd_word(r, ""));
}

static void where(Reader *r, Node *n)
{
	const char *colon;
	Tok t = rd_word(r, "");
	if (rd_is(t, "-") || !is_where(t, &colon))
		return;
	const char *c2 = memchr(colon + 1, ':', (size_t)(t.s + t.n - colon - 1));
	n->loc = (Loc){ xstrndup(t.s, (size_t)(colon - t.s)),
	                (int)rd_integer(r, (Tok){ colon + 1, (int)(c2 - colon - 1) }, 1, MAX_DIM - 1, "a line"),
	                (int)rd_integer(r, (Tok){ c2 + 1, (int)(t.s + t.n - c2 - 1) }, 1, MAX_DIM - 1, "a column"), 1 };
}

/* After the type: [PLACE] [WHERE] [of %ID] [NOTE], each optional.  A
 * "-" first is the group column when a placement or location follows it,
 * else the location. */
static void columns(Reader *r, Node *n)
{
	const char *save = r->p;
	Tok a = rd_word(r, ""), b = rd_word(r, "");
	r->p = save;
	if (is_group(a) || is_buf(a) || is_home(a) || is_patches(a) ||
	    (rd_is(a, "-") && (is_buf(b) || is_home(b) || is_patches(b) || is_where(b, NULL))))
		placement(r, n);
	if (is_where(rd_peek(r), NULL))
		where(r, n);
	save = r->p;
	Tok of = rd_word(r, ""), id = rd_word(r, "");
	if (rd_is(of, "of") && id.n > 1 && id.s[0] == '%' && rd_digits(id.s + 1, id.n - 1))
		n->of = node_id(r, id);
	else
		r->p = save;
	if (!rd_at_end(r)) {
		const char *e = r->eol;
		while (e > r->p && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		n->note = xstrndup(r->p, (size_t)(e - r->p));
	}
}

static void grow_ids(Reader *r, int id)
{
	if (id < r->cap_id)
		return;
	int cap = id + 1 > 2 * r->cap_id ? id + 1 : 2 * r->cap_id;
	r->by_id = xrealloc(r->by_id, sizeof *r->by_id * (size_t)r->cap_id, sizeof *r->by_id * (size_t)cap);
	r->cap_id = cap;
}

/* The node a line describes, appended to the current function. */
static Node *make(Reader *r, Line *l, DType dt, Shape s)
{
	FnRead *f = r->cur;
	int slot = l->slot.n ? slot_typed(r, l->slot, dt, s) : -1;
	if (l->n.op == OP_store) {
		const Node *v = l->n.in[0];
		if (v->dt != dt || !shape_equal(v->shape, s))
			rd_fail_at(r, l->start, 5, "a store has the type of its value, %s%s", dtype_name(v->dt), shape_str(v->shape));
		SlotUse *u = &r->use[slot];
		*(strcmp(f->fn->name, "update") ? &u->stored_elsewhere : &u->stored_by_update) = 1;
	} else if (slot >= 0)
		mark_read(r, l->slot, slot, l->n.op == OP_input);
	Node *n = ir_node(f->fn, l->n.op, dt, s, l->n.nin, l->n.in, (Loc){ 0 });
	n->id = l->n.id;
	n->f = l->n.f, n->axes = l->n.axes, n->ta = l->n.ta, n->tb = l->n.tb, n->k = l->n.k;
	memcpy(n->perm, l->n.perm, sizeof n->perm);
	n->win = l->n.win;
	n->slot = slot;
	if (n->op == OP_param || n->op == OP_input)
		r->latest[slot] = n;
	if (n->id >= 0) {
		grow_ids(r, n->id);
		r->by_id[n->id] = n;
	}
	if (f->fn->n > f->cap) {
		int cap = 2 * f->fn->n + 16;
		f->at = xrealloc(f->at, sizeof *f->at * (size_t)f->cap, sizeof *f->at * (size_t)cap);
		f->cap = cap;
	}
	f->at[f->fn->n - 1] = rd_loc_at(r, l->start, (int)(r->p - l->start));
	return n;
}

static void finish_fn(Reader *r);

/* The lines after a scan's are its body, up to its yield: a function
 * of its own, with its own ids and slot reads. */
static void open_body(Reader *r, Node *scan)
{
	if (r->depth == MAX_BODY_DEPTH)
		rd_fail_at(r, r->line, 1, "scans nested more than %d deep", MAX_BODY_DEPTH);
	BodyRead *b = &r->body[r->depth++];
	*b = (BodyRead){ .f = { .fn = ir_fn("body"), .head = rd_loc_at(r, r->line, 1) }, .outer = r->cur, .scan = scan,
	                 .by_id = r->by_id, .cap_id = r->cap_id, .latest = r->latest, .capuse = r->capuse };
	r->cur = &b->f;
	r->by_id = NULL;
	r->cap_id = 0;
	r->latest = xalloc(sizeof *r->latest * (size_t)(r->capuse + 1));
}

static void close_body(Reader *r)
{
	BodyRead *b = &r->body[--r->depth];
	finish_fn(r);
	b->scan->body = b->f.fn;
	r->cur = b->outer;
	if (b->scan->buf >= 0) {   /* the workspace follows the result in its buffer, as plan.c places it */
		Buffer *buf = &r->cur->fn->buf[b->scan->buf];
		int64_t need = shape_per_sample(b->scan->shape) * dtype_size(b->scan->dt)
		             + b->f.fn->scratch_fixed + b->f.fn->scratch_per_sample;
		if (buf->size < need)
			buf->size = need;
	}
	r->by_id = b->by_id;
	r->cap_id = b->cap_id;
	r->latest = b->latest;
	if (r->capuse > b->capuse)   /* slots first named inside the body */
		r->latest = xrealloc(r->latest, sizeof *r->latest * (size_t)b->capuse, sizeof *r->latest * (size_t)r->capuse);
}

static void node_line(Reader *r)
{
	Line l = { .n = { .of = -1 } };
	instruction(r, &l);
	DType dt;
	Shape s;
	rd_type(r, &dt, &s);
	Node *n = make(r, &l, dt, s);
	n->reverse = l.n.reverse;
	n->comment = r->comment;
	r->comment = NULL;
	columns(r, n);
	if (n->op == OP_scan)
		open_body(r, n);
	else if (n->op == OP_yield)
		close_body(r);
}

/* ---- functions ------------------------------------------------------------ */

static Fn **module_fn(Module *m, Tok t)
{
	return rd_is(t, "fwd") ? &m->fwd : rd_is(t, "eval") ? &m->eval : rd_is(t, "grad") ? &m->grad
	     : rd_is(t, "update") ? &m->update : NULL;
}

/* "fn NAME(inputs) params(params)" */
static void header(Reader *r)
{
	Tok t = rd_name(r, "the function's name");
	Fn **slot = module_fn(r->m, t);
	if (!slot)
		rd_fail_at(r, t.s, t.n, "unknown function '%s' (fwd, eval, grad or update)", rd_shown(t));
	if (*slot)
		rd_fail_at(r, t.s, t.n, "a second function '%s'", rd_shown(t));
	*slot = ir_fn(xprintf("%.*s", t.n, t.s));
	r->cur = &r->fns[r->nfn++];
	*r->cur = (FnRead){ .fn = *slot, .head = rd_loc_at(r, t.s, t.n) };
	if (r->cap_id)
		memset(r->by_id, 0, sizeof *r->by_id * (size_t)r->cap_id);
	if (r->capuse)
		memset(r->latest, 0, sizeof *r->latest * (size_t)r->capuse);
	rd_expect(r, "(");
	declarations(r, 1);
	rd_expect(r, "params(");
	declarations(r, 0);
	if (!rd_at_end(r))
		rd_fail_at(r, r->p, 1, "unexpected text after the function's header");
}

/* Groups as the nodes name them: members in schedule order; the shape
 * is any member's of rank > 0 (rank-0 constants join groups of any shape). */
static void groups(const Reader *r, Fn *fn)
{
	for (int i = 0; i < fn->n; i++)
		if (fn->node[i]->group >= fn->ngroup)
			fn->ngroup = fn->node[i]->group + 1;
	fn->group = xalloc(sizeof *fn->group * (size_t)(fn->ngroup + 1));
	for (int i = 0; i < fn->n; i++)
		if (fn->node[i]->group >= 0)
			fn->group[fn->node[i]->group].n++;
	for (int g = 0; g < fn->ngroup; g++) {
		if (!fn->group[g].n)
			error_at(r->cur->head, "%s: g%d has no member (groups are numbered from 0)", fn->name, g);
		fn->group[g].member = xalloc(sizeof(Node *) * (size_t)fn->group[g].n);
		fn->group[g].n = 0;
	}
	for (int i = 0; i < fn->n; i++) {
		Node *n = fn->node[i];
		if (n->group < 0)
			continue;
		Group *g = &fn->group[n->group];
		g->member[g->n++] = n;
		if (n->shape.rank > 0)
			g->shape = n->shape;
	}
}

/* The scratch block ends where the last buffer does, rounded to 64 bytes as plan.c places them. */
static void buffers(const Reader *r, Fn *fn)
{
	int64_t top[2] = { 0, 0 };
	if (fn->patch_buf >= 0)
		fn->buf[fn->patch_buf].size = patch_block_bytes(fn);     /* as plan.c sizes it */
	for (int b = 0; b < fn->nbuf; b++) {
		const Buffer *buf = &fn->buf[b];
		if (buf->size < 0)
			error_at(r->cur->head, "%s: buf%d holds no value (buffers are numbered from 0)", fn->name, b);
		int64_t end = (buf->offset + buf->size + 63) / 64 * 64;
		if (end > top[buf->batch])
			top[buf->batch] = end;
	}
	fn->scratch_fixed = top[0];
	fn->scratch_per_sample = top[1];
}

/* Stores print no id: they get the ones after every printed id. */
static void finish_fn(Reader *r)
{
	Fn *fn = r->cur->fn;
	int next = 0;
	for (int i = 0; i < fn->n; i++)
		if (fn->node[i]->id >= next)
			next = fn->node[i]->id + 1;
	for (int i = 0; i < fn->n; i++)
		if (fn->node[i]->op == OP_store || fn->node[i]->op == OP_yield)
			fn->node[i]->id = next++;
	fn->next_id = next;
	groups(r, fn);
	buffers(r, fn);
}

/* ---- the module ------------------------------------------------------------ */

/* The slot whose name is `name` less ".suffix", or -1. */
static int base_of(const Reader *r, const char *name, const char *suffix)
{
	size_t n = strlen(name), k = strlen(suffix);
	if (n <= k + 1 || name[n - k - 1] != '.' || strcmp(name + n - k, suffix))
		return -1;
	return slot_named(r, (Tok){ name, (int)(n - k - 1) });
}

static int named_buffer(const char *name)
{
	size_t n = strlen(name);
	return (n > 13 && !strcmp(name + n - 13, ".running_mean")) || (n > 12 && !strcmp(name + n - 12, ".running_var"));
}

/* Roles are not printed; the compiler's names and uses give them (ir.h,
 * Slot): inputs are hyperparameters when scalar (lr, step), targets when
 * i32 or named y; "P.grad" is P's gradient and "P.momentum", "P.m",
 * "P.v" its optimizer state; a param slot that a function other than
 * update stores into, or named "*.running_mean" or "*.running_var", is a
 * buffer; other param slots are parameters; "loss" is the loss; any
 * other slot only stored into is an output. */
static SlotRole role_of(const Reader *r, int k, int *of)
{
	static const char *const state[] = { "momentum", "m", "v" };
	const Slot *s = &r->m->slot[k];
	const SlotUse *u = &r->use[k];
	*of = -1;
	if (u->input)
		return s->shape.rank == 0 ? SLOT_HYPER : s->dt == DT_I32 || !strcmp(s->name, "y") ? SLOT_TARGET : SLOT_INPUT;
	if ((*of = base_of(r, s->name, "grad")) >= 0)
		return SLOT_GRAD;
	for (int i = 0; i < 3; i++)
		if ((*of = base_of(r, s->name, state[i])) >= 0)
			return SLOT_OPTSTATE;
	if (u->param)
		return u->stored_elsewhere || named_buffer(s->name) ? SLOT_BUFFER : SLOT_PARAM;
	return !strcmp(s->name, "loss") ? SLOT_LOSS : SLOT_OUTPUT;
}

static void slot_roles(Reader *r)
{
	Module *m = r->m;
	int precise = 0;
	for (int k = 0; k < m->nslot; k++) {
		Slot *s = &m->slot[k];
		s->role = role_of(r, k, &s->of);
		if (s->role == SLOT_HYPER)
			s->io = !strcmp(s->name, "lr") ? NNRT_HYPER_LR : !strcmp(s->name, "step") ? NNRT_HYPER_STEP : -1;
		if (s->dt != DT_I32 && !precise++)
			m->precision = s->dt;
	}
}

/* ir_verify's complaint, at the line of the node it names ("grad: %12 (add): ..."). */
static void verified(const Reader *r, const FnRead *f)
{
	const char *why = ir_verify(r->m, f->fn), *pct = why ? strchr(why, '%') : NULL;
	if (!why)
		return;
	int id = -1;
	Loc at = f->head;
	if (pct && sscanf(pct, "%%%d (", &id) == 1)
		for (int i = 0; i < f->fn->n; i++)
			if (f->fn->node[i]->id == id)
				at = f->at[i];
	error_at(at, "invalid IR: %s", why);
}

/* "; backward" starts grad's backward lines; "; of %ID ..." says where a
 * VJP that wrote no line sent its gradient, and heads the next node. */
static void comment(Reader *r)
{
	r->p++;
	rd_spaces(r);
	const char *text = r->p;
	if (rd_accept(r, "backward") && r->cur && r->cur->fn->backward_from < 0)
		r->cur->fn->backward_from = r->cur->fn->n;
	Tok of = rd_word(r, ""), id = rd_word(r, "");
	if (r->cur && rd_is(of, "of") && id.n > 1 && id.s[0] == '%' && rd_digits(id.s + 1, id.n - 1)) {
		const char *e = r->eol;
		while (e > text && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		const char *c = xstrndup(text, (size_t)(e - text));
		r->comment = r->comment ? xprintf("%s\n%s", r->comment, c) : c;
	}
}

static void line(Reader *r)
{
	if (rd_at_end(r))
		return;
	if (*r->p == ';')
		return comment(r);
	const char *save = r->p;
	Tok t = rd_word(r, "(");
	if (rd_is(t, "fn")) {
		if (r->depth)
			rd_fail_at(r, t.s, t.n, "a function begins inside a scan's body (its yield is missing)");
		if (r->cur)
			finish_fn(r);
		r->comment = NULL;   /* a comment heads a node of its own function */
		return header(r);
	}
	r->p = save;
	if (!r->cur)
		rd_fail_at(r, r->p, 1, "expected 'fn NAME(...) params(...)' before the first node");
	node_line(r);
}

Module *ir_read_text(const char *name, const char *text, size_t len)
{
	diag_add_source(name, text, len);
	Reader r = { .file = name, .text = text, .end = text + len, .m = ir_module() };
	r.m->model = "listing";
	for (r.line = text; r.line < r.end; r.line = r.eol + 1) {
		r.lineno++;
		const char *nl = memchr(r.line, '\n', (size_t)(r.end - r.line));
		r.eol = nl ? nl : r.end;
		const char *nul = memchr(r.line, 0, (size_t)(r.eol - r.line));
		if (nul)
			rd_fail_at(&r, nul, 1, "a NUL byte in the listing");
		r.p = r.line;
		const char *eol = r.eol;
		if (r.eol > r.line && r.eol[-1] == '\r')
			r.eol--;
		line(&r);
		r.eol = eol;
	}
	if (!r.cur)
		error_at((Loc){ name, 1, 1, 1 }, "no function in the listing (a line 'fn NAME(...) params(...)')");
	if (r.depth)
		error_at(r.body[r.depth - 1].f.head, "the body of this scan has no yield");
	finish_fn(&r);
	slot_roles(&r);
	for (int i = 0; i < r.nfn; i++)
		verified(&r, &r.fns[i]);
	return r.m;
}

Module *ir_read(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		fatal(EXIT_IO, "%s: %s", path, strerror(errno));
	size_t cap = 1 << 16, len = 0;
	char *text = xalloc(cap);
	for (size_t got; (got = fread(text + len, 1, cap - len, f)) > 0;) {
		len += got;
		if (len == cap)
			text = xrealloc(text, cap, 2 * cap), cap *= 2;
	}
	int bad = ferror(f);
	fclose(f);
	if (bad)
		fatal(EXIT_IO, "%s: read error", path);
	return ir_read_text(path, text, len);
}
