/* ir.h — the graph IR and the table of contents of the compiler's middle.
 *
 * A Module holds the slots (named tensors the runtime owns: parameters,
 * gradients, optimizer state, inputs, outputs) and three functions:
 *   eval    forward + loss; stores the loss and the model output
 *   grad    forward + loss + backward; stores the loss and every gradient
 *   update  the optimizer: reads parameters, gradients and optimizer state,
 *           stores new parameters and optimizer state
 * A training step is grad then update; the point between them is where a
 * data-parallel run would all-reduce the gradients.
 *
 * A Fn is a list of Nodes in schedule order (SSA: operands come first).
 * Shapes are static except the symbolic batch dimension B (DIM_BATCH),
 * which appears at most once in a shape, so every tensor holds
 * batch * per-sample or a fixed number of elements. */
#ifndef NNC_IR_H
#define NNC_IR_H

#include <stdint.h>
#include <stdio.h>
#include "util.h"
#include "nnrt.h"   /* nnrt_window: Node.win is what compiled code passes the runtime */
#include "nnrt_vocab.h"   /* the descriptor's words and ranges: Config, InitKind */

enum { MAXRANK = 6, MAXIN = 6 };
#define DIM_BATCH ((int64_t)-1)

typedef enum { DT_F32, DT_F64, DT_I32 } DType;

typedef struct Shape { int rank; int64_t d[MAXRANK]; } Shape;

typedef enum {
#define OP(name, nin, kind, attrs, flags) OP_##name,
#define ELEM(name, nin, attrs, flags, builtin, scalar, llvm) OP_##name,
#include "ops.def"
#undef OP
#undef ELEM
	OP__COUNT
} Op;

/* Kinds: the shape rule and kernel family of an op (ops.def). */
typedef enum {
	K_LEAF,     /* no operands; shape from attributes (slot, const) */
	K_ELEM,     /* elementwise: operands and result have one shape and float type */
	K_BCAST,    /* out = Node.shape; the operand broadcasts to it (NumPy rules) */
	K_REDUCE,   /* reduce over Node.axes, keeping reduced dims as 1 */
	K_MATMUL,   /* product with transpose flags Node.ta / Node.tb; an operand of
	               rank > 2 is a matrix of its leading dims flattened (rows) by
	               its last dim (columns) */
	K_BMM,      /* a stack of products: operands [..., M, K] and [..., K, N] of
	               one rank >= 3 with equal leading dims; Node.ta / Node.tb
	               transpose the last two axes of an operand */
	K_LAYOUT,   /* moves elements: reshape, transpose */
	K_INDEX,    /* onehot: i32[..] -> float[.., k] */
	K_WINDOW,   /* sliding windows of an image [B,H,W,C] (NHWC): window gathers
	               [B,OH,OW,KH,KW,C] (im2col), unwindow sums such patches back
	               into [B,H,W,C] (its adjoint); geometry in Node.win */
	K_CONV,     /* window, reshape and matmul made one (convfuse.c, after
	               differentiation): conv and its two adjoints conv_dw and
	               conv_dx, with zero padding; weights are [KH*KW*C, O] */
	K_BOXSUM,   /* sums over a centred run of Node.k (odd) values along the last
	               axis, zeros beyond its ends; its own adjoint */
	K_SOFTMAX,  /* softmax along the last axis (not B): exp(x - max) / sum, one
	               row at a time (runtime/softmax.c); a row that is -inf
	               everywhere (all masked) is 0 everywhere */
	K_SLICE,    /* along one axis (bit of Node.axes) from index Node.k: slice takes
	               that part, unslice puts a part back in zeros (its adjoint) */
	K_RANDOM,   /* random values of Node.shape (runtime/random.c), a function of
	               the seed, the stream, the step (the operand) and the index */
	K_STORE,    /* effect: writes its operand into Module.slot[Node.slot] */
	K_GATHER,   /* rows of a table [V,D] by integer ids (gather, an embedding's
	               lookup), and its adjoint scatter_add, which sums rows back
	               into a [V,D] table in the order of the ids */
	K_SCAN,     /* a loop over time: operands are the initial carry [B,...] and
	               the sequences [B,T,...]; Node.body runs once per step on
	               its args (the carry, then step t of each sequence) and
	               ends in a yield; the result stacks what each step yields
	               as its output: [B,T,...] (scan.c) */
	K_YIELD,    /* the end of a scan body: the new carry and the step's output */
	K_CONTRAST, /* the samples of a batch compared with each other: nt_xent of
	               two views' codes [B, D] -> [B], and its adjoint (runtime/
	               contrast.c); the one kind whose samples see each other
	               besides batch statistics */
} OpKind;

