/* nnrt.h — libnnrt, the runtime every trainer links against.
 *
 * Ownership: the runtime allocates one state block (parameters, gradients,
 * optimizer state) and one scratch block (activations) per model before
 * training starts, sized from the model descriptor; compiled code only
 * reads and writes inside them and allocates nothing. */
#ifndef NNRT_H
#define NNRT_H

#include <stdint.h>

/* ---- The interface between compiled code and the runtime ------------- */

enum { NNRT_MAX_IO = 16, NNRT_MAX_HYPER = 4 };
enum { NNRT_HYPER_LR = 0, NNRT_HYPER_STEP = 1 };   /* hyper[] indices */

/* The fields of nnrt_step in order, for the struct below and for the LLVM
 * type compiler/codegen/llvm_runtime.c makes: VAL(KIND, C TYPE, NAME) or
 * ARRAY(KIND, C TYPE, NAME, COUNT), KIND from nnrt_kernels.def's vocabulary. */
#define NNRT_STEP_FIELDS(VAL, ARRAY)                                                           \
	VAL(i64, int64_t, batch)                /* B for this call, 1 <= batch <= the planned maximum */ \
	VAL(ptr, char *, state)                 /* state block: Slot.offset bytes in */        \
	VAL(ptr, char *, scratch)               /* scratch block: fixed part, then per_sample * batch */ \
	ARRAY(ptr, void *, io, NNRT_MAX_IO)     /* by Slot.io: inputs, targets, outputs, row-major */ \
	ARRAY(f64, double, hyper, NNRT_MAX_HYPER) /* learning rate (after the schedule), step number from 1 */ \
	VAL(f64, double, loss)                  /* written by nnm_eval and nnm_grad */

#define NNRT_STEP_VAL(kind, ctype, name) ctype name;
#define NNRT_STEP_ARRAY(kind, ctype, name, count) ctype name[count];
typedef struct nnrt_step { NNRT_STEP_FIELDS(NNRT_STEP_VAL, NNRT_STEP_ARRAY) } nnrt_step;
#undef NNRT_STEP_VAL
#undef NNRT_STEP_ARRAY

extern const char nnm_descriptor[];   /* exported by the object file nnc writes */
/* The step as `nnc --emit=grad` prints it, which `trace` reads back and
 * runs (runtime/trace.c); weak, so a model object without it links and
 * its trainer says it has none. */
extern const char nnm_listing[] __attribute__((weak));

/* A program with training stages exports a table of them besides (the
 * last stage's functions are nnm_eval, ...): one row a stage, in order,
 * each a pointer, as compiler/codegen/llvm.c's gen_stage_table lays it out. */
typedef struct nnrt_stage {
	const char *name;
	void (*eval)(nnrt_step *);
	void (*grad)(nnrt_step *);
	void (*update)(nnrt_step *);
	const char *descriptor;
} nnrt_stage;

/* The geometry of a sliding window, the compiler's Node.win as compiled
 * code passes it: kernel, stride, padding (the same before and after) and
 * dilation, each for rows then columns. */
typedef struct nnrt_window { int32_t kh, kw, sh, sw, ph, pw, dh, dw; } nnrt_window;

/* runtime/conv.c makes the patch matrix a block of rows at a time, about
 * NNRT_CONV_BLOCK_BYTES (a block stays in the cache while the GEMM uses
 * it), at least NNRT_CONV_MIN_ROWS rows.  The block is not allocated by
 * the kernel: the compiler's memory plan sizes it for every convolution
 * of a step function (k = kh*kw*c, elem the float's bytes) and passes it. */
enum { NNRT_CONV_BLOCK_BYTES = 128 * 1024, NNRT_CONV_MIN_ROWS = 16 };

static inline int64_t nnrt_conv_block_rows(int64_t k, int64_t elem)
{
	int64_t rows = NNRT_CONV_BLOCK_BYTES / (k * elem);
	return rows < NNRT_CONV_MIN_ROWS ? NNRT_CONV_MIN_ROWS : rows;
}

static inline int64_t nnrt_conv_block_bytes(int64_t k, int64_t elem)
{
	return nnrt_conv_block_rows(k, elem) * k * elem;
}

/* The functions compiled code exports and calls, from nnrt_kernels.def
 * (BLAS and libm declare their own). */
#define NNRT_C_void void
#define NNRT_C_i32 int32_t
#define NNRT_C_i64 int64_t
#define NNRT_C_f32 float
#define NNRT_C_f64 double
#define NNRT_PTR(ctype, name) ctype name
#define NNRT_VAL(kind, name) NNRT_C_##kind name
#define NNRT_EXPORT(ret, name, params) NNRT_C_##ret name params;
#define NNRT_KERNEL(ret, name, params) NNRT_C_##ret name params;
#define NNRT_LIBRARY(ret, name, params)
#include "nnrt_kernels.def"
#undef NNRT_PTR
#undef NNRT_VAL
#undef NNRT_EXPORT
#undef NNRT_KERNEL
#undef NNRT_LIBRARY

