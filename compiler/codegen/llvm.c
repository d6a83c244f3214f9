/* llvm.c — the scheduled IR to an object file through the LLVM C API.
 *
 * The object exports nnm_eval, nnm_grad and nnm_update (one per Fn of the
 * Module, each taking an nnrt_step *), nnm_descriptor, the text that
 * tells the runtime what to allocate, and nnm_listing, the step as
 * --emit=grad prints it (the trainer's trace runs it).  Every tensor's address follows
 * from the memory plan: parameters at state + Slot.offset, io tensors at
 * step->io[Slot.io], planned buffers in the scratch block, a value with a
 * home in its slot, a reshape at its operand's address.  Fusion groups
 * and reductions are in llvm_kernel.c, loop nests in llvm_nest.c.  A
 * staged program is one object per stage (symbol, gen_stage_table). */
#include <string.h>
#include <llvm-c/Analysis.h>
#include <llvm-c/Target.h>
#include <llvm-c/TargetMachine.h>
#include <llvm-c/Transforms/PassBuilder.h>
#include "llvm_gen.h"

/* ---- sizes known up to the batch ------------------------------------ */

/* The element count of s: a constant times B when s has the batch. */
Sym sym_dim_count(Shape s)
{
	return (Sym){ shape_per_sample(s), shape_has_batch(s) };
}

Sym sym_dim(int64_t d)
{
	return d == DIM_BATCH ? (Sym){ 1, 1 } : (Sym){ d, 0 };
}

Sym sym_mul(Sym a, Sym b)
{
	return (Sym){ a.c * b.c, a.b + b.b };
}

LLVMValueRef gen_sym(Gen *g, Sym s)
{
	LLVMValueRef v = LLVMConstInt(g->i64, (unsigned long long)s.c, 0);
	for (int i = 0; i < s.b; i++)
		v = s.c == 1 && i == 0 ? g->batch : LLVMBuildNUWMul(g->b, v, g->batch, "");
	return v;
}

LLVMTypeRef gen_type(Gen *g, DType dt)
{
	return dt == DT_F64 ? g->f64 : dt == DT_F32 ? g->f32 : g->i32;
}

/* ---- addresses ---------------------------------------------------------- */

static int state_role(SlotRole r)
{
	return slot_is_state(r);
}

static int io_role(SlotRole r)
{
	return r == SLOT_INPUT || r == SLOT_TARGET || r == SLOT_OUTPUT;
}

LLVMValueRef gen_slot_addr(Gen *g, int slot)
{
	const Slot *s = &g->m->slot[slot];
	if (state_role(s->role))
		return gen_offset_addr(g, g->state, s->offset, 0, 0);
	if (io_role(s->role)) {
		if (s->io < 0 || s->io >= NNRT_MAX_IO)
			fatal(EXIT_INTERNAL, "llvm: slot %s has io index %d", s->name, s->io);
		return g->io[s->io];
	}
	if (s->role == SLOT_LOSS)
		return g->loss_tmp;   /* a value homed into the loss; its store widens it */
	fatal(EXIT_INTERNAL, "llvm: slot %s has no address", s->name);
}

Region gen_slot_region(Gen *g, int slot)
{
	const Slot *s = &g->m->slot[slot];
	if (state_role(s->role)) {
		int64_t bytes = shape_has_batch(s->shape) ? INT64_MAX / 2
			: shape_numel(s->shape, 1) * dtype_size(s->dt);
		return (Region){ R_STATE, -1, s->offset, s->offset + bytes };
	}
	if (io_role(s->role))
		return (Region){ R_IO, s->io, 0, 0 };
	if (s->role == SLOT_LOSS)
		return (Region){ R_LOSS, -1, 0, 1 };
	return (Region){ R_NONE, -1, 0, 0 };
}

static const Buffer *node_buffer(Gen *g, const Node *n)
{
	if (n->buf < 0 || n->buf >= g->fn->nbuf)
		fatal(EXIT_INTERNAL, "llvm: %%%d (%s) in %s has no memory (buffer %d)",
		      n->id, op_info[n->op].name, g->fn->name, n->buf);
	return &g->fn->buf[n->buf];
}

LLVMValueRef gen_addr(Gen *g, const Node *n)
{
	if (n->op == OP_reshape)
		return gen_addr(g, n->in[0]);
	if (n->home >= 0)
		return gen_slot_addr(g, n->home);
	if (n->op == OP_param || n->op == OP_input)
		return gen_slot_addr(g, n->slot);
	const Buffer *b = node_buffer(g, n);
	return gen_offset_addr(g, g->scratch, b->offset, b->batch, b->batch ? g->fn->scratch_fixed : 0);
}

