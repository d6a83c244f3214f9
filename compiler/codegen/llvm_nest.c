/* llvm_nest.c — loop nests for the LLVM code generator.
 *
 * A nest walks a shape in row-major order; every access into memory has
 * an element stride per dimension (0 on broadcast dimensions), so one
 * nest serves plain elementwise kernels, broadcasts, transposes and
 * reductions alike.  Adjacent dimensions that every access walks
 * contiguously are merged first, so an elementwise kernel over [B,256]
 * becomes one flat loop the vectorizer widens.
 *
 * Accesses get alias-scope metadata: two accesses share a scope only when
 * their memory regions overlap (a parameter updated in place, say), and
 * are declared noalias against every other scope, which spares the
 * vectorizer its run-time overlap checks. */
#include <string.h>
#include "llvm_gen.h"

/* Loops are bottom-tested: every trip count (a static dim or the batch,
 * which the runtime keeps >= 1) is at least 1. */
void loop_open(Gen *g, Loop *l, LLVMValueRef n)
{
	l->pre = LLVMGetInsertBlock(g->b);
	l->body = LLVMAppendBasicBlockInContext(g->ctx, g->func, "loop");
	l->n = n;
	LLVMBuildBr(g->b, l->body);
	LLVMPositionBuilderAtEnd(g->b, l->body);
	l->iv = LLVMBuildPhi(g->b, g->i64, "i");
	LLVMValueRef zero = LLVMConstInt(g->i64, 0, 0);
	LLVMAddIncoming(l->iv, &zero, &l->pre, 1);
}

void loop_close(Gen *g, Loop *l)
{
	LLVMValueRef next = LLVMBuildNUWAdd(g->b, l->iv, LLVMConstInt(g->i64, 1, 0), "i.next");
	LLVMValueRef more = LLVMBuildICmp(g->b, LLVMIntULT, next, l->n, "more");
	LLVMBasicBlockRef latch = LLVMGetInsertBlock(g->b);
	LLVMBasicBlockRef done = LLVMAppendBasicBlockInContext(g->ctx, g->func, "loop.end");
	LLVMBuildCondBr(g->b, more, l->body, done);
	LLVMAddIncoming(l->iv, &next, &latch, 1);
	LLVMPositionBuilderAtEnd(g->b, done);
}

void rowmajor_strides(Shape s, Sym *out)
{
	Sym acc = { 1, 0 };
	for (int i = s.rank - 1; i >= 0; i--) {
		out[i] = acc;
		acc = sym_mul(acc, sym_dim(s.d[i]));
	}
}

/* Strides of a tensor of shape t read at the indices of shape `to`,
 * aligned on the right as NumPy broadcasting does. */
void bcast_strides(Gen *g, Shape t, Shape to, Sym *out)
{
	(void)g;
	Sym rs[MAXRANK];
	rowmajor_strides(t, rs);
	int lead = to.rank - t.rank;
	if (lead < 0)
		fatal(EXIT_INTERNAL, "llvm: shape %s is not broadcastable to %s", shape_str(t), shape_str(to));
	for (int i = 0; i < to.rank; i++) {
		int j = i - lead;
		if (j < 0 || (t.d[j] == 1 && to.d[i] != 1))
			out[i] = (Sym){ 0, 0 };
		else if (t.d[j] == to.d[i])
			out[i] = rs[j];
		else
			fatal(EXIT_INTERNAL, "llvm: shape %s is not broadcastable to %s", shape_str(t), shape_str(to));
	}
}

void nest_init(Nest *nest, int rank, const Sym *dim)
{
	memset(nest, 0, sizeof *nest);
	nest->rank = rank;
	memcpy(nest->dim, dim, sizeof(Sym) * (size_t)rank);
}

int nest_add(Nest *nest, LLVMValueRef base, LLVMTypeRef elem, Region r, const Sym *stride)
{
	if (nest->nacc == nest->capacc) {
		int cap = nest->capacc ? 2 * nest->capacc : 8;
		nest->acc = xrealloc(nest->acc, sizeof *nest->acc * (size_t)nest->capacc, sizeof *nest->acc * (size_t)cap);
		nest->capacc = cap;
	}
	Access *a = &nest->acc[nest->nacc];
	memset(a, 0, sizeof *a);
	a->base = base;
	a->elem = elem;
	a->region = r;
	memcpy(a->stride, stride, sizeof(Sym) * (size_t)nest->rank);
	return nest->nacc++;
}

static int sym_eq(Sym a, Sym b)
{
	return a.c == b.c && (a.c == 0 || a.b == b.b);
}

static int region_overlap(Region a, Region b)
{
	if (a.kind != b.kind || a.kind == R_NONE)
		return 0;
	if (a.kind == R_IO)
		return a.io == b.io;
	return a.lo < b.hi && b.lo < a.hi;
}

static int find_root(int *parent, int i)
{
	while (parent[i] != i)
		i = parent[i] = parent[parent[i]];
	return i;
}

/* Partition the accesses into classes of overlapping regions; each class
 * is one scope of a domain private to this nest. */