/* The model descriptor (nnm_descriptor) is text, one record a line, words
 * separated by spaces, strings in double quotes with C escapes:
 *
 *   nnc-model 1
 *   model NAME
 *   source "PATH"
 *   precision f32|f64
 *   signature HEX16                   hash of names, roles, dtypes, shapes
 *   io NAME input|target|output DTYPE SHAPE io=N
 *   hyper NAME io=N                   lr, step
 *   loss at="FILE:LINE"               where the loss was written
 *   output_is logits|probabilities    optional: the loss reads the model's output so
 *                                     (cross_entropy, binary_cross_entropy of it)
 *   min_batch N at="FILE:LINE"        optional: training batches need N samples (batch
 *                                     statistics over one value per channel)
 *   carry_batch N at="FILE:LINE"      optional: every training batch has exactly N samples
 *                                     (a scan carries row b's state to the next batch's row b)
 *   tensor NAME param|grad|state|buffer DTYPE SHAPE offset=BYTES [of=PARAMNAME]
 *          [init=KIND a=A b=B gain=G fan_in=N fan_out=N] [at="FILE:LINE"]
 *   state_bytes N
 *   scratch eval|grad|update fixed=BYTES per_sample=BYTES
 *   flops eval|grad|update fixed=N per_sample=N     FLOPs of one call: fixed + per_sample * B
 *   layer "NAME" SHAPE params=N flops_fixed=N flops_per_sample=N
 *                                     one per layer, in order: forward FLOPs
 *   data NAME KIND KEY=VALUE...       positional arguments have keys 0, 1, ...
 *                                     idx: 0 1 scale height width channels crop flip noise
 *                                     csv: 0 label header scale height width channels crop flip noise
 *                                     random: count classes
 *                                     adding: length count
 *                                     text: 0 length split part
 *   train_source NAME
 *   optimizer sgd|adam|adamw lr=X momentum=X nesterov=0|1 weight_decay=X beta1=X beta2=X eps=X [clip=X]
 *   schedule constant|step|cosine warmup=EPOCHS step_size=EPOCHS gamma=X min_lr=X
 *   batch N
 *   epochs N
 *   seed N
 *   report METRIC SOURCE              accuracy | loss | bpc (loss / ln 2)
 *   end
 *
 * SHAPE is "[B,784]", "[10]" or "[]"; B is the batch dimension.  DTYPE is
 * f32, f64 or i32.  KIND of init is zeros, ones, constant, normal, uniform,
 * xavier_uniform, xavier_normal, he_uniform, he_normal. */

/* Precisions of the descriptor format, as compiler/desc.c writes it:
 *   - A tensor's optional fields (of=, init= a= b= gain= fan_in= fan_out=)
 *     are on the tensor's own line; of= for grad and state tensors; the
 *     init fields, all six, for a param with an initializer; at=, last,
 *     for a param whose declaration has a source location, and for a
 *     buffer (running statistics), the call in the main file that made it.
 *   - io, hyper, loss and tensor lines follow the compiler's slot order;
 *     the loss line only gives where it was written (its value goes to
 *     nnrt_step.loss) and is absent when that is unknown.
 *   - Names (model, tensors, io, data sources) are bare words; PATH and
 *     string-valued data arguments are quoted, with the escapes \" \\ \n
 *     \t \r and \xHH for other control bytes.  A data argument that is not
 *     quoted is a number.
 *   - The words of data, optimizer, schedule, tensor init, batch, epochs,
 *     seed and report records, and the range of every number in them, are
 *     the table of nnrt_vocab.h, which nnc checks a train block against
 *     and the runtime the descriptor: a number nnc writes is in range.
 *   - Data keys: only those of the source's kind, each at most once; 0 and
 *     1 are quoted paths, text's part a quoted word (train, validation),
 *     the others numbers.  height, width and channels
 *     (the image geometry of a sample, NHWC) come all three or not at all.
 *     crop, flip and noise belong to the training source (runtime/augment.c).
 *   - Numbers are printed with %.17g (exact when read back with strtod,
 *     subnormal numbers included, though strtod reports ERANGE for them).
 *   - optimizer and schedule lines give every key of nnrt_vocab.h but clip,
 *     which appears only when set (the bound of the gradients' norm); batch,
 *     epochs and seed lines appear when set (nnc always writes all five);
 *     the runtime's defaults apply to what a descriptor leaves out.
 *   - signature: 64-bit FNV-1a (offset basis 0xcbf29ce484222325, prime
 *     0x100000001b3) over, for each io and tensor line in order, the words
 *     NAME ROLE DTYPE SHAPE exactly as printed, each followed by one '\n'
 *     byte; printed as 16 lower-case hex digits.
 *   - flops and layer lines (compiler/summary.c) serve `trainer info`
 *     only: a flops line per function present, then the layers of the
 *     trained model in order.  A layer's NAME is its call in the .nn file,
 *     quoted; SHAPE is that of its last value; the layers' params add up
 *     to the param tensors' counts.
 *   - Versions: the number in "nnc-model 1" changes when a record changes
 *     its meaning or a new record becomes required.  Optional records,
 *     which a runtime does without (flops, layer, output_is, min_batch),
 *     keep it: a runtime reads descriptors written before them, and one
 *     older than a record refuses it as unknown (nnc and libnnrt are
 *     built together, so that is a mismatched installation: exit 70). */

#endif