Region gen_region(Gen *g, const Node *n)
{
	if (n->op == OP_reshape)
		return gen_region(g, n->in[0]);
	if (n->home >= 0)
		return gen_slot_region(g, n->home);
	if (n->op == OP_param || n->op == OP_input)
		return gen_slot_region(g, n->slot);
	const Buffer *b = node_buffer(g, n);
	return (Region){ b->batch ? R_BATCH : R_FIXED, -1, b->offset, b->offset + b->size };
}

int gen_is_scalar(Gen *g, const Node *n)
{
	return n->op == OP_const || n->op == OP_batch
	    || (n->op == OP_input && g->m->slot[n->slot].role == SLOT_HYPER);
}

LLVMValueRef gen_scalar(Gen *g, const Node *n)
{
	LLVMTypeRef t = gen_type(g, n->dt);
	if (n->op == OP_const)
		return LLVMConstReal(t, n->f);
	if (n->op == OP_batch)
		return LLVMBuildSIToFP(g->b, g->batch, t, "B");
	if (gen_is_scalar(g, n)) {
		int io = g->m->slot[n->slot].io;
		if (io < 0 || io >= NNRT_MAX_HYPER)
			fatal(EXIT_INTERNAL, "llvm: hyperparameter %s has index %d", g->m->slot[n->slot].name, io);
		return t == g->f64 ? g->hyper[io] : LLVMBuildFPTrunc(g->b, g->hyper[io], t, "");
	}
	return NULL;
}

/* ---- calls --------------------------------------------------------------- */

LLVMValueRef gen_intrinsic(Gen *g, const char *name, LLVMTypeRef ty, LLVMValueRef *args, int nargs)
{
	unsigned id = LLVMLookupIntrinsicID(name, strlen(name));
	if (!id)
		fatal(EXIT_INTERNAL, "llvm: no intrinsic %s", name);
	LLVMValueRef fn = LLVMGetIntrinsicDeclaration(g->mod, id, &ty, 1);
	LLVMTypeRef fty = LLVMIntrinsicGetType(g->ctx, id, &ty, 1);
	return LLVMBuildCall2(g->b, fty, fn, args, (unsigned)nargs, "");
}

/* C = op(A) op(B) through nnrt_gemm_[sd] (runtime/gemm.c: CBLAS in tiles
 * fixed by the shape), row-major; leading dimensions are the stored column
 * counts (last dims) of each operand, whose leading dims are flattened
 * into rows (ir_matmul). */
static void gen_matmul(Gen *g, const Node *n)
{
	const Node *a = n->in[0], *b = n->in[1];
	LLVMTypeRef ft = gen_type(g, n->dt);
	if (n->dt == DT_I32)
		fatal(EXIT_INTERNAL, "llvm: matmul of i32 %%%d", n->id);
	GemmDims d = matmul_dims(n);
	Sym dims[6] = { { d.m, d.mb }, { d.n, d.nb }, { d.k, d.kb }, sym_dim(a->shape.d[a->shape.rank - 1]),
			sym_dim(b->shape.d[b->shape.rank - 1]), { d.n, d.nb } };
	LLVMValueRef i32v[6];
	for (int i = 0; i < 6; i++)
		i32v[i] = LLVMBuildTrunc(g->b, gen_sym(g, dims[i]), g->i32, "");
	LLVMValueRef args[14] = {
		LLVMConstInt(g->i32, 101, 0),                       /* CblasRowMajor */
		LLVMConstInt(g->i32, n->ta ? 112 : 111, 0),         /* CblasTrans : CblasNoTrans */
		LLVMConstInt(g->i32, n->tb ? 112 : 111, 0),
		i32v[0], i32v[1], i32v[2], LLVMConstReal(ft, 1.0),
		gen_addr(g, a), i32v[3], gen_addr(g, b), i32v[4],
		LLVMConstReal(ft, 0.0), gen_addr(g, n), i32v[5],
	};
	gen_call(g, n->dt == DT_F64 ? "nnrt_gemm_f64" : "nnrt_gemm_f32", args, 14);
}

/* A stack of products through nnrt_bmm_[sd] (runtime/gemm.c), one per
 * element of the leading dims. */
