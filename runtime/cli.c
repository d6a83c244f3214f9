/* cli.c — the trainer's main(): `./trainer SUBCOMMAND [options]`.
 * The compiled model supplies nnm_*; defaults shown by --help come from
 * its descriptor.  Usage errors are one line on stderr and exit 2. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "nnrt_internal.h"

#ifndef PACKAGE_VERSION
#define PACKAGE_VERSION "0.1"
#endif

void openblas_set_num_threads(int num_threads);   /* from OpenBLAS's cblas.h */

static const char *const commands[] = {"train", "eval", "predict", "gradcheck", "info", "sample", "show",
                                       "decode", "ais", "partition", "filters", "chain",
                                       "reconstructions", "scatter", "trace"};
#define COMMAND_LIST "train eval predict gradcheck info sample show decode ais partition filters chain " \
	"reconstructions scatter trace"

static _Noreturn void usage_error(const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "%s: ", rt_progname);
	fprintf(stderr, fmt, a, b);
	fprintf(stderr, " (try '%s --help')\n", rt_progname);
	exit(RT_EXIT_USAGE);
}

static int64_t int_arg(const char *opt, const char *v, int64_t min, int64_t max)
{
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (!*v || *end || errno || n < min || n > max) {
		fprintf(stderr, "%s: %s: '%s' is not an integer in [%lld, %lld] (try '%s --help')\n",
		        rt_progname, opt, v, (long long)min, (long long)max, rt_progname);
		exit(RT_EXIT_USAGE);
	}
	return n;
}

static double num_arg(const char *opt, const char *v, int positive)
{
	char *end;
	errno = 0;
	double x = strtod(v, &end);
	if (!*v || *end || errno || !isfinite(x) || (positive && x <= 0))
		usage_error("%s: '%s' is not a positive finite number", opt, v);
	return x;
}

/* SIZE: bytes, or a number with K, M, G or T (powers of 1024), e.g. 512M. */
static int64_t size_arg(const char *opt, const char *v)
{
	char *end;
	errno = 0;
	double x = strtod(v, &end);
	const char *units = "KMGT", *u = *end ? strchr(units, *end) : NULL;
	double scale = u ? pow(1024, (double)(u - units + 1)) : 1;
	if (u)
		end++;
	if (*end == 'B' || (u && !strcmp(end, "iB")))
		end += *end == 'B' ? 1 : 2;
	if (!*v || *end || errno || !(x > 0) || x * scale > 9e18)
		usage_error("%s: '%s' is not a size (bytes, or a number with K, M, G or T, e.g. 512M)", opt, v);
	return (int64_t)(x * scale);
}

/* Refuse a --save that cannot take the checkpoint now, before hours of
 * training rather than at the end: the directory where the file (the
 * end of its symbolic links) goes must be writable, and the file must be
 * regular or absent (checkpoint.c renames over it). */
