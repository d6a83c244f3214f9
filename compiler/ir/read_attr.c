/* read_attr.c — the attributes of a listing line, one parser per keyword
 * as attr.c writes them (keys[]).  Which an op carries is ops.def's attrs
 * column: each keyword belongs to one attribute (A_WIN is four of them,
 * A_PART two), and a keyword is accepted only when its attribute is in
 * the op's row. */
#include <string.h>
#include "read.h"

/* "5x5" for the kernel, stride, padding and dilation of window and conv ops. */
static void pair(const Reader *r, Tok v, int32_t *rows, int32_t *cols, int lo, const char *what)
{
	const char *x = memchr(v.s, 'x', (size_t)v.n);
	if (!x)
		rd_fail_at(r, v.s, v.n, "%s is written ROWSxCOLUMNS, as 3x3, not '%s'", what, rd_shown(v));
	*rows = (int)rd_integer(r, (Tok){ v.s, (int)(x - v.s) }, lo, MAX_GEOMETRY, what);
	*cols = (int)rd_integer(r, (Tok){ x + 1, (int)(v.s + v.n - x - 1) }, lo, MAX_GEOMETRY, what);
}

/* "0,2,3": distinct axes of a shape, for axes= and perm=. */
static int axis_list(const Reader *r, Tok v, int *axis, const char *what)
{
	int n = 0;
	unsigned seen = 0;
	for (const char *p = v.s, *end = v.s + v.n; p < end; n++) {
		const char *comma = memchr(p, ',', (size_t)(end - p));
		const char *stop = comma ? comma : end;
		if (n == MAXRANK)
			rd_fail_at(r, v.s, v.n, "%s lists more than %d axes", what, MAXRANK);
		axis[n] = (int)rd_integer(r, (Tok){ p, (int)(stop - p) }, 0, MAXRANK - 1, what);
		if (seen >> axis[n] & 1)
			rd_fail_at(r, p, (int)(stop - p), "%s lists axis %d twice", what, axis[n]);
		seen |= 1u << axis[n];
		p = comma ? comma + 1 : end;
		if (comma && p == end)
			rd_fail_at(r, comma, 1, "%s ends with ','", what);
	}
	return n;
}

static void key_value(const Reader *r, Node *n, Tok v) { n->f = rd_number(r, v, "a constant"); }
static void key_alpha(const Reader *r, Node *n, Tok v) { n->f = rd_number(r, v, "alpha"); }
static void key_fill(const Reader *r, Node *n, Tok v) { n->f = rd_number(r, v, "fill"); }
static void key_tau(const Reader *r, Node *n, Tok v) { n->f = rd_number(r, v, "tau"); }
static void key_classes(const Reader *r, Node *n, Tok v) { n->k = rd_integer(r, v, 1, MAX_DIM, "k"); }
static void key_stream(const Reader *r, Node *n, Tok v) { n->k = rd_integer(r, v, 0, MAX_DIM, "stream"); }
static void key_width(const Reader *r, Node *n, Tok v) { n->k = rd_integer(r, v, 1, MAX_DIM, "width"); }
static void key_at(const Reader *r, Node *n, Tok v) { n->k = rd_integer(r, v, 0, MAX_DIM, "at"); }
static void key_axis(const Reader *r, Node *n, Tok v) { n->axes = 1u << rd_integer(r, v, 0, MAXRANK - 1, "axis"); }
static void key_kernel(const Reader *r, Node *n, Tok v) { pair(r, v, &n->win.kh, &n->win.kw, 1, "the kernel k"); }
static void key_stride(const Reader *r, Node *n, Tok v) { pair(r, v, &n->win.sh, &n->win.sw, 1, "stride"); }
static void key_pad(const Reader *r, Node *n, Tok v) { pair(r, v, &n->win.ph, &n->win.pw, 0, "pad"); }
static void key_dilation(const Reader *r, Node *n, Tok v) { pair(r, v, &n->win.dh, &n->win.dw, 1, "dilation"); }

static void key_arg(const Reader *r, Node *n, Tok v) { n->k = rd_integer(r, v, 0, MAXIN - 1, "an arg's index"); }
static void key_steps(const Reader *r, Node *n, Tok v) { n->k = rd_integer(r, v, 1, MAX_DIM, "steps"); }
static void key_reverse(const Reader *r, Node *n, Tok v) { n->reverse = (int)rd_integer(r, v, 0, 1, "reverse"); }

