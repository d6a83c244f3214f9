/* lower.h — what the files of the elaborator share (lower.c, lower_types.c,
 * lower_builtins.c, lower_train.c).  Nothing outside them includes it.
 *
 * The elaborator evaluates the program symbolically: a Value is what an
 * expression evaluates to at compile time — a tensor (an IR node), a
 * number, a string, an initializer, a list, or a data field that has no
 * shape yet.  Calls are inlined, each into a fresh Frame. */
#ifndef NNC_LOWER_H
#define NNC_LOWER_H

#include <stdint.h>
#include "ast.h"
#include "ir.h"

typedef enum {
	V_NONE,     /* an optional argument that was not given */
	V_TENSOR,
	V_INT,      /* i; is_batch: the symbolic batch dimension B */
	V_FLOAT,
	V_STR,
	V_INIT,
	V_LIST,
	V_DATA,     /* a data field not yet bound to a typed parameter */
	V_FUNC,     /* a function: decl, differentiated i times (grad(f): 1) */
} ValueKind;

typedef struct Value Value;
struct Value {
	ValueKind kind;
	Node *t;
	int64_t i;
	int is_batch;
	double f;
	const char *str;
	Init init;
	Value *item;
	int nitem;
	int field;            /* V_DATA: 0 for x, 1 for y */
	const Decl *decl;     /* V_FUNC */
	Loc loc;              /* the expression it came from */
};

typedef struct Binding { const char *name; Value v; struct Binding *next; } Binding;
typedef struct Counter { const char *name; int n; struct Counter *next; } Counter;

/* A node of the tree of parameter names (lower_names.c): a call, or a
 * leaf (a parameter, a running statistic) with its state slot. */
typedef struct PathNode PathNode;
struct PathNode {
	const char *path;     /* "mlp.dense_1", "mlp.dense_1.W" */
	int leaf;
	const void *owner;    /* the Decl called, the param Stmt, or what a builtin keeps */
	const PathNode *parent;   /* the call it lies in; NULL at the top */
	const char *what;     /* for messages: "model 'mlp'", "call 2 of 'dense'" */
	Loc loc;
	int slot;             /* leaves: the state slot, once made; else -1 */
};

/* One activation of a fn or model (or the train block, decl == NULL). */
typedef struct Frame {
	const Decl *decl;
	const char *path;     /* prefix of parameter names: "mlp.dense_1" */
	const char *what;     /* "model 'mlp'" or "call 1 of 'dense'", for messages */
	Loc site;             /* the call, or a model's declaration */
	PathNode *node;       /* made when a parameter below it is declared */
	Binding *env;         /* newest first, each name once */
	Binding **binding;    /* the same, in order of binding; `names` indexes it */
	int nbinding;
	NameMap names;
	Counter *calls;       /* calls made so far per callee, for FN_K */
	Loc call;             /* where it was called from */
	struct Frame *up;
	int depth;
} Frame;

typedef struct Ctx {
	const Program *prog;
	Module *m;
	Fn *fn;
	DType fdt;            /* the program's float type */
	const Decl *train, *model;
	Frame *frame;
	const char *note;     /* the innermost call in the main file, for listings */
	int stamped;          /* nodes before this index carry their note */
	int call_stamped;     /* nodes before this index carry their call path (stamp_call) */
	/* data fields of the training source: x and y */
	const char *source;
	Node *field[2];
	Node *output;         /* what the outermost model call returned */
	const char *builtin_path;   /* the call path of a builtin that keeps state (call_builtin) */
	NameMap decls;        /* fn and model names to Program.decls indices (find_decl) */
	NameMap paths;        /* parameter paths to path_node indices */
	PathNode **path_node;
	int npath, cappath;
	struct Probe { const char *name; Node *value; Loc loc; } *probe;   /* probe(x, name) calls */
	int nprobe;
	/* what the -Wmodel warnings and the hints of shape errors look back at */
	Node **squeezed;      /* reductions without keepdims: the reshape dropping the axes */
	int nsqueezed;
	Node **softmaxes;     /* softmax results, for cross_entropy(softmax(z), y) */
	int nsoftmax;
	Node **normed;        /* results of calls named *norm*: they restart a sigmoid stack */
	int nnormed;
} Ctx;

enum { MAX_DEPTH = 64, MAX_NODES = 200000 };
#define MAX_ELEMENTS ((int64_t)1 << 31)

/* lower.c */
Value eval(Ctx *c, const Expr *e);
const Decl *find_decl(const Ctx *c, const char *name);
const char *expr_text(const Expr *e);
void stamp(Ctx *c);
void stamp_call(Ctx *c, const char *path);
Value *env_lookup(Frame *f, const char *name);
void env_bind(Frame *f, const char *name, Value v);
void bind_args(const char *callee, const Expr *call, const char *const *names, int n,
               const Expr **out);
void eval_args(Ctx *c, const Expr *call, const Expr **args, int n, Value *out);
Value call_fn(Ctx *c, const Decl *d, const Expr *call);   /* a fn or model of the program, inlined */

/* lower_scan.c: scan(step, h0, xs..., steps:, ...) */
Value lower_scan(Ctx *c, const Expr *call);
int in_main_file(const Ctx *c, Loc loc);
const Decl *step_fn(Ctx *c, const Expr *call, const Expr **positional, int npos, const char *what);
int carried(Ctx *c, const Expr *call, const char *path, const char *callee, Node **in);
/* lower_repeat.c: repeat(step, x, times: K, stateful:, ...), unrolled */
Value lower_repeat(Ctx *c, const Expr *call);