static const char *save_arg(const char *name, const char *v)
{
	if (!*v)
		usage_error("%s: the file name is empty%s", name, "");
	char *target = rt_save_target(v), *dir = rt_strdup(target), *slash = strrchr(dir, '/');
	const char *as = strcmp(target, v) ? rt_printf("%s (a link to %s)", v, target) : v;
	if (slash)
		slash == dir ? (void)(dir[1] = '\0') : (void)(*slash = '\0');
	const char *d = slash ? dir : ".";
	struct stat st;
	if (stat(d, &st) != 0)
		rt_fatal(RT_EXIT_IO, "%s %s: cannot use the directory %s: %s", name, as, d, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		rt_fatal(RT_EXIT_IO, "%s %s: %s is not a directory", name, as, d);
	if (access(d, W_OK | X_OK) != 0)
		rt_fatal(RT_EXIT_IO, "%s %s: cannot write in %s: %s", name, as, d, strerror(errno));
	if (stat(target, &st) == 0 && S_ISDIR(st.st_mode))
		rt_fatal(RT_EXIT_IO, "%s %s: is a directory", name, as);
	const char *refusal = rt_save_refusal(target);
	if (refusal)
		rt_fatal(RT_EXIT_IO, "%s %s: %s", name, as, refusal);
	return v;
}

static void print_help(const RtDesc *d)
{
	printf("Usage: %s COMMAND [OPTIONS]\n", rt_progname);
	printf("Trainer for the model '%s' (%s), compiled by nnc.\n\n", d->model, d->source ? d->source : "?");
	printf("Commands:\n"
	       "  train       train the model, printing the loss and reports per epoch\n"
	       "  eval        evaluate every report of the train block (with --load)\n"
	       "  predict     print one prediction per sample of --input or the test source\n"
	       "  gradcheck   compare gradients with finite differences on the first batch\n"
	       "  info        print the parameter table and the layers with their FLOPs\n"
	       "  sample      print text drawn from a language model (with --load)\n"
	       "  show        list the model's probes, or print or draw one for one sample\n"
	       "  decode      greedy-decode each line of --input or stdin by an encoder-decoder (with --load)\n"
	       "  ais         an RBM's log partition function by annealed importance sampling, and\n"
	       "              the log-likelihood of the report sources (with --load)\n"
	       "  partition   the same, exact, summed over the states of the smaller layer\n"
	       "  filters FILE.png   an RBM's weights as a tile image (gnuplot)\n"
	       "  chain FILE.png     samples of an RBM's Gibbs chain from test images (gnuplot)\n"
	       "  reconstructions FILE.png   test images beside the model's reconstructions of them\n"
	       "                     (an autoencoder, or an RBM's mean field)\n"
	       "  scatter FILE.png   the 2-D code of each test image (the output, or --probe) by class\n"
	       "  trace       run one training step on the reference interpreter and print the\n"
	       "              --emit=grad listing with each line's values, forward and backward\n"
	       "\nOptions (defaults from the model):\n");
	printf("  --epochs N       epochs to train to (default %lld)\n", (long long)d->epochs);
	printf("  --batch N        batch size (default %lld; gradcheck uses at most 32)\n", (long long)d->batch);
	printf("  --lr X           base learning rate (default %g, %s, schedule %s)\n", d->lr,
	       nnrt_optimizer_word[d->optimizer], nnrt_schedule_word[d->schedule]);
	printf("  --seed N         random seed: initialization, shuffling, augmentation, random data (default %lld)\n",
	       (long long)d->seed);
	printf("  --threads N      threads of the step's GEMMs and convolutions (default 1;\n"
	       "                   the checkpoint's bytes are the same at any N)\n"
	       "  --shards N       the gradient as the sum of N shards of each batch, as mpirun -np N\n"
	       "                   computes it (default 1; the ranks under mpirun)\n"
	       "  --save FILE      write a safetensors checkpoint at the end of training\n"
	       "                   (and on SIGINT/SIGTERM, mid-epoch; exit 130/143)\n"
	       "  --save-every N   also save every N epochs\n"
	       "  --load FILE      start from a checkpoint (resume training, eval, predict)\n"
	       "  --init FILE      train afresh from the parameters of FILE with this model's names\n"
	       "  --stage NAME     train: run that training stage alone (a program with stages)\n"
	       "  --data-dir DIR   where relative data paths are looked up (default: the .nn file's\n"
	       "                   directory, then /usr/share/datasets/fashion-mnist)\n"
	       "  --log FILE       write CSV metrics, one row per epoch\n"
	       "  --log-grad-norms FILE  write the L2 norm of every parameter's gradient,\n"
	       "                   one CSV row per parameter per step (see nnc-gradplot(1))\n"
	       "  --input FILE     predict: an IDX or CSV file of inputs (plain or gzip; - for stdin);\n"
	       "                   decode: one sequence a line (default: stdin)\n"
	       "  --output WHAT    predict: class, probs or logits per sample (default: the class\n"
	       "                   for a model of integer labels, else the output as computed)\n"
	       "  --prompt TEXT    sample: the text to go on from (default: a newline)\n"
	       "  --length N       sample: characters to draw (default 200)\n"
	       "  --temperature X  sample: divides the logits before the softmax (default 1)\n"
	       "  --top-k K        sample: draw among the K likeliest characters (default 0: all)\n"
	       "  --probe P        show, scatter: the probe, by number, name or a part of one name\n"
	       "  --index I        show: the sample of --input or the first report source (default 0)\n"
	       "  --at A,B         show: indices of the probe's leading axes, to leave a matrix\n"
	       "  --png FILE       show: draw the matrix as a heat map (gnuplot) instead of printing it\n"
	       "  --eval           decode: the held-out source's sequences instead, printing the exact match\n"
	       "  --count N        scatter: points to draw (default 5000)\n"
	       "  --step N         trace: the training step, from 1 (default: the one after --load's)\n"
	       "  --batch-index I  trace: batch I (from 0) of the epoch the next step is in\n"
	       "  --values N       trace: values printed of each tensor (default 4)\n"
	       "  --digits D       trace: significant digits of each number (default 6)\n"
	       "  --chains N       ais: independent runs (default 100)\n"
	       "  --betas K        ais: intermediate distributions (default 10000)\n"
	       "  --base WHAT      ais: the base model's visible biases, data (the training data's\n"
	       "                   marginals, the default) or uniform (0)\n"
	       "  --tol X          gradcheck: largest relative error accepted (default %g)\n"
	       "  --all            gradcheck: check every entry, not 20 per tensor\n"
	       "  --max-memory SIZE  refuse to start unless state + scratch fit, e.g. 512M\n"
	       "  --no-check-numerics  do not stop on a non-finite loss or gradient\n"
	       "  --quiet, -q      no progress bar, no per-epoch lines\n"
	       "  --help, -h       this text\n  --version        the version\n\nData sources:\n",
	       d->precision == RT_F64 ? 1e-6 : 1e-2);
	for (int i = 0; i < d->nsrc; i++) {
		printf("  %-10s %s", d->src[i].name, nnrt_source_word[d->src[i].kind]);
		for (int k = 0; k < d->src[i].narg; k++)
			printf(d->src[i].arg[k].is_str ? " %s=\"%s\"" : " %s=%s", d->src[i].arg[k].key, d->src[i].arg[k].str);
		printf("%s\n", d->train_source && !strcmp(d->train_source, d->src[i].name) ? "   (training)" : "");
	}
	printf("\nExit status: 0 success, 1 gradcheck above --tol, 2 usage, 3 data/IO/checkpoint,\n"
	       "4 out of memory, 5 non-finite loss or gradient, 70 internal error, 130/143 interrupted by\n"
	       "SIGINT/SIGTERM (checkpoint saved).  See nnc-trainer(1).\n");
}

static void defaults(RtOptions *o, const RtDesc *d)
{
	*o = (RtOptions){.epochs = d->epochs, .batch = d->batch, .seed = d->seed, .threads = 1, .lr = d->lr,
	                 .check_numerics = 1, .sample_length = 200, .temperature = 1, .chains = 100, .betas = 10000,
	                 .ais_base = "data", .trace_batch = -1, .trace_values = 4, .trace_digits = 6};
}

/* Returns the value of an option that takes one: "--x V" or "--x=V". */
static const char *value(int argc, char **argv, int *i, const char *eq)
{
	if (eq)
		return eq + 1;
	if (*i + 1 >= argc)
		usage_error("option %s needs a value%s", argv[*i], "");
	return argv[++*i];
}

/* A data directory that does not exist is a mistake to report, not a
 * reason to fall back silently to the default data location. */
static const char *dir_arg(const char *name, const char *v)
{
	struct stat st;
	if (stat(v, &st) != 0)
		rt_fatal(RT_EXIT_IO, "%s: cannot use '%s': %s", name, v, strerror(errno));
	if (!S_ISDIR(st.st_mode))
		rt_fatal(RT_EXIT_IO, "%s: '%s' is not a directory", name, v);
	return v;
}

static const char *output_arg(const char *name, const char *v)
{
	if (strcmp(v, "class") && strcmp(v, "probs") && strcmp(v, "logits"))
		usage_error("%s: '%s' is not one of class, probs, logits", name, v);
	return v;
}

static const char *base_arg(const char *name, const char *v)
{
	if (strcmp(v, "data") && strcmp(v, "uniform"))
		usage_error("%s: '%s' is not one of data, uniform", name, v);
	return v;
}

static void parse_option(RtOptions *o, int argc, char **argv, int *i)
{
	char name[64];
	const char *a = argv[*i], *eq = strchr(a, '=');
	snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - a) : 63, a);
	if (!strcmp(name, "--epochs"))
		o->epochs = int_arg(name, value(argc, argv, i, eq), 0, 1000000000), o->has_epochs = 1;
	else if (!strcmp(name, "--batch")) o->batch = int_arg(name, value(argc, argv, i, eq), 1, 1 << 24), o->has_batch = 1;
	else if (!strcmp(name, "--stage")) o->stage = value(argc, argv, i, eq);
	else if (!strcmp(name, "--lr")) o->lr = num_arg(name, value(argc, argv, i, eq), 1), o->has_lr = 1;
	else if (!strcmp(name, "--seed")) o->seed = int_arg(name, value(argc, argv, i, eq), 0, INT64_MAX), o->has_seed = 1;
	else if (!strcmp(name, "--threads")) o->threads = int_arg(name, value(argc, argv, i, eq), 1, 1024);
	else if (!strcmp(name, "--shards")) o->shards = int_arg(name, value(argc, argv, i, eq), 1, 1 << 20);
	else if (!strcmp(name, "--save-every")) o->save_every = int_arg(name, value(argc, argv, i, eq), 1, 1000000000);
	else if (!strcmp(name, "--tol")) o->tol = num_arg(name, value(argc, argv, i, eq), 1), o->has_tol = 1;
	else if (!strcmp(name, "--save")) o->save = save_arg(name, value(argc, argv, i, eq));
	else if (!strcmp(name, "--max-memory"))
		o->max_memory_arg = value(argc, argv, i, eq), o->max_memory = size_arg(name, o->max_memory_arg);
	else if (!eq && !strcmp(a, "--check-numerics")) o->check_numerics = 1;
	else if (!eq && !strcmp(a, "--no-check-numerics")) o->check_numerics = 0;
	else if (!strcmp(name, "--load")) o->load = value(argc, argv, i, eq);
	else if (!strcmp(name, "--init")) o->init = value(argc, argv, i, eq);
	else if (!strcmp(name, "--data-dir")) o->data_dir = dir_arg(name, value(argc, argv, i, eq));
	else if (!strcmp(name, "--log")) o->log = value(argc, argv, i, eq);
	else if (!strcmp(name, "--log-grad-norms")) o->grad_norms = value(argc, argv, i, eq);
	else if (!strcmp(name, "--input")) o->input = value(argc, argv, i, eq);
	else if (!strcmp(name, "--output")) o->output = output_arg(name, value(argc, argv, i, eq));
	else if (!strcmp(name, "--prompt")) o->prompt = value(argc, argv, i, eq);
	else if (!strcmp(name, "--length")) o->sample_length = int_arg(name, value(argc, argv, i, eq), 0, 1000000000);
	else if (!strcmp(name, "--temperature")) o->temperature = num_arg(name, value(argc, argv, i, eq), 1);
	else if (!strcmp(name, "--top-k")) o->top_k = int_arg(name, value(argc, argv, i, eq), 0, INT32_MAX);
	else if (!strcmp(name, "--probe")) o->probe = value(argc, argv, i, eq);
	else if (!strcmp(name, "--at")) o->at = value(argc, argv, i, eq);
	else if (!strcmp(name, "--png")) o->png = value(argc, argv, i, eq);
	else if (!strcmp(name, "--index")) o->index = int_arg(name, value(argc, argv, i, eq), 0, INT64_MAX);
	else if (!strcmp(name, "--count")) o->count = int_arg(name, value(argc, argv, i, eq), 1, 100000000);
	else if (!strcmp(name, "--chains")) o->chains = int_arg(name, value(argc, argv, i, eq), 1, 1000000);
	else if (!strcmp(name, "--base")) o->ais_base = base_arg(name, value(argc, argv, i, eq));
	else if (!strcmp(name, "--betas")) o->betas = int_arg(name, value(argc, argv, i, eq), 3, 100000000);
	else if (!strcmp(name, "--step")) o->trace_step = int_arg(name, value(argc, argv, i, eq), 1, INT64_MAX / 2);
	else if (!strcmp(name, "--batch-index")) o->trace_batch = int_arg(name, value(argc, argv, i, eq), 0, INT64_MAX / 2);
	else if (!strcmp(name, "--values")) o->trace_values = int_arg(name, value(argc, argv, i, eq), 0, INT64_MAX);
	else if (!strcmp(name, "--digits")) o->trace_digits = (int)int_arg(name, value(argc, argv, i, eq), 1, 17);
	else if (!eq && !strcmp(a, "--all")) o->all = 1;
	else if (!eq && !strcmp(a, "--eval")) o->eval = 1;
	else if (!eq && (!strcmp(a, "--quiet") || !strcmp(a, "-q"))) o->quiet = 1;
	else usage_error("unknown option '%s'%s", a, "");
}

