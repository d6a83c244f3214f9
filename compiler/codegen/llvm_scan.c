/* llvm_scan.c — a scan as a counted loop around its body's code.
 *
 * The body is emitted once, inside the loop, with the code generator
 * pointed at the body's Fn and memory plan: its scratch is the scan's
 * workspace, which plan.c puts right after the scan's result in the same
 * buffer.  Each step copies the carry and step t of each sequence into
 * the body's arg buffers, runs the body, then writes the yielded output
 * into step t of the result and the yielded carry over arg 0. */
#include "llvm_gen.h"

static LLVMValueRef advance(Gen *g, LLVMValueRef base, LLVMValueRef bytes)
{
	return LLVMBuildInBoundsGEP2(g->b, LLVMInt8TypeInContext(g->ctx), base, &bytes, 1, "");
}

static Sym bytes_of(Shape s, DType dt)
{
	return sym_mul(sym_dim_count(s), (Sym){ dtype_size(dt), 0 });
}

/* nnrt_slice or nnrt_put of step t of a [B,T,...] tensor */
static void step_copy(Gen *g, const char *fn, LLVMValueRef from, LLVMValueRef to, Shape seq, DType dt,
                      LLVMValueRef t)
{
	Shape step = shape_remove(seq, 1);
	step.d[0] = 1;
	LLVMValueRef args[7] = { from, to, gen_sym(g, sym_dim(seq.d[0])),
				 LLVMConstInt(g->i64, (unsigned long long)seq.d[1], 0), LLVMConstInt(g->i64, 1, 0), t,
				 gen_sym(g, bytes_of(step, dt)) };
	gen_call(g, fn, args, 7);
}

static void move_bytes(Gen *g, LLVMValueRef to, LLVMValueRef from, Shape s, DType dt)
{
	LLVMBuildMemMove(g->b, to, 1, from, 1, gen_sym(g, bytes_of(s, dt)));
}

void gen_scan(Gen *g, const Node *n)
{
	const Fn *outer = g->fn, *body = n->body;
	const Node *y = scan_yield(body), *carry = scan_arg(body, 0);
	LLVMValueRef out = gen_addr(g, n), src[MAXIN];
	for (int k = 0; k < n->nin; k++)
		src[k] = gen_addr(g, n->in[k]);
	LLVMValueRef saved_scratch = g->scratch, *saved_val = g->val;
	char *saved_inkern = g->inkern;
	g->scratch = advance(g, out, gen_sym(g, bytes_of(n->shape, n->dt)));
	g->fn = body;
	g->val = xalloc(sizeof *g->val * (size_t)(body->next_id + 1));
	g->inkern = xalloc((size_t)body->next_id + 1);
	if (carry)
		move_bytes(g, gen_addr(g, carry), src[0], carry->shape, carry->dt);
	Loop l;
	LLVMValueRef T = LLVMConstInt(g->i64, (unsigned long long)n->k, 0);
	loop_open(g, &l, T);
	LLVMValueRef t = n->reverse ? LLVMBuildSub(g->b, LLVMConstInt(g->i64, (unsigned long long)n->k - 1, 0), l.iv, "t")
	                            : l.iv;
	for (int k = 1; k < n->nin; k++) {
		const Node *a = scan_arg(body, k);
		if (a)
			step_copy(g, "nnrt_slice", src[k], gen_addr(g, a), n->in[k]->shape, a->dt, t);
	}
	for (int i = 0; i < body->n; i++)
		gen_node(g, body->node[i]);
	step_copy(g, "nnrt_put", gen_addr(g, y->in[1]), out, n->shape, n->dt, t);
	if (carry)
		move_bytes(g, gen_addr(g, carry), gen_addr(g, y->in[0]), carry->shape, carry->dt);
	loop_close(g, &l);
	g->fn = outer;
	g->scratch = saved_scratch;
	g->val = saved_val;
	g->inkern = saved_inkern;
}
