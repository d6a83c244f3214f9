/* convfuse.c — convolutions as one op each, after differentiation.
 *
 * Lowering makes a convolution window + reshape + matmul (lower_vision.c)
 * and grad.c differentiates those three; the patch matrix they share is
 * then B*OH*OW rows of KH*KW*C values, 9x the image for a 3x3 kernel,
 * written whole and read back by each GEMM.  This pass finds the three
 * products over such patches and makes each one op that runtime/conv.c
 * computes a cache-sized block of patch rows at a time:
 *
 *   matmul(reshape(window x), W)                 -> conv x, W
 *   matmul.tn(reshape(window x), g)              -> conv_dw x, g
 *   unwindow(reshape(matmul.nt(g, W)))           -> conv_dx g, W
 *
 * The last only when the product and its reshape have no other use.  A
 * window with a non-zero fill (max pooling's) is left alone.  What the
 * rewrite leaves unused (the window, the product) goes in the dce that
 * follows.  Node.nuse must be current (dce runs before).
 *
 * conv and conv_dw each make their patches, where the unfused graph makes
 * them once for both; in blocks that stay in the cache that costs less
 * than writing the whole matrix once and reading it back twice.  Measured
 * on a 2-core AVX-512 VM, one thread: ResNet-20 trains 19% faster and
 * LeNet (patches of 60 and 78 KB a sample) 10% (bench/README.md). */
#include "rewrite.h"

/* The window whose patches [B,OH,OW,KH,KW,C] r reshapes to the matrix
 * [B,OH,OW,KH*KW*C], when its padding is zeros; else NULL. */
static Node *patches_of(const Node *r)
{
	if (r->op != OP_reshape || r->in[0]->op != OP_window || r->in[0]->f != 0)
		return NULL;
	Node *w = r->in[0];
	Shape p = w->shape, m = r->shape;
	if (m.rank != 4 || m.d[0] != p.d[0] || m.d[1] != p.d[1] || m.d[2] != p.d[2] ||
	    m.d[3] != p.d[3] * p.d[4] * p.d[5])
		return NULL;
	return w;
}

/* g is the output grid [B,OH,OW,O] of window w's patches. */
static int on_grid(const Node *g, const Node *w)
{
	Shape s = g->shape, p = w->shape;
	return s.rank == 4 && s.d[0] == p.d[0] && s.d[1] == p.d[1] && s.d[2] == p.d[2];
}

/* The conv op n is, or NULL. */
static Node *fused(Fn *fn, Node *n)
{
	Node *w;
	if (n->op == OP_matmul && !n->tb && (w = patches_of(n->in[0]))) {
		if (!n->ta && n->in[1]->shape.rank == 2)
			return ir_conv(fn, OP_conv, w->in[0], n->in[1], n->shape, w->win, n->loc);
		if (n->ta && on_grid(n->in[1], w))
			return ir_conv(fn, OP_conv_dw, w->in[0], n->in[1], n->shape, w->win, n->loc);
	}
	if (n->op == OP_unwindow && n->in[0]->op == OP_reshape && n->in[0]->nuse == 1) {
		Node *mm = n->in[0]->in[0];
		if (mm->op == OP_matmul && mm->nuse == 1 && !mm->ta && mm->tb && mm->in[1]->shape.rank == 2 &&
		    on_grid(mm->in[0], n->in[0]))
			return ir_conv(fn, OP_conv_dx, mm->in[0], mm->in[1], n->shape, n->win, n->loc);
	}
	return NULL;
}

void convfuse(Fn *fn)
{
	Rewrite rw;
	rw_begin(&rw, fn);
	for (Node *n; (n = rw_next(&rw));) {
		Node *c = fused(fn, n);
		if (!c) {
			rw_keep(&rw, n);
			continue;
		}
		c->note = n->note;
		c->of = n->of;
		c->call = n->call;
		rw_replace(&rw, n, c);
	}
}
