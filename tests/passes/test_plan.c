/* test_plan.c — the memory plan on generated MLP training steps (checked
 * against live ranges recomputed here), the state layout, and the model
 * descriptor text. */
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include "passes_test.h"
#include "interp.h"

#define EXPECTED_SIGNATURE "7fb7e475cc6a6b32"

/* Forward, mean squared error and backward of a ReLU MLP, written the way
 * grad.c writes it: the relu backward as g * step(a). */
static Fn *mlp_grad(TestModel *t)
{
	Fn *fn = ir_fn("grad");
	Module *m = t->m;
	Node *h[9], *a[9];
	h[0] = ir_input(fn, m, t->x, L);
	for (int l = 0; l < t->layers; l++) {
		Node *z = ir_matmul(fn, h[l], ir_param(fn, m, t->w[l], L), 0, 0, L);
		a[l] = ir_binary(fn, OP_add, z, ir_broadcast(fn, ir_param(fn, m, t->b[l], L), z->shape, L), L);
		h[l + 1] = l + 1 < t->layers ? ir_unary(fn, OP_relu, a[l], L) : a[l];
	}
	Node *d = ir_binary(fn, OP_sub, h[t->layers], ir_input(fn, m, t->y, L), L);
	Node *s = ir_reshape(fn, ir_reduce(fn, OP_sum, ir_binary(fn, OP_mul, d, d, L), 3, L), shape_of(0), L);
	ir_store(fn, t->loss, ir_binary(fn, OP_div, s, ir_batch(fn, DT_F32, L), L), L);
	fn->backward_from = fn->n;
	Node *two_over_b = ir_binary(fn, OP_div, ir_const(fn, DT_F32, 2, L), ir_batch(fn, DT_F32, L), L);
	Node *g = ir_binary(fn, OP_mul, d, ir_broadcast(fn, two_over_b, d->shape, L), L);
	for (int l = t->layers - 1; l >= 0; l--) {
		ir_store(fn, t->gw[l], ir_matmul(fn, h[l], g, 1, 0, L), L);
		Node *db = ir_reduce(fn, OP_sum, g, 1, L);
		ir_store(fn, t->gb[l], ir_reshape(fn, db, m->slot[t->gb[l]].shape, L), L);
		if (l == 0)
			break;
		Node *gh = ir_matmul(fn, g, ir_param(fn, m, t->w[l], L), 0, 1, L);
		g = ir_binary(fn, OP_mul, gh, ir_unary(fn, OP_step, a[l - 1], L), L);
	}
	return fn;
}

static int emitted_at(const Fn *fn, const Node *n, const int *pos)
{
	if (n->group < 0)
		return pos[n->id];
	const Group *g = &fn->group[n->group];
	return pos[g->member[g->n - 1]->id];
}

static const Node *root(const Node *n)
{
	while (n->op == OP_reshape)
		n = n->in[0];
	return n;
}

/* Every pair of buffers whose live ranges meet lies apart in memory;
 * returns the bytes per sample the plan saves over one buffer each. */
static int64_t check_no_overlap(const Fn *fn)
{
	int *pos = calloc((size_t)fn->next_id + 1, sizeof *pos);
	int *first = calloc((size_t)fn->nbuf + 1, sizeof *first), *last = calloc((size_t)fn->nbuf + 1, sizeof *last);
	for (int i = 0; i < fn->n; i++)
		pos[fn->node[i]->id] = i;
	for (int i = 0; i < fn->n; i++)
		if (fn->node[i]->buf >= 0)
			first[fn->node[i]->buf] = last[fn->node[i]->buf] = emitted_at(fn, fn->node[i], pos);
	for (int i = 0; i < fn->n; i++) {
		const Node *u = fn->node[i];
		for (int k = 0; k < u->nin; k++) {
			const Node *r = root(u->in[k]);
			int at = emitted_at(fn, u, pos);
			if (r->buf >= 0 && at > last[r->buf])
				last[r->buf] = at;
		}
	}
	int64_t sum = 0;
	for (int i = 0; i < fn->nbuf; i++) {
		const Buffer *a = &fn->buf[i];
		sum += a->batch ? (a->size + 63) / 64 * 64 : 0;
		EXPECT(a->offset % 64 == 0);
		for (int j = i + 1; j < fn->nbuf; j++) {
			const Buffer *b = &fn->buf[j];
			int live_overlap = first[i] <= last[j] && first[j] <= last[i];
			int mem_overlap = a->offset < b->offset + b->size && b->offset < a->offset + a->size;
			if (a->batch == b->batch && live_overlap && mem_overlap) {
				test_failures++;
				fprintf(stderr, "%s: buf%d and buf%d are live together and overlap\n", fn->name, i, j);
			}
		}
	}
	free(pos), free(first), free(last);
	return sum - fn->scratch_per_sample;
}

