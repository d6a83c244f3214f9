/* llvm_runtime.c — the functions compiled code calls and exports, and the
 * step struct they share, as LLVM declares them: their types come from
 * runtime/nnrt_kernels.def and nnrt.h's NNRT_STEP_FIELDS, the lists nnrt.h
 * makes its C declarations from, so each is written once for both sides.  A call is checked against the declaration (count
 * and type of every argument): a mismatch is an internal error when the
 * compiler runs, never a wrong call in a trainer.  A program with training
 * stages also exports their table (gen_stage_table). */
#include <stddef.h>
#include <string.h>
#include <llvm-c/Target.h>
#include "llvm_gen.h"

/* The type vocabulary of nnrt_kernels.def; RK_void ends a parameter list. */
typedef enum { RK_void, RK_ptr, RK_i32, RK_i64, RK_f32, RK_f64 } RtKind;
enum { MAX_PARAMS = 16 };
typedef struct RtSig { const char *name; RtKind ret; RtKind param[MAX_PARAMS]; } RtSig;

#define NNRT_PTR(ctype, name) RK_ptr
#define NNRT_VAL(kind, name) RK_##kind
#define UNPAREN(...) __VA_ARGS__
#define SIG(ret, name, params) { #name, RK_##ret, { UNPAREN params } },
#define NNRT_EXPORT SIG
#define NNRT_KERNEL SIG
#define NNRT_LIBRARY SIG
static const RtSig sigs[] = {
#include "nnrt_kernels.def"
};
#undef NNRT_PTR
#undef NNRT_VAL
#undef NNRT_EXPORT
#undef NNRT_KERNEL
#undef NNRT_LIBRARY
#undef SIG

static const RtSig *sig_of(const char *name)
{
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
		if (!strcmp(sigs[i].name, name))
			return &sigs[i];
	fatal(EXIT_INTERNAL, "llvm: %s is not in runtime/nnrt_kernels.def", name);
}

static LLVMTypeRef kind_type(Gen *g, RtKind k)
{
	switch (k) {
	case RK_void: return LLVMVoidTypeInContext(g->ctx);
	case RK_ptr: return g->ptr;
	case RK_i32: return g->i32;
	case RK_i64: return g->i64;
	case RK_f32: return g->f32;
	case RK_f64: return g->f64;
	}
	fatal(EXIT_INTERNAL, "llvm: type kind %d", (int)k);
}

static int nparams(const RtSig *s)
{
	int n = 0;
	while (n < MAX_PARAMS && s->param[n] != RK_void)
		n++;
	return n;
}

LLVMTypeRef gen_runtime_type(Gen *g, const char *name)
{
	const RtSig *s = sig_of(name);
	LLVMTypeRef p[MAX_PARAMS];
	int n = nparams(s);
	for (int i = 0; i < n; i++)
		p[i] = kind_type(g, s->param[i]);
	return LLVMFunctionType(kind_type(g, s->ret), p, (unsigned)n, 0);
}

LLVMValueRef gen_call(Gen *g, const char *name, LLVMValueRef *args, int nargs)
{
	LLVMTypeRef fty = gen_runtime_type(g, name);
	if ((int)LLVMCountParamTypes(fty) != nargs)
		fatal(EXIT_INTERNAL, "llvm: %s takes %u arguments, not %d", name, LLVMCountParamTypes(fty), nargs);
	LLVMTypeRef p[MAX_PARAMS];
	LLVMGetParamTypes(fty, p);
	for (int i = 0; i < nargs; i++)
		if (LLVMTypeOf(args[i]) != p[i])
			fatal(EXIT_INTERNAL, "llvm: argument %d of %s has the wrong type", i + 1, name);
	LLVMValueRef fn = LLVMGetNamedFunction(g->mod, name);
	if (!fn) {
		fn = LLVMAddFunction(g->mod, name, fty);
		unsigned nounwind = LLVMGetEnumAttributeKindForName("nounwind", 8);
		LLVMAddAttributeAtIndex(fn, LLVMAttributeFunctionIndex, LLVMCreateEnumAttribute(g->ctx, nounwind, 0));
	}
	return LLVMBuildCall2(g->b, fty, fn, args, (unsigned)nargs, "");
}

/* nnrt_step field by field.  The data layout's offset of each field must
 * be the C compiler's, or compiled code and the runtime would read
 * different bytes; both come from the one list, so a mismatch is a bug. */