/* lower_names.c: parameter paths */
const char *call_path_of(Ctx *c, const char *callee, int *ordinal);   /* "mlp.batch_norm_1": numbered per frame */
void name_frame(Ctx *c, Frame *callee, const Decl *d, Loc call);
int param_slot(Ctx *c, const Stmt *s, DType dt, Shape sh, Init init);   /* made, or shared */
/* a state the model keeps, not trained: batch norm's running statistics,
 * a scan's state carried across batches (callee "batch_norm" or "scan") */
int buffer_slot(Ctx *c, const char *call_path, const char *callee, const char *what, DType dt, Shape sh,
                InitKind init, Loc loc);

/* lower_types.c: values, dtypes, shapes */
const char *value_kind_name(const Value *v);
const char *type_str(DType dt, Shape s);
Value tensor_value(Node *n, Loc loc);
Node *need_tensor(Ctx *c, const Value *v, const char *what);
double need_number(const Value *v, const char *what);
int64_t need_int(const Value *v, const char *what);
Node *to_tensor(Ctx *c, const Value *v, DType dt, Loc loc);
Value arith(Ctx *c, int op, Value a, Value b, Loc loc);
Value negate(Ctx *c, Value a, Loc loc);
Node *binary_bcast(Ctx *c, Op op, Node *a, Node *b, const char *opname, Loc loc);
Value bind_type(Ctx *c, const Type *ty, Value v, const char *what, Loc loc);
Shape check_shape(Shape s, Loc loc);
DType resolve_dtype(const Ctx *c, DTypeName dt);
Node *bind_field(Ctx *c, const Value *v, DType dt, Shape s, Loc loc);
int norm_axis(int64_t axis, int rank, const char *fn, Loc loc);

/* lower_vision.c: convolution and pooling builtins (arguments as bound by
 * lower_builtins.c's table) */
Value lower_conv2d(Ctx *c, const Expr *call, Value *arg);
Value lower_max_pool(Ctx *c, const Expr *call, Value *arg);
Value lower_avg_pool(Ctx *c, const Expr *call, Value *arg);
Value lower_global_avg_pool(Ctx *c, const Expr *call, Value *arg);
Value lower_flatten(Ctx *c, const Expr *call, Value *arg);
Value lower_local_response_norm(Ctx *c, const Expr *call, Value *arg);

/* lower_parts.c: parts along an axis */
Value lower_slice(Ctx *c, const Expr *call, Value *arg);
Value lower_concat(Ctx *c, const Expr *call, Value *arg);
Node *concat_nodes(Ctx *c, Node **part, int n, int axis, Loc loc);   /* parts checked by the caller */

/* lower_norm.c: builtins that differ between training and evaluation */
Value lower_dropout(Ctx *c, const Expr *call, Value *arg);
/* lower_random.c: sampling on the trainer's random streams */
Node *random_uniform(Ctx *c, DType dt, Shape s, Loc loc);   /* U[0,1), a stream of its own */
Value lower_bernoulli(Ctx *c, const Expr *call, Value *arg);
Value lower_gaussian(Ctx *c, const Expr *call, Value *arg);
Value lower_categorical(Ctx *c, const Expr *call, Value *arg);
Value lower_batch_norm(Ctx *c, const Expr *call, Value *arg);

/* lower_warn.c: -Wmodel warnings and the hints of shape errors */
void remember(Node ***list, int *n, Node *node);
int remembered(Node *const *list, int n, const Node *node);
const char *keepdims_hint(const Ctx *c, const Node *a, const Node *b);
void warn_widened(Ctx *c, const Node *a, const Node *b, Shape to, int op, Loc loc);
void warn_after_call(Ctx *c, const char *callee, const Value *v, const Expr *call);
void warn_builtin_args(Ctx *c, const char *callee, const Value *arg, Loc loc);
void warn_optimizer(const Ctx *c, const char *name, const Value *lr, double value);
void warn_model_graph(Ctx *c);

/* lower_suggest.c */
const char *suggest(const char *name, const char *const *cands, int n);
const char *nearest(const char *name, const char *const *cands, int n);   /* synonyms, then suggest */
const char *name_list(const char *const *names, int n);                   /* "a, b, c" */

/* lower.c: the elaborator's state for a program, begun and ended */
Ctx *lower_start(const Program *prog);
void lower_finish(Ctx *c);

/* lower_grad.c: grad(f), a function value, and calls of function values */
Value lower_grad(Ctx *c, const Expr *call);
Value apply_function(Ctx *c, Value f, const Expr *call);
/* call_user with the arguments already evaluated, one per call->args */
Value call_with_values(Ctx *c, const Decl *d, const Expr *call, const Value *arg);

/* lower_probe.c */
Value lower_probe(Ctx *c, const Expr *call, Value *arg);
void store_probes(Ctx *c);          /* each probe's value, written by eval as an output */

/* lower_builtins.c */
int is_builtin(const char *name);
Value call_builtin(Ctx *c, const Expr *call, const char *note);
int init_by_name(const char *name, Init *out);
const char *const *builtin_names(int *n);

/* lower_train.c */
void lower_train(Ctx *c);
/* lower_stage.c: a stage's name and place on the module, its frozen parameters made buffers */
void lower_stage(Ctx *c);
int source_ignores_labels(const Ctx *c);   /* a text source with mask: labels of -1 are skipped */
int source_gives_ids(const Ctx *c);   /* the training source is text: its x holds character ids */

#endif
