/* test_desc.c — the descriptor parser: the fixture's descriptor parses
 * into the expected tables, and each malformed variant is refused with
 * an error naming the line. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "nnrt_internal.h"
#include "check.h"

static const char *base =
	"nnc-model 1\n"
	"model m\n"
	"source \"dir/a \\\"b\\\".nn\"\n"
	"precision f32\n"
	"signature 00000000deadbeef\n"
	"io x input f32 [B,2,3] io=0\n"
	"io y target i32 [B] io=1\n"
	"io out output f32 [B,5] io=2\n"
	"hyper lr io=0\n"
	"hyper step io=1\n"
	"tensor m.W param f32 [6,5] offset=0 init=he_normal a=0 b=0 gain=2 fan_in=6 fan_out=5\n"
	"tensor m.W.grad grad f32 [6,5] offset=128 of=m.W\n"
	"state_bytes 256\n"
	"scratch eval fixed=64 per_sample=20\n"
	"scratch grad fixed=0 per_sample=100\n"
	"data train idx 0=\"train-images-idx3-ubyte.gz\" 1=\"train-labels-idx1-ubyte.gz\" scale=0.00392156862745098\n"
	"data test csv 0=\"t.csv\" label=-1 header=1\n"
	"train_source train\n"
	"optimizer adam lr=0.001 beta1=0.8\n"
	"schedule cosine warmup=0.5 min_lr=1e-05\n"
	"batch 64\n"
	"epochs 10\n"
	"seed 3\n"
	"report accuracy test\n"
	"flops eval fixed=1 per_sample=70\n"
	"flops grad fixed=60 per_sample=190\n"
	"layer \"dense(x, \\\"a\\\")\" [B,5] params=30 flops_fixed=0 flops_per_sample=65\n"
	"end\n";

static void test_good(void)
{
	char err[256] = "";
	RtDesc *d = rt_desc_parse(base, err, sizeof err);
	CHECK(d != NULL);
	if (!d) {
		fprintf(stderr, "  %s\n", err);
		return;
	}
	CHECK(!strcmp(d->model, "m"));
	CHECK(!strcmp(d->source, "dir/a \"b\".nn"));
	CHECK(d->precision == RT_F32);
	CHECK(!strcmp(d->signature, "00000000deadbeef"));
	CHECK(d->nio == 3 && d->io[0].per_sample == 6 && d->io[0].shape.dim[0] == -1);
	CHECK(d->io[1].role == RT_TARGET && d->io[1].dt == RT_I32 && d->io[1].per_sample == 1);
	CHECK(d->hyper_lr == 0 && d->hyper_step == 1);
	CHECK(d->ntensor == 2 && d->tensor[0].count == 30 && d->tensor[0].init.gain == 2);
	CHECK(d->tensor[0].init.kind == NNRT_INIT_HE_NORMAL && d->tensor[0].init.fan_in == 6);
	CHECK(d->tensor[1].role == RT_GRAD && d->tensor[1].of_index == 0);
	CHECK(d->state_bytes == 256 && d->scratch_fixed[0] == 64 && d->scratch_per_sample[1] == 100);
	CHECK(d->nsrc == 2 && d->src[0].kind == NNRT_SOURCE_IDX);
	const RtKeyVal *kv = rt_source_arg(&d->src[0], "0");
	CHECK(kv && kv->is_str && !strcmp(kv->str, "train-images-idx3-ubyte.gz"));
	kv = rt_source_arg(&d->src[0], "scale");
	CHECK(kv && !kv->is_str && kv->num > 0.0039 && kv->num < 0.004);
	CHECK(d->optimizer == NNRT_OPT_ADAM && d->lr == 0.001 && d->beta1 == 0.8 && d->beta2 == 0.999);
	CHECK(d->schedule == NNRT_SCHED_COSINE && d->warmup == 0.5 && d->min_lr == 1e-5);
	CHECK(d->batch == 64 && d->epochs == 10 && d->seed == 3);
	CHECK(d->nreport == 1 && d->report_metric[0] == NNRT_METRIC_ACCURACY);
	CHECK(d->has_flops && d->flops_fixed[RT_SCRATCH_EVAL] == 1 && d->flops_per_sample[RT_SCRATCH_GRAD] == 190);
	CHECK(d->flops_fixed[RT_SCRATCH_UPDATE] == 0 && d->flops_per_sample[RT_SCRATCH_UPDATE] == 0);
	CHECK(d->nlayer == 1 && !strcmp(d->layer[0].name, "dense(x, \"a\")") && d->layer[0].params == 30);
	CHECK(d->layer[0].shape.ndim == 2 && d->layer[0].shape.dim[0] == -1 && d->layer[0].flops_per_sample == 65);
}

/* Replaces the first occurrence of `from` in base by `to`. */
static char *mutate(const char *from, const char *to)
{
	const char *p = strstr(base, from);
	if (!p)
		return NULL;
	return rt_printf("%.*s%s%s", (int)(p - base), base, to, p + strlen(from));
}

