/* check.h — the runtime unit tests' one assertion: report and count. */
#ifndef RUNTIME_CHECK_H
#define RUNTIME_CHECK_H
#include <stdio.h>

static int check_failures;

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		check_failures++; \
	} \
} while (0)

#define CHECK_DONE() (check_failures ? (fprintf(stderr, "%d check(s) failed\n", check_failures), 1) : 0)

/* CHECK_DONE for a test that wrote into the scratch directory `dir`:
 * removed when every check passed, kept for a look when one failed;
 * 99 (a hard error) when it cannot be removed. */
#include <stdlib.h>
static inline int check_done_in(const char *dir)
{
	char cmd[512];
	int r = CHECK_DONE();
	if (r == 0 && (snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir) >= (int)sizeof cmd || system(cmd) != 0))
		return 99;
	return r;
}

#endif
