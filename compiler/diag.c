/* diag.c — diagnostics with the source line and a caret under the span. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

static jmp_buf *recover;  /* set by a many-inputs driver: errors return there */

typedef struct Source { const char *file, *text; size_t len; struct Source *next; } Source;
static Source *sources;

void diag_set_recover(jmp_buf *env) { recover = env; }

/* The list lives in the arena: forget it before the arena is reset. */
void diag_reset(void) { sources = NULL; }

void diag_add_source(const char *file, const char *text, size_t len)
{
	Source *s = xalloc(sizeof *s);
	*s = (Source){ file, text, len, sources };
	sources = s;
}

static const Source *find(const char *file)
{
	for (const Source *s = sources; s; s = s->next)
		if (s->file == file || strcmp(s->file, file) == 0)
			return s;
	return NULL;
}

/* Quote the line, at most 160 columns of it around the caret, with
 * control bytes and non-ASCII bytes shown as '?', so a megabyte line or
 * binary garbage never floods the terminal. */
static void quote(Loc loc)
{
	const Source *s = loc.file ? find(loc.file) : NULL;
	if (!s || loc.line <= 0)
		return;
	const char *p = s->text, *end = s->text + s->len;
	for (int l = 1; l < loc.line && p < end; p++)
		if (*p == '\n')
			l++;
	const char *eol = memchr(p, '\n', (size_t)(end - p));
	if (!eol)
		eol = end;
	long col = loc.col > 0 ? loc.col - 1 : 0, from = col > 80 ? col - 80 : 0;
	long to = from + 160 < eol - p ? from + 160 : eol - p;
	fputs("  ", stderr);
	for (long i = from; i < to; i++) {
		unsigned char c = (unsigned char)p[i];
		fputc(c == '\t' ? ' ' : (c < 32 || c >= 127) ? '?' : c, stderr);
	}
	fputs("\n  ", stderr);
	for (long i = from; i < col; i++)
		fputc(' ', stderr);
	fputc('^', stderr);
	for (int i = 1; i < loc.len && col + i < to; i++)
		fputc('~', stderr);
	fputc('\n', stderr);
}

static void report(Loc loc, const char *kind, const char *tag, const char *fmt, va_list ap)
{
	if (loc.file && loc.line > 0)
		fprintf(stderr, "%s:%d:%d: %s: ", loc.file, loc.line, loc.col, kind);
	else if (loc.file)
		fprintf(stderr, "%s: %s: ", loc.file, kind);
	else
		fprintf(stderr, "nnc: %s: ", kind);
	vfprintf(stderr, fmt, ap);
	if (tag)
		fprintf(stderr, " [%s]", tag);
	fputc('\n', stderr);
	quote(loc);
}

static void (*context_notes)(Loc where);

void diag_set_context(void (*notes)(Loc where))
{
	context_notes = notes;
}

/* A follow-up line at the same place, not quoted again: "hint: write
 * 'x ** 2'" after an error, "why: ..." after a warning. */
static void follow(Loc loc, const char *kind, const char *text)
{
	if (!text)
		return;
	if (loc.file && loc.line > 0)
		fprintf(stderr, "%s:%d:%d: %s: %s\n", loc.file, loc.line, loc.col, kind, text);
	else
		fprintf(stderr, "nnc: %s: %s\n", kind, text);
}

/* After an error: the context notes, then out. */
static _Noreturn void stop(Loc loc)
{
	if (context_notes) {
		void (*notes)(Loc) = context_notes;
		context_notes = NULL;   /* an error inside the notes ends there */
		notes(loc);
		context_notes = notes;
	}
	if (recover)
		longjmp(*recover, 1);
	exit(EXIT_SOURCE);
}

void error_at(Loc loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report(loc, "error", NULL, fmt, ap);
	va_end(ap);
	stop(loc);
}

void error_hint(Loc loc, const char *hint, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report(loc, "error", NULL, fmt, ap);
	va_end(ap);
	follow(loc, "hint", hint);
	stop(loc);
}

void warning_at(Loc loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report(loc, "warning", NULL, fmt, ap);
	va_end(ap);
}

/* -Wmodel: on unless -Wno-model turned it off. */
static int model_warnings = 1;

void diag_set_model_warnings(int on) { model_warnings = on; }

void warn_model(Loc loc, const char *why, const char *fmt, ...)
{
	if (!model_warnings)
		return;
	va_list ap;
	va_start(ap, fmt);
	report(loc, "warning", "-Wmodel", fmt, ap);
	va_end(ap);
	follow(loc, "why", why);
}

void note_at(Loc loc, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	report(loc, "note", NULL, fmt, ap);
	va_end(ap);
}

void fatal(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("nnc: error: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	if (recover && status == EXIT_SOURCE)
		longjmp(*recover, 1);
	if (recover && status == EXIT_INTERNAL)
		abort();    /* a bug: the fuzzer must see it as a crash */
	exit(status);
}