static void key_axes(const Reader *r, Node *n, Tok v)
{
	int axis[MAXRANK];
	n->axes = 0;
	for (int i = 0, k = axis_list(r, v, axis, "axes"); i < k; i++)
		n->axes |= 1u << axis[i];
}

/* Only the listed entries are set; verify.c checks there is one per dimension. */
static void key_perm(const Reader *r, Node *n, Tok v)
{
	int k = axis_list(r, v, n->perm, "perm");
	for (int i = k; i < MAXRANK; i++)
		n->perm[i] = -1;
}

/* The keywords attr.c writes, each with its attribute; a const's value
 * has none.  `optional` ones have a default: no dilation is 1x1, no fill 0. */
static const struct Key {
	const char *key;
	Attr attr;
	int optional;
	void (*parse)(const Reader *, Node *, Tok);
} keys[] = {
	{ "", A_VALUE, 0, key_value },          { "alpha", A_ALPHA, 0, key_alpha },
	{ "k", A_CLASSES, 0, key_classes },     { "stream", A_STREAM, 0, key_stream },
	{ "width", A_WIDTH, 0, key_width },     { "axis", A_PART, 0, key_axis },
	{ "at", A_PART, 0, key_at },            { "k", A_WIN, 0, key_kernel },
	{ "stride", A_WIN, 0, key_stride },     { "pad", A_WIN, 0, key_pad },
	{ "dilation", A_WIN, 1, key_dilation }, { "fill", A_FILL, 1, key_fill },
	{ "axes", A_AXES, 0, key_axes },        { "perm", A_PERM, 0, key_perm },
	{ "", A_ARG, 0, key_arg },              { "steps", A_BODY, 0, key_steps },
	{ "reverse", A_BODY, 1, key_reverse },  { "tau", A_TAU, 0, key_tau },
};
enum { NKEY = sizeof keys / sizeof *keys };

/* "k=, stride=, pad=" for the keys of `set` (bits by index into keys[]). */
static const char *key_names(unsigned set)
{
	const char *s = "";
	for (int i = 1; i < NKEY; i++)
		if (set >> i & 1)
			s = xprintf("%s%s%s=", s, *s ? ", " : "", keys[i].key);
	return *s ? s : "none";
}

/* The key spelled `key` among the op's (by index into keys[]), or -1. */
static int key_of(unsigned attrs, Tok key)
{
	for (int i = 0; i < NKEY; i++)
		if ((attrs & keys[i].attr) && rd_is(key, keys[i].key))
			return i;
	return -1;
}

/* The attributes after the operands, up to the type. */
void rd_attributes(Reader *r, Node *n)
{
	unsigned attrs = op_info[n->op].attrs, may = 0, got = 0;
	for (int i = 0; i < NKEY; i++)
		may |= (attrs & keys[i].attr ? 1u : 0u) << i;
	if (attrs & A_WIN)
		n->win.dh = n->win.dw = 1;
	while (!rd_at_end(r) && !rd_type_ahead(r)) {
		Tok t = rd_word(r, "");
		const char *eq = memchr(t.s, '=', (size_t)t.n);
		if (!eq && !(attrs & (A_VALUE | A_ARG)))
			rd_fail_at(r, t.s, t.n, "expected %sthe type, such as f32[B,784], not '%s'",
			           may ? "an attribute KEY=VALUE or " : "", rd_shown(t));
		Tok key = eq ? (Tok){ t.s, (int)(eq - t.s) } : (Tok){ t.s, 0 };
		int i = key_of(attrs, key);
		if (i < 0)
			rd_fail_at(r, t.s, t.n, "%s takes no attribute '%s' (its attributes: %s)", op_info[n->op].name,
			           rd_shown(key), key_names(may));
		if (got >> i & 1)
			rd_fail_at(r, t.s, t.n, "%s given twice", i ? keys[i].key : "the value");
		keys[i].parse(r, n, eq ? (Tok){ eq + 1, (int)(t.s + t.n - eq - 1) } : t);
		got |= 1u << i;
	}
	unsigned missing = 0;
	for (int i = 0; i < NKEY; i++)
		if ((may >> i & 1) && !keys[i].optional && !(got >> i & 1))
			missing |= 1u << i;
	if (missing & 1)
		rd_fail_at(r, r->p, 1, "%s needs its value before the type", op_info[n->op].name);
	if (missing)
		rd_fail_at(r, r->p, 1, "%s needs %s", op_info[n->op].name, key_names(missing));
}
