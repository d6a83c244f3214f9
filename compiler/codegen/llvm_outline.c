/* llvm_outline.c — each node's code in a function of its own, and one
 * function for all the nodes whose code is the same.
 *
 * LLVM's time goes by the instruction: at -O3 each small kernel costs 2
 * to 5 ms of CPU to optimize and select, however often its like was seen
 * before, and a deep network is the same few layers over and over (4,000
 * stacked dense layers are 48,000 nodes of about a dozen kinds).  So each
 * node is written into an internal function that takes the addresses of
 * its tensors in state and scratch as offsets from a table, a private
 * constant array per call: two nodes that differ only in where their
 * tensors live write the same function text, and the second's call goes
 * to the first's function.
 *
 * A function called once is marked alwaysinline: the pass pipeline puts
 * it back into its caller before anything else, its offsets fold to the
 * constants they are, and the code is what writing it inline gave (the
 * examples train to the same bytes, as fast).  A function called more
 * than once is noinline and is optimized and compiled once. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <llvm-c/DebugInfo.h>
#include "llvm_gen.h"

/* The kernel function's parameters, in order. */
enum { P_STEP, P_BATCH, P_STATE, P_SCRATCH, P_LOSS_CELL, P_OFFSETS, P__COUNT };

/* One address in the table: base + off, or base + off * B + fixed. */
typedef struct Thunk { LLVMValueRef base, addr; int64_t off, fixed; int per_sample; } Thunk;

typedef struct Outline {
	LLVMValueRef fn;
	LLVMBasicBlockRef body;
	LLVMBuilderRef entry;       /* before the entry block's branch: where addresses are made */
	Thunk *t;
	int n, cap;
} Outline;

typedef struct Kernel { unsigned char *text; size_t len; uint64_t hash; LLVMValueRef fn; } Kernel;

typedef struct Kernels {
	LLVMTypeRef fty;
	int count;                  /* kernels written, for their names */
	LLVMBuilderRef entry;
	LLVMValueRef spare;         /* a kernel function a node left empty, for the next */
	Gen view;                   /* the spare's step, batch, blocks... */
	LLVMValueRef offsets;       /* stands in for the table of offsets until its size is known */
	LLVMValueRef *offs;         /* the table: two per address, off and fixed */
	size_t noffs, capoffs;
	LLVMValueRef kernels;       /* stands in for the table of shared kernels the loops call */
	LLVMValueRef *shared;       /* that table */
	size_t nshared, capshared;
	Kernel *slot;               /* open addressing by hash; fn NULL when free */
	size_t cap, n;
} Kernels;

/* The kernels' texts and tables live as long as the module is written,
 * not as long as the compiler, so they are not on the arena. */
static void *heap(void *old, size_t n)
{
	void *p = realloc(old, n);
	if (!p)
		fatal(EXIT_NOMEM, "out of memory (asked for %zu bytes)", n);
	return p;
}

void outline_start(Gen *g)
{
	LLVMTypeRef params[P__COUNT] = { g->ptr, g->i64, g->ptr, g->ptr, g->ptr, g->ptr };
	g->kernels = heap(NULL, sizeof *g->kernels);
	memset(g->kernels, 0, sizeof *g->kernels);
	g->kernels->fty = LLVMFunctionType(LLVMVoidTypeInContext(g->ctx), params, P__COUNT, 0);
	g->kernels->cap = 64;
	g->kernels->slot = heap(NULL, sizeof *g->kernels->slot * g->kernels->cap);
	g->kernels->entry = LLVMCreateBuilderInContext(g->ctx);
	g->kernels->offsets = LLVMAddGlobal(g->mod, g->i64, "nnm.offsets.tmp");
	memset(g->kernels->slot, 0, sizeof *g->kernels->slot * g->kernels->cap);
}

static LLVMValueRef at_offset(Gen *g, LLVMBuilderRef b, LLVMValueRef base, LLVMValueRef off, LLVMValueRef fixed)
{
	if (fixed) {
		off = LLVMBuildNUWMul(b, off, g->batch, "");
		off = LLVMBuildNUWAdd(b, off, fixed, "");
	}
	return LLVMBuildInBoundsGEP2(b, LLVMInt8TypeInContext(g->ctx), base, &off, 1, "");
}

