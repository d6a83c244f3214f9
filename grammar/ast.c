/* ast.c — `nnc --emit=ast`: the syntax tree as an indented S-expression.
 *
 * The output is stable (golden tests compare it): one declaration, param,
 * statement or train item per line; expressions inline, every node
 * followed by @line:col; declarations carry file:line:col and module. */
#include <stdlib.h>
#include <string.h>
#include "ast.h"

static void print_expr(FILE *out, const Expr *e);

/* The shortest decimal that reads back as the same double. */
static void print_num(FILE *out, const Expr *e)
{
	if (e->is_int) {
		fprintf(out, "%.0f", e->num);
		return;
	}
	char buf[40];
	if (e->num == (double)(long long)e->num && e->num > -1e15 && e->num < 1e15) {
		fprintf(out, "%.1f", e->num);   /* 3E+2 reads 300.0, not 3e+02 */
		return;
	}
	for (int prec = 1; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, e->num);
		if (strtod(buf, NULL) == e->num)
			break;
	}
	fputs(buf, out);
	if (!strpbrk(buf, ".eEin"))
		fputs(".0", out);   /* keep floats distinguishable from integers */
}

static void print_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			fprintf(out, "\\%c", *s);
		else if (*s == '\n')
			fputs("\\n", out);
		else if (*s == '\t')
			fputs("\\t", out);
		else
			fputc(*s, out);
	}
	fputc('"', out);
}

static const char *binary_name(int op)
{
	switch (op) {
	case '+': return "add";
	case '-': return "sub";
	case '*': return "mul";
	case '/': return "div";
	case '@': return "matmul";
	case 'P': return "pow";
	default: return "?";
	}
}

static void print_at(FILE *out, Loc loc) { fprintf(out, "@%d:%d", loc.line, loc.col); }

static void print_args(FILE *out, const Arg *args, int n)
{
	for (int i = 0; i < n; i++) {
		fputc(' ', out);
		if (args[i].name)
			fprintf(out, "%s: ", args[i].name);
		print_expr(out, args[i].value);
	}
}

static void print_expr(FILE *out, const Expr *e)
{
	switch (e->kind) {
	case E_NUM: print_num(out, e); break;
	case E_STR: print_string(out, e->str); break;
	case E_IDENT: fputs(e->str, out); break;
	case E_FIELD:
		fputs("(field", out);
		print_at(out, e->loc);
		fputc(' ', out);
		print_expr(out, e->a);
		fprintf(out, " %s)", e->str);
		return;
	case E_UNARY:
		fputs("(neg", out);
		print_at(out, e->loc);
		fputc(' ', out);
		print_expr(out, e->a);
		fputc(')', out);
		return;
	case E_BINARY:
		fprintf(out, "(%s", binary_name(e->op));
		print_at(out, e->loc);
		fputc(' ', out);
		print_expr(out, e->a);
		fputc(' ', out);
		print_expr(out, e->b);
		fputc(')', out);
		return;
	case E_CALL:
		fputs("(call", out);
		print_at(out, e->loc);
		fprintf(out, " %s", e->str);
		print_args(out, e->args, e->nargs);
		fputc(')', out);
		return;
	case E_APPLY:
		fputs("(apply", out);
		print_at(out, e->loc);
		fputc(' ', out);
		print_expr(out, e->a);
		print_args(out, e->args, e->nargs);
		fputc(')', out);
		return;
	case E_LIST:
		fputs("(list", out);
		print_at(out, e->loc);
		print_args(out, e->args, e->nargs);
		fputc(')', out);
		return;
	}
	print_at(out, e->loc);
}

static void print_type(FILE *out, const Type *t)
{
	static const char *const dtypes[] = { "f32", "f64", "float", "i32" };
	switch (t->kind) {
	case T_INT: fputs("int", out); return;
	case T_FLOAT: fputs("float", out); return;
	case T_INIT: fputs("init", out); return;
	case T_TENSOR: break;
	}
	fprintf(out, "(%s [", dtypes[t->dt]);
	for (int i = 0; i < t->ndims; i++) {
		if (i)
			fputc(' ', out);
		print_expr(out, t->dims[i]);
	}
	fputs("])", out);
}

static void print_stmt(FILE *out, const Stmt *s)
{
	static const char *const kinds[] = { "assign", "param", "return" };
	fprintf(out, "\n    (%s", kinds[s->kind]);
	if (s->name)
		fprintf(out, " %s", s->name);
	fprintf(out, " %d:%d", s->loc.line, s->loc.col);
	if (s->type) {
		fputc(' ', out);
		print_type(out, s->type);
	}
	fputc(' ', out);
	print_expr(out, s->value);
	fputc(')', out);
}

static void print_item(FILE *out, const TrainItem *it)
{
	static const char *const kinds[] = { "data", "loss", "optimizer", "schedule", "setting", "report", "stage" };
	fprintf(out, "\n  (%s", kinds[it->kind]);
	if (it->name && it->kind != TI_REPORT)
		fprintf(out, " %s", it->name);
	fprintf(out, " %d:%d", it->loc.line, it->loc.col);
	if (it->kind == TI_REPORT) {
		fputs(" (", out);
		for (int i = 0; i < it->nmetrics; i++) {
			fprintf(out, "%s%s", i ? " " : "", it->metrics[i]);
			print_at(out, it->metric_locs[i]);
		}
		fprintf(out, ") on %s)", it->name);
		return;
	}
	if (it->kind == TI_STAGE) {
		for (int i = 0; i < it->nitems; i++)
			print_item(out, &it->items[i]);
		fputc(')', out);
		return;
	}
	fputc(' ', out);
	print_expr(out, it->value);
	fputc(')', out);
}

static void print_decl(FILE *out, const Decl *d)
{
	static const char *const kinds[] = { "fn", "model", "train" };
	fprintf(out, "(%s %s %s:%d:%d module ", kinds[d->kind], d->name, d->loc.file, d->loc.line, d->loc.col);
	print_string(out, d->module ? d->module : "");
	for (int i = 0; i < d->nparams; i++) {
		const Param *p = &d->params[i];
		fprintf(out, "\n  (param %s %d:%d", p->name, p->loc.line, p->loc.col);
		if (p->type) {
			fputc(' ', out);
			print_type(out, p->type);
		}
		if (p->def) {
			fputs(" (default ", out);
			print_expr(out, p->def);
			fputc(')', out);
		}
		fputc(')', out);
	}
	if (d->ret) {
		fputs("\n  (returns ", out);
		print_type(out, d->ret);
		fputc(')', out);
	}
	if (d->kind != D_TRAIN) {
		fputs("\n  (body", out);
		for (int i = 0; i < d->nbody; i++)
			print_stmt(out, d->body[i]);
		fputc(')', out);
	}
	for (int i = 0; i < d->nitems; i++)
		print_item(out, &d->items[i]);
	fputs(")\n", out);
}

void ast_print(FILE *out, const Program *prog)
{
	fputs("; ", out);
	print_string(out, prog->main_file ? prog->main_file : "");
	fprintf(out, ": %d declarations\n", prog->ndecls);
	for (int i = 0; i < prog->ndecls; i++)
		print_decl(out, prog->decls[i]);
}
