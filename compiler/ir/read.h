/* read.h — what the three files of the listing reader share (read.c:
 * lines, functions and slots; read_lex.c: the tokens of a line;
 * read_attr.c: attributes).  Internal to them; ir.h declares ir_read. */
#ifndef NNC_READ_H
#define NNC_READ_H

#include "ir.h"

/* Bounds that keep every size the passes compute far from overflow. */
#define MAX_ID (1 << 24)
#define MAX_DIM ((int64_t)1 << 31)
#define MAX_ELEMS ((int64_t)1 << 40)
#define MAX_GEOMETRY (1 << 16)
#define MAX_PLACE (1 << 20)           /* group and buffer numbers */

typedef struct Tok { const char *s; int n; } Tok;

/* How the listing uses a slot; its role follows (read.c, slot_roles). */
typedef struct SlotUse { char input, param, stored_by_update, stored_elsewhere; } SlotUse;

/* One function as read, and the listing line of each node. */
typedef struct FnRead { Fn *fn; Loc head; Loc *at; int cap, capbuf; } FnRead;

/* A scan's body being read: what the enclosing function's lines had. */
typedef struct BodyRead { FnRead f, *outer; Node *scan; Node **by_id; int cap_id; Node **latest; int capuse; } BodyRead;
enum { MAX_BODY_DEPTH = 8 };

typedef struct Reader {
	const char *file;
	const char *text, *end;
	const char *line, *eol, *p;   /* the current line and the cursor in it */
	int lineno;
	Module *m;
	SlotUse *use;
	FnRead fns[4];
	int nfn;
	FnRead *cur;
	Node **by_id;                 /* the current function's nodes by %id */
	int cap_id;
	Node **latest;                /* by slot: the current function's latest param or input */
	int capuse;                   /* of use and latest */
	int *hash, nhash;             /* slot_named's table */
	BodyRead body[MAX_BODY_DEPTH];   /* the scans whose bodies are open, innermost last */
	int depth;
	const char *comment;          /* "; of %ID ..." lines, for the next node */
} Reader;

/* read_lex.c: the cursor moves along the current line; every error is
 * reported at its column and exits (error_at). */
Loc rd_loc_at(const Reader *r, const char *at, int len);
_Noreturn void rd_fail_at(const Reader *r, const char *at, int len, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void rd_spaces(Reader *r);
int rd_at_end(Reader *r);                         /* after blanks, the line is over */
Tok rd_word(Reader *r, const char *stops);        /* up to a blank or one of stops */
Tok rd_peek(Reader *r);                           /* the next word, not taken */
int rd_is(Tok t, const char *s);
int rd_accept(Reader *r, const char *s);          /* takes s if it comes next */
void rd_expect(Reader *r, const char *s);
const char *rd_shown(Tok t);                      /* for messages, at most 40 bytes */
int rd_digits(const char *s, int n);              /* n > 0 decimal digits */
int64_t rd_integer(const Reader *r, Tok t, int64_t lo, int64_t hi, const char *what);
double rd_number(const Reader *r, Tok t, const char *what);
Tok rd_name(Reader *r, const char *what);         /* an identifier, dots joining a path */
int rd_type_ahead(const Reader *r);
void rd_type(Reader *r, DType *dt, Shape *s);

/* read_attr.c: the attributes after an op's operands, up to the type. */
void rd_attributes(Reader *r, Node *n);

#endif
