/* main.c — the nnc command line and the pipeline, one call per stage:
 *
 *   parse -> lower -> grad -> optim -> passes -> plan_state -> emit -> link
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "ast.h"
#include "ir.h"

#ifndef NNC_STDLIBDIR
#define NNC_STDLIBDIR "/usr/local/share/nnc/stdlib"
#endif
#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1"
#endif

typedef struct Options {
	const char *input, *output, *emit;
	int opt_level, object_only, verify;
	const char *stdlib_dirs[20];
	int nstdlib;
} Options;

static void usage(FILE *out)
{
	fputs("Usage: nnc [OPTION]... FILE.nn\n"
	      "Compile a neural network described in FILE.nn into a standalone trainer.\n\n"
	      "  -o FILE          write the trainer (or object, with -c) to FILE\n"
	      "                   (default: FILE.nn without its extension)\n"
	      "  -c               write an object file only; do not link\n"
	      "  -O0 -O1 -O2 -O3  LLVM optimization level (default -O3)\n"
	      "  -march=CPU       the CPU to generate code for: native (default: this\n"
	      "                   machine, all its features) or x86-64, x86-64-v2,\n"
	      "                   x86-64-v3, x86-64-v4 (portable trainers)\n"
	      "  -I DIR           look for imported modules in DIR first\n"
	      "  --emit=WHAT      print a stage to standard output and stop:\n"
	      "                     ast   the syntax tree\n"
	      "                     ir    the forward graph IR\n"
	      "                     grad  the training step: forward, backward, update\n"
	      "                     opt   the step after simplification, CSE, DCE, fusion\n"
	      "                           and the memory plan\n"
	      "                     llvm  the LLVM IR of the step\n"
	      "                     dot   the step as a Graphviz graph\n"
	      "                     desc  the model descriptor the trainer reads\n"
	      "  --verify         check IR invariants after every pass\n"
	      "  -h, --help       show this help and exit\n"
	      "  --version        show the version and exit\n\n"
	      "Modules are searched in -I directories, $NNC_STDLIB, then " NNC_STDLIBDIR ".\n"
	      "Exit status: 0 success, 1 error in the source, 2 usage, 3 I/O, 4 out of memory,\n"
	      "70 internal error.  See nnc(1) and nn(5).\n", out);
}

static _Noreturn void bad_usage(const char *fmt, const char *arg)
{
	fputs("nnc: ", stderr);
	fprintf(stderr, fmt, arg);
	fputs("\nTry 'nnc --help' for more information.\n", stderr);
	exit(EXIT_USAGE);
}

static const char *exe_dir(void)
{
	static char buf[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof buf - 1);
	if (n <= 0)
		return NULL;
	buf[n] = 0;
	char *slash = strrchr(buf, '/');
	if (slash)
		*slash = 0;
	return buf;
}

/* Standard library and runtime are looked up next to the nnc executable
 * first: the build tree keeps nnc beside stdlib/ and libnnrt.a, and an
 * installed tree keeps them at ../share/nnc/stdlib and ../lib, so both an
 * uninstalled nnc and a relocated (DESTDIR) install work without any
 * environment. */
static void add_default_dirs(Options *o)
{
	const char *env = getenv("NNC_STDLIB"), *dir = exe_dir();
	if (env && *env)
		o->stdlib_dirs[o->nstdlib++] = env;
	if (dir) {
		const char *near[] = { xprintf("%s/stdlib", dir), xprintf("%s/../share/nnc/stdlib", dir) };
		const char *lib[] = { dir, xprintf("%s/../lib", dir) };
		for (int i = 0; i < 2; i++)
			if (access(xprintf("%s/layers.nn", near[i]), R_OK) == 0)
				o->stdlib_dirs[o->nstdlib++] = near[i];
		for (int i = 0; i < 2 && !getenv("NNC_RUNTIME_DIR"); i++)
			if (access(xprintf("%s/libnnrt.a", lib[i]), R_OK) == 0)
				setenv("NNC_RUNTIME_DIR", lib[i], 1);
	}
	o->stdlib_dirs[o->nstdlib++] = NNC_STDLIBDIR;
	o->stdlib_dirs[o->nstdlib] = NULL;
}

