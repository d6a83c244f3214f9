/* parser.y — the nn grammar (docs/language.md), building the AST of ast.h.
 *
 * The parser only checks syntax.  Keywords that a program may also use as
 * names (data, loss, train, init, ...) are "soft": the `name` rule accepts
 * them wherever an identifier is expected, so `data train = ...` and
 * `train.x` both work.  Syntax errors are worded by report_syntax_error
 * below from the tokens the parser expected (LAC makes that list exact). */
%define api.pure full
%define api.location.type {Loc}
%define api.header.include {"parser.h"}
%define parse.error custom
%define parse.lac full
%locations
%expect 0
%param {void *scanner}
%parse-param {ParseState *ps}

%code requires {
#include "front.h"
}

%code provides {
int yylex(YYSTYPE *yylval, YYLTYPE *yylloc, void *scanner);
}

%code {
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The parser's stacks, when they outgrow the initial ones, come from the
 * arena: an error longjmps out of yyparse when a driver recovers from it
 * (diag_set_recover), and arena memory is reclaimed with the arena. */
#define YYMALLOC(n) xalloc(n)
#define YYFREE(p) ((void)(p))

/* A node's span: from its first token to the end of its last one when
 * they share a line, else just the first token. */
#define YYLLOC_DEFAULT(Cur, Rhs, N)                                       \
	do {                                                                  \
		if (N) {                                                          \
			(Cur) = YYRHSLOC(Rhs, 1);                                     \
			Loc last_ = YYRHSLOC(Rhs, N);                                 \
			if (last_.line == (Cur).line && last_.col >= (Cur).col)       \
				(Cur).len = last_.col + last_.len - (Cur).col;            \
		} else {                                                          \
			(Cur) = YYRHSLOC(Rhs, 0);                                     \
			(Cur).col += (Cur).len;                                       \
			(Cur).len = 1;                                                \
		}                                                                 \
	} while (0)

/* Chains of unary minus and right-associative '**' are what fill the
 * stack (brackets stop at MAX_NESTING first). */
#define YYMAXDEPTH 10000
static void yyerror(YYLTYPE *loc, void *scanner, ParseState *ps, const char *msg);
static Expr *new_expr(ExprKind kind, Loc loc);
static Expr *check_depth(Expr *root);
static Expr *binary(int op, Expr *a, Expr *b, Loc loc);
static void add_decl(ParseState *ps, Decl *d);
static Decl *new_decl(DeclKind kind, const char *name, Loc loc, ParamList params, Type *ret);
static Type *tensor_type(DTypeName dt, ExprList dims, Loc loc);
static Type *scalar_type(TypeKind kind, Loc loc);
static Stmt *new_stmt(StmtKind kind, const char *name, Type *type, Expr *value, Loc loc);
static TrainItem item(TrainItemKind kind, const char *name, Expr *value, Loc loc);
#define PUSH(list, x) ((list).v = vec_grow((list).v, (list).n, sizeof *(list).v), (list).v[(list).n++] = (x))
}

%code requires {
typedef struct ExprList { Expr **v; int n; int rest; } ExprList;   /* rest: a type's dims after '...' */
typedef struct ArgList { Arg *v; int n; } ArgList;
typedef struct ParamList { Param *v; int n; } ParamList;
typedef struct StmtList { Stmt **v; int n; } StmtList;
typedef struct ItemList { TrainItem *v; int n; } ItemList;
typedef struct NameList { const char **v; Loc *locs; int n; } NameList;
}

%union {
	const char *str;
	Expr *expr;
	Type *type;
	Stmt *stmt;
	Param param;
	Arg arg;
	TrainItem item;
	ExprList exprs;
	ArgList args;
	ParamList params;
	StmtList stmts;
	ItemList items;
	NameList names;
}

%token <str> IDENT "identifier"
%token <expr> NUMBER "number" STRING "string"
%token TERM "newline"
%token IMPORT "import" FN "fn" MODEL "model" TRAIN "train" PARAM "param" RETURN "return"
%token DATA "data" LOSS "loss" OPTIMIZER "optimizer" SCHEDULE "schedule" REPORT "report" ON "on"
%token STAGE "stage"
%token F32 "f32" F64 "f64" FLOAT "float" I32 "i32" INT "int" INIT "init"
%token ARROW "->" POW "**" ELLIPSIS "..."