static int pictures(const char *command)
{
	return !strcmp(command, "filters") || !strcmp(command, "chain") || !strcmp(command, "reconstructions")
	       || !strcmp(command, "scatter");
}

static void parse_args(RtOptions *o, const RtDesc *d, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			print_help(d);
			exit(0);
		}
		if (!strcmp(argv[i], "--version")) {
			printf("%s (nnc runtime) %s\nmodel %s, signature %s\n", rt_progname, PACKAGE_VERSION,
			       d->model, d->signature);
			exit(0);
		}
	}
	for (int i = 1; i < argc; i++) {
		if (argv[i][0] == '-') {
			parse_option(o, argc, argv, &i);
			continue;
		}
		if (o->command && pictures(o->command) && !o->picture) {
			o->picture = argv[i];
			continue;
		}
		if (o->command)
			usage_error("unexpected argument '%s' (the command is '%s')", argv[i], o->command);
		for (size_t k = 0; k < sizeof commands / sizeof *commands; k++)
			if (!strcmp(argv[i], commands[k]))
				o->command = commands[k];
		if (!o->command)
			usage_error("unknown command '%s'; commands: " COMMAND_LIST "%s", argv[i], "");
	}
	if (!o->command)
		usage_error("no command given; commands: " COMMAND_LIST "%s%s", "", "");
	if (pictures(o->command) && !o->picture)
		usage_error("%s needs the PNG file to write: %s FILE.png", o->command, o->command);
	if (o->picture)
		o->picture = save_arg(o->command, o->picture);
	if (!strcmp(o->command, "sample") && !o->load)
		usage_error("sample needs --load FILE: the checkpoint holds the parameters and the vocabulary%s%s", "", "");
	if (!strcmp(o->command, "decode") && !o->load)
		usage_error("decode needs --load FILE: the checkpoint holds the parameters and the vocabulary%s%s", "", "");
	if (o->eval && (strcmp(o->command, "decode") || o->input))
		usage_error("--eval is decode's, without --input: it decodes the held-out source%s%s", "", "");
	if (o->init && (o->load || strcmp(o->command, "train")))
		usage_error("--init FILE starts a fresh training run from another model's parameters: it goes with "
		            "'train' and without --load%s%s", "", "");
	if (o->trace_step && o->trace_batch >= 0)
		usage_error("--step and --batch-index each choose the step to trace; give one%s%s", "", "");
	if (o->save_every && !o->save)
		usage_error("--save-every needs --save FILE%s%s", "", "");
	/* Cosine decays from --lr to min_lr: below it, the rate would rise. */
	if (d->schedule == NNRT_SCHED_COSINE && o->lr < d->min_lr) {
		fprintf(stderr, "%s: --lr %g is below the cosine schedule's min_lr %g, towards which it decays: the rate "
		        "would rise over training; give --lr %g or more (try '%s --help')\n", rt_progname, o->lr,
		        d->min_lr, d->min_lr, rt_progname);
		exit(RT_EXIT_USAGE);
	}
}

