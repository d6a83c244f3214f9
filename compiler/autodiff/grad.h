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
	char *frozen;      /* by slot: reaches the loss only through stop_gradient (on purpose) */
	const char *flow;  /* the VJP being written: the operands g reached unchanged ("%3 and %4") */
	const char *pending;   /* comments for the next line written, at index pending_at */
	int pending_at;
	const int *shown;  /* by forward id: a copy of a scan's step (it is differentiated on
	                      copies): the step's line it stands for, else -1; may be NULL */
	int shown_scan;    /* that scan's id */
	int shown_inside;  /* the copies are the reversed step's own, not written outside it */
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
/* The lines written since `start` are y's VJP (y's gradient was g): they
 * name y, its source and its call, and a comment says where g went on
 * unchanged */
void own_lines(Grad *G, Node *y, Node *g, int start);
void hold_comment(Grad *G, const char *c, int at);   /* c heads the line at index at, once written */

/* grad_wrt.c: select_mode's VJP for a gradient that evaluation computes
 * as well: each branch's gradient under select_mode, so resolve_mode keeps
 * the one of the mode it resolves */
void vjp_select_both(Grad *G, Node *y, Node *g);

/* grad_scan.c: a scan's VJP, the reversed scan (BPTT) and one batched
 * step for the parameters and the sequences */
void vjp_scan(Grad *G, Node *scan, Node *g);
int body_reads_param(const Module *m, const Fn *body);   /* a SLOT_PARAM, at any depth */

#endif