%type <str> name metric
%type <expr> expr primary call opt_default
%type <type> type opt_type opt_ret
%type <stmt> stmt
%type <param> param
%type <arg> arg
%type <item> item
%type <exprs> exprs opt_exprs dims
%type <args> args opt_args
%type <params> params opt_params
%type <stmts> stmts stmt_seq
%type <items> items item_seq
%type <names> metrics

%left '+' '-'
%left '*' '/' '@'
%precedence NEG
%right POW

%%

program
	: %empty
	| program TERM
	| program decl
	;

decl
	: IMPORT name {
		ps->imports = vec_grow(ps->imports, ps->nimports, sizeof *ps->imports);
		ps->imports[ps->nimports++] = (Import){ $2, @2 };
	}
	| FN name '(' opt_params ')' opt_ret '{' stmts '}' {
		Decl *d = new_decl(D_FN, $2, @2, $4, $6);
		d->body = $8.v, d->nbody = $8.n;
		add_decl(ps, d);
	}
	| MODEL name '(' opt_params ')' opt_ret '{' stmts '}' {
		Decl *d = new_decl(D_MODEL, $2, @2, $4, $6);
		d->body = $8.v, d->nbody = $8.n;
		add_decl(ps, d);
	}
	| TRAIN name '{' items '}' {
		Decl *d = new_decl(D_TRAIN, $2, @2, (ParamList){ 0 }, NULL);
		d->items = $4.v, d->nitems = $4.n;
		add_decl(ps, d);
	}
	;

/* Keywords that double as names. */
name
	: IDENT
	| TRAIN { $$ = "train"; }      | DATA { $$ = "data"; }
	| LOSS { $$ = "loss"; }        | OPTIMIZER { $$ = "optimizer"; }
	| SCHEDULE { $$ = "schedule"; } | REPORT { $$ = "report"; }
	| ON { $$ = "on"; }            | INIT { $$ = "init"; }
	| STAGE { $$ = "stage"; }
	;

opt_params : %empty { $$ = (ParamList){ 0 }; } | params ;
params
	: param { $$ = (ParamList){ 0 }; PUSH($$, $1); }
	| params ',' param { $$ = $1; PUSH($$, $3); }
	;
param
	: name opt_type opt_default { $$ = (Param){ $1, $2, $3 ? check_depth($3) : NULL, @1 }; }
	;
opt_type : %empty { $$ = NULL; } | ':' type { $$ = $2; } ;
opt_default : %empty { $$ = NULL; } | '=' expr { $$ = $2; } ;
opt_ret : %empty { $$ = NULL; } | ARROW type { $$ = $2; } ;

type
	: F32 '[' dims ']' { $$ = tensor_type(DTN_F32, $3, @$); }
	| F64 '[' dims ']' { $$ = tensor_type(DTN_F64, $3, @$); }
	| FLOAT '[' dims ']' { $$ = tensor_type(DTN_FLOAT, $3, @$); }
	| I32 '[' dims ']' { $$ = tensor_type(DTN_I32, $3, @$); }
	| INT { $$ = scalar_type(T_INT, @$); }
	| FLOAT { $$ = scalar_type(T_FLOAT, @$); }
	| INIT { $$ = scalar_type(T_INIT, @$); }
	;

/* Statements: separated by terminators, with any number of extra ones. */
stmts
	: opt_terms { $$ = (StmtList){ 0 }; }
	| opt_terms stmt_seq opt_terms { $$ = $2; }
	;
stmt_seq
	: stmt { $$ = (StmtList){ 0 }; PUSH($$, $1); }
	| stmt_seq terms stmt { $$ = $1; PUSH($$, $3); }
	;
opt_terms : %empty | terms ;
terms : TERM | terms TERM ;

stmt
	: name '=' expr { $$ = new_stmt(S_ASSIGN, $1, NULL, $3, @1); }
	| PARAM name ':' type '=' expr { $$ = new_stmt(S_PARAM, $2, $4, $6, @2); }
	| RETURN expr { $$ = new_stmt(S_RETURN, NULL, NULL, $2, @1); }
	;

items
	: opt_terms { $$ = (ItemList){ 0 }; }
	| opt_terms item_seq opt_terms { $$ = $2; }
	;