static void gen_bmm(Gen *g, const Node *n)
{
	if (n->dt == DT_I32)
		fatal(EXIT_INTERNAL, "llvm: bmm of i32 %%%d", n->id);
	int64_t count;
	int count_b;
	GemmDims d = bmm_dims(n, &count, &count_b);
	LLVMValueRef args[9] = {
		LLVMConstInt(g->i32, (unsigned)n->ta, 0), LLVMConstInt(g->i32, (unsigned)n->tb, 0),
		gen_sym(g, (Sym){ count, count_b }),
		LLVMConstInt(g->i32, (unsigned long long)d.m, 0), LLVMConstInt(g->i32, (unsigned long long)d.n, 0),
		LLVMConstInt(g->i32, (unsigned long long)d.k, 0),
		gen_addr(g, n->in[0]), gen_addr(g, n->in[1]), gen_addr(g, n),
	};
	gen_call(g, n->dt == DT_F64 ? "nnrt_bmm_f64" : "nnrt_bmm_f32", args, 9);
}

/* Node.win as a constant nnrt_window, the geometry argument of
 * runtime/window.c and runtime/conv.c.  The fields are read from the
 * struct's own bytes, in their order in memory, so nnrt.h's declaration
 * is the only statement of the layout. */
enum { WIN_FIELDS = sizeof(nnrt_window) / sizeof(int32_t) };
_Static_assert(sizeof(nnrt_window) == WIN_FIELDS * sizeof(int32_t), "nnrt_window is int32_t fields only");

static LLVMValueRef gen_geometry(Gen *g, const Node *n)
{
	if (n->dt == DT_I32)
		fatal(EXIT_INTERNAL, "llvm: %s of i32 %%%d", op_info[n->op].name, n->id);
	int32_t field[WIN_FIELDS];
	memcpy(field, &n->win, sizeof field);
	LLVMValueRef w[WIN_FIELDS];
	LLVMTypeRef t[WIN_FIELDS];
	for (int i = 0; i < WIN_FIELDS; i++) {
		w[i] = LLVMConstInt(g->i32, (unsigned long long)(uint32_t)field[i], 0);
		t[i] = g->i32;
	}
	LLVMTypeRef st = LLVMGetTypeByName2(g->ctx, "nnrt_window");
	if (!st) {
		st = LLVMStructCreateNamed(g->ctx, "nnrt_window");
		LLVMStructSetBody(st, t, WIN_FIELDS, 0);
	}
	LLVMValueRef geometry = LLVMAddGlobal(g->mod, st, "window.geometry");
	LLVMSetInitializer(geometry, LLVMConstNamedStruct(st, w, WIN_FIELDS));
	LLVMSetGlobalConstant(geometry, 1);
	LLVMSetLinkage(geometry, LLVMPrivateLinkage);
	LLVMSetUnnamedAddr(geometry, 1);
	return geometry;
}

static const char *runtime_name(const Node *n)
{
	return xprintf("nnrt_%s_%s", op_info[n->op].name, n->dt == DT_F64 ? "f64" : "f32");
}

/* window / unwindow: a call to runtime/window.c with the image's dims,
 * the patch grid and the geometry. */
static void gen_window(Gen *g, const Node *n)
{
	const Node *img = n->op == OP_window ? n->in[0] : n;
	const Node *pat = n->op == OP_window ? n : n->in[0];
	LLVMValueRef args[10] = { gen_addr(g, n->in[0]), gen_addr(g, n) };
	for (int i = 0; i < 4; i++)
		args[2 + i] = gen_sym(g, sym_dim(img->shape.d[i]));
	args[6] = gen_sym(g, sym_dim(pat->shape.d[1]));
	args[7] = gen_sym(g, sym_dim(pat->shape.d[2]));
	args[8] = gen_geometry(g, n);
	args[9] = LLVMConstReal(gen_type(g, n->dt), n->f);
	gen_call(g, runtime_name(n), args, n->op == OP_window ? 10 : 9);
}

/* The patch block plan.c set aside for the conv kernels, in the fixed
 * part of the scratch block. */
