/* fuzz_read.c — libFuzzer target for the listing reader (read.c): the
 * bytes are an IR listing.  ir_read_text either rejects it with an error
 * at its line (which longjmps back here through diag's recover hook) or
 * returns a Module that ir_verify accepts; then the stages run on it in
 * pipeline order, each verified (eval and grad first when the listing is
 * a forward function alone), and the result is printed.
 * A listing the reader accepts and a pass then breaks on is a bug in the
 * reader's checks, the verifier's or the pass's; so is any crash,
 * sanitizer report, leak or hang. */
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ir.h"

static FILE *sink;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	sink = fopen("/dev/null", "w");
	return sink ? 0 : -1;
}

static void read_and_pass(const uint8_t *data, size_t size)
{
	static const char *const passes[] = { "eval", "grad", "simplify", "cse", "dce", "convfuse", "dce", "fuse", "plan" };
	char *text = xalloc(size + 1);
	memcpy(text, data, size);
	Module *m = ir_read_text("fuzz.ir", text, size);
	Pipeline p = { .verify = 1 };
	for (size_t i = m->fwd && !m->eval && !m->grad ? 0 : 2; i < sizeof passes / sizeof *passes; i++)
		if (pipeline_pass(&p, m, passes[i]))
			break;                  /* e.g. simplify on a listing already planned */
	ir_print_module(sink, m, m->eval ? "opt" : m->grad || m->update ? "grad" : "ir");
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	jmp_buf env;
	if (setjmp(env) == 0) {
		diag_set_recover(&env);
		read_and_pass(data, size);
	}
	diag_set_recover(NULL);
	diag_reset();
	arena_reset();
	return 0;
}