LLVMTypeRef gen_step_type(Gen *g)
{
#define FIELD_TYPE(kind, ctype, name) kind_type(g, RK_##kind),
#define ARRAY_TYPE(kind, ctype, name, count) LLVMArrayType2(kind_type(g, RK_##kind), count),
	LLVMTypeRef f[STEP__COUNT] = { NNRT_STEP_FIELDS(FIELD_TYPE, ARRAY_TYPE) };
#define FIELD_OFFSET(kind, ctype, name, ...) offsetof(nnrt_step, name),
	static const size_t offset[STEP__COUNT] = { NNRT_STEP_FIELDS(FIELD_OFFSET, FIELD_OFFSET) };
#undef FIELD_TYPE
#undef ARRAY_TYPE
#undef FIELD_OFFSET
	LLVMTypeRef t = LLVMStructTypeInContext(g->ctx, f, STEP__COUNT, 0);
	LLVMTargetDataRef layout = LLVMGetModuleDataLayout(g->mod);
	for (unsigned i = 0; i < STEP__COUNT; i++)
		if (LLVMOffsetOfElement(layout, t, i) != offset[i])
			fatal(EXIT_INTERNAL, "llvm: field %u of nnrt_step is at byte %llu, C puts it at %zu", i,
			      LLVMOffsetOfElement(layout, t, i), offset[i]);
	if (LLVMABISizeOfType(layout, t) != sizeof(nnrt_step))
		fatal(EXIT_INTERNAL, "llvm: nnrt_step is %llu bytes, C makes it %zu", LLVMABISizeOfType(layout, t),
		      sizeof(nnrt_step));
	return t;
}

/* ---- the exports of a program with training stages ------------------- */

/* The exported names: nnm_eval, ...; stage k of a staged program but the
 * last, nnm_s<k>_eval, ... (the last stage is the whole network: its
 * functions are the ones eval and predict call, under the usual names). */
const char *gen_symbol(const Module *m, int stage, const char *what)
{
	if (m->nstage == 0 || stage == m->nstage - 1)
		return xprintf("nnm_%s", what);
	return xprintf("nnm_s%d_%s", stage, what);
}

static LLVMValueRef private_string(Gen *g, const char *s)
{
	LLVMValueRef init = LLVMConstStringInContext(g->ctx, s, (unsigned)strlen(s), 0);
	LLVMValueRef gv = LLVMAddGlobal(g->mod, LLVMTypeOf(init), "nnm.stage.name");
	LLVMSetInitializer(gv, init);
	LLVMSetGlobalConstant(gv, 1);
	LLVMSetLinkage(gv, LLVMPrivateLinkage);
	return gv;
}

/* The last stage's object holds the table of every stage, nnrt.h's
 * nnrt_stage (a name, eval, grad, update, descriptor) nnm_nstages times;
 * the other stages' functions are in their own objects. */
_Static_assert(sizeof(nnrt_stage) == 5 * sizeof(void *), "nnrt_stage is five pointers, as gen_stage_table lays it out");

void gen_stage_table(Gen *g)
{
	const Module *m = g->m;
	if (m->nstage == 0 || m->stage_index != m->nstage - 1)
		return;
	LLVMTypeRef fty = gen_runtime_type(g, "nnm_eval");
	LLVMTypeRef field[5] = { g->ptr, g->ptr, g->ptr, g->ptr, g->ptr };
	LLVMTypeRef st = LLVMStructTypeInContext(g->ctx, field, 5, 0);
	LLVMValueRef *row = xalloc(sizeof *row * (size_t)m->nstage);
	for (int k = 0; k < m->nstage; k++) {
		LLVMValueRef v[5] = { private_string(g, m->stage_names[k]) };
		static const char *const fns[3] = { "eval", "grad", "update" };
		for (int f = 0; f < 3; f++) {
			const char *name = gen_symbol(m, k, fns[f]);
			v[1 + f] = LLVMGetNamedFunction(g->mod, name);
			if (!v[1 + f])
				v[1 + f] = LLVMAddFunction(g->mod, name, fty);   /* another stage's object defines it */
		}
		const char *desc = gen_symbol(m, k, "descriptor");
		v[4] = LLVMGetNamedGlobal(g->mod, desc);
		if (!v[4])
			v[4] = LLVMAddGlobal(g->mod, LLVMInt8TypeInContext(g->ctx), desc);
		row[k] = LLVMConstNamedStruct(st, v, 5);
	}
	LLVMValueRef init = LLVMConstArray2(st, row, (uint64_t)m->nstage);
	LLVMValueRef table = LLVMAddGlobal(g->mod, LLVMTypeOf(init), "nnm_stages");
	LLVMSetInitializer(table, init);
	LLVMSetGlobalConstant(table, 1);
	LLVMValueRef count = LLVMAddGlobal(g->mod, g->i32, "nnm_nstages");
	LLVMSetInitializer(count, LLVMConstInt(g->i32, (unsigned long long)m->nstage, 0));
	LLVMSetGlobalConstant(count, 1);
}
