/* test_roundtrip.c — the descriptor describe() writes, read back by the
 * runtime's own parser (runtime/desc.c): the two sides of nnrt.h agree. */
#include <string.h>
#include "passes_test.h"
#include "nnrt_internal.h"

void test_roundtrip(void)
{
	int64_t w[] = { 4, 8, 3 };
	TestModel t = test_model(2, w);
	Module *m = t.m;
	m->source = "odd\x01" "a \"path\"\\.nn";
	m->slot[t.lr].io = NNRT_HYPER_LR;
	m->slot[t.w[0]].init = (Init){ .kind = INIT_UNIFORM, .a = -0.1, .b = 1.0 / 3, .gain = 1 };
	int mom = ir_slot(m, "t.dense_1.W.momentum", SLOT_OPTSTATE, DT_F32, shape_of(2, 4, 8), L);
	m->slot[mom].of = t.w[0];
	static KeyVal args[] = {
		{ .key = "label", .str = NULL, .num = 64, .is_str = 0 },
		{ .key = "noise", .str = NULL, .num = 0.1, .is_str = 0 },
		{ .key = "0", .str = "a b\tc", .num = 0, .is_str = 1 },
	};
	static DataSource data = { "train", NNRT_SOURCE_CSV, args, 3, { 0 } };
	m->cfg = (Config){ .data = &data, .ndata = 1, .train_source = "train", .optimizer = NNRT_OPT_ADAM,
		.lr = 1e-3, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8, .schedule = NNRT_SCHED_COSINE, .gamma = 0.1, .min_lr = 1e-5,
		.batch = 32, .epochs = 3, .seed = 0 };
	m->grad = ir_fn("grad");
	m->grad->scratch_fixed = 128;
	m->grad->scratch_per_sample = 192;
	plan_state(m);
	char err[256] = "";
	RtDesc *d = rt_desc_parse(describe(m), err, sizeof err);
	EXPECT(d != NULL);
	if (!d) {
		fprintf(stderr, "rt_desc_parse: %s\n%s", err, describe(m));
		return;
	}
	EXPECT(!strcmp(d->source, m->source));
	EXPECT(d->nio == 3 && d->hyper_lr == NNRT_HYPER_LR);
	EXPECT(d->ntensor == 9);                       /* 4 params, 4 grads, 1 momentum */
	EXPECT(d->tensor[0].init.a == -0.1 && d->tensor[0].init.b == 1.0 / 3);
	EXPECT(d->tensor[8].of_index == 0 && d->tensor[8].offset == m->slot[mom].offset);
	EXPECT(d->state_bytes == m->state_bytes);
	EXPECT(d->scratch_fixed[RT_SCRATCH_GRAD] == 128 && d->scratch_per_sample[RT_SCRATCH_GRAD] == 192);
	EXPECT(d->optimizer == NNRT_OPT_ADAM && d->lr == 1e-3 && d->eps == 1e-8);
	EXPECT(d->schedule == NNRT_SCHED_COSINE && d->min_lr == 1e-5);
	EXPECT(d->nsrc == 1 && d->src[0].narg == 3 && d->src[0].arg[2].is_str);
	EXPECT(!strcmp(d->src[0].arg[2].str, "a b\tc") && d->src[0].arg[0].num == 64 && d->src[0].arg[1].num == 0.1);
	EXPECT(d->batch == 32 && d->epochs == 3 && d->seed == 0);
}