static LLVMValueRef gen_patch_block(Gen *g, const Node *n)
{
	const Fn *fn = g->fn;
	const Buffer *b = fn->patch_buf >= 0 && fn->patch_buf < fn->nbuf ? &fn->buf[fn->patch_buf] : NULL;
	int64_t need = nnrt_conv_block_bytes(conv_shapes(n).weights.d[0], dtype_size(n->dt));
	if (!b || b->batch || b->size < need)
		fatal(EXIT_INTERNAL, "llvm: %s has no patch block of %lld bytes for %%%d", fn->name, (long long)need,
		      n->id);
	return gen_offset_addr(g, g->scratch, b->offset, 0, 0);
}

/* conv / conv_dw / conv_dx: a call to runtime/conv.c with both operands,
 * the result, the image's dims, the output grid, the geometry and the
 * patch block. */
static void gen_conv(Gen *g, const Node *n)
{
	ConvShapes s = conv_shapes(n);
	LLVMValueRef args[12] = { gen_addr(g, n->in[0]), gen_addr(g, n->in[1]), gen_addr(g, n) };
	for (int i = 0; i < 4; i++)
		args[3 + i] = gen_sym(g, sym_dim(s.image.d[i]));
	for (int i = 0; i < 3; i++)
		args[7 + i] = gen_sym(g, sym_dim(s.grid.d[i + 1]));
	args[10] = gen_geometry(g, n);
	args[11] = gen_patch_block(g, n);
	gen_call(g, runtime_name(n), args, 12);
}

/* The rows of the last axis of s (which is never B: shape.c), as a
 * value: the other dims' elements. */
static LLVMValueRef gen_rows(Gen *g, Shape s)
{
	Sym rows = sym_dim_count(s);
	rows.c /= s.d[s.rank - 1];
	return gen_sym(g, rows);
}

/* boxsum: runtime/window.c's sums along the last axis, row by row. */
static void gen_boxsum(Gen *g, const Node *n)
{
	int64_t len = n->shape.d[n->shape.rank - 1];
	LLVMValueRef args[5] = { gen_addr(g, n->in[0]), gen_addr(g, n), gen_rows(g, n->shape),
				 LLVMConstInt(g->i64, (unsigned long long)len, 0),
				 LLVMConstInt(g->i64, (unsigned long long)n->k, 0) };
	gen_call(g, runtime_name(n), args, 5);
}

/* nt_xent, nt_xent_grad: runtime/contrast.c, with the batch and the width
 * of a code. */
static void gen_contrast(Gen *g, const Node *n)
{
	LLVMValueRef args[7];
	int k = 0;
	for (int i = 0; i < n->nin; i++)
		args[k++] = gen_addr(g, n->in[i]);
	args[k++] = gen_addr(g, n);
	args[k++] = gen_sym(g, (Sym){ 1, 1 });
	args[k++] = LLVMConstInt(g->i64, (unsigned long long)n->in[n->nin - 1]->shape.d[1], 0);
	args[k++] = LLVMConstReal(g->f64, n->f);
	gen_call(g, runtime_name(n), args, k);
}

/* softmax: runtime/softmax.c over the rows of the last axis. */
static void gen_softmax(Gen *g, const Node *n)
{
	int64_t len = n->shape.d[n->shape.rank - 1];
	LLVMValueRef args[4] = { gen_addr(g, n->in[0]), gen_addr(g, n), gen_rows(g, n->shape),
				 LLVMConstInt(g->i64, (unsigned long long)len, 0) };
	gen_call(g, runtime_name(n), args, 4);
}

/* slice / unslice: runtime/window.c's strided block copy, with the count
 * of blocks before the axis (outer), the whole's and the part's extent
 * along it, the part's offset, and the bytes of what follows (inner). */
static void gen_slice(Gen *g, const Node *n)
{
	const Node *whole = n->op == OP_slice ? n->in[0] : n, *part = n->op == OP_slice ? n : n->in[0];
	int ax = slice_axis(n);
	/* B may lie on either side of the axis (never on it): both counts are Syms */
	Sym outer = { 1, 0 }, inner = { dtype_size(n->dt), 0 };
	for (int i = 0; i < ax; i++)
		outer = sym_mul(outer, sym_dim(whole->shape.d[i]));
	for (int i = ax + 1; i < whole->shape.rank; i++)
		inner = sym_mul(inner, sym_dim(whole->shape.d[i]));
	LLVMValueRef args[7] = { gen_addr(g, n->in[0]), gen_addr(g, n), gen_sym(g, outer),
				 LLVMConstInt(g->i64, (unsigned long long)whole->shape.d[ax], 0),
				 LLVMConstInt(g->i64, (unsigned long long)part->shape.d[ax], 0),
				 LLVMConstInt(g->i64, (unsigned long long)n->k, 0), gen_sym(g, inner) };
	gen_call(g, n->op == OP_slice ? "nnrt_slice" : "nnrt_unslice", args, 7);
}