static LLVMValueRef table_entry(Gen *g, Outline *o, int i)
{
	LLVMValueRef idx = LLVMConstInt(g->i64, (unsigned long long)i, 0);
	LLVMValueRef p = LLVMBuildInBoundsGEP2(o->entry, g->i64, LLVMGetParam(o->fn, P_OFFSETS), &idx, 1, "");
	return LLVMBuildLoad2(o->entry, g->i64, p, "");
}

/* An address the kernel reads from its table, made once in the entry
 * block (so it dominates every use and the same tensor is one pointer). */
static LLVMValueRef thunk(Gen *g, Outline *o, LLVMValueRef base, int64_t off, int per_sample, int64_t fixed)
{
	for (int i = 0; i < o->n; i++)
		if (o->t[i].base == base && o->t[i].off == off && o->t[i].per_sample == per_sample && o->t[i].fixed == fixed)
			return o->t[i].addr;
	if (o->n == o->cap) {
		o->cap = o->cap ? 2 * o->cap : 8;
		o->t = heap(o->t, sizeof *o->t * (size_t)o->cap);
	}
	LLVMValueRef v = table_entry(g, o, 2 * o->n), f = per_sample ? table_entry(g, o, 2 * o->n + 1) : NULL;
	o->t[o->n] = (Thunk){ base, at_offset(g, o->entry, base, v, f), off, fixed, per_sample };
	return o->t[o->n++].addr;
}

/* base + off (times B plus fixed for a per-sample buffer).  Inside a
 * kernel function, an offset from the state or scratch block comes from
 * the table; any other base (a scan's workspace) stays a constant. */
LLVMValueRef gen_offset_addr(Gen *g, LLVMValueRef base, int64_t off, int per_sample, int64_t fixed)
{
	Outline *o = g->outline;
	if (o && (base == LLVMGetParam(o->fn, P_STATE) || base == LLVMGetParam(o->fn, P_SCRATCH)))
		return thunk(g, o, base, off, per_sample, fixed);
	return at_offset(g, g->b, base, LLVMConstInt(g->i64, (unsigned long long)off, 0),
	                 per_sample ? LLVMConstInt(g->i64, (unsigned long long)fixed, 0) : NULL);
}

/* ---- what a kernel's code is, as bytes ----------------------------------
 *
 * Two kernels are the same code when their instructions are, one for one:
 * opcode, type, flags, operands.  An operand that is an instruction or a
 * block is its place in the function, a parameter its number, a function
 * its name, any other constant itself (LLVM makes one of each constant in
 * a context, so the pointer names it); metadata (the alias scopes, a
 * domain per kernel) is numbered in the order it first appears.  Printing
 * the function would say the same, but LLVM's printer numbers the whole
 * module first, and so took time quadratic in the program. */
typedef struct Enc {
	unsigned char *b;
	size_t n, cap;
	const void **key;           /* instructions and blocks by address ... */
	uint64_t *val;              /* ... to their place */
	size_t mask;
	const void **md;
	size_t nmd, capmd;
	LLVMValueRef fn;
	int opaque;                 /* a constant expression: not compared, the kernel is its own */
} Enc;

static void put(Enc *e, uint64_t v)
{
	if (e->n + 8 > e->cap)
		e->b = heap(e->b, e->cap = 2 * e->cap + 256);
	memcpy(e->b + e->n, &v, 8);
	e->n += 8;
}

static void put_name(Enc *e, LLVMValueRef v)
{
	size_t len;
	const char *name = LLVMGetValueName2(v, &len);
	put(e, len);
	for (size_t i = 0; i < len; i += 8) {
		uint64_t w = 0;
		memcpy(&w, name + i, len - i < 8 ? len - i : 8);
		put(e, w);
	}
}

static size_t slot_of(const Enc *e, const void *p)
{
	size_t i = ((uintptr_t)p >> 4) & e->mask;
	while (e->key[i] && e->key[i] != p)
		i = (i + 1) & e->mask;
	return i;
}