static void expect_error(const char *from, const char *to, const char *want)
{
	char err[256] = "";
	char *text = mutate(from, to);
	CHECK(text != NULL);
	if (!text)
		return;
	RtDesc *d = rt_desc_parse(text, err, sizeof err);
	CHECK(d == NULL);
	if (!d && !strstr(err, want)) {
		fprintf(stderr, "  for '%s' -> '%s': got '%s', want '%s'\n", from, to, err, want);
		check_failures++;
	}
}

/* The augmentation and geometry keys of the training source parse. */
static void test_augment_keys(void)
{
	char err[256] = "";
	char *text = mutate("scale=0.00392156862745098",
	                    "scale=0.00392156862745098 height=28 width=28 channels=1 crop=2 flip=0.5 noise=0.050000000000000003");
	RtDesc *d = text ? rt_desc_parse(text, err, sizeof err) : NULL;
	CHECK(d != NULL);
	if (!d) {
		fprintf(stderr, "  %s\n", err);
		return;
	}
	const RtSource *s = rt_desc_source(d, "train");
	CHECK(s && s->narg == 9 && rt_source_arg(s, "crop")->num == 2 && rt_source_arg(s, "flip")->num == 0.5);
	CHECK(rt_source_arg(s, "noise")->num == 0.05 && rt_source_arg(s, "channels")->num == 1);
}

/* ---- every number of nnrt_vocab.h at its limits -------------------------- */

/* base with from replaced by "LEAD WORD=V EXTRA" (V as nnc writes it, %.17g): parses
 * exactly when V is inside the range; *d is the result. */
static void limit_case(const char *from, const char *lead, const char *word, double v, const char *extra,
                       int inside, RtDesc **d)
{
	char err[256] = "";
	char *text = mutate(from, rt_printf("%s%s=%.17g%s", lead, word, v, extra));
	*d = text ? rt_desc_parse(text, err, sizeof err) : NULL;
	CHECK(text != NULL);
	if (text && (*d != NULL) != inside) {
		fprintf(stderr, "  %s=%.17g: %s\n", word, v, inside ? err : "accepted, but outside its range");
		check_failures++;
	}
}

/* Inside: each end, and the next number in from the low end (the least
 * subnormal number when that end is 0); outside: past each end, and for
 * integers a fraction. */
static int limit_values(const nnrt_range *r, double *in, double *out, int *nout)
{
	double lo = !r->lo_open ? r->lo : r->integer ? r->lo + 1 : nextafter(r->lo, INFINITY);
	int nin = 0;
	in[nin++] = lo;
	if (!r->integer)
		in[nin++] = nextafter(lo, INFINITY);
	in[nin++] = r->hi;
	*nout = 0;
	out[(*nout)++] = r->lo_open ? r->lo : r->integer ? r->lo - 1 : nextafter(r->lo, -INFINITY);
	out[(*nout)++] = r->integer && r->hi + 1 > r->hi ? r->hi + 1 : nextafter(r->hi, INFINITY);
	if (r->integer)
		out[(*nout)++] = lo + 0.5;
	return nin;
}

static void limits_of(const char *from, const char *lead, const char *word, const nnrt_range *r,
                      const char *extra, const char *source)
{
	double in[3], out[3];
	int nout, nin = limit_values(r, in, out, &nout);
	RtDesc *d;
	for (int i = 0; i < nin; i++) {
		limit_case(from, lead, word, in[i], extra, 1, &d);
		const RtKeyVal *kv = d && source ? rt_source_arg(rt_desc_source(d, source), word) : NULL;
		if (source && (!kv || kv->num != in[i])) {
			fprintf(stderr, "  %s=%.17g did not read back exactly\n", word, in[i]);
			check_failures++;
		}
	}
	for (int i = 0; i < nout; i++)
		limit_case(from, lead, word, out[i], extra, 0, &d);
}