/* gather / scatter_add: runtime/gather.c with the number of ids, the
 * table's rows (which it checks every id against) and its row length. */
static void gen_gather(Gen *g, const Node *n)
{
	Shape table = n->op == OP_gather ? n->in[0]->shape : n->shape;
	LLVMValueRef args[6] = { gen_addr(g, n->in[0]), gen_addr(g, n->in[1]), gen_addr(g, n),
				 gen_sym(g, sym_dim_count(n->in[1]->shape)),
				 LLVMConstInt(g->i64, (unsigned long long)table.d[0], 0),
				 LLVMConstInt(g->i64, (unsigned long long)table.d[1], 0) };
	gen_call(g, runtime_name(n), args, 6);
}

/* uniform: runtime/random.c fills the node's buffer from the seed, the
 * stream and the step (operand 0, a hyperparameter). */
static void gen_uniform(Gen *g, const Node *n)
{
	LLVMValueRef step = gen_scalar(g, n->in[0]);
	if (!step)
		fatal(EXIT_INTERNAL, "llvm: the step of uniform %%%d is not a scalar", n->id);
	if (LLVMTypeOf(step) != g->f64)
		step = LLVMBuildFPExt(g->b, step, g->f64, "");
	LLVMValueRef args[4] = { gen_addr(g, n), gen_sym(g, sym_dim_count(n->shape)),
				 LLVMConstInt(g->i64, (unsigned long long)n->k, 0), step };
	gen_call(g, n->dt == DT_F64 ? "nnrt_uniform_f64" : "nnrt_uniform_f32", args, 4);
}

/* ---- functions ------------------------------------------------------------- */

void gen_node(Gen *g, Node *n)
{
	const Fn *fn = g->fn;
	if (n->group >= 0) {
		if (n->group >= fn->ngroup)
			fatal(EXIT_INTERNAL, "llvm: %%%d names group %d of %d", n->id, n->group, fn->ngroup);
		const Group *gr = &fn->group[n->group];
		if (gr->n > 0 && gr->member[gr->n - 1] == n)
			gen_kernel(g, gr->shape, gr->member, gr->n);
		return;
	}
	int has_memory = n->buf >= 0 || n->home >= 0;
	switch (op_info[n->op].kind) {
	case K_LEAF:
		if (has_memory && (gen_is_scalar(g, n) || n->op == OP_iota))
			gen_kernel(g, n->shape, &n, 1);
		return;
	case K_ELEM: case K_BCAST: case K_INDEX:
		if (has_memory)
			gen_kernel(g, n->shape, &n, 1);
		return;
	case K_STORE:
		gen_kernel(g, n->shape, &n, 1);
		return;
	case K_LAYOUT:
		if (n->op == OP_transpose)
			gen_kernel(g, n->shape, &n, 1);
		return;                /* reshape: an alias of its operand */
	case K_REDUCE:
		gen_reduce(g, n);
		return;
	case K_MATMUL:
		gen_matmul(g, n);
		return;
	case K_BMM:
		gen_bmm(g, n);
		return;
	case K_WINDOW:
		gen_window(g, n);
		return;
	case K_CONV:
		gen_conv(g, n);
		return;
	case K_BOXSUM:
		gen_boxsum(g, n);
		return;
	case K_CONTRAST:
		gen_contrast(g, n);
		return;
	case K_SOFTMAX:
		gen_softmax(g, n);
		return;
	case K_RANDOM:
		gen_uniform(g, n);
		return;
	case K_SLICE:
		gen_slice(g, n);
		return;
	case K_GATHER:
		gen_gather(g, n);
		return;
	case K_SCAN:
		gen_scan(g, n);
		return;
	case K_YIELD:          /* the scan's loop copies what it names */
		return;
	}
}

/* The address of field (element index of an array field, or -1) of the
 * step, or its value when load is set: the type comes from the field. */