/* A FLOP count with a decimal unit, 4 significant digits: 256, 401.7k, 65.53M. */
static const char *flops_str(double n, char *buf, size_t len)
{
	static const char units[] = " kMGTPE";
	int u = 0;
	while (u < 6 && n >= (u ? 999.95 : 1000)) {
		n /= 1000;
		u++;
	}
	snprintf(buf, len, u ? "%.4g%c" : "%.0f", n, units[u]);
	return buf;
}

static double at_batch(int64_t fixed, int64_t per_sample, int64_t batch)
{
	return (double)fixed + (double)per_sample * (double)batch;
}

/* The layer table (compiler/summary.c says what a layer is and how FLOPs
 * are counted), then the forward and training-step FLOPs at `batch`. */
static void print_layers(const RtDesc *d, int64_t batch)
{
	char shape[128], name[48], f1[32], f2[32], f3[32];
	int w = 30;                /* as wide as the parameter table's names, up to 40 */
	for (int i = 0; i < d->nlayer; i++)
		if ((int)strlen(d->layer[i].name) > w)
			w = (int)strlen(d->layer[i].name) > 40 ? 40 : (int)strlen(d->layer[i].name);
	int64_t params = 0, per_sample = 0, fixed = 0;
	printf("\n%-*s %-16s %12s %14s\n", w, "layer", "output", "params", "FLOPs/sample");
	for (int i = 0; i < d->nlayer; i++) {
		const RtLayer *l = &d->layer[i];
		rt_shape_str(&l->shape, shape, sizeof shape);
		if ((int)strlen(l->name) > w)
			snprintf(name, sizeof name, "%.*s...", w - 3, l->name);
		else
			snprintf(name, sizeof name, "%s", l->name);
		printf("%-*s %-16s %12lld %14s\n", w, name, shape, (long long)l->params,
		       flops_str((double)l->flops_per_sample, f1, sizeof f1));
		params += l->params;
		per_sample += l->flops_per_sample;
		fixed += l->flops_fixed;
	}
	printf("%-*s %-16s %12lld %14s\n", w, "total", "", (long long)params,
	       flops_str((double)per_sample, f1, sizeof f1));
	printf("forward: %lld FLOPs per sample", (long long)per_sample);
	if (fixed)
		printf(" + %lld per batch", (long long)fixed);
	double fwd = at_batch(fixed, per_sample, batch);
	printf(", %s at batch %lld\n", flops_str(fwd, f1, sizeof f1), (long long)batch);
	if (!d->has_flops)
		return;
	double g = at_batch(d->flops_fixed[RT_SCRATCH_GRAD], d->flops_per_sample[RT_SCRATCH_GRAD], batch);
	double u = at_batch(d->flops_fixed[RT_SCRATCH_UPDATE], d->flops_per_sample[RT_SCRATCH_UPDATE], batch);
	printf("training step at batch %lld: %s FLOPs (forward, loss and backward %s, update %s)", (long long)batch,
	       flops_str(g + u, f1, sizeof f1), flops_str(g, f2, sizeof f2), flops_str(u, f3, sizeof f3));
	if (fwd > 0)
		printf(", %.2fx the forward", (g + u) / fwd);
	printf("\n");
}