/* Attributes: which Node fields an op carries (ops.def's attrs column).
 * attr.c prints, compares and hashes a node by exactly these. */
typedef enum {
	A_SLOT = 1 << 0,     /* slot (and CSE's store count in mark) */
	A_VALUE = 1 << 1,    /* f: a constant's value */
	A_ALPHA = 1 << 2,    /* f: elu, leaky_relu's slope */
	A_FILL = 1 << 3,     /* f: window's value outside the image */
	A_AXES = 1 << 4,     /* axes: reduced axes */
	A_PERM = 1 << 5,     /* perm */
	A_TRANS = 1 << 6,    /* ta, tb */
	A_CLASSES = 1 << 7,  /* k: onehot's number of classes */
	A_STREAM = 1 << 8,   /* k: uniform's random stream */
	A_WIDTH = 1 << 9,    /* k: boxsum's width */
	A_PART = 1 << 10,    /* axes (one bit) and k: slice's axis and first index */
	A_WIN = 1 << 11,     /* win: window geometry */
	A_ARG = 1 << 12,     /* k: which argument of a scan body */
	A_BODY = 1 << 13,    /* body, k (the steps T) and reverse: a scan */
	A_TAU = 1 << 14,     /* f: nt_xent's temperature */
} Attr;

enum { F_ELEM = 1, F_NODIFF = 2, F_EFFECT = 4 };

typedef struct OpInfo {
	const char *name;
	int nin;
	OpKind kind;
	unsigned attrs;
	int flags;
	const char *builtin;  /* K_ELEM: the signature in nn(5), or NULL */
} OpInfo;
extern const OpInfo op_info[OP__COUNT];

typedef struct Node Node;
struct Node {
	Op op;
	int id;               /* printed %id; unique within its Fn */
	DType dt;
	Shape shape;
	int nin;
	Node *in[MAXIN];

	/* attributes (which apply is given by op_info[op].attrs) */
	double f;             /* const: value; elu, leaky_relu: alpha */
	uint32_t axes;        /* sum, amax: bit i set = axis i reduced; slice, unslice: the one axis */
	int perm[MAXRANK];    /* transpose */
	int ta, tb;           /* matmul: operand a / b transposed */
	int slot;             /* param, input, store: index into Module.slot; scan: the buffer its
	                         VJP writes each step's gradient norm into, or -1 */
	int64_t k;            /* onehot: number of classes; uniform: random stream; boxsum: its width;
	                         slice, unslice: first index of the part along the axis */
	nnrt_window win;      /* window, unwindow, conv*: geometry, runtime/nnrt.h (also Node.f: window's padding value) */
	struct Fn *body;      /* scan: the step, a Fn of its own (k: the number of steps T) */
	int reverse;          /* scan: steps run from T-1 down to 0 */

	/* provenance, for the listings a student reads */
	Loc loc;              /* source text that caused this node */
	const char *note;     /* e.g. "dense(x, 256)" or "sigmoid' = s(1-s)"; may be NULL */
	int of;               /* backward nodes: id of the forward node whose VJP made it; else -1 */
	const char *comment;  /* "of %k ..." lines printed above this one (a VJP that wrote no line
	                         of its own, as add's: where its gradient went); may be NULL */
	const char *call;     /* the call path of the fn or model call (or stateful builtin) whose
	                         body made it, as parameters are named: "mlp.dense_1"; NULL in the
	                         train block.  --emit=dot draws a cluster per call from it */

	/* filled by passes */
	int nuse;             /* fill_uses */
	int group;            /* fuse: fusion group index, or -1 */
	int buf;              /* plan: index into Fn.buf, or -1 (no memory of its own) */
	int home;             /* plan: the value is written straight into Module.slot[home]
	                         (e.g. a gradient GEMM into its GRAD slot), or -1 */
	int mark;             /* scratch for passes */
};

/* A fusion group: elementwise nodes computed in one loop nest over
 * `shape`.  The group is emitted at the position of its last member in
 * the schedule; fuse() guarantees that every member's operands outside
 * the group precede that position and every use outside the group
 * follows it.  A member with buf >= 0 (or a store) is written to memory;
 * the others live in registers. */