item_seq
	: item { $$ = (ItemList){ 0 }; PUSH($$, $1); }
	| item_seq terms item { $$ = $1; PUSH($$, $3); }
	;
item
	: DATA name '=' expr { $$ = item(TI_DATA, $2, $4, @2); }
	| LOSS '=' expr { $$ = item(TI_LOSS, NULL, $3, @1); }
	| OPTIMIZER '=' expr { $$ = item(TI_OPTIMIZER, NULL, $3, @1); }
	| SCHEDULE '=' expr { $$ = item(TI_SCHEDULE, NULL, $3, @1); }
	| IDENT expr { $$ = item(TI_SETTING, $1, $2, @1); }
	| MODEL name {
		Expr *e = new_expr(E_IDENT, @2);
		e->str = $2;
		$$ = item(TI_SETTING, "model", e, @1);
	}
	| STAGE name '{' items '}' {
		$$ = item(TI_STAGE, $2, NULL, @2);
		$$.items = $4.v, $$.nitems = $4.n;
	}
	| REPORT metrics ON name {
		$$ = item(TI_REPORT, $4, NULL, @1);
		$$.metrics = $2.v, $$.metric_locs = $2.locs, $$.nmetrics = $2.n;
	}
	;
metrics
	: metric {
		$$ = (NameList){ 0 };
		$$.locs = vec_grow(NULL, 0, sizeof(Loc));
		$$.locs[0] = @1;
		PUSH($$, $1);
	}
	| metrics ',' metric {
		$$ = $1;
		$$.locs = vec_grow($$.locs, $$.n, sizeof(Loc));
		$$.locs[$$.n] = @3;
		PUSH($$, $3);
	}
	;
metric : IDENT | LOSS { $$ = "loss"; } ;

expr
	: expr '+' expr { $$ = binary('+', $1, $3, @2); }
	| expr '-' expr { $$ = binary('-', $1, $3, @2); }
	| expr '*' expr { $$ = binary('*', $1, $3, @2); }
	| expr '/' expr { $$ = binary('/', $1, $3, @2); }
	| expr '@' expr { $$ = binary('@', $1, $3, @2); }
	| expr POW expr { $$ = binary('P', $1, $3, @2); }
	| '-' expr %prec NEG { $$ = new_expr(E_UNARY, @$); $$->op = '-'; $$->a = $2; }
	| primary
	;

primary
	: NUMBER
	| STRING
	| name { $$ = new_expr(E_IDENT, @$); $$->str = $1; }
	| call
	| primary '.' name { $$ = new_expr(E_FIELD, @3); $$->a = $1; $$->str = $3; }
	| '(' expr ')' { $$ = $2; }
	| '[' opt_exprs ']' {
		$$ = new_expr(E_LIST, @$);
		$$->args = xalloc(sizeof *$$->args * ($2.n ? $2.n : 1));
		for (int i = 0; i < $2.n; i++)
			$$->args[i] = (Arg){ NULL, $2.v[i], $2.v[i]->loc };
		$$->nargs = $2.n;
	}
	;

/* A call, or a call of the function a call gives: grad(f)(x). */
call
	: name '(' opt_args ')' {
		$$ = new_expr(E_CALL, @1);
		$$->str = $1;
		$$->args = $3.v, $$->nargs = $3.n;
	}
	| call '(' opt_args ')' {
		$$ = new_expr(E_APPLY, @2);
		$$->a = $1;
		$$->args = $3.v, $$->nargs = $3.n;
	}
	;

opt_exprs : %empty { $$ = (ExprList){ 0 }; } | exprs ;
/* A tensor type's dims; '...' first stands for any leading dims. */
dims : opt_exprs | ELLIPSIS ',' exprs { $$ = $3; $$.rest = 1; } ;
exprs
	: expr { $$ = (ExprList){ 0 }; PUSH($$, $1); }
	| exprs ',' expr { $$ = $1; PUSH($$, $3); }
	;

opt_args : %empty { $$ = (ArgList){ 0 }; } | args ;
args
	: arg { $$ = (ArgList){ 0 }; PUSH($$, $1); }
	| args ',' arg { $$ = $1; PUSH($$, $3); }
	;
arg
	: expr { $$ = (Arg){ NULL, $1, @1 }; }
	| name ':' expr { $$ = (Arg){ $1, $3, @1 }; }
	;

