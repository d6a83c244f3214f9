/* fuzz_compile.c — libFuzzer target for the compiler front to back, short
 * of code generation: the bytes are a .nn source, run through parsing,
 * lowering, autodiff, the optimizer update, every pass and the memory
 * plan, with ir_verify after each stage.  A source error is fine (it
 * longjmps back here through diag's recover hook); an invalid IR, an
 * internal error, a sanitizer report, a leak or a hang is a bug.
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

static void check(const Module *m, const Fn *fn, const char *after)
{
	const char *why = fn ? ir_verify(m, fn) : NULL;
	if (why) {
		fprintf(stderr, "fuzz: IR of '%s' invalid after %s: %s\n", fn->name, after, why);
		abort();
	}
}

static void optimize(const Module *m, Fn *fn)
{
	simplify(fn);  check(m, fn, "simplify");
	cse(fn);       check(m, fn, "cse");
	dce(fn);       check(m, fn, "dce");
	fuse(fn);      check(m, fn, "fuse");
	plan(fn);      check(m, fn, "plan");
}

/* The pipeline of main.c up to (not including) emit_object. */
static void compile(void)
{
	Program *prog = parse_program(path, dirs);
	Module *m = lower(prog);        check(m, m->fwd, "lower");
	m->eval = ir_clone(m->fwd, "eval");
	check(m, m->eval, "clone");
	m->grad = grad(m, m->fwd);      check(m, m->grad, "grad");
	m->update = optim(m);           check(m, m->update, "optim");
	optimize(m, m->eval);
	optimize(m, m->grad);
	optimize(m, m->update);
	plan_state(m);
	check(m, m->eval, "plan_state");
	check(m, m->grad, "plan_state");
	check(m, m->update, "plan_state");
	const char *desc = describe(m);
	if (!desc || !*desc)
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