static void print_info(const RtDesc *d, int64_t batch)
{
	char shape[128];
	int64_t total = 0;
	printf("model %s  precision %s  signature %s\n", d->model, rt_dtype_name(d->precision), d->signature);
	for (int i = 0; i < d->nio; i++) {
		rt_shape_str(&d->io[i].shape, shape, sizeof shape);
		printf("io     %-22s %-6s %s %s\n", d->io[i].name,
		       d->io[i].role == RT_INPUT ? "input" : d->io[i].role == RT_TARGET ? "target" : "output",
		       rt_dtype_name(d->io[i].dt), shape);
	}
	printf("%-30s %-16s %12s\n", "parameter", "shape", "count");
	for (int i = 0; i < d->ntensor; i++) {
		const RtTensor *t = &d->tensor[i];
		if (t->role != RT_PARAM)
			continue;
		rt_shape_str(&t->shape, shape, sizeof shape);
		printf("%-30s %-16s %12lld\n", t->name, shape, (long long)t->count);
		total += t->count;
	}
	printf("%-30s %-16s %12lld\n", "total", "", (long long)total);
	printf("state %lld bytes (parameters, gradients, optimizer state)\n", (long long)d->state_bytes);
	printf("blas  %s\n", rt_blas_note());
	printf("mpi   %s\n", rt_mpi_note());
	if (d->nlayer)
		print_layers(d, batch);
}