static void number(Enc *e, const void *p, uint64_t place)
{
	size_t i = slot_of(e, p);
	e->key[i] = p;
	e->val[i] = place;
}

static void put_md(Enc *e, const void *m)
{
	size_t i = 0;
	while (i < e->nmd && e->md[i] != m)
		i++;
	if (i == e->nmd) {
		if (e->nmd == e->capmd)
			e->md = heap(e->md, sizeof *e->md * (e->capmd = 2 * e->capmd + 16));
		e->md[e->nmd++] = m;
	}
	put(e, i);
}

static void put_operand(Enc *e, LLVMValueRef v)
{
	size_t i = slot_of(e, v);
	if (e->key[i]) {
		put(e, 'I');
		put(e, e->val[i]);
	} else if (LLVMIsAArgument(v)) {
		unsigned k = 0;
		while (LLVMGetParam(e->fn, k) != v)
			k++;
		put(e, 'A');
		put(e, k);
	} else if (LLVMIsAGlobalValue(v)) {
		put(e, 'G');
		put_name(e, v);
	} else if (LLVMIsAConstantExpr(v) || LLVMIsAMDNode(v) || LLVMIsAMDString(v) || LLVMIsAValueAsMetadata(v)) {
		e->opaque = 1;
	} else {
		put(e, 'C');
		put(e, (uintptr_t)v);
	}
}

static void put_flags(Enc *e, LLVMValueRef in, LLVMOpcode op)
{
	switch (op) {
	case LLVMAdd: case LLVMSub: case LLVMMul: case LLVMShl:
		put(e, (uint64_t)LLVMGetNUW(in) << 1 | (uint64_t)LLVMGetNSW(in));
		break;
	case LLVMUDiv: case LLVMSDiv: case LLVMLShr: case LLVMAShr:
		put(e, (uint64_t)LLVMGetExact(in));
		break;
	case LLVMZExt:
		put(e, (uint64_t)LLVMGetNNeg(in));
		break;
	case LLVMOr:
		put(e, (uint64_t)LLVMGetIsDisjoint(in));
		break;
	case LLVMICmp:
		put(e, (uint64_t)LLVMGetICmpPredicate(in));
		break;
	case LLVMFCmp:
		put(e, (uint64_t)LLVMGetFCmpPredicate(in));
		break;
	case LLVMGetElementPtr:
		put(e, (uintptr_t)LLVMGetGEPSourceElementType(in));
		put(e, (uint64_t)LLVMIsInBounds(in));
		break;
	case LLVMLoad: case LLVMStore:
		put(e, (uint64_t)LLVMGetAlignment(in) << 8 | (uint64_t)LLVMGetVolatile(in) << 4 | LLVMGetOrdering(in));
		break;
	case LLVMAlloca:
		put(e, (uintptr_t)LLVMGetAllocatedType(in));
		put(e, (uint64_t)LLVMGetAlignment(in));
		break;
	case LLVMCall:
		put(e, (uintptr_t)LLVMGetCalledFunctionType(in));
		put(e, (uint64_t)LLVMGetInstructionCallConv(in) << 4 | LLVMGetTailCallKind(in));
		break;
	case LLVMPHI:
		for (unsigned k = 0; k < LLVMCountIncoming(in); k++)
			put_operand(e, LLVMBasicBlockAsValue(LLVMGetIncomingBlock(in, k)));
		break;
	case LLVMShuffleVector:
		for (unsigned k = 0; k < LLVMGetNumMaskElements(in); k++)
			put(e, (uint64_t)(int64_t)LLVMGetMaskValue(in, k));
		break;
	default:    /* the rest say all they do in their opcode, type and operands */
		break;
	}
	if (LLVMCanValueUseFastMathFlags(in))
		put(e, LLVMGetFastMathFlags(in));
}