static LLVMValueRef step_field(Gen *g, LLVMValueRef step, int field, int index, int load)
{
	LLVMValueRef idx[3] = { LLVMConstInt(g->i32, 0, 0), LLVMConstInt(g->i32, (unsigned)field, 0),
				LLVMConstInt(g->i32, (unsigned)index, 0) };
	LLVMValueRef p = LLVMBuildInBoundsGEP2(g->b, g->step_t, step, idx, index >= 0 ? 3 : 2, "");
	LLVMTypeRef ty = LLVMStructGetTypeAtIndex(g->step_t, (unsigned)field);
	if (index >= 0)
		ty = LLVMGetElementType(ty);
	return load ? LLVMBuildLoad2(g->b, ty, p, "") : p;
}

void gen_load_step(Gen *g, LLVMValueRef step)
{
	g->step = step;
	g->batch = step_field(g, step, STEP_batch, -1, 1);
	g->state = step_field(g, step, STEP_state, -1, 1);
	g->scratch = step_field(g, step, STEP_scratch, -1, 1);
	for (int i = 0; i < NNRT_MAX_IO; i++)
		g->io[i] = step_field(g, step, STEP_io, i, 1);
	for (int i = 0; i < NNRT_MAX_HYPER; i++)
		g->hyper[i] = step_field(g, step, STEP_hyper, i, 1);
	g->loss_ptr = step_field(g, step, STEP_loss, -1, 0);
}

static void add_string_attr(Gen *g, LLVMValueRef fn, const char *k, const char *v)
{
	LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex,
				LLVMCreateStringAttribute(g->ctx, k, (unsigned)strlen(k), v, (unsigned)strlen(v)));
}

static LLVMValueRef add_function(Gen *g, const char *name, LLVMTypeRef fty, const char *cpu, const char *features)
{
	LLVMValueRef f = LLVMAddFunction(g->mod, name, fty);
	unsigned nounwind = LLVMGetEnumAttributeKindForName("nounwind", 8);
	LLVMAddAttributeAtIndex(f, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(g->ctx, nounwind, 0));
	add_string_attr(g, f, "target-cpu", cpu);
	add_string_attr(g, f, "target-features", features);
	return f;
}

LLVMValueRef gen_function(Gen *g, const char *name, LLVMTypeRef fty)
{
	return add_function(g, name, fty, g->cpu, g->features);
}

/* Nodes per piece of a large step function.  LLVM's loop analyses take
 * time quadratic in the loops of one function (ScalarEvolution looks for
 * guards through every dominating block): 250 dense layers, 3,000 nodes
 * in one function, took 29 s at -O1.  A large Fn becomes internal
 * functions of at most this many nodes, called in order and never
 * inlined; the kernels inside are the same, and a call per piece costs
 * nothing next to them.  A Fn this small stays one function. */
enum { PIECE_NODES = 256 };

/* Close the piece being written (if any) and open the next, called from
 * the end of the exported function `outer`. */
static void next_piece(Gen *g, LLVMValueRef outer, LLVMValueRef loss_cell, const char *cpu, const char *features)
{
	LLVMTypeRef params[2] = { g->ptr, g->ptr };
	LLVMTypeRef fty = LLVMFunctionType(LLVMVoidTypeInContext(g->ctx), params, 2, 0);
	if (g->func != outer)
		LLVMBuildRetVoid(g->b);
	LLVMValueRef piece = add_function(g, xprintf("%s.piece", LLVMGetValueName(outer)), fty, cpu, features);
	LLVMSetLinkage(piece, LLVMInternalLinkage);
	unsigned noinline = LLVMGetEnumAttributeKindForName("noinline", 8);
	LLVMAddAttributeAtIndex(piece, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(g->ctx, noinline, 0));
	LLVMPositionBuilderAtEnd(g->b, LLVMGetLastBasicBlock(outer));
	LLVMValueRef args[2] = { LLVMGetParam(outer, 0), loss_cell };
	LLVMBuildCall2(g->b, fty, piece, args, 2, "");
	LLVMPositionBuilderAtEnd(g->b, LLVMAppendBasicBlockInContext(g->ctx, piece, "entry"));
	g->func = piece;
	gen_load_step(g, LLVMGetParam(piece, 0));
	g->loss_tmp = LLVMGetParam(piece, 1);   /* the outer function's cell, passed in */
}

/* One exported step function; an absent Fn yields an empty body so the
 * runtime always finds all three symbols.  A stage's are typed as
 * nnrt_kernels.def's nnm_eval (all three have its type). */
