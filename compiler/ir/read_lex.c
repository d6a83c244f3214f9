/* read_lex.c — the tokens of a listing line (read.c): words, whole
 * numbers and numbers as %g prints them, names and types, each error at
 * its file:line:col. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "read.h"

Loc rd_loc_at(const Reader *r, const char *at, int len)
{
	return (Loc){ r->file, r->lineno, (int)(at - r->line) + 1, len > 0 ? len : 1 };
}

_Noreturn void rd_fail_at(const Reader *r, const char *at, int len, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	error_at(rd_loc_at(r, at, len), "%s", msg);
}

void rd_spaces(Reader *r)
{
	while (r->p < r->eol && (*r->p == ' ' || *r->p == '\t'))
		r->p++;
}

int rd_at_end(Reader *r)
{
	rd_spaces(r);
	return r->p >= r->eol;
}

/* The next run of characters up to a blank or one of `stops`. */
Tok rd_word(Reader *r, const char *stops)
{
	rd_spaces(r);
	Tok t = { r->p, 0 };
	while (r->p < r->eol && *r->p != ' ' && *r->p != '\t' && !strchr(stops, *r->p))
		r->p++;
	t.n = (int)(r->p - t.s);
	return t;
}

int rd_is(Tok t, const char *s) { return (int)strlen(s) == t.n && !strncmp(t.s, s, (size_t)t.n); }

int rd_accept(Reader *r, const char *s)
{
	rd_spaces(r);
	size_t n = strlen(s);
	if ((size_t)(r->eol - r->p) < n || strncmp(r->p, s, n))
		return 0;
	r->p += n;
	return 1;
}

void rd_expect(Reader *r, const char *s)
{
	if (!rd_accept(r, s))
		rd_fail_at(r, r->p, 1, "expected '%s'%s", s, r->p < r->eol ? "" : " before the end of the line");
}

const char *rd_shown(Tok t) { return xprintf("%.*s", t.n > 40 ? 40 : t.n, t.s); }

/* A decimal integer in [lo, hi], the whole of t. */
int64_t rd_integer(const Reader *r, Tok t, int64_t lo, int64_t hi, const char *what)
{
	char buf[24];
	int ok = t.n > 0 && t.n < (int)sizeof buf;
	long long v = 0;
	if (ok) {
		memcpy(buf, t.s, (size_t)t.n);
		buf[t.n] = 0;
		char *e;
		errno = 0;
		v = strtoll(buf, &e, 10);
		ok = *e == 0 && errno == 0 && (buf[0] == '-' || (buf[0] >= '0' && buf[0] <= '9'));
	}
	if (!ok || v < lo || v > hi)
		rd_fail_at(r, t.s, t.n, "%s must be a whole number from %lld to %lld, not '%s'", what,
		        (long long)lo, (long long)hi, rd_shown(t));
	return v;
}

/* A number as print.c writes it (%g: also inf, -inf, nan). */
double rd_number(const Reader *r, Tok t, const char *what)
{
	char buf[64];
	if (t.n > 0 && t.n < (int)sizeof buf) {
		memcpy(buf, t.s, (size_t)t.n);
		buf[t.n] = 0;
		char *e;
		double v = strtod(buf, &e);
		if (*e == 0 && (buf[0] == '-' || buf[0] == '+' || buf[0] == '.' || (buf[0] >= '0' && buf[0] <= '9') ||
		                buf[0] == 'i' || buf[0] == 'n'))
			return v;
	}
	rd_fail_at(r, t.s, t.n, "%s must be a number, not '%s'", what, rd_shown(t));
}

static int name_char(char c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (!first && ((c >= '0' && c <= '9') || c == '.'));
}

/* A function's or a slot's name: an identifier, dots joining a path. */
Tok rd_name(Reader *r, const char *what)
{
	rd_spaces(r);
	Tok t = { r->p, 0 };
	while (r->p < r->eol && name_char(*r->p, r->p == t.s))
		r->p++;
	t.n = (int)(r->p - t.s);
	if (!t.n)
		rd_fail_at(r, t.s, 1, "expected %s", what);
	return t;
}

int rd_type_ahead(const Reader *r)
{
	const char *p = r->p;
	return r->eol - p >= 4 && (!strncmp(p, "f32[", 4) || !strncmp(p, "f64[", 4) || !strncmp(p, "i32[", 4));
}

void rd_type(Reader *r, DType *dt, Shape *s)
{
	rd_spaces(r);
	if (!rd_type_ahead(r))
		rd_fail_at(r, r->p, 1, "expected a type such as f32[B,784]");
	*dt = r->p[0] == 'i' ? DT_I32 : r->p[1] == '6' ? DT_F64 : DT_F32;
	const char *start = r->p;
	r->p += 4;
	*s = (Shape){ 0 };
	int64_t elems = 1;
	while (!rd_accept(r, "]")) {
		if (s->rank && !rd_accept(r, ","))
			rd_fail_at(r, r->p, 1, "expected ',' or ']' in the shape");
		if (s->rank == MAXRANK)
			rd_fail_at(r, start, (int)(r->p - start), "a shape has at most %d dimensions", MAXRANK);
		Tok d = rd_word(r, ",]");
		int64_t v = rd_is(d, "B") ? DIM_BATCH : rd_integer(r, d, 1, MAX_DIM, "a dimension");
		if (v != DIM_BATCH && (elems *= v) > MAX_ELEMS)
			rd_fail_at(r, start, (int)(r->p - start), "the shape holds more than 2^40 elements");
		s->d[s->rank++] = v;
	}
}

int rd_digits(const char *s, int n)
{
	for (int i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return 0;
	return n > 0;
}

Tok rd_peek(Reader *r)
{
	const char *save = r->p;
	Tok t = rd_word(r, "");
	r->p = save;
	return t;
}