static void put_instruction(Enc *e, LLVMValueRef in)
{
	LLVMOpcode op = LLVMGetInstructionOpcode(in);
	put(e, op);
	put(e, (uintptr_t)LLVMTypeOf(in));
	put_flags(e, in, op);
	int n = LLVMGetNumOperands(in);
	put(e, (uint64_t)n);
	for (int k = 0; k < n; k++)
		put_operand(e, LLVMGetOperand(in, (unsigned)k));
	size_t nmd;
	LLVMValueMetadataEntry *md = LLVMInstructionGetAllMetadataOtherThanDebugLoc(in, &nmd);
	put(e, nmd);
	for (unsigned k = 0; k < nmd; k++) {
		put(e, LLVMValueMetadataEntriesGetKind(md, k));
		put_md(e, LLVMValueMetadataEntriesGetMetadata(md, k));
	}
	LLVMDisposeValueMetadataEntries(md);
}

/* fn's code as bytes (*len of them); NULL when it cannot be compared */
static unsigned char *encode(LLVMValueRef fn, size_t *len)
{
	Enc e = { .fn = fn };
	size_t count = 0;
	for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
		for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in), count++)
			;
	size_t cap = 16;
	while (cap < 2 * (count + LLVMCountBasicBlocks(fn)))
		cap *= 2;
	e.mask = cap - 1;
	e.key = heap(NULL, sizeof *e.key * cap);
	memset(e.key, 0, sizeof *e.key * cap);
	e.val = heap(NULL, sizeof *e.val * cap);
	uint64_t place = 0;
	for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
		number(&e, LLVMBasicBlockAsValue(bb), place++);
		for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in))
			number(&e, in, place++);
	}
	for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb)) {
		put(&e, 'B');
		for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in))
			put_instruction(&e, in);
	}
	free(e.key);
	free(e.val);
	free(e.md);
	*len = e.n;
	if (e.opaque) {
		free(e.b);
		return NULL;
	}
	return e.b;
}

static uint64_t fnv1a(const unsigned char *s, size_t n)
{
	uint64_t h = 1469598103934665603ull;
	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * 1099511628211ull;
	return h;
}

static void grow(Kernels *ks)
{
	Kernel *old = ks->slot;
	size_t oldcap = ks->cap;
	ks->cap *= 2;
	ks->slot = heap(NULL, sizeof *ks->slot * ks->cap);
	memset(ks->slot, 0, sizeof *ks->slot * ks->cap);
	for (size_t i = 0; i < oldcap; i++) {
		if (!old[i].fn)
			continue;
		size_t j = old[i].hash & (ks->cap - 1);
		while (ks->slot[j].fn)
			j = (j + 1) & (ks->cap - 1);
		ks->slot[j] = old[i];
	}
	free(old);
}

/* The function that does what fn does: an earlier one with the same
 * code (fn is deleted), else fn itself, remembered. */
static LLVMValueRef share(Gen *g, LLVMValueRef fn)
{
	Kernels *ks = g->kernels;
	size_t len;
	unsigned char *text = encode(fn, &len);
	if (!text)
		return fn;
	uint64_t h = fnv1a(text, len);
	size_t j = h & (ks->cap - 1);
	for (; ks->slot[j].fn; j = (j + 1) & (ks->cap - 1))
		if (ks->slot[j].hash == h && ks->slot[j].len == len && !memcmp(ks->slot[j].text, text, len)) {
			free(text);
			LLVMDeleteFunction(fn);
			return ks->slot[j].fn;
		}
	ks->slot[j] = (Kernel){ heap(text, len + 1), len, h, fn };
	if (++ks->n * 2 > ks->cap)
		grow(ks);
	return fn;
}

/* Drop what the entry block loaded and nothing used, last first. */
static void prune_entry(LLVMValueRef fn)
{
	LLVMValueRef i = LLVMGetPreviousInstruction(LLVMGetBasicBlockTerminator(LLVMGetEntryBasicBlock(fn)));
	while (i) {
		LLVMValueRef prev = LLVMGetPreviousInstruction(i);
		if (!LLVMGetFirstUse(i))
			LLVMInstructionEraseFromParent(i);
		i = prev;
	}
}

/* The call in the caller: its own step, batch and blocks, and where its
 * offsets start in the module's one table of them (a global per call was
 * 48,000 globals for LLVM to walk in a deep network). */
