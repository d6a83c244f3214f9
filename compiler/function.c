/* function.c — `nnc --emit=grad --of f` and `nnc --eval 'f(...)'`: a plain
 * fn of the program, its derivative printed or evaluated (nnc(1)).
 *
 * --eval gives the arguments as numbers: a number for a scalar, nested
 * lists for a tensor ([[1, 2], [3, 4]] is 2 x 2), every list of one depth
 * as long as the others.  The fn is lowered at those shapes
 * (lower_function) and run by the reference interpreter (ir/interp.c) in
 * double precision, whatever its float type; its value and its gradient
 * with respect to each input are printed a line each. */
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "ast.h"
#include "interp.h"

/* ---- the --eval text: NAME(ARG, ...) ---- */

typedef struct Literal { Shape shape; double *v; int64_t n, cap; int leaf_depth; } Literal;
typedef struct Reader { const char *text, *p; } Reader;

static _Noreturn void bad(const Reader *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "nnc: --eval '%s': ", r->text);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, " at column %d (the form: f(1.5, [1, 2], [[1, 0], [0, 1]]), a number or nested lists "
	        "per argument)\nTry 'nnc --help' for more information.\n", (int)(r->p - r->text) + 1);
	exit(EXIT_USAGE);
}

static void skip(Reader *r)
{
	while (isspace((unsigned char)*r->p))
		r->p++;
}

static void expect(Reader *r, char c, const char *what)
{
	skip(r);
	if (*r->p != c)
		bad(r, "expected %s", what);
	r->p++;
}

static void push(Literal *l, double v)
{
	if (l->n == l->cap) {
		l->v = xrealloc(l->v, sizeof *l->v * (size_t)l->cap, sizeof *l->v * (size_t)(l->cap ? 2 * l->cap : 8));
		l->cap = l->cap ? 2 * l->cap : 8;
	}
	l->v[l->n++] = v;
}

/* A number or a list at this depth; the first list met at a depth fixes
 * that dimension, the first number the rank. */
static void value(Reader *r, Literal *l, int depth)
{
	skip(r);
	if (*r->p != '[') {
		char *end;
		double v = strtod(r->p, &end);
		if (end == r->p)
			bad(r, "expected a number or '['");
		if (l->leaf_depth >= 0 && l->leaf_depth != depth)
			bad(r, "a number inside %d list%s where the first was inside %d (every element of a tensor is "
			    "nested as deep)", depth, depth == 1 ? "" : "s", l->leaf_depth);
		l->leaf_depth = depth;
		r->p = end;
		push(l, v);
		return;
	}
	if (depth == MAXRANK)
		bad(r, "lists nested more than %d deep (tensors have at most %d dimensions)", MAXRANK, MAXRANK);
	r->p++;
	int64_t count = 0;
	do {
		value(r, l, depth + 1);
		count++;
		skip(r);
	} while (*r->p == ',' && r->p++);
	expect(r, ']', "',' or ']'");
	if (l->shape.rank <= depth)
		l->shape.rank = depth + 1;
	if (l->shape.d[depth] == 0)     /* a list is never empty: 0 is not yet seen */
		l->shape.d[depth] = count;
	else if (l->shape.d[depth] != count)
		bad(r, "a list of %lld where the first list at this depth has %lld", (long long)count,
		    (long long)l->shape.d[depth]);
}

static const char *read_call(Reader *r, Literal **args, int *nargs)
{
	skip(r);
	const char *start = r->p;
	while (isalnum((unsigned char)*r->p) || *r->p == '_')
		r->p++;
	if (r->p == start || isdigit((unsigned char)*start))
		bad(r, "expected the name of a fn");
	const char *name = xprintf("%.*s", (int)(r->p - start), start);
	expect(r, '(', "'(' after the name");
	skip(r);
	*nargs = 0;
	while (*r->p != ')') {
		*args = xrealloc(*args, sizeof **args * (size_t)*nargs, sizeof **args * (size_t)(*nargs + 1));
		Literal *l = &(*args)[(*nargs)++];
		*l = (Literal){ .leaf_depth = -1 };
		value(r, l, 0);
		skip(r);
		if (*r->p == ',')
			r->p++;
		else if (*r->p != ')')
			bad(r, "expected ',' or ')'");
	}
	r->p++;
	skip(r);
	if (*r->p)
		bad(r, "unexpected text after the call");
	return name;
}

