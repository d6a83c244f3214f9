/* mode.c — training and evaluation from one forward graph.
 *
 * The elaborator writes both behaviours of a layer that has two (dropout:
 * a random mask or the identity; batch norm: the batch's statistics or the
 * running ones) as select_mode(training, evaluation), and the running
 * statistics' updates as stores into SLOT_BUFFER slots.  resolve_mode
 * keeps one branch of every select_mode; for evaluation it also drops the
 * buffer updates, so eval reads the running statistics and never moves
 * them.  It runs on each Fn before any other pass (pipeline.c): grad is
 * differentiated from the forward graph first, and select_mode's VJP
 * already follows the training branch only. */
#include "rewrite.h"

void resolve_mode(Module *m, Fn *fn, int training)
{
	for (int i = 0; i < fn->n; i++)
		if (fn->node[i]->body)
			resolve_mode(m, fn->node[i]->body, training);
	Rewrite rw;
	rw_begin(&rw, fn);
	for (Node *n; (n = rw_next(&rw));) {
		if (n->op == OP_select_mode)
			rw_replace(&rw, n, n->in[training ? 0 : 1]);
		else if (!training && n->op == OP_store && m->slot[n->slot].role == SLOT_BUFFER)
			continue;   /* not kept: eval leaves the running statistics alone */
		else
			rw_keep(&rw, n);
	}
	dce(fn);
}