typedef struct Group {
	Shape shape;
	Node **member;        /* in schedule order */
	int n;
} Group;

/* A buffer of the static memory plan.  Fixed buffers live at `offset`
 * bytes into the scratch block; batch buffers at
 *   scratch_fixed + offset * batch
 * where offset counts bytes per sample.  Two values share a buffer only
 * when their live ranges do not overlap. */
typedef struct Buffer {
	int64_t offset;
	int64_t size;         /* bytes, per sample when batch */
	int batch;
} Buffer;

typedef struct Fn {
	const char *name;     /* "eval", "grad", "update" */
	Node **node;          /* schedule order */
	int n, cap;
	int next_id;
	Group *group;         /* fuse */
	int ngroup;
	Buffer *buf;          /* plan */
	int nbuf;
	int patch_buf;        /* plan: the conv kernels' patch block, an index into buf, or -1 */
	int64_t scratch_fixed;       /* bytes */
	int64_t scratch_per_sample;  /* bytes per unit of batch */
	int backward_from;    /* index of the first backward node (grad), else -1 */
} Fn;

typedef enum {
	SLOT_PARAM,           /* trained parameter */
	SLOT_GRAD,            /* gradient of slot `of` */
	SLOT_OPTSTATE,        /* optimizer state of slot `of` (momentum, Adam moments) */
	SLOT_INPUT,           /* data field fed per batch, e.g. x */
	SLOT_TARGET,          /* data field fed per batch, e.g. y (labels) */
	SLOT_OUTPUT,          /* model output written by eval */
	SLOT_LOSS,            /* scalar loss, written to nnrt_step.loss */
	SLOT_HYPER,           /* scalar from nnrt_step.hyper[io]: learning rate, step */
	SLOT_BUFFER,          /* state the model updates itself, not trained: batch norm's
	                         running statistics; written by grad, read by eval */
} SlotRole;

/* The descriptor's init kinds, in nnrt_vocab.h's order (INIT_X == NNRT_INIT_X) */
#define INIT_KIND_(ID, word) INIT_##ID,
typedef enum { NNRT_INIT_KINDS(INIT_KIND_) } InitKind;
#undef INIT_KIND_

typedef struct Init {
	InitKind kind;
	double a, b;          /* constant: a; normal: mean a, std b; uniform: [a, b) */
	double gain;          /* xavier/he: scale factor (1 by default) */
	int64_t fan_in, fan_out;
} Init;

typedef struct Slot {
	const char *name;     /* params by path: "mlp.dense_1.W"; grads "<param>.grad";
	                         state "<param>.momentum", ".m", ".v"; io by field: "x", "y", "out" */
	SlotRole role;
	DType dt;
	Shape shape;
	Init init;            /* SLOT_PARAM */
	Loc loc;
	int of;               /* SLOT_GRAD, SLOT_OPTSTATE: the SLOT_PARAM index */
	int64_t offset;       /* PARAM, GRAD, OPTSTATE: bytes into the state block (plan_state) */
	int io;               /* INPUT, TARGET, OUTPUT: index into nnrt_step.io; HYPER: into hyper */
} Slot;

/* The training configuration, checked by the elaborator and passed to the
 * runtime verbatim through the model descriptor (desc.c). */
typedef struct KeyVal {
	const char *key;
	const char *str;
	double num;
	int is_str;
	Loc loc;              /* the argument, for checks made once the loss is known */
} KeyVal;

typedef struct DataSource {
	const char *name;     /* train, test, ... */
	nnrt_source_kind kind;
	KeyVal *arg;          /* keys are nnrt_vocab.h's words: positional args "0", "1", ... */
	int narg;
	Loc loc;
} DataSource;

typedef struct Config {
	DataSource *data;
	int ndata;
	const char *train_source;     /* the source the loss reads */
	nnrt_optimizer optimizer;
	double lr, momentum, weight_decay, beta1, beta2, eps;
	double clip;             /* bound of the gradients' global L2 norm; 0: no clipping */
	int nesterov;
	nnrt_schedule schedule;
	double warmup;                /* epochs of linear warm-up (fractional allowed) */
	double step_size, gamma, min_lr;
	int64_t batch, epochs, seed;
	nnrt_metric *report_metric;
	const char **report_source;
	int nreport;
} Config;

