/* llvm_gen.h — the state the LLVM code generator shares between its files:
 *   llvm.c         target, module, the three step functions, addresses, GEMM
 *   llvm_nest.c    loop nests with per-access strides, alias scopes
 *   llvm_kernel.c  fused elementwise kernels, scalar math, reductions
 *   llvm_math.c    exp, log, pow and tanh as plain arithmetic, so loops vectorize
 *   llvm_runtime.c calls to runtime, BLAS and libm, typed by runtime/nnrt_kernels.def
 *   llvm_scan.c    a scan: its body's code inside a counted loop
 *   llvm_outline.c each node's code in a function, shared by identical nodes
 *
 * The generator only translates: fusion groups, buffers and homes were
 * decided by the passes; every loop here is a canonical counted loop over
 * i64 induction variables so LLVM's vectorizer can widen the innermost one. */
#ifndef NNC_LLVM_GEN_H
#define NNC_LLVM_GEN_H

#include <llvm-c/Core.h>
#include "ir.h"
#include "../runtime/nnrt.h"

/* Field numbers of nnrt_step, STEP_batch ... STEP_loss, from nnrt.h's list */
#define STEP_FIELD_NUMBER(kind, ctype, name, ...) STEP_##name,
enum { NNRT_STEP_FIELDS(STEP_FIELD_NUMBER, STEP_FIELD_NUMBER) STEP__COUNT };
#undef STEP_FIELD_NUMBER

/* A size or stride known up to the batch: c * batch^b (b is 0 or 1,
 * since B appears at most once in a shape). */
typedef struct Sym { int64_t c; int b; } Sym;

typedef struct Gen {
	LLVMContextRef ctx;
	LLVMModuleRef mod;
	LLVMBuilderRef b;
	LLVMTypeRef i1, i32, i64, f32, f64, ptr, step_t;
	const Module *m;
	const Fn *fn;
	LLVMValueRef func;
	/* loaded once in the entry block, so loops see them as invariants */
	LLVMValueRef batch, state, scratch, io[NNRT_MAX_IO], hyper[NNRT_MAX_HYPER], loss_ptr;
	LLVMValueRef loss_tmp;  /* stack cell for a value the plan homed into the loss slot */
	LLVMValueRef *val;     /* by node id: SSA value of a member of the kernel being emitted */
	char *inkern;          /* by node id: 1 while the node is a member of that kernel */
	int nkernel;           /* numbers alias-scope domains, unique in the module */
	unsigned md_scope, md_noalias;
	const char *cpu, *features;   /* of every function: the target */
	LLVMValueRef step;     /* the nnrt_step * of the function being written */
	struct Outline *outline;   /* llvm_outline.c: the kernel being written, its addresses */
	struct Kernels *kernels;   /* llvm_outline.c: every distinct kernel function so far */
} Gen;

/* Where a tensor lives, to decide which accesses may alias. */
typedef enum { R_NONE, R_STATE, R_FIXED, R_BATCH, R_IO, R_LOSS } RegionKind;
typedef struct Region { RegionKind kind; int io; int64_t lo, hi; } Region;

/* One memory access of a loop nest: base pointer, element type, and the
 * element stride along each loop dimension. */
typedef struct Access {
	LLVMValueRef base;
	LLVMTypeRef elem;
	Region region;
	Sym stride[MAXRANK];
	LLVMValueRef scope, noalias;   /* metadata, NULL when nothing to say */
} Access;

typedef struct Loop { LLVMBasicBlockRef pre, body; LLVMValueRef iv, n; } Loop;

/* A loop nest over `dim`; accesses are added before nest_open. */
typedef struct Nest {
	int rank;
	Sym dim[MAXRANK];
	int keep_last;         /* never merge the innermost dim (onehot needs its index) */
	Access *acc;
	int nacc, capacc;
	Loop loop[MAXRANK];
	LLVMValueRef iv[MAXRANK];
} Nest;