void nest_scopes(Gen *g, Nest *nest)
{
	int n = nest->nacc;
	if (n < 2)
		return;
	int *parent = xalloc(sizeof *parent * (size_t)n);
	for (int i = 0; i < n; i++)
		parent[i] = i;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++)
			if (region_overlap(nest->acc[i].region, nest->acc[j].region))
				parent[find_root(parent, i)] = find_root(parent, j);
	int nclass = 0;
	for (int i = 0; i < n; i++)
		nclass += find_root(parent, i) == i;
	if (nclass < 2)
		return;
	int k = g->nkernel++;
	const char *dname = xprintf("nnc.%s.k%d", g->fn->name, k);
	LLVMMetadataRef dn = LLVMMDStringInContext2(g->ctx, dname, strlen(dname));
	LLVMMetadataRef domain = LLVMMDNodeInContext2(g->ctx, &dn, 1);
	LLVMMetadataRef *scope = xalloc(sizeof *scope * (size_t)n);
	for (int i = 0; i < n; i++) {
		if (find_root(parent, i) != i)
			continue;
		const char *sname = xprintf("%s.s%d", dname, i);
		LLVMMetadataRef ops[2] = { LLVMMDStringInContext2(g->ctx, sname, strlen(sname)), domain };
		scope[i] = LLVMMDNodeInContext2(g->ctx, ops, 2);
	}
	LLVMMetadataRef *others = xalloc(sizeof *others * (size_t)n);
	for (int i = 0; i < n; i++) {
		int root = find_root(parent, i), no = 0;
		for (int j = 0; j < n; j++)
			if (find_root(parent, j) == j && j != root)
				others[no++] = scope[j];
		nest->acc[i].scope = LLVMMetadataAsValue(g->ctx, LLVMMDNodeInContext2(g->ctx, &scope[root], 1));
		nest->acc[i].noalias = LLVMMetadataAsValue(g->ctx, LLVMMDNodeInContext2(g->ctx, others, (size_t)no));
	}
}

void gen_tag(Gen *g, LLVMValueRef inst, const Access *a)
{
	if (!a->scope)
		return;
	LLVMSetMetadata(inst, g->md_scope, a->scope);
	LLVMSetMetadata(inst, g->md_noalias, a->noalias);
}

/* Merge dimension i into the merged dimension before it when every
 * access walks the pair as one contiguous run. */
static int mergeable(const Nest *nest, int q, const Sym *dim, int i)
{
	for (int a = 0; a < nest->nacc; a++)
		if (!sym_eq(nest->acc[a].stride[q], sym_mul(nest->acc[a].stride[i], dim[i])))
			return 0;
	return 1;
}

static void nest_merge(Nest *nest)
{
	Sym dim[MAXRANK];
	memcpy(dim, nest->dim, sizeof dim);
	int q = 0;
	for (int i = 0; i < nest->rank; i++) {
		int last = i == nest->rank - 1;
		if (dim[i].c == 1 && dim[i].b == 0 && !(last && nest->keep_last))
			continue;   /* a loop of one trip: index 0 */
		if (q > 0 && !(last && nest->keep_last) && mergeable(nest, q - 1, dim, i)) {
			nest->dim[q - 1] = sym_mul(nest->dim[q - 1], dim[i]);
			for (int a = 0; a < nest->nacc; a++)
				nest->acc[a].stride[q - 1] = nest->acc[a].stride[i];
			continue;
		}
		nest->dim[q] = dim[i];
		for (int a = 0; a < nest->nacc; a++)
			nest->acc[a].stride[q] = nest->acc[a].stride[i];
		q++;
	}
	nest->rank = q;
}

void nest_open(Gen *g, Nest *nest)
{
	nest_merge(nest);
	LLVMValueRef n[MAXRANK];
	for (int i = 0; i < nest->rank; i++)
		n[i] = gen_sym(g, nest->dim[i]);
	for (int i = 0; i < nest->rank; i++) {
		loop_open(g, &nest->loop[i], n[i]);
		nest->iv[i] = nest->loop[i].iv;
	}
}

LLVMValueRef nest_ptr(Gen *g, Nest *nest, int acc)
{
	const Access *a = &nest->acc[acc];
	LLVMValueRef off = NULL;
	for (int i = 0; i < nest->rank; i++) {
		if (a->stride[i].c == 0)
			continue;
		LLVMValueRef t = nest->iv[i];
		if (a->stride[i].c != 1 || a->stride[i].b)
			t = LLVMBuildNUWMul(g->b, t, gen_sym(g, a->stride[i]), "");
		off = off ? LLVMBuildNUWAdd(g->b, off, t, "") : t;
	}
	if (!off)
		return a->base;
	return LLVMBuildInBoundsGEP2(g->b, a->elem, a->base, &off, 1, "");
}

LLVMValueRef nest_load(Gen *g, Nest *nest, int acc)
{
	LLVMValueRef v = LLVMBuildLoad2(g->b, nest->acc[acc].elem, nest_ptr(g, nest, acc), "");
	gen_tag(g, v, &nest->acc[acc]);
	return v;
}

void nest_store(Gen *g, Nest *nest, int acc, LLVMValueRef v)
{
	LLVMValueRef s = LLVMBuildStore(g->b, v, nest_ptr(g, nest, acc));
	gen_tag(g, s, &nest->acc[acc]);
}

void nest_close(Gen *g, Nest *nest)
{
	for (int i = nest->rank - 1; i >= 0; i--)
		loop_close(g, &nest->loop[i]);
}