/* Under mpirun: every rank trains its shard, rank 0 alone speaks and
 * writes (checkpoints: rt_save_checkpoint). */
static void mpi_options(RtOptions *o)
{
	if (strcmp(o->command, "train"))
		rt_fatal(RT_EXIT_USAGE, "'%s' runs in one process: under mpirun only 'train' runs", o->command);
	if (rt_rank() != 0)
		o->quiet = 1, o->log = NULL, o->grad_norms = NULL;
}

static const char *basename_of(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* Exported by a program with training stages (nnrt.h), absent otherwise. */
extern const nnrt_stage nnm_stages[] __attribute__((weak));
extern const int32_t nnm_nstages __attribute__((weak));

static RtStages *staged(const RtOptions *o)
{
	if (!nnm_stages || &nnm_nstages == NULL) {
		if (o->stage)
			usage_error("--stage %s: this model has no training stages%s", o->stage, "");
		return NULL;
	}
	if (o->stage && strcmp(o->command, "train"))
		usage_error("--stage %s: only 'train' runs a stage (the others use the whole model)%s", o->stage, "");
	if (o->init)
		usage_error("--init: a model with training stages starts from one of its own checkpoints: --load "
		            "FILE --stage NAME runs a stage from it%s%s", "", "");
	return rt_stages_new(nnm_stages, nnm_nstages, o);
}

int rt_main(int argc, char **argv, const RtModel *model)
{
	if (argc > 0 && argv[0] && argv[0][0])
		rt_progname = basename_of(argv[0]);
	char err[256];
	RtDesc *d = rt_desc_parse(model->descriptor, err, sizeof err);
	if (!d)
		rt_fatal(RT_EXIT_INTERNAL, "the model descriptor is malformed: %s (nnc and libnnrt disagree)", err);
	RtOptions o;
	defaults(&o, d);
	parse_args(&o, d, argc, argv);
	rt_blas_setup();
	rt_mpi_start(&argc, &argv);
	if (rt_ranks() > 1)
		mpi_options(&o);
	if (o.shards == 0)   /* not given: one, or one per rank */
		o.shards = rt_ranks();
	if (!strcmp(o.command, "info")) {
		print_info(d, o.batch);
		for (int k = 0; nnm_stages && &nnm_nstages != NULL && k < nnm_nstages; k++)
			printf("%s%s%s", k ? " " : "stages ", nnm_stages[k].name, k + 1 < nnm_nstages ? "" :
			       "  (trained in this order; the tables above are the last one's)\n");
		return 0;
	}
	openblas_set_num_threads(1);   /* the threads are the pool's: gemm.c says why */
	rt_pool_start((int)o.threads);
	rt_set_random_seed((uint64_t)o.seed);
	RtStages *stages = staged(&o);
	if (stages && !strcmp(o.command, "train"))
		return rt_train_stages(stages, &o);
	RtTrainer t;
	rt_trainer_init(&t, model, d, &o);
	t.stages = stages;
	if (o.load)
		rt_load_checkpoint(&t, o.load);
	else
		rt_init_params(&t);
	if (o.init)
		rt_warm_start(&t, o.init);
	if (!strcmp(o.command, "train"))
		return rt_train(&t);
	if (!o.load && strcmp(o.command, "gradcheck") && strcmp(o.command, "trace"))
		rt_warn("no --load FILE: using freshly initialized parameters");
	static const struct { const char *name; int (*run)(RtTrainer *); } runs[] = {
		{"eval", rt_eval}, {"predict", rt_predict}, {"sample", rt_sample}, {"show", rt_show},
		{"decode", rt_decode},
		{"ais", rt_ais}, {"partition", rt_partition}, {"filters", rt_filters}, {"chain", rt_chain},
		{"reconstructions", rt_reconstructions}, {"scatter", rt_scatter},
		{"trace", rt_trace},
	};
	for (size_t k = 0; k < sizeof runs / sizeof *runs; k++)
		if (!strcmp(o.command, runs[k].name))
			return runs[k].run(&t);
	return rt_gradcheck(&t);
}

int main(int argc, char **argv)
{
	RtModel m = {nnm_eval, nnm_grad, nnm_update, nnm_descriptor, nnm_listing};
	int status = rt_main(argc, argv, &m);
	if (status == 0)
		rt_mpi_end();
	return status;
}
