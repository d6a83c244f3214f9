/* ast.h — the syntax tree the parser hands to the elaborator.
 *
 * The parser checks only syntax; names, types and shapes are the
 * elaborator's (lower.c).  Every node keeps the Loc of the text it came
 * from.  Nodes live in the compilation arena. */
#ifndef NNC_AST_H
#define NNC_AST_H

#include <stdio.h>
#include "util.h"

typedef struct Expr Expr;
typedef struct Stmt Stmt;

typedef enum {
	E_NUM,      /* num; is_int when written without '.', 'e' */
	E_STR,      /* str (escapes decoded) */
	E_IDENT,    /* str */
	E_FIELD,    /* a.str          e.g. train.x */
	E_UNARY,    /* op a           op: '-' */
	E_BINARY,   /* a op b         op: '+' '-' '*' '/' '@' 'P' (**) */
	E_CALL,     /* str(args)      callee is a plain name */
	E_APPLY,    /* a(args)        a is a call that gives a function: grad(f)(x) */
	E_LIST,     /* [args]         e.g. reshape(x, [B, 28, 28]); args unnamed */
} ExprKind;

typedef struct Arg {
	const char *name;     /* keyword argument name, or NULL for positional */
	Expr *value;
	Loc loc;
} Arg;

struct Expr {
	ExprKind kind;
	Loc loc;              /* the whole expression; for E_BINARY the operator */
	double num;
	int is_int;
	const char *str;
	int op;
	Expr *a, *b;
	Arg *args;
	int nargs;
};

/* A type annotation: f32[B, 784], float[N, out], i32[B], int, float, init.
 * For tensors, dims are expressions over identifiers and integers. */
typedef enum { T_TENSOR, T_INT, T_FLOAT, T_INIT } TypeKind;
typedef enum { DTN_F32, DTN_F64, DTN_FLOAT /* the program's float type */, DTN_I32 } DTypeName;

typedef struct Type {
	TypeKind kind;
	DTypeName dt;         /* T_TENSOR */
	Expr **dims;          /* T_TENSOR; ndims == 0 is a scalar tensor f32[] */
	int ndims;
	int rest;             /* written [..., dims]: any leading dims before these */
	Loc loc;
} Type;

typedef struct Param {
	const char *name;
	Type *type;           /* NULL: untyped (takes what it is given) */
	Expr *def;            /* default value, or NULL */
	Loc loc;
} Param;

typedef enum {
	S_ASSIGN,             /* name = value */
	S_PARAM,              /* param name: type = value   (value: an initializer) */
	S_RETURN,             /* return value */
} StmtKind;

struct Stmt {
	StmtKind kind;
	Loc loc;
	const char *name;
	Type *type;
	Expr *value;
};

/* Items of a train block. */
typedef enum {
	TI_DATA,              /* data name = value          value: a call, e.g. idx(...) */
	TI_LOSS,              /* loss = value */
	TI_OPTIMIZER,         /* optimizer = value          value: a call, e.g. sgd(lr: 0.1) */
	TI_SCHEDULE,          /* schedule = value           value: a call or identifier */
	TI_SETTING,           /* name value                 batch 64; epochs 10; seed 1 */
	TI_REPORT,            /* report names on source     report accuracy, loss on test */
	TI_STAGE,             /* stage name { items }       a training stage (docs/design.md) */
} TrainItemKind;

typedef struct TrainItem {
	TrainItemKind kind;
	Loc loc;
	const char *name;     /* TI_DATA, TI_SETTING; TI_REPORT: the source */
	Expr *value;
	const char **metrics; /* TI_REPORT */
	Loc *metric_locs;
	int nmetrics;
	struct TrainItem *items;   /* TI_STAGE: the stage's own items */
	int nitems;
} TrainItem;

typedef enum { D_FN, D_MODEL, D_TRAIN } DeclKind;

typedef struct Decl {
	DeclKind kind;
	Loc loc;              /* the name */
	const char *name;     /* D_TRAIN: the model trained */
	const char *module;   /* the file's module name: "layers" for stdlib/layers.nn, "" for the main file */
	Param *params;        /* D_FN, D_MODEL */
	int nparams;
	Type *ret;            /* may be NULL */
	Stmt **body;
	int nbody;
	TrainItem *items;     /* D_TRAIN */
	int nitems;
	const char *stage;    /* D_TRAIN made for one stage of a staged train block (stages.c), else NULL */
	const struct Decl *staged;   /* that train block */
} Decl;

typedef struct Program {
	Decl **decls;         /* the main file's and every imported module's, imports first */
	int ndecls;
	const char *main_file;
	const char *const *stdlib_dirs;   /* where imports were looked up */
} Program;

/* grammar/: parse `path` and, transitively, every module it imports.
 * `import name` looks for name.nn in each directory of `stdlib_dirs`
 * (NULL-terminated) in order; a module is read once however often it is
 * imported.  Syntax errors exit through error_at(). */
Program *parse_program(const char *path, const char *const *stdlib_dirs);

/* The modules in the import directories that declare a fn or model
 * `name`, as "'layers'" or "'a', 'b'"; NULL when none does.  For the
 * error of a call to a name that an import would define. */
const char *modules_defining(const Program *prog, const char *name);

/* ast.c: --emit=ast */
void ast_print(FILE *out, const Program *prog);

#endif
