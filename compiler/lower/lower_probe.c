/* lower_probe.c — probe(x, name): values the trainer can show. */
#include <string.h>
#include "lower.h"
#include "../runtime/nnrt.h"

/* probe(x, "name"): x itself, and a value the trainer can show
 * (`show`, nnc-trainer(1)): evaluation writes it, per sample, into an
 * output of its own named by the call path, "vit.encoder_block_1.
 * self_attention_1.multi_head_attention_1.attention_1.weights".
 * Training never computes it for its own sake (copy_forward drops
 * outputs).  A model called twice probes once, at its first call. */
enum { MAX_PROBES = NNRT_MAX_IO - 3 };   /* io 0-2: x, y, out */

Value lower_probe(Ctx *c, const Expr *call, Value *arg)
{
	Node *x = need_tensor(c, &arg[0], "the value of 'probe'");
	if (arg[1].kind != V_STR || !arg[1].str[0])
		error_at(arg[1].loc.line ? arg[1].loc : call->loc, "probe's name must be a non-empty string");
	if (c->fn != c->m->fwd)
		error_at(call->loc, "probe inside a scan's step: probe the scan's result instead");
	if (x->shape.rank == 0 || x->shape.d[0] != DIM_BATCH)
		error_at(call->loc, "probe needs a value with one row per sample (B first), not %s",
		         type_str(x->dt, x->shape));
	const char *name = c->frame->path ? xprintf("%s.%s", c->frame->path, arg[1].str) : arg[1].str;
	for (int i = 0; i < c->nprobe; i++)
		if (!strcmp(c->probe[i].name, name))
			return arg[0];
	if (c->nprobe == MAX_PROBES)
		error_at(call->loc, "more than %d probes (the trainer has %d outputs besides the model's)", MAX_PROBES,
		         MAX_PROBES);
	c->probe = xrealloc(c->probe, sizeof *c->probe * (size_t)c->nprobe, sizeof *c->probe * (size_t)(c->nprobe + 1));
	c->probe[c->nprobe++] = (struct Probe){ name, x, call->loc };
	return arg[0];
}

void store_probes(Ctx *c)
{
	for (int i = 0; i < c->nprobe; i++) {
		const struct Probe *p = &c->probe[i];
		int s = ir_slot(c->m, xprintf("probe.%s", p->name), SLOT_OUTPUT, p->value->dt, p->value->shape, p->loc);
		c->m->slot[s].io = 3 + i;
		ir_store(c->fn, s, p->value, p->loc)->note = "probe";
	}
}
