/* fuzz_compile.c — libFuzzer target for the compiler front to back, short
 * of code generation: the bytes are a .nn source, parsed and run through
 * the stages of pipeline.c that nnc runs, lower to describe, with
 * ir_verify after each.  A source error is fine (it longjmps back here
 * through diag's recover hook); an invalid IR, an internal error (which
 * aborts while a recover point is set), a sanitizer report, a leak or a
 * hang is a bug.
 *
 * Each input is written to a file in /dev/shm because parse_program
 * reads its main file by path (imports are resolved the same way, from
 * $NNC_STDLIB or the stdlib beside the build).  Everything the compiler
 * allocates lives in the arena, reset after each input. */
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ast.h"
#include "ir.h"

#ifndef FUZZ_STDLIB
#define FUZZ_STDLIB "stdlib"
#endif

static char path[64];
static const char *dirs[2];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	snprintf(path, sizeof path, "/dev/shm/nnfuzz-%ld.nn", (long)getpid());
	const char *env = getenv("NNC_STDLIB");
	dirs[0] = env && *env ? env : FUZZ_STDLIB;
	return 0;
}

/* The pipeline of nnc up to (not including) emit. */
static void compile(void)
{
	Pipeline p = { .to = "describe", .verify = 1, .program = parse_program(path, dirs) };
	pipeline_run(&p, NULL);
	if (!p.descriptor || !*p.descriptor)
		abort();
}

static int write_input(const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	size_t n = fwrite(data, 1, size, f);
	return fclose(f) == 0 && n == size ? 0 : -1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (write_input(data, size) != 0) {
		perror(path);
		abort();
	}
	jmp_buf env;
	if (setjmp(env) == 0) {
		diag_set_recover(&env);
		compile();
	}
	diag_set_recover(NULL);
	diag_reset();
	arena_reset();
	unlink(path);
	return 0;
}