/* Names to indices by open addressing: slots by name, and the
 * elaborator's parameter paths, found in constant time however large the
 * program (ir.c). */
typedef struct NameMap {
	const char **key;
	int *val;
	int cap, n;           /* cap: 0 or a power of two, at least twice n */
} NameMap;
int names_get(const NameMap *nm, const char *name);          /* -1 when absent */
void names_put(NameMap *nm, const char *name, int val);      /* adds or replaces */

typedef struct Module {
	const char *model;            /* name of the model trained */
	const char *source;           /* path of the main .nn file */
	DType precision;              /* the float type of the whole program */
	int64_t nstream;              /* random streams handed out (OP_uniform's Node.k) */
	Slot *slot;
	int nslot, capslot;
	NameMap slot_names;           /* ir_slot keeps it; read with ir_find_slot */
	Fn *fwd;                      /* lower: forward + loss, stores loss and output */
	Fn *eval, *grad, *update;
	int64_t state_bytes;          /* plan_state */
	Config cfg;
	int64_t min_batch;            /* smallest training batch whose batch statistics exist (lower_norm.c), 0: any */
	Loc min_batch_at;             /* the call that needs it */
	const char *output_is;        /* "logits" or "probabilities" when the loss reads the output as such, else NULL */
	int carry_batch;              /* a scan carries its state across training batches (stateful:), so
	                                 they all have cfg.batch samples; its buffers hold cfg.batch rows */
	Loc carry_at;                 /* the first such scan */
	const char *listing;          /* grad and update as --emit=grad prints them, for the
	                                 trainer's trace (pipeline.c), or NULL */
	const char *stage;            /* the training stage this module is, or NULL (lower_stage.c) */
	int stage_index, nstage;      /* its place among the train block's stages, and their number */
	const char **stage_names;     /* every stage's name, in order */
} Module;

/* ir.c — builders.  Every builder checks its operands (shapes agree,
 * dtypes agree) with assert-like internal errors: user-facing shape errors
 * are reported by the elaborator before it calls a builder. */
Module *ir_module(void);
int ir_slot(Module *m, const char *name, SlotRole role, DType dt, Shape shape, Loc loc);
int ir_find_slot(const Module *m, const char *name);         /* -1 when absent */
Fn *ir_fn(const char *name);
Node *ir_node(Fn *fn, Op op, DType dt, Shape shape, int nin, Node **in, Loc loc);
Node *ir_const(Fn *fn, DType dt, double v, Loc loc);
Node *ir_iota(Fn *fn, DType dt, Shape s, Loc loc);       /* index along the last axis */
Node *ir_batch(Fn *fn, DType dt, Loc loc);
Node *ir_unary(Fn *fn, Op op, Node *a, Loc loc);
Node *ir_binary(Fn *fn, Op op, Node *a, Node *b, Loc loc);   /* a, b same shape */
Node *ir_elem(Fn *fn, Op op, int nin, Node **in, Loc loc);    /* any K_ELEM op; operands of one shape */
Node *ir_broadcast(Fn *fn, Node *a, Shape to, Loc loc);      /* returns a if shapes equal */
Node *ir_reduce(Fn *fn, Op op, Node *a, uint32_t axes, Loc loc);
Node *ir_matmul(Fn *fn, Node *a, Node *b, int ta, int tb, Loc loc);
Node *ir_bmm(Fn *fn, Node *a, Node *b, int ta, int tb, Loc loc);
Node *ir_reshape(Fn *fn, Node *a, Shape to, Loc loc);
Node *ir_transpose(Fn *fn, Node *a, const int *perm, Loc loc);
Node *ir_onehot(Fn *fn, Node *labels, int64_t k, DType dt, Loc loc);
Node *ir_window(Fn *fn, Node *image, nnrt_window win, double pad, Loc loc);   /* [B,H,W,C] -> patches */
Node *ir_unwindow(Fn *fn, Node *patches, Shape image, nnrt_window win, Loc loc);
int64_t window_extent(int64_t in, int k, int stride, int pad, int dilation); /* output rows or columns */
/* conv, conv_dw, conv_dx (convfuse.c): out shape given; the three shapes each
 * op relates: the image [B,H,W,C], the output grid [B,OH,OW,O], the weights [K,O] */
