/* util.h — what every stage of the compiler shares: source locations,
 * diagnostics, and the compilation arena.
 *
 * Ownership: everything the compiler allocates comes from one arena that
 * lives until the process exits; nothing is freed one object at a time. */
#ifndef NNC_UTIL_H
#define NNC_UTIL_H

#include <stddef.h>
#include <stdarg.h>
#include <setjmp.h>
#include "nnrt_exit.h"

typedef struct Loc {
	const char *file;   /* path as given, for messages */
	int line, col;      /* 1-based; line 0 means "no location" */
	int len;            /* columns the caret underlines (>= 1) */
} Loc;

/* arena.c */
void *xalloc(size_t n);                       /* zeroed; exits with status 4 when memory runs out */
void *xrealloc(void *old, size_t oldn, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void arena_reset(void);                       /* free every block: all arena pointers die */

/* diag.c — "file:line:col: error: message", the source line, a caret.
 * diag_add_source registers the bytes of a file so diagnostics can quote
 * its lines; error() prints and exits with status 1 (the first error
 * stops the compilation: later stages assume earlier ones succeeded). */
void diag_add_source(const char *file, const char *text, size_t len);
_Noreturn void error_at(Loc loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* An error and, on a line of its own, what to write instead (hint may be NULL). */
_Noreturn void error_hint(Loc loc, const char *hint, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void warning_at(Loc loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void note_at(Loc loc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* -Wmodel: a program that compiles but will likely train badly; the
 * warning ends in "[-Wmodel]" and is followed by a line saying why.
 * Warnings never change the exit status or any output file. */
void warn_model(Loc loc, const char *why, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void diag_set_model_warnings(int on);   /* -Wmodel (the default), -Wno-model */
_Noreturn void fatal(int status, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* For a driver that compiles many inputs in one process (the fuzzer):
 * with a jmp_buf set, error_at() and fatal(EXIT_SOURCE) longjmp there
 * instead of exiting (fatal with any other status still exits, and
 * EXIT_INTERNAL aborts, so bugs stay visible); NULL restores exiting.
 * diag_reset forgets the registered sources (before arena_reset). */
void diag_set_recover(jmp_buf *env);
/* Called after an error's message, before the exit: the lowering prints
 * the calls that led from the user's file into a library's line. */
void diag_set_context(void (*notes)(Loc where));
void diag_reset(void);

/* Exit statuses, the compiler's names for runtime/nnrt_exit.h's table. */
enum {
	EXIT_SOURCE = NNRT_EXIT_FAIL,   /* error in a .nn file */
	EXIT_USAGE = NNRT_EXIT_USAGE,
	EXIT_IO = NNRT_EXIT_IO,
	EXIT_NOMEM = NNRT_EXIT_NOMEM,
	EXIT_NUMERIC = NNRT_EXIT_NUMERIC,
	EXIT_INTERNAL = NNRT_EXIT_INTERNAL,
};

#endif
