/* arena.c — the runtime's allocation and message helpers.  Everything is
 * allocated before training starts and lives until exit, so there is no
 * matching free: the process is the arena.  The rule on errors: every
 * allocation of the runtime goes through here, a failed one exits 4 with
 * one line, and no error path frees anything — exit releases it all.
 * (The few buffers freed on success, file images read once, come from
 * here too, so free() on them is plain libc.) */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nnrt_internal.h"

const char *rt_progname = "trainer";

static _Noreturn void out_of_memory(size_t n)
{
	rt_fatal(RT_EXIT_NOMEM, "out of memory (asked for %zu bytes)", n);
}

void *rt_alloc(size_t n)
{
	void *p = rt_fault_alloc() ? NULL : calloc(1, n ? n : 1);
	if (!p)
		out_of_memory(n);
	return p;
}

void *rt_alloc_aligned(size_t n)
{
	/* Compiled code assumes 64-byte alignment for vector loads of whole
	 * cache lines; aligned_alloc wants a size that is a multiple of it. */
	size_t size = (n + 63) & ~(size_t)63;
	void *p = rt_fault_alloc() ? NULL : aligned_alloc(64, size ? size : 64);
	if (!p)
		rt_fatal(RT_EXIT_NOMEM, "out of memory (asked for %zu bytes)", n);
	memset(p, 0, size ? size : 64);
	return p;
}

void *rt_realloc(void *old, size_t n)
{
	void *p = rt_fault_alloc() ? NULL : realloc(old, n ? n : 1);
	if (!p)
		out_of_memory(n);
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