static void parse_args(Options *o, int argc, char **argv)
{
	static const char *const emits[] = { "ast", "ir", "grad", "opt", "llvm", "dot", "desc" };
	o->opt_level = 3;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			usage(stdout), exit(0);
		else if (!strcmp(a, "--version"))
			puts("nnc " PACKAGE_VERSION), exit(0);
		else if (!strcmp(a, "-o") || !strcmp(a, "-I")) {
			if (i + 1 >= argc)
				bad_usage("option '%s' needs an argument", a);
			if (a[1] == 'o')
				o->output = argv[++i];
			else if (o->nstdlib < 16)
				o->stdlib_dirs[o->nstdlib++] = argv[++i];
		} else if (!strncmp(a, "-O", 2) && strlen(a) == 3 && a[2] >= '0' && a[2] <= '3')
			o->opt_level = a[2] - '0';
		else if (!strncmp(a, "-march=", 7)) {
			const char *known = set_target_cpu(a + 7);
			if (known)
				bad_usage(xprintf("unknown CPU '%%s' for -march (%s)", known), a + 7);
		} else if (!strcmp(a, "-c"))
			o->object_only = 1;
		else if (!strcmp(a, "--verify"))
			o->verify = 1;
		else if (!strncmp(a, "--emit=", 7)) {
			o->emit = a + 7;
			int known = 0;
			for (size_t k = 0; k < sizeof emits / sizeof *emits; k++)
				known |= !strcmp(o->emit, emits[k]);
			if (!known)
				bad_usage("unknown --emit stage '%s' (ast, ir, grad, opt, llvm, dot, desc)", o->emit);
		} else if (a[0] == '-' && a[1])
			bad_usage("unknown option '%s'", a);
		else if (o->input)
			bad_usage("more than one input file ('%s')", a);
		else
			o->input = a;
	}
	if (!o->input)
		bad_usage("%s", "no input file");
}

static const char *default_output(const char *input, const char *ext)
{
	const char *base = strrchr(input, '/');
	base = base ? base + 1 : input;
	size_t n = strlen(base);
	if (n > 3 && !strcmp(base + n - 3, ".nn"))
		n -= 3;
	return xprintf("%.*s%s", (int)n, base, ext);
}

static void check(const Options *o, const Module *m, const Fn *fn, const char *after)
{
	if (!o->verify || !fn)
		return;
	const char *why = ir_verify(m, fn);
	if (why)
		fatal(EXIT_INTERNAL, "internal error: IR of '%s' invalid after %s: %s", fn->name, after, why);
}

static void optimize(const Options *o, const Module *m, Fn *fn)
{
	simplify(fn);   check(o, m, fn, "simplify");
	cse(fn);        check(o, m, fn, "cse");
	dce(fn);        check(o, m, fn, "dce");
	convfuse(fn);   check(o, m, fn, "convfuse");
	dce(fn);        check(o, m, fn, "dce");
	fuse(fn);       check(o, m, fn, "fuse");
	plan(fn);       check(o, m, fn, "plan");
}

static int emit_is(const Options *o, const char *what) { return o->emit && !strcmp(o->emit, what); }

int main(int argc, char **argv)
{
	Options o = { 0 };
	parse_args(&o, argc, argv);
	add_default_dirs(&o);

	Program *prog = parse_program(o.input, o.stdlib_dirs);
	if (emit_is(&o, "ast"))
		return ast_print(stdout, prog), 0;

	Module *m = lower(prog);                    check(&o, m, m->fwd, "lower");
	char *abs = realpath(o.input, NULL);        /* trainers find data beside the source */
	if (abs)
		m->source = xstrdup(abs), free(abs);
	if (emit_is(&o, "ir"))
		return ir_print_module(stdout, m, "ir"), 0;

	m->eval = ir_clone(m->fwd, "eval");
	resolve_mode(m, m->eval, 0);                check(&o, m, m->eval, "mode");
	m->grad = grad(m, m->fwd);                  check(&o, m, m->grad, "grad");
	resolve_mode(m, m->grad, 1);                check(&o, m, m->grad, "mode");
	m->update = optim(m);                       check(&o, m, m->update, "optim");
	if (emit_is(&o, "grad"))
		return ir_print_module(stdout, m, "grad"), 0;

	optimize(&o, m, m->eval);
	optimize(&o, m, m->grad);
	optimize(&o, m, m->update);
	plan_state(m);
	if (emit_is(&o, "opt"))
		return ir_print_module(stdout, m, "opt"), 0;
	if (emit_is(&o, "dot"))
		return ir_dot(stdout, m), 0;
	if (emit_is(&o, "desc"))
		return fputs(describe(m), stdout), 0;

	const char *out = o.output ? o.output : default_output(o.input, o.object_only ? ".o" : "");
	const char *obj = o.object_only ? out : xprintf("%s.%ld.o", out, (long)getpid());
	emit_object(m, obj, o.opt_level, emit_is(&o, "llvm") ? stdout : NULL);
	if (emit_is(&o, "llvm") || o.object_only) {
		if (emit_is(&o, "llvm"))
			unlink(obj);
		return 0;
	}
	int rc = link_trainer(obj, out);
	unlink(obj);
	return rc;
}