static void gen_fn(Gen *g, const Fn *fn, const char *name, const char *cpu, const char *features)
{
	LLVMTypeRef fty = gen_runtime_type(g, "nnm_eval");
	LLVMValueRef outer = g->func = add_function(g, name, fty, cpu, features);
	LLVMPositionBuilderAtEnd(g->b, LLVMAppendBasicBlockInContext(g->ctx, g->func, "entry"));
	if (fn) {
		g->fn = fn;
		int nid = fn->next_id;
		for (int i = 0; i < fn->n; i++)
			if (fn->node[i]->id >= nid)
				nid = fn->node[i]->id + 1;
		g->val = xalloc(sizeof *g->val * (size_t)(nid + 1));
		g->inkern = xalloc((size_t)nid + 1);
		gen_load_step(g, LLVMGetParam(g->func, 0));
		LLVMValueRef loss_cell = g->loss_tmp = LLVMBuildAlloca(g->b, g->f64, "loss.tmp");
		for (int i = 0; i < fn->n; i++) {
			if (fn->n > PIECE_NODES && i % PIECE_NODES == 0)
				next_piece(g, outer, loss_cell, cpu, features);
			gen_outlined(g, fn->node[i]);
		}
		if (g->func != outer) {
			LLVMBuildRetVoid(g->b);
			LLVMPositionBuilderAtEnd(g->b, LLVMGetLastBasicBlock(outer));
			g->func = outer;
		}
	}
	LLVMBuildRetVoid(g->b);
}

/* A text the runtime reads, NUL-terminated: nnm_descriptor, nnm_listing. */
static void gen_text(Gen *g, const char *name, const char *text)
{
	size_t len = strlen(text);
	LLVMValueRef init = LLVMConstStringInContext(g->ctx, text, (unsigned)len, 0);
	LLVMValueRef gv = LLVMAddGlobal(g->mod, LLVMTypeOf(init), name);
	LLVMSetInitializer(gv, init);
	LLVMSetGlobalConstant(gv, 1);
	LLVMSetAlignment(gv, 1);
}

static void init_types(Gen *g)
{
	g->i1 = LLVMInt1TypeInContext(g->ctx);
	g->i32 = LLVMInt32TypeInContext(g->ctx);
	g->i64 = LLVMInt64TypeInContext(g->ctx);
	g->f32 = LLVMFloatTypeInContext(g->ctx);
	g->f64 = LLVMDoubleTypeInContext(g->ctx);
	g->ptr = LLVMPointerTypeInContext(g->ctx, 0);
	g->step_t = gen_step_type(g);
	g->md_scope = LLVMGetMDKindIDInContext(g->ctx, "alias.scope", 11);
	g->md_noalias = LLVMGetMDKindIDInContext(g->ctx, "noalias", 7);
}

/* ---- target and driver ------------------------------------------------------ */

/* NULL: the host CPU with all its features (-march=native). */
static const char *target_cpu;

const char *set_target_cpu(const char *name)
{
	static const char *const levels[] = { "x86-64", "x86-64-v2", "x86-64-v3", "x86-64-v4" };
	if (!strcmp(name, "native")) {
		target_cpu = NULL;
		return NULL;
	}
#if defined(__x86_64__)
	for (size_t i = 0; i < sizeof levels / sizeof *levels; i++)
		if (!strcmp(name, levels[i])) {
			target_cpu = levels[i];
			return NULL;
		}
	return "native, x86-64, x86-64-v2, x86-64-v3 or x86-64-v4";
#else
	(void)levels;
	return "native (the only target on this host)";
#endif
}

/* Loops over small windows and channels (pooling, batch norm's sums, a
 * max's mask) that the vectorizer widens along a strided dimension would
 * load with AVX-512 gathers; without them it shuffles or stays scalar.
 * Measured, one thread, 2-core AMD EPYC: ResNet-20 trains 25% faster,
 * LeNet 11%, the AlexNet-style net and the MLP the same. */
#if defined(__x86_64__)
#define NO_GATHER "+prefer-no-gather"
#else
#define NO_GATHER ""
#endif

