/* arena.c — the runtime's allocation and message helpers.  Everything is
 * allocated before training starts and lives until exit, so there is no
 * matching free: the process is the arena. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nnrt_internal.h"

const char *rt_progname = "trainer";

void *rt_alloc(size_t n)
{
	void *p = calloc(1, n ? n : 1);
	if (!p)
		rt_fatal(RT_EXIT_NOMEM, "out of memory (asked for %zu bytes)", n);
	return p;
}

void *rt_alloc_aligned(size_t n)
{
	/* Compiled code assumes 64-byte alignment for vector loads of whole
	 * cache lines; aligned_alloc wants a size that is a multiple of it. */
	size_t size = (n + 63) & ~(size_t)63;
	void *p = aligned_alloc(64, size ? size : 64);
	if (!p)
		rt_fatal(RT_EXIT_NOMEM, "out of memory (asked for %zu bytes)", n);
	memset(p, 0, size ? size : 64);
	return p;
}

char *rt_strdup(const char *s)
{
	size_t n = strlen(s) + 1;
	return memcpy(rt_alloc(n), s, n);
}

char *rt_printf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *s = rt_alloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

_Noreturn void rt_fatal(int status, const char *fmt, ...)
{
	va_list ap;
	fflush(stdout);
	fprintf(stderr, "%s: %s", rt_progname, status == RT_EXIT_INTERNAL ? "internal error: " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

void rt_warn(const char *fmt, ...)
{
	va_list ap;
	fprintf(stderr, "%s: warning: ", rt_progname);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
