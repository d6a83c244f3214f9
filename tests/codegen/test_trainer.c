/* test_trainer.c — end to end through the back end: a softmax regression
 * written in IR (forward, hand-derived backward, SGD update), run through
 * pipeline.c from fuse to emit, linked by link_trainer against
 * libnnrt, then trained and gradient-checked by the trainer itself.
 * The trainer's gradcheck compares nnm_grad with finite differences of
 * nnm_eval, so it checks the generated code against itself.
 * Needs NNC_RUNTIME_DIR (the directory holding libnnrt.a); exits 77
 * (skipped) without it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "harness.h"

static int sw, sb;

/* logits = x W + b; loss = mean cross entropy. Returns logits; fills
 * the softmax pieces the backward pass reuses. */
static Node *forward(Module *m, Fn *f, Node **p_out, Node **oh_out)
{
	DType dt = DT_F64;
	Shape s = shape_of(2, DIM_BATCH, 3);
	Node *x = ir_input(f, m, 0, L), *y = ir_input(f, m, 1, L);
	Node *w = ir_param(f, m, sw, L), *b = ir_param(f, m, sb, L);
	Node *z = ir_binary(f, OP_add, ir_matmul(f, x, w, 0, 0, L), ir_broadcast(f, b, s, L), L);
	ir_store(f, 2, z, L);
	Node *zs = ir_binary(f, OP_sub, z, ir_broadcast(f, ir_reduce(f, OP_amax, z, 2, L), s, L), L);
	Node *e = ir_unary(f, OP_exp, zs, L);
	Node *se = ir_broadcast(f, ir_reduce(f, OP_sum, e, 2, L), s, L);
	Node *logp = ir_binary(f, OP_sub, zs, ir_unary(f, OP_log, se, L), L);
	Node *oh = ir_onehot(f, y, 3, dt, L);
	Node *nll = ir_unary(f, OP_neg, ir_reshape(f, ir_reduce(f, OP_sum, ir_binary(f, OP_mul, oh, logp, L), 3, L), (Shape){ 0 }, L), L);
	ir_store(f, 3, ir_binary(f, OP_div, nll, ir_batch(f, dt, L), L), L);
	*p_out = ir_binary(f, OP_div, e, se, L);
	*oh_out = oh;
	return x;
}

static void sgd(Module *m, Fn *f, int param, int grad, int mom)
{
	Shape s = m->slot[param].shape;
	Node *v = ir_binary(f, OP_add, ir_binary(f, OP_mul, ir_broadcast(f, ir_const(f, DT_F64, 0.9, L), s, L),
						ir_param(f, m, mom, L), L), ir_param(f, m, grad, L), L);
	ir_store(f, mom, v, L);
	Node *lr = ir_broadcast(f, ir_input(f, m, 4, L), s, L);
	ir_store(f, param, ir_binary(f, OP_sub, ir_param(f, m, param, L), ir_binary(f, OP_mul, lr, v, L), L), L);
}