static void call_kernel(Gen *g, LLVMValueRef fn, const Outline *o)
{
	Kernels *ks = g->kernels;
	LLVMValueRef table = LLVMConstPointerNull(g->ptr);
	if (o->n > 0) {
		LLVMValueRef at = LLVMConstInt(g->i64, (unsigned long long)ks->noffs, 0);
		table = LLVMConstInBoundsGEP2(g->i64, ks->offsets, &at, 1);
		if (ks->noffs + 2 * (size_t)o->n > ks->capoffs)
			ks->offs = heap(ks->offs, sizeof *ks->offs * (ks->capoffs = 2 * ks->capoffs + 2 * (size_t)o->n));
		for (int i = 0; i < o->n; i++) {
			ks->offs[ks->noffs++] = LLVMConstInt(g->i64, (unsigned long long)o->t[i].off, 0);
			ks->offs[ks->noffs++] = LLVMConstInt(g->i64, (unsigned long long)o->t[i].fixed, 0);
		}
	}
	LLVMValueRef args[P__COUNT] = { g->step, g->batch, g->state, g->scratch, g->loss_tmp, table };
	LLVMBuildCall2(g->b, ks->fty, fn, args, P__COUNT, "");
}

/* What the code generator sees inside kernel function k. */
static void take_view(Gen *g, const Gen *k)
{
	g->func = k->func;
	g->step = k->step;
	g->batch = k->batch;
	g->state = k->state;
	g->scratch = k->scratch;
	g->loss_tmp = k->loss_tmp;
	g->loss_ptr = k->loss_ptr;
	memcpy(g->io, k->io, sizeof g->io);
	memcpy(g->hyper, k->hyper, sizeof g->hyper);
}

/* Enter a kernel function: its entry block loads what the step holds,
 * and g writes into its body.  A function that a node left empty is the
 * next node's (one made and deleted per node was a fifth of the time). */
static void open_kernel(Gen *g, Outline *o)
{
	Kernels *ks = g->kernels;
	if (ks->spare) {
		take_view(g, &ks->view);
		ks->spare = NULL;
	} else {
		LLVMValueRef fn = gen_function(g, xprintf("nnm_%s.k%d", g->fn->name, ks->count++), ks->fty);
		LLVMSetLinkage(fn, LLVMInternalLinkage);
		LLVMBasicBlockRef body = LLVMAppendBasicBlockInContext(g->ctx, fn, "body");
		LLVMPositionBuilderAtEnd(g->b, LLVMInsertBasicBlockInContext(g->ctx, body, "entry"));
		gen_load_step(g, LLVMGetParam(fn, P_STEP));
		g->func = fn;
		g->batch = LLVMGetParam(fn, P_BATCH);
		g->state = LLVMGetParam(fn, P_STATE);
		g->scratch = LLVMGetParam(fn, P_SCRATCH);
		g->loss_tmp = LLVMGetParam(fn, P_LOSS_CELL);
		LLVMBuildBr(g->b, body);
		ks->view = *g;
	}
	o->fn = g->func;
	o->body = LLVMGetLastBasicBlock(o->fn);
	o->entry = ks->entry;
	LLVMPositionBuilderBefore(o->entry, LLVMGetBasicBlockTerminator(LLVMGetEntryBasicBlock(o->fn)));
	LLVMPositionBuilderAtEnd(g->b, o->body);
	g->outline = o;
}

/* Node n's code into a kernel function, then a call to it (or to the
 * same code written before); nothing when n writes no code. */
void gen_outlined(Gen *g, Node *n)
{
	Gen caller = *g;   /* restored after, but for the kernel count */
	LLVMBasicBlockRef at = LLVMGetInsertBlock(g->b);
	Outline o = { 0 };
	open_kernel(g, &o);
	gen_node(g, n);
	int empty = LLVMGetInsertBlock(g->b) == o.body && !LLVMGetFirstInstruction(o.body);
	if (!empty)
		LLVMBuildRetVoid(g->b);
	int nkernel = g->nkernel;
	*g = caller;
	g->nkernel = nkernel;
	LLVMPositionBuilderAtEnd(g->b, at);
	if (empty)
		g->kernels->spare = o.fn;
	else {
		prune_entry(o.fn);
		call_kernel(g, share(g, o.fn), &o);
	}
	free(o.t);
}

