/* grad.h — what grad.c (reverse mode) and grad_scan.c (the reverse of a
 * loop) share.  Nothing else includes it. */
#ifndef NNC_GRAD_H
#define NNC_GRAD_H

#include "ir.h"

typedef struct Grad {
	Module *m;
	Fn *fn;            /* the function being built */
	int nfwd;          /* forward ids are below this */
	Node **adj;        /* by forward id: the gradient accumulated so far */
	char *live;        /* by forward id: lies on a differentiable path param -> loss */
	Node *cur;         /* the forward node whose VJP is being written */
	Node **slot_adj;   /* by slot: gradient of a SLOT_PARAM, summed over its param nodes */
	int *first_use;    /* by slot: schedule index of its earliest param node, or -1 */
	int *grad_slot;    /* by slot: its SLOT_GRAD, or -1 */
	int both_modes;    /* a gradient inside the forward: evaluation resolves it too */
} Grad;


Node *tag(Grad *G, Node *n, const char *note);
Node *konst(Grad *G, double v, const Node *like);   /* v spread over like's shape */
void acc(Grad *G, Node *x, Node *g);                 /* add g to x's gradient */
void vjp(Grad *G, Node *y, Node *g);                 /* y's VJP: its operands' gradients from y's g */
/* reach[id] = 1 for the nodes among fn's lo..hi that y depends on through
 * differentiable ops (y itself included) */
void fill_reach(const Fn *fn, int lo, int hi, const Node *y, char *reach);
/* g reaches param node p at schedule index `index`: summed per slot, and
 * stored once the walk passes the slot's first use (index -2: never) */
void reach_param(Grad *G, Node *p, Node *g, int index);

/* grad_wrt.c: select_mode's VJP for a gradient that evaluation computes
 * as well: each branch's gradient under select_mode, so resolve_mode keeps
 * the one of the mode it resolves */
void vjp_select_both(Grad *G, Node *y, Node *g);

/* grad_scan.c: a scan's VJP, the reversed scan (BPTT) and one batched
 * step for the parameters and the sequences */
void vjp_scan(Grad *G, Node *scan, Node *g);
int body_reads_param(const Module *m, const Fn *body);   /* a SLOT_PARAM, at any depth */

#endif