/* Which nodes own memory, what is homed, and how the MLP fuses. */
static void check_mlp_shape(const TestModel *t, const Fn *fn)
{
	int layers = t->layers;
	EXPECT(fn->ngroup == 2 * layers + 2);   /* + loss, + the scalar 2/B */
	if (fn->ngroup != 2 * layers + 2)
		dump(fn);
	for (int i = 0; i < fn->n; i++) {
		const Node *n = fn->node[i];
		if (n->op == OP_matmul && n->ta)
			EXPECT(n->home >= 0 && n->buf < 0);   /* dW straight into its grad slot */
		else if (n->op == OP_matmul || n->op == OP_sum)
			EXPECT(n->buf >= 0 && n->home < 0);
		if (n->op == OP_step)                      /* relu backward: step and mul */
			EXPECT(fn->group[n->group].n == 2);
		if (n->op == OP_relu)                      /* bias broadcast, add, relu */
			EXPECT(fn->group[n->group].n == 3 && n->buf >= 0);
		if (n->group < 0)
			EXPECT(op_info[n->op].kind != K_ELEM);
	}
}

/* The passes keep the meaning: the interpreter gives the same loss and
 * gradients before and after them (relu keeps inputs away from 0 by
 * drawing them at random, so step() is not on a tie). */
static void check_same_results(TestModel *t, const Fn *before, const Fn *after)
{
	int64_t batch = 3;
	double **s1 = interp_slots(t->m, batch), **s2 = interp_slots(t->m, batch);
	for (int i = 0; i < t->m->nslot; i++) {
		int64_t n = shape_numel(t->m->slot[i].shape, batch);
		for (int64_t k = 0; k < n; k++)
			s1[i][k] = s2[i][k] = (double)rand() / RAND_MAX - 0.5;
	}
	interp_run(t->m, before, s1, batch, 0);
	interp_run(t->m, after, s2, batch, 0);
	for (int i = 0; i < t->m->nslot; i++) {
		int64_t n = shape_numel(t->m->slot[i].shape, batch);
		for (int64_t k = 0; k < n; k++)
			if (fabs(s1[i][k] - s2[i][k]) > 1e-9 * (1 + fabs(s1[i][k]))) {
				test_failures++;
				fprintf(stderr, "%s: slot %s[%lld] is %g after the passes, %g before\n", after->name,
				        t->m->slot[i].name, (long long)k, s2[i][k], s1[i][k]);
				break;
			}
	}
	interp_free_slots(t->m, s1);
	interp_free_slots(t->m, s2);
}

void test_plan(void)
{
	srand(7);
	for (int trial = 0; trial < 40; trial++) {
		int layers = 1 + trial % 6;
		int64_t w[9];
		for (int l = 0; l <= layers; l++)
			w[l] = 1 + rand() % (trial < 12 ? 20 : 300);
		TestModel t = test_model(layers, w);
		Fn *fn = mlp_grad(&t);
		Fn *before = ir_clone(fn, "grad");
		run_passes(t.m, fn);
		check_same_results(&t, before, fn);
		check_mlp_shape(&t, fn);
		int64_t saved = check_no_overlap(fn);
		if (layers >= 3)
			EXPECT(saved > 0);                 /* memory is reused */
		if (layers >= 3 && saved <= 0)
			dump(fn);
	}
}

void test_plan_state(void)
{
	int64_t w[] = { 4, 8, 3 };
	TestModel t = test_model(2, w);
	Module *m = t.m;
	int mom = ir_slot(m, "t.dense_1.W.momentum", SLOT_OPTSTATE, DT_F32, shape_of(2, 4, 8), L);
	m->slot[mom].of = t.w[0];
	m->slot[t.out].io = 1;
	plan_state(m);
	EXPECT(m->slot[t.w[0]].offset == 0);        /* 128 bytes */
	EXPECT(m->slot[t.b[0]].offset == 128);      /* 32 bytes, padded to 64 */
	EXPECT(m->slot[t.w[1]].offset == 192);      /* 96 bytes, padded to 128 */
	EXPECT(m->slot[t.b[1]].offset == 320);
	EXPECT(m->slot[t.gw[0]].offset == 384);
	EXPECT(m->slot[t.gb[1]].offset == 704);
	EXPECT(m->slot[mom].offset == 768);          /* optimizer state after every grad */
	EXPECT(m->state_bytes == 896);
	EXPECT(m->slot[t.x].io == 0 && m->slot[t.out].io == 1 && m->slot[t.y].io == 2);
	EXPECT(m->slot[t.lr].io == -1);
}

