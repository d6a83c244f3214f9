/* arena.c — the compilation arena: bump allocation in large blocks. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "util.h"

enum { BLOCK = 1 << 20 };

typedef struct Block { struct Block *next; size_t used, size; max_align_t data[]; } Block;

/* A global root keeps every block reachable, so leak checkers see the
 * arena as owned memory for the life of the process. */
static Block *arena;

void *xalloc(size_t n)
{
	n = (n + 15) & ~(size_t)15;
	if (!arena || arena->size - arena->used < n) {
		size_t size = n > BLOCK ? n : BLOCK;
		Block *b = calloc(1, sizeof *b + size);
		if (!b)
			fatal(EXIT_NOMEM, "out of memory (asked for %zu bytes)", n);
		b->size = size;
		b->next = arena;
		arena = b;
	}
	void *p = (char *)arena->data + arena->used;
	arena->used += n;
	return p;
}

void *xrealloc(void *old, size_t oldn, size_t n)
{
	void *p = xalloc(n);
	if (old)
		memcpy(p, old, oldn < n ? oldn : n);
	return p;
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xalloc(n + 1);
	memcpy(p, s, n);
	return p;
}

char *xstrdup(const char *s) { return xstrndup(s, strlen(s)); }

char *xprintf(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	char *p = xalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(p, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return p;
}

/* Free every block, for a driver that compiles many inputs in one
 * process; every pointer into the arena is dead afterwards. */
void arena_reset(void)
{
	while (arena) {
		Block *next = arena->next;
		free(arena);
		arena = next;
	}
}