static Module *build(void)
{
	Module *m = mod_new(DT_F64);
	m->model = "fixture";
	int k;
	k = ir_slot(m, "x", SLOT_INPUT, DT_F64, shape_of(2, DIM_BATCH, 4), L), m->slot[k].io = 0;
	k = ir_slot(m, "y", SLOT_TARGET, DT_I32, shape_of(1, DIM_BATCH), L), m->slot[k].io = 1;
	k = ir_slot(m, "out", SLOT_OUTPUT, DT_F64, shape_of(2, DIM_BATCH, 3), L), m->slot[k].io = 2;
	ir_slot(m, "loss", SLOT_LOSS, DT_F64, (Shape){ 0 }, L);
	k = ir_slot(m, "lr", SLOT_HYPER, DT_F64, (Shape){ 0 }, L), m->slot[k].io = NNRT_HYPER_LR;
	k = ir_slot(m, "step", SLOT_HYPER, DT_F64, (Shape){ 0 }, L), m->slot[k].io = NNRT_HYPER_STEP;
	sw = ir_slot(m, "fixture.dense_1.W", SLOT_PARAM, DT_F64, shape_of(2, 4, 3), L);
	m->slot[sw].init = (Init){ .kind = INIT_XAVIER_UNIFORM, .gain = 1, .fan_in = 4, .fan_out = 3 };
	sb = ir_slot(m, "fixture.dense_1.b", SLOT_PARAM, DT_F64, shape_of(1, 3), L);
	m->slot[sb].init = (Init){ .kind = INIT_ZEROS, .gain = 1, .fan_in = 3, .fan_out = 3 };
	int gw = ir_slot(m, "fixture.dense_1.W.grad", SLOT_GRAD, DT_F64, shape_of(2, 4, 3), L);
	int gb = ir_slot(m, "fixture.dense_1.b.grad", SLOT_GRAD, DT_F64, shape_of(1, 3), L);
	int vw = ir_slot(m, "fixture.dense_1.W.momentum", SLOT_OPTSTATE, DT_F64, shape_of(2, 4, 3), L);
	int vb = ir_slot(m, "fixture.dense_1.b.momentum", SLOT_OPTSTATE, DT_F64, shape_of(1, 3), L);
	m->slot[gw].of = m->slot[vw].of = sw;
	m->slot[gb].of = m->slot[vb].of = sb;

	Node *p, *oh;
	forward(m, m->eval, &p, &oh);
	m->grad = ir_fn("grad");
	Node *x = forward(m, m->grad, &p, &oh);
	Fn *f = m->grad;
	Shape s = shape_of(2, DIM_BATCH, 3);
	Node *d = ir_binary(f, OP_div, ir_binary(f, OP_sub, p, oh, L), ir_broadcast(f, ir_batch(f, DT_F64, L), s, L), L);
	ir_store(f, gw, ir_matmul(f, x, d, 1, 0, L), L);
	ir_store(f, gb, ir_reshape(f, ir_reduce(f, OP_sum, d, 1, L), shape_of(1, 3), L), L);
	m->update = ir_fn("update");
	sgd(m, m->update, sw, gw, vw);
	sgd(m, m->update, sb, gb, vb);

	static DataSource data[2];
	static KeyVal train_args[2] = { { .key = "count", .str = NULL, .num = 200, .is_str = 0 }, { .key = "classes", .str = NULL, .num = 3, .is_str = 0 } };
	static KeyVal test_args[2] = { { .key = "count", .str = NULL, .num = 50, .is_str = 0 }, { .key = "classes", .str = NULL, .num = 3, .is_str = 0 } };
	data[0] = (DataSource){ "train", NNRT_SOURCE_RANDOM, train_args, 2, L };
	data[1] = (DataSource){ "test", NNRT_SOURCE_RANDOM, test_args, 2, L };
	static nnrt_metric metric[2] = { NNRT_METRIC_ACCURACY, NNRT_METRIC_LOSS };
	static const char *source[2] = { "test", "test" };
	m->cfg = (Config){ .data = data, .ndata = 2, .train_source = "train", .optimizer = NNRT_OPT_SGD, .lr = 0.05,
			   .momentum = 0.9, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .schedule = NNRT_SCHED_CONSTANT,
			   .step_size = 1, .gamma = 0.1, .batch = 16, .epochs = 3, .seed = 7,
			   .report_metric = metric, .report_source = source, .nreport = 2 };
	return m;
}

static int sh(const char *cmd)
{
	int rc = system(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : 128;
}

int main(void)
{
	const char *rt = getenv("NNC_RUNTIME_DIR");
	if (!rt || !*rt) {
		fprintf(stderr, "SKIP: NNC_RUNTIME_DIR is not set\n");
		return 77;
	}
	char dir[] = "/tmp/nnc-trainer-XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	const char *obj = xprintf("%s/t.o", dir), *exe = xprintf("%s/trainer", dir);
	Pipeline p = { .from = "fuse", .to = "emit", .verify = 1, .object = obj, .opt_level = 2 };
	pipeline_run(&p, build());
	int fails = 0;
	if (link_trainer(obj, exe) != 0) {
		fprintf(stderr, "FAIL: link_trainer\n");
		return 1;
	}
	const char *log = xprintf("%s/m.csv", dir);
	if (sh(xprintf("%s train --epochs 10 --quiet --log %s", exe, log)) != 0)
		fprintf(stderr, "FAIL: the trainer did not train\n"), fails++;
	/* the loss falls: first epoch's train loss above the last one's */
	const char *cmp = xprintf("grep -v '^#' %s | sed -n '2p;$p' | cut -d, -f4 | "
				  "awk 'NR==1{a=$1} NR==2{exit !($1 < a)}'", log);
	if (sh(cmp) != 0)
		fprintf(stderr, "FAIL: the loss did not fall\n"), fails++;
	if (sh(xprintf("%s gradcheck > %s/gc.txt", exe, dir)) != 0)
		fprintf(stderr, "FAIL: gradcheck of the compiled gradients\n"), fails++;
	/* the link must fail cleanly without the runtime */
	setenv("NNC_RUNTIME_DIR", xprintf("%s/none", dir), 1);
	if (link_trainer(obj, xprintf("%s/t2", dir)) == 0)
		fprintf(stderr, "FAIL: link_trainer succeeded without libnnrt.a\n"), fails++;
	if (fails)
		return 1;
	sh(xprintf("cat %s/gc.txt; grep -v '^#' %s | cut -d, -f4 | tr '\\n' ' '; echo; rm -rf %s", dir, log, dir));
	printf("trainer: compiled softmax regression trains and passes gradcheck\n");
	return 0;
}
