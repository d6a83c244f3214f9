/* arena.c — the runtime's allocation and message helpers.  Everything is
 * allocated before training starts and lives until exit, so there is no
 * matching free: the process is the arena.  The rule on errors: every
 * allocation of the runtime goes through here, a failed one exits 4 with
 * one line, and no error path frees anything — exit releases it all.
 * (The few buffers freed on success, file images read once, come from
 * here too, so free() on them is plain libc.)
 *
 * The arena keeps a list of its blocks, so that everything it handed out
 * stays reachable until exit wherever the caller dropped its pointer (an
 * error path that exits mid-parse): that is what the policy means, and
 * what LeakSanitizer and valgrind check — nothing unreachable at exit. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "nnrt_internal.h"

const char *rt_progname = "trainer";

static void **blocks;
static size_t nblocks, capblocks;

static _Noreturn void out_of_memory(size_t n)
{
	rt_fatal(RT_EXIT_NOMEM, "out of memory (asked for %zu bytes)", n);
}

/* Record block p; entries for blocks freed or moved since are only stale
 * pointers, never followed. */
static void *keep(void *p, size_t n)
{
	if (!p)
		out_of_memory(n);
	if (nblocks == capblocks) {
		size_t cap = capblocks ? 2 * capblocks : 256;
		void **b = rt_fault_alloc() ? NULL : realloc(blocks, cap * sizeof *b);
		if (!b)
			out_of_memory(cap * sizeof *b);
		blocks = b, capblocks = cap;
	}
	blocks[nblocks++] = p;
	return p;
}

void *rt_alloc(size_t n)
{
	return keep(rt_fault_alloc() ? NULL : calloc(1, n ? n : 1), n);
}

void *rt_alloc_aligned(size_t n)
{
	/* Compiled code assumes 64-byte alignment for vector loads of whole
	 * cache lines; aligned_alloc wants a size that is a multiple of it. */
	size_t size = (n + 63) & ~(size_t)63;
	void *p = keep(rt_fault_alloc() ? NULL : aligned_alloc(64, size ? size : 64), n);
	memset(p, 0, size ? size : 64);
	return p;
}

void *rt_realloc(void *old, size_t n)
{
	return keep(rt_fault_alloc() ? NULL : realloc(old, n ? n : 1), n);
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
	rt_progress_break();
	fprintf(stderr, "%s: %s%s", rt_progname, rt_mpi_who(), status == RT_EXIT_INTERNAL ? "internal error: " : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

void rt_warn(const char *fmt, ...)
{
	va_list ap;
	rt_progress_break();
	fprintf(stderr, "%s: %swarning: ", rt_progname, rt_mpi_who());
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}
