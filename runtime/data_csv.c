/* data_csv.c — numeric CSV: comma-separated numbers, one sample a row.
 * Blank lines and lines starting with '#' are skipped; every row must
 * have the first row's column count; a bad cell is named by its row
 * (1-based line number in the file) and column (1-based).  The file
 * arrives whole (data_read.c), so it may be a pipe, and gzip or not. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "nnrt_internal.h"

/* Parses one line into cells appended to *vals; returns the cell count. */
static int64_t parse_row(char *line, double **vals, int64_t *len, int64_t *cap,
                         const char *path, int64_t lineno, char *err, size_t errlen)
{
	int64_t col = 0;
	char *p = line;
	for (;;) {
		while (*p == ' ' || *p == '\t')
			p++;
		char *end;
		errno = 0;
		double v = strtod(p, &end);
		char *q = end;
		while (*q == ' ' || *q == '\t' || *q == '\r')
			q++;
		if (end == p || (*q != ',' && *q != '\0' && *q != '\n') || !isfinite(v)) {
			size_t w = strcspn(p, ",\r\n");
			rt_error(err, errlen, "%s: row %lld, column %lld: '%.*s' is not a finite number",
			     path, (long long)lineno, (long long)col + 1, (int)(w > 40 ? 40 : w), p);
			return -1;
		}
		if (*len == *cap) {
			*cap = *cap ? *cap * 2 : 4096;
			*vals = rt_realloc(*vals, sizeof(double) * (size_t)*cap);
		}
		(*vals)[(*len)++] = v;
		col++;
		if (*q != ',')
			return col;
		p = q + 1;
	}
}

/* The next line of the text at *p (its newline replaced by a NUL), or
 * NULL at the end; *len its length. */
static char *next_line(char **p, char *end, size_t *len)
{
	if (*p >= end)
		return NULL;
	char *line = *p, *nl = memchr(line, '\n', (size_t)(end - line));
	*len = (size_t)((nl ? nl : end) - line);
	if (nl)
		*nl = '\0';
	*p = nl ? nl + 1 : end;
	return line;
}

/* Parses b's text in place (newlines become NULs). */
int rt_csv_parse(const RtBytes *b, const char *name, int64_t header, RtCsv *out, char *err, size_t errlen)
{
	char *p = b->p, *end = b->p + b->n, *line;
	size_t linelen;
	int64_t lineno = 0, len = 0, cap = 0;
	double *vals = NULL;
	out->rows = out->cols = 0;
	int r = 0;
	while (r == 0 && (line = next_line(&p, end, &linelen))) {
		lineno++;
		if (lineno <= header)
			continue;
		if (memchr(line, '\0', linelen)) {
			r = rt_error(err, errlen, "%s: row %lld holds a NUL byte: not a text file", name, (long long)lineno);
			break;
		}
		size_t skip = strspn(line, " \t\r");
		if (line[skip] == '\0' || line[skip] == '#')
			continue;
		int64_t cols = parse_row(line, &vals, &len, &cap, name, lineno, err, errlen);
		if (cols < 0)
			r = -1;
		else if (out->rows > 0 && cols != out->cols)
			r = rt_error(err, errlen, "%s: row %lld has %lld columns, expected %lld (as in the first row)",
			         name, (long long)lineno, (long long)cols, (long long)out->cols);
		out->cols = cols;
		out->rows++;
	}
	if (r == 0 && b->gzip_error)
		r = rt_error(err, errlen, "%s: corrupt or truncated gzip data after row %lld (gzip: %s)", name,
		         (long long)lineno, b->gzip_error);
	if (r == 0 && out->rows == 0)
		r = rt_error(err, errlen, "%s: no data rows", name);
	if (r < 0) {
		free(vals);
		return -1;
	}
	out->v = vals;
	return 0;
}

int rt_csv_read(const char *path, int64_t header, RtCsv *out, char *err, size_t errlen)
{
	RtBytes b;
	if (rt_read_whole(path, 1, &b, err, errlen) < 0)
		return -1;
	int r = rt_csv_parse(&b, rt_input_name(path), header, out, err, errlen);
	free(b.p);
	return r;
}
