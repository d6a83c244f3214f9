/* llvm_kernel.c — elementwise kernels and reductions.
 *
 * A kernel is a fusion group (or one lone elementwise node, transpose or
 * store) computed in one loop nest over the group shape: each member is a
 * scalar SSA value at the current index, evaluated in schedule order;
 * operands from outside the group are loaded through the nest with their
 * broadcast strides, and members that own memory (a buffer, a home slot,
 * or a store's slot) are written back.  Rank-0 members are loop
 * invariants that LLVM hoists. */
#include <math.h>
#include <string.h>
#include "llvm_gen.h"

enum { IN_MEMBER = -1, IN_SCALAR = -2, OUT_NONE = -1, OUT_LOSS = -2 };

static LLVMValueRef intr1(Gen *g, const char *name, LLVMValueRef x)
{
	return gen_intrinsic(g, name, LLVMTypeOf(x), &x, 1);
}

static LLVMValueRef intr2(Gen *g, const char *name, LLVMValueRef x, LLVMValueRef y)
{
	LLVMValueRef a[2] = { x, y };
	return gen_intrinsic(g, name, LLVMTypeOf(x), a, 2);
}

/* libm for what LLVM has no intrinsic for: log1pf/log1p, expm1f/expm1 */
static LLVMValueRef libm(Gen *g, const char *base, LLVMValueRef x)
{
	const char *name = LLVMTypeOf(x) == g->f32 ? xprintf("%sf", base) : base;
	return gen_call(g, name, &x, 1);
}

static LLVMValueRef pick(Gen *g, LLVMValueRef cond, LLVMValueRef yes, LLVMValueRef no)
{
	return LLVMBuildSelect(g->b, cond, yes, no, "");
}

static LLVMValueRef cmp(Gen *g, LLVMRealPredicate p, LLVMValueRef x, LLVMValueRef y)
{
	return LLVMBuildFCmp(g->b, p, x, y, "");
}

/* The llvm column of ops.def's ELEM rows, over x, y, z (the operands), a
 * (Node.f) and these shorthands. */
#define k(v) LLVMConstReal(t, v)
#define fneg(p) LLVMBuildFNeg(g->b, p, "")
#define fadd(p, q) LLVMBuildFAdd(g->b, p, q, "")
#define fsub(p, q) LLVMBuildFSub(g->b, p, q, "")
#define fmul(p, q) LLVMBuildFMul(g->b, p, q, "")
#define fdiv(p, q) LLVMBuildFDiv(g->b, p, q, "")
#define gt(g, p, q) cmp(g, LLVMRealOGT, p, q)
#define lt(g, p, q) cmp(g, LLVMRealOLT, p, q)
#define eq(g, p, q) cmp(g, LLVMRealOEQ, p, q)
#define ne(g, p, q) cmp(g, LLVMRealUNE, p, q)

static LLVMValueRef gen_elem(Gen *g, const Node *n, const LLVMValueRef *v)
{
	LLVMValueRef x = v[0], y = n->nin > 1 ? v[1] : NULL, z = n->nin > 2 ? v[2] : NULL;
	LLVMTypeRef t = LLVMTypeOf(x);
	LLVMValueRef a = k(n->f);
	(void)y, (void)z, (void)a;
	switch (n->op) {
#define OP(name, nin, kind, attrs, flags) case OP_##name: break;
#define ELEM(name, nin, attrs, flags, builtin, scalar, llvm) case OP_##name: return (llvm);
#include "ops.def"
#undef OP
#undef ELEM
	case OP__COUNT: break;
	}
	fatal(EXIT_INTERNAL, "llvm: %s is not an elementwise op", op_info[n->op].name);
}

#undef k
#undef fneg
#undef fadd
#undef fsub
#undef fmul
#undef fdiv
#undef gt
#undef lt
#undef eq
#undef ne

/* The value of member n at the current index; cls is the index along
 * the innermost dimension (the class, for onehot). */
static LLVMValueRef gen_member(Gen *g, const Node *n, LLVMValueRef *x, LLVMValueRef cls)
{
	LLVMTypeRef t = gen_type(g, n->dt);
	switch (op_info[n->op].kind) {
	case K_ELEM: return gen_elem(g, n, x);
	case K_BCAST: case K_LAYOUT: case K_STORE: return x[0];
	case K_SLICE:
		if (n->op == OP_slice)
			return x[0];   /* read at the part's place in the whole (plan_kernel) */
		break;
	case K_INDEX: {
		LLVMValueRef label = LLVMBuildSExt(g->b, x[0], g->i64, "");
		LLVMValueRef c = LLVMBuildICmp(g->b, LLVMIntEQ, label, cls, "");
		return LLVMBuildSelect(g->b, c, LLVMConstReal(t, 1), LLVMConstReal(t, 0), "onehot");
	}
	case K_LEAF: {
		if (n->op == OP_iota)   /* the index along the last axis, kept its own loop */
			return LLVMBuildSIToFP(g->b, cls, t, "iota");
		LLVMValueRef v = gen_scalar(g, n);
		if (v)
			return v;
		break;
	}
	case K_REDUCE: case K_MATMUL: case K_BMM: case K_WINDOW: case K_CONV: case K_BOXSUM: case K_SOFTMAX: case K_RANDOM:
	case K_GATHER: case K_SCAN: case K_YIELD: case K_CONTRAST: break;
	}
	fatal(EXIT_INTERNAL, "llvm: %%%d (%s) cannot be computed in a loop nest", n->id, op_info[n->op].name);
}