Node *ir_conv(Fn *fn, Op op, Node *a, Node *b, Shape out, nnrt_window win, Loc loc);
typedef struct ConvShapes { Shape image, grid, weights; } ConvShapes;
ConvShapes conv_shapes(const Node *n);
Node *ir_slice(Fn *fn, Node *a, int axis, int64_t start, int64_t len, Loc loc);   /* a part along axis */
Node *ir_boxsum(Fn *fn, Node *a, int64_t width, Loc loc);   /* centred sums along the last axis */
Node *ir_nt_xent(Fn *fn, Node *g, Node *a, Node *b, double tau, Loc loc);   /* g NULL: the loss, else d/da */
Node *ir_softmax(Fn *fn, Node *a, Loc loc);                  /* softmax along the last axis */
Node *ir_gather(Fn *fn, Node *table, Node *ids, Loc loc);   /* [V,D], i32[..] -> [..,D] */
Node *ir_scatter_add(Fn *fn, Node *rows, Node *ids, Shape table, Loc loc);   /* [..,D], i32[..] -> table */
Node *ir_unslice(Fn *fn, Node *part, Shape whole, int axis, int64_t start, Loc loc); /* zeros around it */
/* scan.c — the loop.  A body is made with ir_fn("body"), its args with
 * ir_arg (0: the carry; k >= 1: one step of sequence k), its nodes with
 * the builders, and closed with ir_yield; ir_scan then runs it over the
 * T steps of the sequences in[1..] ([B,T,...] each) from the carry in[0]. */
enum { SCAN_MAX_SEQ = MAXIN - 4 };   /* its reverse also reads the gradient, the starts and the states */
Node *ir_arg(Fn *body, int index, DType dt, Shape s, Loc loc);
Node *ir_yield(Fn *body, Node *carry, Node *out, Loc loc);
Node *ir_scan(Fn *fn, Fn *body, Node **in, int nin, int64_t steps, int reverse, Loc loc);
Node *scan_yield(const Fn *body);             /* the body's yield (its last node) */
Node *scan_arg(const Fn *body, int index);   /* the arg node of that index, or NULL (dead) */
Shape shape_insert(Shape s, int axis, int64_t d);   /* s with a new dim d before axis */
Shape shape_remove(Shape s, int axis);
const char *scan_rule(const Node *n, Shape *out);   /* op_shape's rule for K_SCAN */

int slice_axis(const Node *n);
/* A matmul as one GEMM: C (m x n) = op(A) op(B) with inner dimension k;
 * each is a constant times the batch size B to the power mb, nb or kb. */
typedef struct GemmDims { int64_t m, n, k; int mb, nb, kb; } GemmDims;
GemmDims matmul_dims(const Node *mm);
GemmDims bmm_dims(const Node *mm, int64_t *count, int *count_b);   /* one product; count of them: count * B^count_b */
int64_t dims_product(Shape s, int from, int to, int *batch);  /* dims from..to-1; each B adds 1 to *batch */
Node *ir_param(Fn *fn, const Module *m, int slot, Loc loc);  /* a state slot */
int slot_is_state(SlotRole r);            /* lives in the state block: param, grad, optimizer state, buffer */
Node *ir_uniform(Fn *fn, Node *step, DType dt, Shape s, int64_t stream, Loc loc);  /* U[0,1) per element */
int ir_hyper_slot(Module *m, const char *name, int io);     /* the hyperparameter slot, made once */
Node *ir_input(Fn *fn, const Module *m, int slot, Loc loc);  /* an io or hyper slot */
Node *ir_store(Fn *fn, int slot, Node *value, Loc loc);
Fn *ir_clone(const Fn *fn, const char *name);                /* same ids, fresh nodes */
void ir_remove_dead(Fn *fn);                                 /* drop nodes with mark == -1 */

/* shape.c-like helpers (in ir.c) */
Shape shape_of(int rank, ...);                                /* shape_of(2, DIM_BATCH, 784) */
int shape_equal(Shape a, Shape b);
int shape_has_batch(Shape s);
int64_t shape_numel(Shape s, int64_t batch);                 /* batch substituted for B */
int64_t shape_per_sample(Shape s);                           /* product of non-batch dims */
int shape_broadcast(Shape a, Shape b, Shape *out);           /* 0 if incompatible */
const char *shape_str(Shape s);                              /* "[B,784]" (arena) */
const char *dtype_name(DType dt);                            /* "f32" */
int64_t dtype_size(DType dt);

/* ops.c — the table's semantics.  op_scalar: the value of an elementwise
 * op (ops.def's scalar column) at operands v[0..nin-1] and alpha (Node.f). */
