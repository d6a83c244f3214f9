/* main.c — the nnc command line, and the road a model travels:
 *
 *   parse -> pipeline (lower, eval, grad, optim, passes, plan_state,
 *            describe, emit; pipeline.c) -> link
 */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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
	const char *input, *output, *emit, *emit_after, *stage;
	const char *of, *eval;           /* --of NAME, --eval 'NAME(ARGS)': a plain fn (function.c) */
	int opt_level, object_only, verify;
	const char *dot_depth;        /* --dot-depth as given, or NULL */
	DotOptions dot;
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
	      "                     dot=grad  the step as a Graphviz graph, numbered as\n"
	      "                           --emit=grad, a cluster per layer call (dot alone\n"
	      "                           is dot=grad)\n"
	      "                     dot=opt   the same after the passes, numbered as --emit=opt\n"
	      "                     desc  the model descriptor the trainer reads\n"
	      "  --of NAME        with --emit=grad: the listing of fn NAME and its reverse,\n"
	      "                   d NAME/d inputs (NAME returns a scalar; no train block needed)\n"
	      "  --eval 'NAME(ARGS)'\n"
	      "                   evaluate fn NAME and its gradient at ARGS, in double precision:\n"
	      "                   a number or nested lists per argument, as f(2, [1, 0.5])\n", out);
	fprintf(out, "  --emit-after=PASS\n"
	      "                   print the IR after each run of PASS and stop; the passes:\n"
	      "                   %s\n", pipeline_pass_names());
	fputs("  --stage NAME     the training stage --emit prints (default: the last)\n"
	      "  --dot-depth N    with --emit=dot: draw calls nested more than N deep (0-64)\n"
	      "                   as one box each; 1 keeps the model's own calls\n"
	      "  --verify         check IR invariants after every pass\n"
	      "  -Wmodel          warn about models that will likely train badly (the\n"
	      "                   default); -Wno-model turns these warnings off\n"
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

/* --dot-depth N: a whole number of call levels, and only for a picture. */
static int dot_depth(const Options *o)
{
	char *end;
	const char *s = o->dot_depth;
	long d = strtol(s, &end, 10);
	if (*s < '0' || *s > '9' || *end || d > 64)
		bad_usage("--dot-depth wants a whole number of call levels from 0 to 64, not '%s'", s);
	if (!o->emit || strncmp(o->emit, "dot", 3) != 0)
		bad_usage("--dot-depth %s draws folded calls; it goes with --emit=dot", s);
	return (int)d;
}

/* --of lists a fn with --emit=grad; --eval evaluates one and compiles
 * nothing, so neither goes with what a trainer's compilation takes. */
static void function_options(Options *o)
{
	if (o->of && o->eval)
		bad_usage("%s", "--of lists a fn and --eval evaluates one; give one of them");
	const char *which = o->of ? "--of" : "--eval";
	if (!o->of && !o->eval)
		return;
	if (o->emit_after || o->output || o->object_only)
		bad_usage("%s works on a plain fn and compiles no trainer: drop -o, -c and --emit-after", which);
	if (o->eval && o->emit)
		bad_usage("--eval prints values, not a stage: drop --emit=%s", o->emit);
	if (o->of && o->emit && strcmp(o->emit, "grad"))
		bad_usage("--of prints the fn's listing with its reverse, --emit=grad; not --emit=%s", o->emit);
	o->emit = o->of ? "grad" : NULL;
}

static void parse_args(Options *o, int argc, char **argv)
{
	static const char *const emits[] = { "ast", "ir", "grad", "opt", "llvm", "dot", "dot=grad", "dot=opt", "desc" };
	o->opt_level = 3;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help"))
			usage(stdout), exit(0);
		else if (!strcmp(a, "--version"))
			puts("nnc " PACKAGE_VERSION), exit(0);
		else if (!strcmp(a, "-o") || !strcmp(a, "-I") || !strcmp(a, "--of") || !strcmp(a, "--eval")
		         || !strcmp(a, "--stage")) {
			if (i + 1 >= argc)
				bad_usage("option '%s' needs an argument", a);
			if (!strcmp(a, "--stage"))
				o->stage = argv[++i];
			else if (a[1] == '-')
				*(a[2] == 'o' ? &o->of : &o->eval) = argv[++i];
			else if (a[1] == 'o')
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
		else if (!strcmp(a, "-Wmodel") || !strcmp(a, "-Wno-model"))
			diag_set_model_warnings(a[2] == 'm');
		else if (!strncmp(a, "--emit=", 7)) {
			o->emit = a + 7;
			int known = 0;
			for (size_t k = 0; k < sizeof emits / sizeof *emits; k++)
				known |= !strcmp(o->emit, emits[k]);
			if (!known)
				bad_usage("unknown --emit stage '%s' (ast, ir, grad, opt, llvm, dot, dot=grad, dot=opt, desc)",
				          o->emit);
		} else if (!strcmp(a, "--dot-depth") || !strncmp(a, "--dot-depth=", 12)) {
			if (a[11] != '=' && i + 1 >= argc)
				bad_usage("option '%s' needs an argument", a);
			o->dot_depth = a[11] == '=' ? a + 12 : argv[++i];
		} else if (!strncmp(a, "--emit-after=", 13)) {
			o->emit_after = a + 13;
			if (!pipeline_has_pass(o->emit_after))
				bad_usage(xprintf("unknown pass '%%s' for --emit-after (%s)", pipeline_pass_names()),
				          o->emit_after);
		} else if (a[0] == '-' && a[1])
			bad_usage("unknown option '%s'", a);
		else if (o->input)
			bad_usage("more than one input file ('%s')", a);
		else
			o->input = a;
	}
	if (!o->input)
		bad_usage("%s", "no input file");
	if (o->emit && o->emit_after)
		bad_usage("--emit=%s and --emit-after each print a stage; give one", o->emit);
	o->dot.depth = -1;
	if (o->dot_depth)
		o->dot.depth = dot_depth(o);
	function_options(o);
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

/* Where the trainer goes.  A trainer or an object is a file cc and the
 * linker write by name, so "-o -" (standard output) is refused, as is an
 * output that is the source itself, which linking would destroy. */
static const char *output_path(const Options *o)
{
	const char *out = o->output ? o->output : default_output(o->input, o->object_only ? ".o" : "");
	struct stat in, same;
	if (!strcmp(out, "-"))
		bad_usage("%s", "cannot write a trainer or an object to standard output ('-o -'); name a file");
	if (stat(o->input, &in) == 0 && stat(out, &same) == 0 && in.st_dev == same.st_dev && in.st_ino == same.st_ino)
		bad_usage("output '%s' is the input file", out);
	return out;
}

static int emit_is(const Options *o, const char *what) { return o->emit && !strcmp(o->emit, what); }

/* The last stage each --emit needs (pipeline.c names them). */
static const char *last_stage(const Options *o)
{
	static const char *const upto[][2] = {
		{ "ir", "lower" }, { "grad", "optim" }, { "opt", "plan_state" }, { "dot", "optim" },
		{ "dot=grad", "optim" }, { "dot=opt", "plan_state" },
		{ "desc", "describe" },
	};
	if (o->emit_after)
		return o->emit_after;
	for (size_t i = 0; i < sizeof upto / sizeof *upto; i++)
		if (emit_is(o, upto[i][0]))
			return upto[i][1];
	return "emit";
}

/* The object emit writes: the output itself with -c; beside it, until
 * linked, for a trainer; a scratch file, unlinked, for --emit=llvm. */
static const char *object_path(const Options *o, const char *out)
{
	if (emit_is(o, "llvm"))
		return xprintf("%s/nnc-%ld.o", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp", (long)getpid());
	if (!out)
		return NULL;
	return o->object_only ? out : xprintf("%s.%ld.o", out, (long)getpid());
}

static void print_stage(const Options *o, const Module *m, const Pipeline *p)
{
	if (emit_is(o, "ir") || emit_is(o, "grad") || emit_is(o, "opt"))
		ir_print_module(stdout, m, o->emit);
	else if (o->emit && !strncmp(o->emit, "dot", 3))
		ir_dot(stdout, m, &o->dot);
	else if (emit_is(o, "desc"))
		fputs(p->descriptor, stdout);
}

/* A train block with stages (nn(5)) is compiled stage by stage, an object
 * each, linked into one trainer that runs them in order. */
static int compile_stages(const Options *o, const Program *prog, int nstage, const char *out)
{
	if (o->object_only)
		bad_usage("%s", "-c: a program with training stages is one object per stage; link it (no -c)");
	const char **objs = xalloc(sizeof *objs * (size_t)nstage);
	const char *base = object_path(o, out);
	int status = 0;
	for (int k = 0; k < nstage && status == 0; k++) {
		Program *one = stage_program(prog, k);
		Pipeline p = { .to = last_stage(o), .verify = o->verify, .print_after = o->emit_after, .out = stdout,
		               .program = one, .source = realpath(o->input, NULL),
		               .object = base ? xprintf("%s.s%d.o", base, k) : NULL, .opt_level = o->opt_level,
		               .llvm_text = NULL };
		pipeline_run(&p, NULL);
		objs[k] = p.object;
		status = p.status;
	}
	int rc = status || !out ? status : link_objects(objs, nstage, out);
	for (int k = 0; k < nstage; k++)
		if (objs[k])
			unlink(objs[k]);
	return rc;
}

/* --emit prints one stage of a program with stages: --stage NAME, or the
 * last (the whole network). */
static int chosen_stage(const Options *o, const Program *prog, int nstage)
{
	if (!nstage)
		bad_usage("--stage %s: this program has no training stages", o->stage);
	if (!o->emit && !o->emit_after)
		bad_usage("--stage %s picks the stage --emit prints; a trainer holds every stage", o->stage);
	const char *names = "";
	for (int k = 0; k < nstage; k++) {
		if (o->stage && !strcmp(stage_name(prog, k), o->stage))
			return k;
		names = xprintf("%s%s%s", names, k ? ", " : "", stage_name(prog, k));
	}
	if (o->stage)
		bad_usage(xprintf("no stage '%%s' (the stages: %s)", names), o->stage);
	return nstage - 1;
}

int main(int argc, char **argv)
{
	Options o = { 0 };
	parse_args(&o, argc, argv);
	add_default_dirs(&o);
	const char *out = o.emit || o.emit_after || o.eval ? NULL : output_path(&o);

	Program *prog = parse_program(o.input, o.stdlib_dirs);
	if (o.of)
		return function_listing(prog, o.of);
	if (o.eval)
		return function_eval(prog, o.eval);
	if (emit_is(&o, "ast"))
		return ast_print(stdout, prog), 0;
	int nstage = program_stages(prog);
	if (nstage > 0 && !o.emit && !o.emit_after)
		return compile_stages(&o, prog, nstage, out);
	if (nstage > 0 || o.stage)
		prog = stage_program(prog, chosen_stage(&o, prog, nstage));
	Pipeline p = { .to = last_stage(&o), .verify = o.verify, .print_after = o.emit_after, .out = stdout,
	               .program = prog, .source = realpath(o.input, NULL),   /* trainers find data beside it */
	               .object = object_path(&o, out), .opt_level = o.opt_level,
	               .llvm_text = emit_is(&o, "llvm") ? stdout : NULL };
	Module *m = pipeline_run(&p, NULL);
	print_stage(&o, m, &p);
	if (emit_is(&o, "llvm"))
		unlink(p.object);
	if (!out || o.object_only)
		return p.status;
	int rc = link_trainer(p.object, out);
	unlink(p.object);
	return rc;
}