%%

static Expr *new_expr(ExprKind kind, Loc loc)
{
	Expr *e = xalloc(sizeof *e);
	e->kind = kind;
	e->loc = loc;
	return e;
}

static Expr *binary(int op, Expr *a, Expr *b, Loc loc)
{
	Expr *e = new_expr(E_BINARY, loc);
	e->op = op;
	e->a = a;
	e->b = b;
	return e;
}

static void add_decl(ParseState *ps, Decl *d)
{
	d->module = ps->module;
	ps->decls = vec_grow(ps->decls, ps->ndecls, sizeof *ps->decls);
	ps->decls[ps->ndecls++] = d;
}

static Decl *new_decl(DeclKind kind, const char *name, Loc loc, ParamList params, Type *ret)
{
	Decl *d = xalloc(sizeof *d);
	d->kind = kind;
	d->name = name;
	d->loc = loc;
	d->params = params.v;
	d->nparams = params.n;
	d->ret = ret;
	return d;
}

static Type *tensor_type(DTypeName dt, ExprList dims, Loc loc)
{
	Type *t = scalar_type(T_TENSOR, loc);
	t->dt = dt;
	for (int i = 0; i < dims.n; i++)
		check_depth(dims.v[i]);
	t->dims = dims.v;
	t->ndims = dims.n;
	t->rest = dims.rest;
	return t;
}

static Type *scalar_type(TypeKind kind, Loc loc)
{
	Type *t = xalloc(sizeof *t);
	t->kind = kind;
	t->loc = loc;
	return t;
}

static Stmt *new_stmt(StmtKind kind, const char *name, Type *type, Expr *value, Loc loc)
{
	Stmt *s = xalloc(sizeof *s);
	*s = (Stmt){ kind, loc, name, type, check_depth(value) };
	return s;
}

static TrainItem item(TrainItemKind kind, const char *name, Expr *value, Loc loc)
{
	return (TrainItem){ .kind = kind, .loc = loc, .name = name, .value = value ? check_depth(value) : NULL };
}

/* Later stages walk expressions recursively, so a left-leaning chain of a
 * million '+' would overflow their stacks: bound the depth here, walking
 * with an explicit stack (each statement once, so linear overall). */
static Expr *check_depth(Expr *root)
{
	typedef struct { Expr *e; int depth; } Pending;
	size_t cap = 64, n = 0;
	Pending *stack = malloc(cap * sizeof *stack);
	if (!stack)
		fatal(EXIT_NOMEM, "out of memory");
	stack[n++] = (Pending){ root, 1 };
	while (n > 0) {
		Pending p = stack[--n];
		if (p.depth > MAX_EXPR_DEPTH) {
			free(stack);
			error_at(p.e->loc, "expression nested too deeply (more than %d levels)", MAX_EXPR_DEPTH);
		}
		if (n + 2 + (size_t)p.e->nargs > cap) {
			cap = 2 * (n + 2 + (size_t)p.e->nargs);
			Pending *grown = realloc(stack, cap * sizeof *stack);
			if (!grown)
				fatal(EXIT_NOMEM, "out of memory");
			stack = grown;
		}
		if (p.e->a)
			stack[n++] = (Pending){ p.e->a, p.depth + 1 };
		if (p.e->b)
			stack[n++] = (Pending){ p.e->b, p.depth + 1 };
		for (int i = 0; i < p.e->nargs; i++)
			stack[n++] = (Pending){ p.e->args[i].value, p.depth + 1 };
	}
	free(stack);
	return root;
}

void *vec_grow(void *v, int n, size_t elem)
{
	if (n > 0 && (n & (n - 1)) != 0)
		return v;           /* capacity is the next power of two: room left */
	size_t cap = n ? 2 * (size_t)n : 1;
	return xrealloc(v, elem * (size_t)n, elem * cap);
}

/* The flex entry points (lexer.c); declared here to spare a generated header. */
int yylex_init_extra(ParseState *extra, void **scanner);
struct yy_buffer_state *yy_scan_bytes(const char *bytes, int len, void *scanner);
int yylex_destroy(void *scanner);