static void test_limits(void)
{
	for (int k = 0; k < NNRT_NDATA_KEYS; k++) {
		const nnrt_data_key *key = &nnrt_data_keys[k];
		int geometry = !strcmp(key->name, "shape");
		const char *extra = !geometry ? "" : !strcmp(key->word, "height") ? " width=1 channels=1"
		                  : !strcmp(key->word, "width") ? " height=1 channels=1" : " height=1 width=1";
		if (key->path)
			continue;
		if (key->kinds >> NNRT_SOURCE_IDX & 1)
			limits_of("scale=0.00392156862745098", "", key->word, &key->range, extra, "train");
		if (key->kinds >> NNRT_SOURCE_CSV & 1)
			limits_of("label=-1 header=1", "", key->word, &key->range, extra, "test");
		if (key->kinds >> NNRT_SOURCE_RANDOM & 1)
			limits_of("csv 0=\"t.csv\" label=-1 header=1", "random ", key->word, &key->range, "", "test");
		if (key->kinds >> NNRT_SOURCE_ADDING & 1)
			limits_of("csv 0=\"t.csv\" label=-1 header=1", "adding ", key->word, &key->range, "", "test");
		if (key->kinds >> NNRT_SOURCE_TEXT & 1)
			limits_of("csv 0=\"t.csv\" label=-1 header=1", "text 0=\"c.txt\" ", key->word, &key->range, "", "test");
		if (key->kinds >> NNRT_SOURCE_SEQUENCES & 1)
			limits_of("csv 0=\"t.csv\" label=-1 header=1", "sequences task=\"sort\" ", key->word, &key->range, "",
			          "test");
	}
	for (int k = 0; k < NNRT_OPTK__COUNT; k++)
		limits_of("lr=0.001 beta1=0.8", "", nnrt_opt_key_word[k], &nnrt_opt_key_range[k], "", NULL);
	for (int k = 0; k < NNRT_SCHEDK__COUNT; k++)
		limits_of("warmup=0.5 min_lr=1e-05", "", nnrt_sched_key_word[k], &nnrt_sched_key_range[k], "", NULL);
	for (int k = 0; k < NNRT_INITK__COUNT; k++)
		limits_of("a=0 b=0 gain=2 fan_in=6 fan_out=5", "", nnrt_init_key_word[k], &nnrt_init_key_range[k], "", NULL);
	static const char *const setting_line[] = { "batch 64", "epochs 10", "seed 3" };
	for (int k = 0; k < NNRT_SET__COUNT; k++) {
		const char *w = nnrt_setting_word[k];
		char err[256];
		long long lo = nnrt_setting_lo[k], hi = nnrt_setting_hi[k];
		const char *ok[] = { rt_printf("%s %lld", w, lo), rt_printf("%s %lld", w, hi) };
		const char *bad[] = { rt_printf("%s %lld", w, lo - 1), rt_printf("%s %llu", w, (unsigned long long)hi + 1) };
		for (int i = 0; i < 2; i++) {
			CHECK(rt_desc_parse(mutate(setting_line[k], ok[i]), err, sizeof err) != NULL);
			CHECK(rt_desc_parse(mutate(setting_line[k], bad[i]), err, sizeof err) == NULL);
		}
	}
}