/* Strides of operand x of member n over the kernel shape. */
static void operand_strides(Gen *g, const Node *n, const Node *x, Shape shape, Sym *out)
{
	if (n->op == OP_transpose) {
		Sym rs[MAXRANK], perm[MAXRANK];
		rowmajor_strides(x->shape, rs);
		for (int i = 0; i < n->shape.rank; i++)
			perm[i] = rs[n->perm[i]];
		Sym own[MAXRANK];
		bcast_strides(g, n->shape, shape, own);   /* checks the shapes agree */
		memcpy(out, perm, sizeof(Sym) * (size_t)shape.rank);
		return;
	}
	if (n->op == OP_slice) {   /* the part's index runs over the whole's strides */
		rowmajor_strides(x->shape, out);
		return;
	}
	if (n->op == OP_onehot) {
		Shape outer = shape;
		outer.rank--;
		bcast_strides(g, x->shape, outer, out);
		out[shape.rank - 1] = (Sym){ 0, 0 };
		return;
	}
	bcast_strides(g, x->shape, shape, out);
}

typedef struct KernelPlan {
	Nest nest;
	int (*in)[MAXIN];    /* per member: access index, IN_MEMBER or IN_SCALAR */
	int *out;            /* per member: access index, OUT_NONE or OUT_LOSS */
	int onehot;
} KernelPlan;

static int store_target(Gen *g, KernelPlan *k, const Node *n, Shape shape)
{
	const Slot *s = &g->m->slot[n->slot];
	if (s->role == SLOT_LOSS)
		return OUT_LOSS;   /* widened to double into step->loss, even from a home */
	if (n->in[0]->home == n->slot)
		return OUT_NONE;   /* the value was computed straight into the slot */
	Sym st[MAXRANK];
	bcast_strides(g, s->shape, shape, st);
	return nest_add(&k->nest, gen_slot_addr(g, n->slot), gen_type(g, s->dt), gen_slot_region(g, n->slot), st);
}

static void plan_kernel(Gen *g, KernelPlan *k, Shape shape, Node *const *member, int n)
{
	Sym dim[MAXRANK];
	for (int i = 0; i < shape.rank; i++)
		dim[i] = sym_dim(shape.d[i]);
	nest_init(&k->nest, shape.rank, dim);
	k->in = xalloc(sizeof *k->in * (size_t)n);
	k->out = xalloc(sizeof *k->out * (size_t)n);
	for (int i = 0; i < n; i++)
		g->inkern[member[i]->id] = 1;
	for (int i = 0; i < n; i++) {
		const Node *m = member[i];
		k->onehot |= m->op == OP_onehot || m->op == OP_iota;
		for (int j = 0; j < m->nin; j++) {
			const Node *x = m->in[j];
			if (g->inkern[x->id])
				k->in[i][j] = IN_MEMBER;
			else if (gen_is_scalar(g, x))
				k->in[i][j] = IN_SCALAR;
			else {
				Sym st[MAXRANK];
				operand_strides(g, m, x, shape, st);
				LLVMValueRef base = gen_addr(g, x);
				if (m->op == OP_slice) {   /* the part begins k rows into the whole along its axis */
					Sym skip = sym_mul(st[slice_axis(m)], (Sym){ m->k * dtype_size(x->dt), 0 });
					LLVMValueRef off = gen_sym(g, skip);
					base = LLVMBuildInBoundsGEP2(g->b, LLVMInt8TypeInContext(g->ctx), base, &off, 1, "part");
				}
				k->in[i][j] = nest_add(&k->nest, base, gen_type(g, x->dt), gen_region(g, x), st);
			}
		}
		if (m->op == OP_store)
			k->out[i] = store_target(g, k, m, shape);
		else if (m->buf >= 0 || m->home >= 0) {
			Sym st[MAXRANK];
			bcast_strides(g, m->shape, shape, st);
			k->out[i] = nest_add(&k->nest, gen_addr(g, m), gen_type(g, m->dt), gen_region(g, m), st);
		} else
			k->out[i] = OUT_NONE;
	}
	k->nest.keep_last = k->onehot;
}

static void write_member(Gen *g, KernelPlan *k, int out, const Node *m, LLVMValueRef v)
{
	if (out == OUT_LOSS) {
		LLVMValueRef d = m->dt == DT_F64 ? v : LLVMBuildFPExt(g->b, v, g->f64, "");
		LLVMBuildStore(g->b, d, g->loss_ptr);
	} else if (out >= 0)
		nest_store(g, &k->nest, out, v);
}