double op_scalar(Op op, const double *v, double alpha);
int op_by_name(const char *name);                            /* OP_x, or -1 */

/* attr.c — a node's attributes, driven by op_info[].attrs.  attr_text is
 * what follows the operands in a listing (" alpha=0.1", " axes=1"). */
const char *attr_text(const Node *n);
int attr_same(const Node *a, const Node *b);                 /* CSE: same attribute values */
uint64_t attr_hash(const Node *n, uint64_t h);               /* mixes the attributes into h */
uint64_t hash_mix(uint64_t h, uint64_t v);                  /* one step of the hash of a node */

/* shape.c — the one shape and dtype rule of every op (by its kind), used
 * by the builders (which take the result) and by the verifier (which
 * compares it with the node's).  Reads the operands and the attributes;
 * for ops whose result shape is an attribute (broadcast, reshape,
 * unslice, unwindow, conv, uniform, leaves) it checks n->shape instead.
 * Returns NULL and sets *out, or the broken rule as a sentence. */
const char *op_shape(const Module *m, const Node *n, Shape *out);

/* print.c — listings.  Each line: %id = op operands  dtype[shape]  file:line:col  note
 * Backward lines say "of %k"; groups and buffers are shown once filled. */
void ir_print(FILE *out, const Module *m, const Fn *fn);
void ir_print_module(FILE *out, const Module *m, const char *what); /* what: ir | grad | opt */
/* The listing's columns, one node's each, for dot.c's labels. */
const char *ir_mnemonic(const Node *n);                      /* "matmul.nt" */
const char *ir_type_text(const Node *n);                     /* "f32[B,256]" */
const char *ir_loc_text(Loc l);                              /* "mlp.nn:6:18", or "-" */
int ir_planned(const Fn *fn);                                /* fuse() or plan() ran on it */
const char *ir_placement(const Module *m, const Fn *fn, const Node *n);   /* "g3 buf2@+1024" */

/* dot.c — the step (grad, then update) as a Graphviz graph whose nodes
 * are the listing's lines, grouped in a cluster per call (Node.call). */
typedef struct DotOptions {
	int depth;            /* calls nested deeper than this fold into one box each; -1: none */
	/* more text under a node's label (a value, say), or NULL; may itself be NULL */
	const char *(*extra)(void *ctx, const Fn *fn, const Node *n);
	void *ctx;
} DotOptions;
void ir_dot(FILE *out, const Module *m, const DotOptions *o);  /* o NULL: no folding, nothing extra */
/* What follows each node's line while set (NULL: nothing): the trainer's
 * trace prints the node's values there (runtime/trace.c). */
typedef void PrintHook(FILE *out, const Fn *fn, const Node *n, int indent, void *ctx);
void ir_print_hook(PrintHook *hook, void *ctx);

/* verify.c — invariants; returns NULL when fine, else what is wrong. */
const char *ir_verify(const Module *m, const Fn *fn);

/* summary.c — the trained model's layers (one row per call in the main
 * file) and each Fn's FLOPs, for the descriptor and `trainer info`. */
typedef struct Flops { int64_t per_sample, fixed; } Flops;   /* fixed + per_sample * B */
typedef struct Layer { const char *name; Shape shape; int64_t params; Flops flops; } Layer;
typedef struct Summary { Layer *layer; int nlayer; Flops eval, grad, update; } Summary;
Summary summarize(const Module *m);

struct Program;

/* The stages, in the order main.c calls them. */
Module *lower(const struct Program *prog);                  /* lower.c: names, types, shapes -> fwd */
/* lower_function.c: a plain fn of the program as a Module of its own: its
 * inputs (SLOT_INPUT, one per parameter without a default), its value
 * stored in "out" and, when it is a scalar, its gradient with respect to
 * each input in "NAME.grad", after Fn.backward_from.  `value` holds one
 * shape per parameter (nnc --eval) or is NULL (the declared types). */
typedef struct FnArg { Shape shape; double number; } FnArg;   /* number: a scalar's value */
Module *lower_function(const struct Program *prog, const char *name, const FnArg *value, int nvalue);
int program_stages(const struct Program *prog);             /* lower_stage.c: the train block's stages, or 0 */
struct Program *stage_program(const struct Program *prog, int k);   /* the program of stage k alone */
const char *stage_name(const struct Program *prog, int k);
Fn *grad(Module *m, const Fn *fwd);                          /* grad.c: reverse mode -> grad */
/* grad_wrt.c: d y/d x[k] for a scalar y of fn and earlier nodes x, appended
 * to fn as dx[k] (the language's grad(f), nnc --of); a scan in the way is
 * an error at its line */