static void test_bad(void)
{
	expect_error("nnc-model 1", "nnc-model 2", "line 1: expected 'nnc-model 1'");
	expect_error("precision f32", "precision f16", "line 4: precision wants");
	expect_error("signature 00000000deadbeef", "signature xyz", "line 5: signature wants 16 hex");
	expect_error("[B,2,3]", "[B,2,3", "line 6: bad shape");
	expect_error("[B,2,3]", "[B,x]", "line 6: bad dimension");
	expect_error("input f32", "inptu f32", "line 6: unknown io role");
	expect_error("f32 [B,5] io=2", "f32 [B,5] io=1", "line 8: io index 1 used twice");
	expect_error("io=2", "io=16", "line 8: io index 16 out of range");   /* NNRT_MAX_IO is 16 */
	expect_error("hyper lr io=0", "hyper momentum io=0", "line 9: unknown hyper");
	expect_error("init=he_normal", "init=fancy", "line 11: unknown init");
	expect_error("offset=128", "offset=130", "line 12: tensor 'm.W.grad' has a misaligned offset");
	expect_error("of=m.W", "of=m.V", "unknown parameter 'm.V'");
	expect_error("state_bytes 256", "state_bytes 200", "ends past state_bytes");
	expect_error("scratch eval", "scratch forward", "line 14: unknown scratch function");
	expect_error("csv 0=", "parquet 0=", "line 17: unknown data kind");
	expect_error("\"t.csv\"", "\"t.csv", "line 17: unterminated string");
	/* data keys: per kind, typed, once; augmentation and geometry in range */
	expect_error("header=1", "header=1 crop=2 flip=0.5 noise=0.1 rotate=3", "line 17: data source 'test': csv takes no argument 'rotate'");
	expect_error("header=1", "count=3", "line 17: data source 'test': csv takes no argument 'count'");
	expect_error("header=1", "header=\"1\"", "line 17: data source 'test': header must be a number");
	expect_error("header=1", "header=1 header=2", "header given twice");
	expect_error("header=1", "crop=-1", "line 17: data source 'test': crop=-1 is not an integer in [0, 1.04858e+06]");
	expect_error("header=1", "crop=1.5", "crop=1.5 is not an integer in [0, ");
	expect_error("header=1", "flip=1.5", "line 17: data source 'test': flip=1.5 is not in [0, 1]");
	expect_error("header=1", "noise=-0.1", "noise=-0.1 is not in [0, ");
	expect_error("header=1", "noise=inf", "noise=inf is not in [0, ");
	expect_error("header=1", "height=0 width=2 channels=3", "height=0 is not an integer in [1, ");
	expect_error("header=1", "height=2 width=3", "height, width and channels come together");
	expect_error("csv 0=\"t.csv\" label=-1 header=1", "text 0=\"c\" length=8 part=\"test\"",
	             "line 17: data source 'test': part=\"test\" is not one of train validation");
	expect_error("csv 0=\"t.csv\" label=-1 header=1", "text 0=\"c\" length=8 part=1",
	             "line 17: data source 'test': part must be a quoted string");
	expect_error("beta1=0.8", "beta1=abc", "line 19: 'abc' is not a number");
	expect_error("beta1=0.8", "rho=0.8", "line 19: unknown optimizer key 'rho'");
	expect_error("batch 64", "batch 0", "line 21: batch 0 is out of range");
	expect_error("epochs 10", "epochs ten", "line 22: 'ten' is not an integer");
	expect_error("report accuracy test", "report accuracy nowhere", "unknown data source 'nowhere'");
	expect_error("report accuracy", "report f1", "line 24: unknown report metric 'f1'");
	expect_error("report accuracy test", "report accuracy", "line 24: report wants METRIC SOURCE");
	expect_error("seed 3", "flavour 3", "line 23: unknown record 'flavour'");
	expect_error("flops eval", "flops forward", "line 25: unknown flops function 'forward'");
	expect_error("fixed=60", "fixed=-60", "line 26: negative FLOP count");
	expect_error("per_sample=190", "per_sample=x", "line 26: 'x' is not an integer");
	expect_error("[B,5] params=30", "[B,5 params=30", "line 27: bad shape");
	expect_error("params=30", "params=29", "the layers hold 29 parameters, the tensors 30");
	expect_error(" flops_per_sample=65", "", "line 27: layer wants NAME SHAPE");
	expect_error("flops_fixed=0", "flops_fixed=-1", "line 27: layer 'dense(x, \"a\")' has a negative count");
	expect_error("end\n", "\n", "no 'end' line");
	expect_error("io x input f32 [B,2,3] io=0\n", "", "no input io");
	expect_error("[6,5] offset=0", "[B,5] offset=0", "has a batch dimension");
	char err[256];
	CHECK(rt_desc_parse("", err, sizeof err) == NULL);
	CHECK(rt_desc_parse("nnc-model 1\n", err, sizeof err) == NULL);
}

int main(void)
{
	test_good();
	test_augment_keys();
	test_limits();
	test_bad();
	return CHECK_DONE();
}