/* ---- printing values ---- */

static void print_tensor(FILE *out, const double *v, Shape s, int axis, int64_t *at)
{
	if (axis == s.rank) {
		double x = v[(*at)++];
		fprintf(out, "%.12g", x == 0 ? 0.0 : x);   /* no "-0" */
		return;
	}
	fputc('[', out);
	for (int64_t i = 0; i < s.d[axis]; i++) {
		if (i)
			fputs(", ", out);
		print_tensor(out, v, s, axis + 1, at);
	}
	fputc(']', out);
}

static void print_value(FILE *out, const char *label, const double *v, Shape s)
{
	int64_t at = 0;
	fprintf(out, "%s = ", label);
	print_tensor(out, v, s, 0, &at);
	fputc('\n', out);
}

/* ---- the two commands ---- */

static int slot_named(const Module *m, const char *name)
{
	int s = ir_find_slot(m, name);
	if (s < 0)
		fatal(EXIT_INTERNAL, "internal error: no slot '%s' in the function's module", name);
	return s;
}

static int has_gradient(const Module *m)
{
	return m->grad->backward_from >= 0;
}

static void check(const Module *m)
{
	const char *why = ir_verify(m, m->grad);
	if (why)
		fatal(EXIT_INTERNAL, "internal error: IR of '%s' invalid: %s", m->grad->name, why);
}

int function_listing(const Program *prog, const char *name)
{
	Module *m = lower_function(prog, name, NULL, 0);
	check(m);
	const Slot *out = &m->slot[slot_named(m, "out")];
	if (!has_gradient(m))
		error_hint(out->loc, xprintf("differentiate a scalar of it: fn g(...) { return sum(%s(...)) }, or "
		                             "sum(%s(...) * v) for a vector-Jacobian product", name, name),
		           "--of prints d %s/d inputs, which needs '%s' to return a float scalar; it returns %s", name,
		           name, xprintf("%s%s", dtype_name(out->dt), shape_str(out->shape)));
	ir_print_module(stdout, m, "grad");
	return fflush(stdout) == 0 ? 0 : EXIT_IO;
}

/* Every parameter has a value: a trained one has none here. */
static void refuse_parameters(const Module *m, const char *name)
{
	for (int s = 0; s < m->nslot; s++)
		if (m->slot[s].role == SLOT_PARAM || m->slot[s].role == SLOT_BUFFER)
			error_hint(m->slot[s].loc, "pass the weights in as arguments, or train a model that uses it",
			           "--eval runs '%s' on the values given, and '%s' is a trained parameter, which has none",
			           name, m->slot[s].name);
}

int function_eval(const Program *prog, const char *text)
{
	Reader r = { text, text };
	Literal *lit = NULL;
	int nargs;
	const char *name = read_call(&r, &lit, &nargs);
	FnArg *arg = xalloc(sizeof *arg * (size_t)(nargs + 1));
	for (int i = 0; i < nargs; i++)
		arg[i] = (FnArg){ .shape = lit[i].shape, .number = lit[i].v[0] };
	Module *m = lower_function(prog, name, arg, nargs);
	check(m);
	refuse_parameters(m, name);
	double **slot = interp_slots(m, 1);
	for (int s = 0; s < m->nslot; s++)
		if (m->slot[s].role == SLOT_INPUT)
			memcpy(slot[s], lit[m->slot[s].io].v, sizeof(double) * (size_t)lit[m->slot[s].io].n);
	interp_run(m, m->grad, slot, 1, 0);
	int out = slot_named(m, "out");
	print_value(stdout, xprintf("%.*s", (int)strcspn(text, "\n"), text), slot[out], m->slot[out].shape);
	for (int s = 0; s < m->nslot && has_gradient(m); s++)
		if (m->slot[s].role == SLOT_INPUT)
			print_value(stdout, xprintf("d %s/d %s", name, m->slot[s].name),
			            slot[slot_named(m, xprintf("%s.grad", m->slot[s].name))], m->slot[s].shape);
	if (!has_gradient(m))
		printf("(no gradient: %s returns %s%s, not a scalar; differentiate sum(%s(...)) for one)\n", name,
		       dtype_name(m->slot[out].dt), shape_str(m->slot[out].shape), name);
	interp_free_slots(m, slot);
	return fflush(stdout) == 0 ? 0 : EXIT_IO;
}
