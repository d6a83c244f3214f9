/* attr.c — a node's attributes, by ops.def's attrs column: the listing's
 * text after the operands, and CSE's equality and hash.  An op carries
 * exactly the fields its row names; the others may hold anything. */
#include <stdlib.h>
#include <string.h>
#include "ir.h"

/* The order attributes are printed in (A_SLOT and A_TRANS are printed
 * with the operands and the mnemonic by print.c). */
static const Attr print_order[] = { A_VALUE, A_ALPHA, A_CLASSES, A_STREAM, A_WIDTH, A_PART,
                                    A_WIN, A_FILL, A_AXES, A_PERM, A_ARG, A_BODY, A_TAU };

static const char *axis_list(uint32_t axes)
{
	const char *s = "";
	for (int i = 0; i < MAXRANK; i++)
		if (axes >> i & 1)
			s = xprintf("%s%s%d", s, *s ? "," : "", i);
	return s;
}

/* %g, with the digits %g drops when they are needed to read v back
 * exactly (read.c): 1/3 is not 0.333333. */
static const char *num(double v)
{
	char buf[32];
	for (int digits = 6; digits < 17; digits++) {
		snprintf(buf, sizeof buf, "%.*g", digits, v);
		if (strtod(buf, NULL) == v || v != v)
			return xstrdup(buf);
	}
	return xprintf("%.17g", v);
}

static const char *one_attr(const Node *n, Attr a)
{
	const nnrt_window *w = &n->win;
	switch (a) {
	case A_SLOT: case A_TRANS: return "";
	case A_VALUE: return xprintf(" %s", num(n->f));
	case A_ALPHA: return xprintf(" alpha=%s", num(n->f));
	case A_TAU: return xprintf(" tau=%s", num(n->f));
	case A_FILL: return n->f != 0 ? xprintf(" fill=%s", num(n->f)) : "";
	case A_AXES: return xprintf(" axes=%s", axis_list(n->axes));
	case A_PERM: {
		const char *s = " perm=";
		for (int i = 0; i < n->shape.rank; i++)
			s = xprintf("%s%s%d", s, i ? "," : "", n->perm[i]);
		return s;
	}
	case A_CLASSES: return xprintf(" k=%lld", (long long)n->k);
	case A_STREAM: return xprintf(" stream=%lld", (long long)n->k);
	case A_WIDTH: return xprintf(" width=%lld", (long long)n->k);
	case A_PART: return xprintf(" axis=%d at=%lld", slice_axis(n), (long long)n->k);
	case A_ARG: return xprintf(" %lld", (long long)n->k);
	case A_BODY: return xprintf(" steps=%lld%s", (long long)n->k, n->reverse ? " reverse=1" : "");
	case A_WIN: {
		const char *s = xprintf(" k=%dx%d stride=%dx%d pad=%dx%d", w->kh, w->kw, w->sh, w->sw, w->ph, w->pw);
		return w->dh != 1 || w->dw != 1 ? xprintf("%s dilation=%dx%d", s, w->dh, w->dw) : s;
	}
	}
	return "";
}

const char *attr_text(const Node *n)
{
	const char *s = "";
	for (size_t i = 0; i < sizeof print_order / sizeof *print_order; i++)
		if (op_info[n->op].attrs & print_order[i])
			s = xprintf("%s%s", s, one_attr(n, print_order[i]));
	return s;
}

static uint64_t f_bits(double f)
{
	uint64_t u;
	memcpy(&u, &f, sizeof u);
	return u;
}

static int same_attr(const Node *a, const Node *b, Attr at)
{
	switch (at) {
	case A_SLOT: return a->slot == b->slot && a->mark == b->mark;   /* mark: CSE's stores so far */
	case A_VALUE: case A_ALPHA: case A_FILL: case A_TAU: return f_bits(a->f) == f_bits(b->f);
	case A_AXES: return a->axes == b->axes;
	case A_PERM: return !memcmp(a->perm, b->perm, sizeof(int) * (size_t)a->shape.rank);
	case A_TRANS: return a->ta == b->ta && a->tb == b->tb;
	case A_CLASSES: case A_STREAM: case A_WIDTH: case A_ARG: return a->k == b->k;
	case A_BODY: return a->body == b->body && a->k == b->k && a->reverse == b->reverse;
	case A_PART: return a->k == b->k && a->axes == b->axes;
	case A_WIN: return !memcmp(&a->win, &b->win, sizeof a->win);
	}
	return 0;
}

int attr_same(const Node *a, const Node *b)
{
	unsigned attrs = op_info[a->op].attrs;
	for (unsigned bit = 1; bit <= attrs; bit <<= 1)
		if ((attrs & bit) && !same_attr(a, b, (Attr)bit))
			return 0;
	return 1;
}

uint64_t hash_mix(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0x100000001b3ull;
}

/* Mixes the fields attr_same compares (hashing more would split equal
 * nodes: fields outside the op's attributes may hold anything). */
uint64_t attr_hash(const Node *n, uint64_t h)
{
	unsigned attrs = op_info[n->op].attrs;
	if (attrs & A_SLOT)
		h = hash_mix(hash_mix(h, (uint64_t)n->slot), (uint64_t)n->mark);
	if (attrs & (A_VALUE | A_ALPHA | A_FILL | A_TAU))
		h = hash_mix(h, f_bits(n->f));
	if (attrs & (A_AXES | A_PART))
		h = hash_mix(h, n->axes);
	if (attrs & (A_CLASSES | A_STREAM | A_WIDTH | A_PART | A_ARG | A_BODY))
		h = hash_mix(h, (uint64_t)n->k);
	if (attrs & A_TRANS)
		h = hash_mix(h, (uint64_t)(n->ta * 2 + n->tb));
	return h;
}