void grad_wrt(Module *m, Fn *fn, Node *y, Node *const *x, int nx, Node **dx);
Fn *optim(Module *m);                                        /* optim.c: optimizer update -> update */
void fill_uses(Fn *fn);                                      /* dce.c */
/* pipeline.c runs each per-function pass on the bodies of a Fn's scans
 * (innermost first), then on the Fn: the plan of a body sizes its scan's
 * workspace. */
void simplify(Fn *fn);                                       /* simplify.c: algebra, constant folding */
void cse(Fn *fn);                                            /* cse.c */
void dce(Fn *fn);                                            /* dce.c */
void convfuse(Fn *fn);                                       /* convfuse.c: window+matmul -> conv */
void fuse(Fn *fn);                                           /* fuse.c: fills group, Node.group */
void plan(Fn *fn);                                           /* plan.c: fills buf, Node.buf, scratch sizes */
void plan_state(Module *m);                                  /* plan.c: Slot.offset, state_bytes */
void resolve_mode(Module *m, Fn *fn, int training);          /* mode.c: select_mode -> one branch */
const char *describe(const Module *m);                       /* desc.c: the model descriptor text */
int emit_object(const Module *m, const char *obj_path, int opt_level, FILE *llvm_text);  /* llvm.c */
/* The CPU emit_object targets: "native" (the default) or a portable x86-64
 * level; returns NULL, or the accepted names when name is not one (llvm.c). */
const char *set_target_cpu(const char *name);
int link_trainer(const char *obj_path, const char *out_path); /* link.c: cc + libnnrt + OpenBLAS */
int link_objects(const char *const *objs, int nobj, const char *out_path);   /* the same, a staged program's */

/* function.c — nnc --emit=grad --of NAME and nnc --eval 'NAME(ARGS)': a
 * plain fn of the program, its gradient listed or evaluated; they return
 * the exit status */
int function_listing(const struct Program *prog, const char *name);
int function_eval(const struct Program *prog, const char *text);

/* pipeline.c — the stages above as one named sequence (docs/passes.md):
 *   lower, eval, grad, optim, then on each of eval, grad and update
 *   simplify, cse, dce, convfuse, dce, fuse, plan; then plan_state,
 *   describe, emit.
 * eval is ir_clone + resolve_mode(0), grad is grad + resolve_mode(1). */
typedef struct Pipeline {
	const char *from, *to;        /* the first and the last stage run (NULL: lower, emit);
	                                 a name that occurs twice (dce): from its first, to its last */
	int verify;                   /* ir_verify after every stage; a failure is an internal error */
	const char *print_after;      /* print to `out` what this stage changed, after each run */
	FILE *out;
	const struct Program *program;   /* lower's input */
	const char *source;           /* lower: Module.source, the main file's absolute path */
	const char *object;           /* emit: the object file (or NULL), optimized at opt_level; */
	int opt_level;
	FILE *llvm_text;              /* and its LLVM IR printed here when not NULL */
	const char *descriptor;       /* out: what describe made */
	int status;                   /* out: emit_object's */
} Pipeline;
Module *pipeline_run(Pipeline *p, Module *m);               /* from..to on m (NULL before lower) */
void pipeline_run_fn(Pipeline *p, const Module *m, Fn *fn); /* from..to, per-function passes, on one Fn */
/* One stage, once, on what a listing holds (ir_read); NULL, or why it cannot run. */
const char *pipeline_pass(Pipeline *p, Module *m, const char *name);
int pipeline_has_pass(const char *name);                     /* a stage --emit-after can name */
const char *pipeline_pass_names(void);                       /* "lower, eval, ..." for messages */

/* read.c — the listings of print.c read back into a Module: the slots
 * from the headers and the stores, every function, and the provenance,
 * group and buffer columns where given.  A malformed listing, or one that
 * breaks an invariant of verify.c, is an error at its file:line:col. */
Module *ir_read(const char *path);
int64_t patch_block_bytes(const Fn *fn);   /* ir.c: the patch block fn's convolutions need (plan.c places it) */
Module *ir_read_text(const char *name, const char *text, size_t len);

#endif