static LLVMTargetMachineRef host_machine(int opt_level, char **cpu, char **features)
{
	LLVMInitializeNativeTarget();
	LLVMInitializeNativeAsmPrinter();
	char *triple = LLVMGetDefaultTargetTriple(), *err = NULL;
	LLVMTargetRef target;
	if (LLVMGetTargetFromTriple(triple, &target, &err))
		fatal(EXIT_INTERNAL, "llvm: no target for %s: %s", triple, err);
	if (target_cpu) {   /* a portable level: its features come with the name */
		*cpu = LLVMCreateMessage(target_cpu);
		*features = LLVMCreateMessage(NO_GATHER);
	} else {
		*cpu = LLVMGetHostCPUName();
		char *host = LLVMGetHostCPUFeatures();
		*features = LLVMCreateMessage(xprintf("%s%s%s", host, *host && *NO_GATHER ? "," : "", NO_GATHER));
		LLVMDisposeMessage(host);
	}
	static const LLVMCodeGenOptLevel level[4] = {
		LLVMCodeGenLevelNone, LLVMCodeGenLevelLess, LLVMCodeGenLevelDefault, LLVMCodeGenLevelAggressive };
	LLVMTargetMachineRef tm = LLVMCreateTargetMachine(target, triple, *cpu, *features, level[opt_level],
							  LLVMRelocPIC, LLVMCodeModelDefault);
	LLVMDisposeMessage(triple);
	if (!tm)
		fatal(EXIT_INTERNAL, "llvm: cannot create a target machine for the host");
	return tm;
}

static void optimize(Gen *g, LLVMTargetMachineRef tm, int opt_level)
{
	char pipeline[32];
	snprintf(pipeline, sizeof pipeline, "default<O%d>", opt_level);
	LLVMPassBuilderOptionsRef opts = LLVMCreatePassBuilderOptions();
	LLVMPassBuilderOptionsSetLoopVectorization(opts, opt_level >= 2);
	LLVMPassBuilderOptionsSetSLPVectorization(opts, opt_level >= 2);
	LLVMErrorRef err = LLVMRunPasses(g->mod, pipeline, tm, opts);
	LLVMDisposePassBuilderOptions(opts);
	if (err) {
		char *msg = LLVMGetErrorMessage(err);
		fatal(EXIT_INTERNAL, "llvm: passes %s failed: %s", pipeline, msg);
	}
}

int emit_object(const Module *m, const char *obj_path, int opt_level, FILE *llvm_text)
{
	opt_level = opt_level < 0 ? 0 : opt_level > 3 ? 3 : opt_level;
	char *cpu, *features, *err = NULL;
	LLVMTargetMachineRef tm = host_machine(opt_level, &cpu, &features);
	Gen g = { .m = m };
	g.ctx = LLVMContextCreate();
	g.mod = LLVMModuleCreateWithNameInContext(m->source ? m->source : "nnc", g.ctx);
	char *triple = LLVMGetTargetMachineTriple(tm);
	LLVMSetTarget(g.mod, triple);
	LLVMDisposeMessage(triple);
	LLVMTargetDataRef layout = LLVMCreateTargetDataLayout(tm);
	LLVMSetModuleDataLayout(g.mod, layout);
	LLVMDisposeTargetData(layout);
	g.b = LLVMCreateBuilderInContext(g.ctx);
	g.cpu = cpu;
	g.features = features;
	init_types(&g);
	outline_start(&g);

	gen_fn(&g, m->eval, gen_symbol(m, m->stage_index, "eval"), cpu, features);
	gen_fn(&g, m->grad, gen_symbol(m, m->stage_index, "grad"), cpu, features);
	gen_fn(&g, m->update, gen_symbol(m, m->stage_index, "update"), cpu, features);
	gen_text(&g, gen_symbol(m, m->stage_index, "descriptor"), describe(m));
	gen_text(&g, gen_symbol(m, m->stage_index, "listing"), m->listing ? m->listing : "");
	gen_stage_table(&g);
	outline_finish(&g);

	if (LLVMVerifyModule(g.mod, LLVMReturnStatusAction, &err))
		fatal(EXIT_INTERNAL, "llvm: the generated module is invalid: %s", err);
	LLVMDisposeMessage(err);
	optimize(&g, tm, opt_level);
	if (llvm_text) {
		char *text = LLVMPrintModuleToString(g.mod);
		fputs(text, llvm_text);
		LLVMDisposeMessage(text);
	}
	if (obj_path && LLVMTargetMachineEmitToFile(tm, g.mod, (char *)obj_path, LLVMObjectFile, &err))
		fatal(EXIT_IO, "cannot write %s: %s", obj_path, err);

	LLVMDisposeBuilder(g.b);
	LLVMDisposeModule(g.mod);
	LLVMContextDispose(g.ctx);
	LLVMDisposeTargetMachine(tm);
	LLVMDisposeMessage(cpu);
	LLVMDisposeMessage(features);
	return 0;
}