void parse_source(ParseState *ps, const char *text, size_t len)
{
	void *scanner;
	ps->line = ps->col = 1;
	if (yylex_init_extra(ps, &scanner))
		fatal(EXIT_NOMEM, "out of memory starting the scanner");
	yy_scan_bytes(text, (int)len, scanner);
	int rc = yyparse(scanner, ps);
	yylex_destroy(scanner);
	if (rc)
		fatal(EXIT_INTERNAL, "parser failed without a message on %s", ps->file);
}

/* Bison calls this only when its stack is full: every real syntax error
 * goes through yyreport_syntax_error. */
static void yyerror(YYLTYPE *loc, void *scanner, ParseState *ps, const char *msg)
{
	(void)scanner, (void)ps, (void)msg;
	error_at(*loc, "expression nested too deeply (more than %d pending operators)", YYMAXDEPTH);
}

/* ---- wording of syntax errors ---- */

/* Token names as a message shows them: identifier, '(', 'model'. */
static const char *token_name(yysymbol_kind_t k)
{
	const char *s = yysymbol_name(k);
	if (s[0] == '\'' || k == YYSYMBOL_IDENT || k == YYSYMBOL_NUMBER || k == YYSYMBOL_STRING
	    || k == YYSYMBOL_TERM || k == YYSYMBOL_YYEOF)
		return s;
	size_t n = strlen(s);
	if (n >= 2 && s[0] == '"')
		return xprintf("'%.*s'", (int)n - 2, s + 1);
	return xprintf("'%s'", s);
}

static int is_name_kw(yysymbol_kind_t k)
{
	return k == YYSYMBOL_TRAIN || k == YYSYMBOL_DATA || k == YYSYMBOL_LOSS
	    || k == YYSYMBOL_OPTIMIZER || k == YYSYMBOL_SCHEDULE || k == YYSYMBOL_REPORT
	    || k == YYSYMBOL_ON || k == YYSYMBOL_INIT || k == YYSYMBOL_STAGE;
}

static int is_expr_start(yysymbol_kind_t k)
{
	const char *n = yysymbol_name(k);
	return k == YYSYMBOL_IDENT || k == YYSYMBOL_NUMBER || k == YYSYMBOL_STRING
	    || is_name_kw(k) || !strcmp(n, "'('") || !strcmp(n, "'['") || !strcmp(n, "'-'");
}

/* Tokens that may always continue an expression; listing them next to
 * the real alternatives only hides those. */
static int is_continuation(yysymbol_kind_t k)
{
	const char *n = yysymbol_name(k);
	return k == YYSYMBOL_POW || (strlen(n) == 3 && strchr("+-*/@.(:", n[1]));
}

typedef struct Expected {
	yysymbol_kind_t k[YYNTOKENS];
	int n;
	int stmt, item, expr, name, others;
} Expected;

static int has(const Expected *e, yysymbol_kind_t k)
{
	for (int i = 0; i < e->n; i++)
		if (e->k[i] == k)
			return 1;
	return 0;
}

/* "a statement", "an expression" and so on stand for their first tokens. */
static void add_phrase(const char **list, int *n, const Expected *e, yysymbol_kind_t k, int closer)
{
	int grouped = (e->stmt && (k == YYSYMBOL_IDENT || is_name_kw(k) || k == YYSYMBOL_PARAM || k == YYSYMBOL_RETURN))
	    || ((e->item || e->name) && (k == YYSYMBOL_IDENT || is_name_kw(k)))
	    || (e->item && k == YYSYMBOL_MODEL)   /* a stage's `model NAME` */
	    || (e->expr && is_expr_start(k));
	if (grouped || k == YYSYMBOL_YYEOF || k == closer)
		return;
	if (k == YYSYMBOL_TERM) {
		if (!e->stmt && !e->item && !has(e, YYSYMBOL_FN)) {
			list[(*n)++] = "newline";
			list[(*n)++] = "';'";
		}
		return;
	}
	if (is_continuation(k) && e->others)
		return;
	list[(*n)++] = token_name(k);
}

