/* front.h — what the lexer, the parser and the driver (front.c) share.
 *
 * One ParseState per source file: the lexer keeps its position and the
 * stack of open brackets in it (the newline rule and the "to close"
 * messages need both), the parser appends the file's declarations and
 * imports to it.  Everything lives in the compilation arena. */
#ifndef NNC_FRONT_H
#define NNC_FRONT_H

#include <stddef.h>
#include "util.h"
#include "ast.h"

enum {
	MAX_NESTING = 256,    /* open brackets at once; deeper input is rejected */
	MAX_IDENT = 256,      /* bytes in an identifier */
	MAX_EXPR_DEPTH = 1000, /* levels of an expression tree (later stages recurse) */
};

/* An open '(', '[' or '{' and what it opened, for "expected ')' to close". */
typedef struct Opener {
	char ch;              /* '(' '[' '{' */
	Loc loc;              /* the bracket, or for '{' the keyword of the declaration */
	const char *what;     /* "'('", or "'model'" for the brace of a model */
} Opener;

typedef struct Import {
	const char *name;
	Loc loc;
} Import;

typedef struct ParseState {
	const char *file;     /* path as given, for Locs */
	const char *module;   /* "" for the main file */
	/* lexer */
	int line, col;
	int can_end;          /* the last token can end an expression (newline rule) */
	int parens;           /* '(' and '[' open: newlines inside them are spaces */
	int eof_term_sent;    /* the terminator before end of file was emitted */
	Opener open[MAX_NESTING];
	int nopen;
	Loc decl_kw;          /* the last 'fn', 'model' or 'train', for a '{' opener */
	const char *decl_kw_text;
	const char *tok_text; /* the last token's text (valid until the next token) */
	int tok_len;
	int ntok;             /* tokens so far */
	const char *ctl_word; /* the last 'for', 'while', 'if' or 'else' read as a name, */
	Loc ctl_loc;          /* for a syntax error right after it: nn has none of them */
	int ctl_ntok;         /* ntok after it */
	/* parser output */
	Decl **decls;
	int ndecls;
	Import *imports;
	int nimports;
} ParseState;

/* parser.y: parse `text` (len bytes, already checked to be UTF-8 without
 * NUL bytes) into ps->decls and ps->imports; errors exit via error_at. */
void parse_source(ParseState *ps, const char *text, size_t len);

/* Append room for one more element to an arena array of n elements; the
 * capacity is implicit (the next power of two), so no field holds it. */
void *vec_grow(void *v, int n, size_t elem);

#endif