void gen_kernel(Gen *g, Shape shape, Node *const *member, int n)
{
	KernelPlan k = { 0 };
	plan_kernel(g, &k, shape, member, n);
	nest_scopes(g, &k.nest);
	nest_open(g, &k.nest);
	LLVMValueRef cls = k.onehot ? k.nest.iv[k.nest.rank - 1] : NULL;
	for (int i = 0; i < n; i++) {
		const Node *m = member[i];
		LLVMValueRef x[MAXIN];
		for (int j = 0; j < m->nin; j++) {
			int a = k.in[i][j];
			x[j] = a == IN_MEMBER ? g->val[m->in[j]->id]
			     : a == IN_SCALAR ? gen_scalar(g, m->in[j])
			     : nest_load(g, &k.nest, a);
			if (!x[j])
				fatal(EXIT_INTERNAL, "llvm: %%%d is used by %%%d before it is computed", m->in[j]->id, m->id);
		}
		LLVMValueRef v = gen_member(g, m, x, cls);
		g->val[m->id] = v;
		write_member(g, &k, k.out[i], m, v);
	}
	nest_close(g, &k.nest);
	for (int i = 0; i < n; i++) {
		g->inkern[member[i]->id] = 0;
		g->val[member[i]->id] = NULL;
	}
}

/* ---- reductions ------------------------------------------------------ */

static LLVMValueRef combine(Gen *g, const Node *r, LLVMValueRef acc, LLVMValueRef x)
{
	if (r->op == OP_amax)
		return intr2(g, "llvm.maxnum", acc, x);
	LLVMValueRef s = LLVMBuildFAdd(g->b, acc, x, "");
	/* reassociation lets the vectorizer split the sum into lanes */
	LLVMSetFastMathFlags(s, LLVMFastMathAllowReassoc);
	return s;
}

/* Fill the output with the identity of the reduction (0 or -inf). */
static void reduce_init(Gen *g, const Node *r, LLVMValueRef out, LLVMValueRef ident)
{
	Sym n = { 1, 0 };
	for (int i = 0; i < r->shape.rank; i++)
		n = sym_mul(n, sym_dim(r->shape.d[i]));
	Nest nest;
	nest_init(&nest, 1, &n);
	Sym one = { 1, 0 };
	int a = nest_add(&nest, out, LLVMTypeOf(ident), gen_region(g, r), &one);
	nest_open(g, &nest);
	nest_store(g, &nest, a, ident);
	nest_close(g, &nest);
}

/* Loop over the input in row-major order.  The trailing reduced
 * dimensions (t..rank-1) become one inner loop that sums in a register;
 * the outer dimensions index the output with stride 0 where reduced.
 * When every reduced dimension is trailing, each output element is
 * written once and needs no initial fill. */
void gen_reduce(Gen *g, const Node *r)
{
	const Node *x = r->in[0];
	Shape s = x->shape;
	int t = s.rank;
	while (t > 0 && (r->axes & (1u << (t - 1))))
		t--;
	int direct = (r->axes & ((1u << t) - 1)) == 0;
	LLVMTypeRef ty = gen_type(g, r->dt);
	LLVMValueRef ident = LLVMConstReal(ty, r->op == OP_sum ? 0.0 : -INFINITY);
	LLVMValueRef out = gen_addr(g, r), in = gen_addr(g, x);
	if (!direct)
		reduce_init(g, r, out, ident);

	Sym dim[MAXRANK], sin[MAXRANK], sout[MAXRANK];
	for (int i = 0; i < s.rank; i++)
		dim[i] = sym_dim(s.d[i]);
	rowmajor_strides(s, sin);
	bcast_strides(g, r->shape, s, sout);
	Sym inner = { 1, 0 };
	for (int i = t; i < s.rank; i++)
		inner = sym_mul(inner, dim[i]);

	Nest nest;
	nest_init(&nest, t, dim);
	int ai = nest_add(&nest, in, ty, gen_region(g, x), sin);
	int ao = nest_add(&nest, out, ty, gen_region(g, r), sout);
	nest_scopes(g, &nest);
	nest_open(g, &nest);
	LLVMValueRef v;
	if (t < s.rank) {
		LLVMValueRef base = nest_ptr(g, &nest, ai);
		Loop l;
		loop_open(g, &l, gen_sym(g, inner));
		LLVMValueRef acc = LLVMBuildPhi(g->b, ty, "acc");
		LLVMAddIncoming(acc, &ident, &l.pre, 1);
		LLVMValueRef p = LLVMBuildInBoundsGEP2(g->b, ty, base, &l.iv, 1, "");
		LLVMValueRef e = LLVMBuildLoad2(g->b, ty, p, "");
		gen_tag(g, e, &nest.acc[ai]);
		v = combine(g, r, acc, e);
		LLVMBasicBlockRef latch = LLVMGetInsertBlock(g->b);
		LLVMAddIncoming(acc, &v, &latch, 1);
		loop_close(g, &l);
	} else
		v = nest_load(g, &nest, ai);
	if (!direct)
		v = combine(g, r, nest_load(g, &nest, ao), v);
	nest_store(g, &nest, ao, v);
	nest_close(g, &nest);
}