static const char *expected_list(const Expected *e, const ParseState *ps)
{
	const char *list[2 * YYNTOKENS + 4];
	int n = 0;
	yysymbol_kind_t closer = YYSYMBOL_YYUNDEF;
	/* the scanner has already pushed a lookahead that opens a bracket */
	int top = ps->nopen - 1;
	if (top >= 0 && ps->tok_len == 1 && strchr("([{", ps->tok_text[0]))
		top--;
	const Opener *o = top >= 0 ? &ps->open[top] : NULL;
	if (e->n == 2 && has(e, YYSYMBOL_IDENT) && has(e, YYSYMBOL_LOSS))
		return "a metric to report (accuracy, loss)";
	if (e->stmt)
		list[n++] = "a statement";
	if (e->item)
		list[n++] = "a train item";
	if (e->expr)
		list[n++] = "an expression";
	if (e->name)
		list[n++] = "a name";
	for (int i = 0; i < e->n; i++) {
		const char *name = yysymbol_name(e->k[i]);
		if (o && strlen(name) == 3 && name[1] == (o->ch == '(' ? ')' : o->ch == '[' ? ']' : '}'))
			closer = e->k[i];
	}
	for (int i = 0; i < e->n; i++)
		add_phrase(list, &n, e, e->k[i], closer);
	if (closer != YYSYMBOL_YYUNDEF)
		list[n++] = xprintf("%s to close %s at %d:%d", token_name(closer), o->what, o->loc.line, o->loc.col);
	if (n == 0)
		return "something else";
	const char *s = list[0];
	for (int i = 1; i < n; i++)
		s = xprintf("%s%s%s", s, i == n - 1 ? " or " : ", ", list[i]);
	return s;
}

static const char *found(yysymbol_kind_t k, const ParseState *ps)
{
	int n = ps->tok_len > 40 ? 40 : ps->tok_len;
	if (k == YYSYMBOL_IDENT)
		return xprintf("identifier '%.*s%s'", n, ps->tok_text, ps->tok_len > n ? "..." : "");
	if (k == YYSYMBOL_NUMBER)
		return xprintf("number %.*s", n, ps->tok_text);
	if (k == YYSYMBOL_TERM)
		return ps->tok_text[0] == ';' ? "';'" : "newline";
	return token_name(k);
}

/* 'for', 'while', 'if' and 'else' are names to the grammar, so `for i in
 * ...` fails on the token after them (`} else {` on 'else' itself, outside
 * the body): say what nn writes instead. */
static void control_flow(const ParseState *ps)
{
	if (!ps->ctl_word || (ps->ntok != ps->ctl_ntok && ps->ntok != ps->ctl_ntok + 1))
		return;
	int loop = !strcmp(ps->ctl_word, "for") || !strcmp(ps->ctl_word, "while");
	error_hint(ps->ctl_loc, loop
	           ? "unroll the steps (h = step(h) once per step, or a fn called per step), or use "
	             "scan(step, h0, xs, ...) for a recurrence (see nn(5))"
	           : "compute both values and choose per element with where(mask, a, b), a mask of "
	             "1s and 0s (see nn(5))",
	           "nn has no '%s' statement: a fn or model is straight-line code", ps->ctl_word);
}

static int yyreport_syntax_error(const yypcontext_t *ctx, void *scanner, ParseState *ps)
{
	(void)scanner;
	control_flow(ps);
	Expected e = { 0 };
	e.n = yypcontext_expected_tokens(ctx, e.k, YYNTOKENS);
	if (e.n < 0)
		e.n = 0;
	e.stmt = has(&e, YYSYMBOL_PARAM) && has(&e, YYSYMBOL_RETURN);
	e.expr = has(&e, YYSYMBOL_NUMBER);
	/* the soft keywords are names too: tell the contexts apart */
	e.item = has(&e, YYSYMBOL_REPORT) && !has(&e, YYSYMBOL_TRAIN);
	e.name = has(&e, YYSYMBOL_TRAIN) && has(&e, YYSYMBOL_IDENT) && !e.stmt && !e.expr;
	for (int i = 0; i < e.n; i++)
		if (!is_continuation(e.k[i]) && e.k[i] != YYSYMBOL_YYEOF)
			e.others = 1;
	yysymbol_kind_t k = yypcontext_token(ctx);
	Loc loc = *yypcontext_location(ctx);
	const char *want = expected_list(&e, ps);
	if (k == YYSYMBOL_YYEOF || (k == YYSYMBOL_TERM && ps->tok_len == 0))
		error_at(loc, "unexpected end of file: expected %s", want);
	error_at(loc, "expected %s, found %s", want, found(k, ps));
}