static const char expected_descriptor[] =
	"nnc-model 1\n"
	"model t\n"
	"source \"dir/t \\\"1\\\".nn\"\n"
	"precision f32\n"
	"signature 0123456789abcdef\n"
	"io x input f32 [B,2] io=0\n"
	"io y target i32 [B] io=1\n"
	"io out output f32 [B,3] io=2\n"
	"loss at=\"t.nn:1\"\n"
	"hyper lr io=0\n"
	"tensor t.W param f32 [2,3] offset=0 init=he_normal a=0 b=0 gain=1.5 fan_in=2 fan_out=3 at=\"t.nn:1\"\n"
	"tensor t.W.grad grad f32 [2,3] offset=64 of=t.W\n"
	"state_bytes 128\n"
	"scratch eval fixed=0 per_sample=64\n"
	"flops eval fixed=0 per_sample=0\n"
	"data train idx 0=\"a.gz\" scale=0.0039215686274509803\n"
	"train_source train\n"
	"optimizer sgd lr=0.050000000000000003 momentum=0.90000000000000002 nesterov=1 weight_decay=0 beta1=0 beta2=0 eps=0\n"
	"schedule constant warmup=0 step_size=0 gamma=0 min_lr=0\n"
	"batch 64\n"
	"epochs 2\n"
	"seed 1\n"
	"report accuracy train\n"
	"end\n";

void test_describe(void)
{
	Module *m = ir_module();
	m->model = "t";
	m->source = "dir/t \"1\".nn";
	ir_slot(m, "x", SLOT_INPUT, DT_F32, shape_of(2, DIM_BATCH, 2), L);
	ir_slot(m, "y", SLOT_TARGET, DT_I32, shape_of(1, DIM_BATCH), L);
	ir_slot(m, "out", SLOT_OUTPUT, DT_F32, shape_of(2, DIM_BATCH, 3), L);
	ir_slot(m, "loss", SLOT_LOSS, DT_F32, shape_of(0), L);
	int lr = ir_slot(m, "lr", SLOT_HYPER, DT_F32, shape_of(0), L);
	int w = ir_slot(m, "t.W", SLOT_PARAM, DT_F32, shape_of(2, 2, 3), L);
	int gw = ir_slot(m, "t.W.grad", SLOT_GRAD, DT_F32, shape_of(2, 2, 3), L);
	m->slot[lr].io = 0;
	m->slot[gw].of = w;
	m->slot[w].init = (Init){ .kind = INIT_HE_NORMAL, .gain = 1.5, .fan_in = 2, .fan_out = 3 };
	m->eval = ir_fn("eval");
	m->eval->scratch_per_sample = 64;
	plan_state(m);
	static KeyVal args[] = { { .key = "0", .str = "a.gz", .num = 0, .is_str = 1 }, { .key = "scale", .str = NULL, .num = 1.0 / 255, .is_str = 0 } };
	static DataSource data = { "train", NNRT_SOURCE_IDX, args, 2, { 0 } };
	static nnrt_metric metric[] = { NNRT_METRIC_ACCURACY };
	static const char *source[] = { "train" };
	m->cfg = (Config){ .data = &data, .ndata = 1, .train_source = "train", .optimizer = NNRT_OPT_SGD,
		.lr = 0.05, .momentum = 0.9, .nesterov = 1, .batch = 64, .epochs = 2, .seed = 1,
		.report_metric = metric, .report_source = source, .nreport = 1 };
	char *text = xstrdup(describe(m));
	/* the signature line is checked against a second computation below */
	char *sig = strstr(text, "signature ") + 10;
	char got_sig[17];
	memcpy(got_sig, sig, 16);
	got_sig[16] = 0;
	memcpy(sig, "0123456789abcdef", 16);
	EXPECT(strcmp(text, expected_descriptor) == 0);
	if (strcmp(text, expected_descriptor) != 0)
		fprintf(stderr, "describe() gave:\n%s", text);
	/* FNV-1a 64 of "x\ninput\nf32\n[B,2]\ny\ntarget\n...", from Python */
	EXPECT(strcmp(got_sig, EXPECTED_SIGNATURE) == 0);
	if (strcmp(got_sig, EXPECTED_SIGNATURE) != 0)
		fprintf(stderr, "signature %s\n", got_sig);
}
