/* run-pass — read a listing (--emit=ir|grad|opt, or written by hand),
 * run passes of the pipeline's table on it and print the result:
 *
 *   run-pass [--verify] FILE.ir [PASS]...
 *
 * Each PASS runs once, in the order given, on every function it applies
 * to (pipeline_pass); with none, the listing is printed back as read.
 * The output is the listing print.c writes: the forward function alone
 * when that is all there is, else eval, grad and update as --emit=opt
 * shows them.  The .ir tests in tests/ir run it (docs/passes.md). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ir.h"

static _Noreturn void usage(const char *why)
{
	fprintf(stderr, "run-pass: %s\nusage: run-pass [--verify] FILE.ir [PASS]...\n(passes: %s)\n", why,
	        pipeline_pass_names());
	exit(EXIT_USAGE);
}

int main(int argc, char **argv)
{
	Pipeline p = { .out = stdout };
	int i = 1;
	if (i < argc && !strcmp(argv[i], "--verify"))
		p.verify = 1, i++;
	if (i >= argc || argv[i][0] == '-')
		usage(i < argc ? xprintf("unknown option '%s'", argv[i]) : "no listing");
	const char *path = argv[i++];
	for (int k = i; k < argc; k++)
		if (!pipeline_has_pass(argv[k]))
			usage(xprintf("no pass named '%s'", argv[k]));
	Module *m = ir_read(path);
	for (; i < argc; i++) {
		const char *why = pipeline_pass(&p, m, argv[i]);
		if (why)
			usage(why);
	}
	ir_print_module(stdout, m, m->eval ? "opt" : m->grad || m->update ? "grad" : "ir");
	return fflush(stdout) == 0 ? 0 : EXIT_IO;
}