/* llvm.c */
void gen_node(Gen *g, Node *n);                    /* one node of g->fn, in schedule order */
LLVMTypeRef gen_type(Gen *g, DType dt);
LLVMValueRef gen_addr(Gen *g, const Node *n);
void gen_load_step(Gen *g, LLVMValueRef step);     /* batch, state, scratch, io... from the step */
LLVMValueRef gen_function(Gen *g, const char *name, LLVMTypeRef fty);
Region gen_region(Gen *g, const Node *n);
LLVMValueRef gen_slot_addr(Gen *g, int slot);
Region gen_slot_region(Gen *g, int slot);
int gen_is_scalar(Gen *g, const Node *n);         /* const, batch, hyper input */
LLVMValueRef gen_scalar(Gen *g, const Node *n);   /* their value; else NULL */
LLVMValueRef gen_sym(Gen *g, Sym s);
Sym sym_dim(int64_t d);
Sym sym_dim_count(Shape s);
Sym sym_mul(Sym a, Sym b);
LLVMValueRef gen_intrinsic(Gen *g, const char *name, LLVMTypeRef ty, LLVMValueRef *args, int nargs);

/* llvm_nest.c */
void loop_open(Gen *g, Loop *l, LLVMValueRef n);
void loop_close(Gen *g, Loop *l);
void rowmajor_strides(Shape s, Sym *out);
void bcast_strides(Gen *g, Shape t, Shape to, Sym *out);
void nest_init(Nest *nest, int rank, const Sym *dim);
int nest_add(Nest *nest, LLVMValueRef base, LLVMTypeRef elem, Region r, const Sym *stride);
void nest_scopes(Gen *g, Nest *nest);
void nest_open(Gen *g, Nest *nest);
LLVMValueRef nest_ptr(Gen *g, Nest *nest, int acc);
LLVMValueRef nest_load(Gen *g, Nest *nest, int acc);
void nest_store(Gen *g, Nest *nest, int acc, LLVMValueRef v);
void nest_close(Gen *g, Nest *nest);
void gen_tag(Gen *g, LLVMValueRef inst, const Access *a);

/* llvm_math.c: vectorizable exp, log, pow, tanh and erf for f32, libm-accurate for f64 */
LLVMValueRef gen_exp(Gen *g, LLVMValueRef x);
LLVMValueRef gen_log(Gen *g, LLVMValueRef x);
LLVMValueRef gen_pow(Gen *g, LLVMValueRef x, LLVMValueRef y);
LLVMValueRef gen_tanh(Gen *g, LLVMValueRef x);
LLVMValueRef gen_erf(Gen *g, LLVMValueRef x);

/* llvm_runtime.c: the functions of runtime/nnrt_kernels.def by name; a
 * call whose arguments do not fit the declaration is an internal error */
LLVMTypeRef gen_runtime_type(Gen *g, const char *name);
const char *gen_symbol(const Module *m, int stage, const char *what);   /* nnm_eval, or nnm_s0_eval of a stage */
void gen_stage_table(Gen *g);            /* nnm_stages in the last stage's object (nnrt.h's nnrt_stage) */
LLVMTypeRef gen_step_type(Gen *g);   /* nnrt_step, checked against C's offsets */
LLVMValueRef gen_call(Gen *g, const char *name, LLVMValueRef *args, int nargs);

/* llvm_outline.c: each node's code in a function of its own, one function
 * for every node whose code is the same but for its addresses */
void outline_start(Gen *g);
void gen_outlined(Gen *g, Node *n);
LLVMValueRef gen_offset_addr(Gen *g, LLVMValueRef base, int64_t off, int per_sample, int64_t fixed);
void outline_finish(Gen *g);

/* llvm_scan.c: the loop around a scan's body */
void gen_scan(Gen *g, const Node *n);

/* llvm_kernel.c */
void gen_kernel(Gen *g, Shape shape, Node *const *member, int n);
void gen_reduce(Gen *g, const Node *r);

#endif