/* ---- runs of calls as a loop over a table ------------------------------
 *
 * A deep network's step is then thousands of calls in a row, each to a
 * shared kernel with its own offsets, and LLVM's time goes to selecting
 * and scheduling the calls.  RUN_CALLS or more in a row become a loop
 * over a constant table of (kernel, offsets): the same calls in the same
 * order, and code that does not grow with the program. */
enum { RUN_CALLS = 8 };

static int shared_call(Gen *g, LLVMValueRef in, LLVMValueRef like, unsigned never)
{
	if (!in || LLVMGetInstructionOpcode(in) != LLVMCall)
		return 0;
	LLVMValueRef f = LLVMGetCalledValue(in);
	if (!LLVMIsAFunction(f) || LLVMGlobalGetValueType(f) != g->kernels->fty ||
	    !LLVMGetEnumAttributeAtIndex(f, LLVMAttributeFunctionIndex, never))
		return 0;
	for (int k = 0; k < P_OFFSETS && like; k++)
		if (LLVMGetOperand(in, (unsigned)k) != LLVMGetOperand(like, (unsigned)k))
			return 0;
	return 1;
}

/* The loop's branch back: never unrolled, which would write the calls
 * out again. */
static void no_unroll(Gen *g, LLVMValueRef br)
{
	LLVMMetadataRef self = LLVMTemporaryMDNode(g->ctx, NULL, 0);
	const char *what = "llvm.loop.unroll.disable";
	LLVMMetadataRef s = LLVMMDStringInContext2(g->ctx, what, strlen(what));
	LLVMMetadataRef ops[2] = { self, LLVMMDNodeInContext2(g->ctx, &s, 1) };
	LLVMMetadataRef loop = LLVMMDNodeInContext2(g->ctx, ops, 2);
	LLVMMetadataReplaceAllUsesWith(self, loop);
	LLVMSetMetadata(br, LLVMGetMDKindIDInContext(g->ctx, "llvm.loop", 9), LLVMMetadataAsValue(g->ctx, loop));
}

/* Kernel f's place in the table of shared kernels, from the map m of
 * the ones placed so far. */
static uint64_t kernel_place(Gen *g, Enc *m, LLVMValueRef f)
{
	Kernels *ks = g->kernels;
	size_t i = slot_of(m, f);
	if (m->key[i])
		return m->val[i];
	if (ks->nshared == ks->capshared)
		ks->shared = heap(ks->shared, sizeof *ks->shared * (ks->capshared = 2 * ks->capshared + 16));
	ks->shared[ks->nshared] = f;
	number(m, f, ks->nshared);
	return ks->nshared++;
}

/* Where a call's offsets start in the table of offsets (0 for none). */
static uint64_t offsets_place(LLVMValueRef call)
{
	LLVMValueRef at = LLVMGetOperand(call, P_OFFSETS);
	return LLVMIsAConstantExpr(at) ? LLVMConstIntGetZExtValue(LLVMGetOperand(at, 1)) : 0;
}

/* The run's (kernel, offsets) as numbers: places in the two tables, so
 * the rows need no relocation. */
static LLVMValueRef call_table(Gen *g, Enc *m, LLVMTypeRef row_t, LLVMValueRef first, int n)
{
	LLVMValueRef *rows = heap(NULL, sizeof *rows * (size_t)n), in = first;
	for (int i = 0; i < n; i++) {
		LLVMValueRef row[2] = { LLVMConstInt(g->i64, kernel_place(g, m, LLVMGetCalledValue(in)), 0),
		                        LLVMConstInt(g->i64, offsets_place(in), 0) };
		rows[i] = LLVMConstNamedStruct(row_t, row, 2);
		in = LLVMGetNextInstruction(in);
	}
	LLVMValueRef init = LLVMConstArray2(row_t, rows, (uint64_t)n);
	LLVMValueRef table = LLVMAddGlobal(g->mod, LLVMTypeOf(init), "nnm.calls");
	LLVMSetInitializer(table, init);
	LLVMSetGlobalConstant(table, 1);
	LLVMSetLinkage(table, LLVMPrivateLinkage);
	free(rows);
	return table;
}

