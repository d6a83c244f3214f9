/* dce.c — use counts and dead code elimination.
 *
 * A node is live when it is an effect (F_EFFECT: stores) or an operand of
 * a live node; everything else goes, and the schedule order of what stays
 * is kept. */
#include "ir.h"

void fill_uses(Fn *fn)
{
	for (int i = 0; i < fn->n; i++)
		fn->node[i]->nuse = 0;
	for (int i = 0; i < fn->n; i++)
		for (int k = 0; k < fn->node[i]->nin; k++)
			fn->node[i]->in[k]->nuse++;
}

void dce(Fn *fn)
{
	for (int i = 0; i < fn->n; i++)
		fn->node[i]->mark = -1;
	/* Reverse schedule order visits every user before its operands. */
	for (int i = fn->n - 1; i >= 0; i--) {
		Node *n = fn->node[i];
		if (op_info[n->op].flags & F_EFFECT)
			n->mark = 1;
		if (n->mark != 1)
			continue;
		for (int k = 0; k < n->nin; k++)
			n->in[k]->mark = 1;
	}
	ir_remove_dead(fn);
	fill_uses(fn);
}
