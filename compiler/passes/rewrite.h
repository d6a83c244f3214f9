/* rewrite.h — rebuilding a Fn's schedule while rewriting it in one walk.
 *
 * simplify and cse visit the nodes in schedule order; a node is either
 * kept (appended to the new schedule) or replaced by another value, which
 * every later operand then sees.  New nodes made by the ir.c builders
 * while a node is visited land in the new schedule before it, so SSA
 * order holds by construction.  Replaced nodes leave the schedule at
 * once: nothing refers to them after the walk. */
#ifndef NNC_REWRITE_H
#define NNC_REWRITE_H

#include "ir.h"

typedef struct Rewrite {
	Fn *fn;
	Node **old;           /* the schedule being walked */
	int nold, next;
	int old_backward_from;
	Node **map;           /* by id of an old node: its replacement, or NULL */
	int nmap;
} Rewrite;

void rw_begin(Rewrite *rw, Fn *fn);
Node *rw_next(Rewrite *rw);            /* next old node, operands resolved; NULL at the end */
void rw_keep(Rewrite *rw, Node *n);    /* append n to the new schedule */
void rw_replace(Rewrite *rw, Node *n, Node *with);
void fn_append(Fn *fn, Node *n);       /* push onto the schedule, growing it */
Node *fn_copy_node(Fn *fn, const Node *n);  /* fresh id, appended, passes' fields reset */

#endif