static LLVMValueRef row_field(Gen *g, LLVMBuilderRef b, LLVMTypeRef row_t, LLVMValueRef table, LLVMValueRef i, int k)
{
	LLVMValueRef at[2] = { i, LLVMConstInt(g->i32, (unsigned long long)k, 0) };
	return LLVMBuildLoad2(b, g->i64, LLVMBuildInBoundsGEP2(b, row_t, table, at, 2, ""), "");
}

/* The n calls from first on as a loop over their table; the block's
 * rest moves to a block after the loop, which is returned. */
static LLVMBasicBlockRef call_loop(Gen *g, Enc *m, LLVMBuilderRef b, LLVMValueRef first, int n)
{
	Kernels *ks = g->kernels;
	LLVMBasicBlockRef bb = LLVMGetInstructionParent(first);
	LLVMValueRef fn = LLVMGetBasicBlockParent(bb), args[P__COUNT];
	LLVMTypeRef two[2] = { g->i64, g->i64 };
	LLVMTypeRef row_t = LLVMStructTypeInContext(g->ctx, two, 2, 0);
	LLVMValueRef table = call_table(g, m, row_t, first, n);
	for (int k = 0; k < P__COUNT; k++)
		args[k] = LLVMGetOperand(first, (unsigned)k);
	LLVMBasicBlockRef loop = LLVMAppendBasicBlockInContext(g->ctx, fn, "calls");
	LLVMBasicBlockRef after = LLVMAppendBasicBlockInContext(g->ctx, fn, "after");
	LLVMValueRef in = first;
	for (int i = 0; i < n; i++) {
		LLVMValueRef next = LLVMGetNextInstruction(in);
		LLVMInstructionEraseFromParent(in);
		in = next;
	}
	LLVMPositionBuilderAtEnd(b, after);
	while (in) {
		LLVMValueRef next = LLVMGetNextInstruction(in);
		LLVMInstructionRemoveFromParent(in);
		LLVMInsertIntoBuilder(b, in);
		in = next;
	}
	LLVMPositionBuilderAtEnd(b, bb);
	LLVMBuildBr(b, loop);
	LLVMPositionBuilderAtEnd(b, loop);
	LLVMValueRef i = LLVMBuildPhi(b, g->i64, "i");
	LLVMValueRef k = row_field(g, b, row_t, table, i, 0), at = row_field(g, b, row_t, table, i, 1);
	LLVMValueRef callee = LLVMBuildLoad2(b, g->ptr, LLVMBuildInBoundsGEP2(b, g->ptr, ks->kernels, &k, 1, ""), "");
	args[P_OFFSETS] = LLVMBuildInBoundsGEP2(b, g->i64, ks->offsets, &at, 1, "");
	LLVMBuildCall2(b, ks->fty, callee, args, P__COUNT, "");
	LLVMValueRef next = LLVMBuildNUWAdd(b, i, LLVMConstInt(g->i64, 1, 0), "");
	LLVMValueRef more = LLVMBuildICmp(b, LLVMIntULT, next, LLVMConstInt(g->i64, (unsigned long long)n, 0), "");
	no_unroll(g, LLVMBuildCondBr(b, more, loop, after));
	LLVMValueRef from[2] = { LLVMConstInt(g->i64, 0, 0), next };
	LLVMBasicBlockRef pred[2] = { bb, loop };
	LLVMAddIncoming(i, from, pred, 2);
	return after;
}

/* A private constant table of init's type in place of the stand-in. */
static void replace_stand_in(Gen *g, LLVMValueRef stand_in, LLVMValueRef init, const char *name)
{
	LLVMValueRef table = LLVMAddGlobal(g->mod, LLVMTypeOf(init), name);
	LLVMSetInitializer(table, init);
	LLVMSetGlobalConstant(table, 1);
	LLVMSetLinkage(table, LLVMPrivateLinkage);
	LLVMReplaceAllUsesWith(stand_in, table);
	LLVMDeleteGlobal(stand_in);
}

/* Every run of RUN_CALLS or more calls to shared kernels, with the same
 * step, batch and blocks, in every function. */
static void loop_runs(Gen *g, unsigned never)
{
	Kernels *ks = g->kernels;
	LLVMBuilderRef b = LLVMCreateBuilderInContext(g->ctx);
	Enc m = { 0 };
	size_t nfn = 0, cap = 16;
	for (LLVMValueRef fn = LLVMGetFirstFunction(g->mod); fn; fn = LLVMGetNextFunction(fn))
		nfn++;
	while (cap < 2 * nfn)
		cap *= 2;
	m.mask = cap - 1;
	m.key = heap(NULL, sizeof *m.key * cap);
	memset(m.key, 0, sizeof *m.key * cap);
	m.val = heap(NULL, sizeof *m.val * cap);
	ks->kernels = LLVMAddGlobal(g->mod, g->ptr, "nnm.kernels.tmp");
	for (LLVMValueRef fn = LLVMGetFirstFunction(g->mod); fn; fn = LLVMGetNextFunction(fn))
		for (LLVMBasicBlockRef bb = LLVMGetFirstBasicBlock(fn); bb; bb = LLVMGetNextBasicBlock(bb))
			for (LLVMValueRef in = LLVMGetFirstInstruction(bb); in; in = LLVMGetNextInstruction(in)) {
				if (!shared_call(g, in, NULL, never))
					continue;
				int n = 1;
				for (LLVMValueRef c = LLVMGetNextInstruction(in); shared_call(g, c, in, never);
				     c = LLVMGetNextInstruction(c))
					n++;
				if (n >= RUN_CALLS) {
					call_loop(g, &m, b, in, n);
					break;          /* the block's rest is in the next block now */
				}
				for (int k = 1; k < n; k++)
					in = LLVMGetNextInstruction(in);
			}
	LLVMDisposeBuilder(b);
	free(m.key);
	free(m.val);
	if (ks->nshared > 0)
		replace_stand_in(g, ks->kernels, LLVMConstArray2(g->ptr, ks->shared, ks->nshared), "nnm.kernels");
	else
		LLVMDeleteGlobal(ks->kernels);
	free(ks->shared);
}

/* Calls below which a kernel goes back inline.  The forward pass is in
 * both eval and grad, so most kernels of any program are called twice;
 * they are inlined as before (the examples' code stays what it was, not
 * one function called with offsets), and a kernel is shared when a layer
 * repeats, where sharing saves the compile time of every copy. */
enum { SHARE_CALLS = 4 };

/* Once every call is written: a kernel called from fewer than
 * SHARE_CALLS places goes back inline, one called from more stays one
 * function. */
void outline_finish(Gen *g)
{
	Kernels *ks = g->kernels;
	unsigned always = LLVMGetEnumAttributeKindForName("alwaysinline", 12);
	unsigned never = LLVMGetEnumAttributeKindForName("noinline", 8);
	for (size_t i = 0; i < ks->cap; i++) {
		if (!ks->slot[i].fn)
			continue;
		int calls = 0;
		for (LLVMUseRef u = LLVMGetFirstUse(ks->slot[i].fn); u && calls < SHARE_CALLS; u = LLVMGetNextUse(u))
			calls++;
		unsigned kind = calls < SHARE_CALLS ? always : never;
		LLVMAddAttributeAtIndex(ks->slot[i].fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(g->ctx, kind, 0));
		free(ks->slot[i].text);
	}
	loop_runs(g, never);
	if (ks->noffs > 0)
		replace_stand_in(g, ks->offsets, LLVMConstArray2(g->i64, ks->offs, ks->noffs), "nnm.offsets");
	else if (LLVMGetFirstUse(ks->offsets))   /* loops over kernels that read none */
		replace_stand_in(g, ks->offsets, LLVMConstArray2(g->i64, &(LLVMValueRef){ LLVMConstInt(g->i64, 0, 0) }, 1),
		                 "nnm.offsets");
	else
		LLVMDeleteGlobal(ks->offsets);
	free(ks->offs);
	if (ks->spare)
		LLVMDeleteFunction(ks->spare);
	LLVMDisposeBuilder(ks->entry);
	free(ks->slot);
	free(ks);
	g->kernels = NULL;
}
