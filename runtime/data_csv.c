/* data_csv.c — numeric CSV: comma-separated numbers, one sample a row.
 * Blank lines and lines starting with '#' are skipped; every row must
 * have the first row's column count; a bad cell is named by its row
 * (1-based line number in the file) and column (1-based). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include "nnrt_internal.h"

static int fail(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

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
			fail(err, errlen, "%s: row %lld, column %lld: '%.*s' is not a finite number",
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

int rt_csv_read(const char *path, int header, RtCsv *out, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return fail(err, errlen, "%s: %s", path, strerror(errno));
	char *line = NULL;
	size_t linecap = 0;
	int64_t lineno = 0, len = 0, cap = 0;
	double *vals = NULL;
	out->rows = out->cols = 0;
	int r = 0;
	while (getline(&line, &linecap, f) > 0) {
		lineno++;
		if (lineno <= header)
			continue;
		size_t skip = strspn(line, " \t\r\n");
		if (line[skip] == '\0' || line[skip] == '#')
			continue;
		int64_t cols = parse_row(line, &vals, &len, &cap, path, lineno, err, errlen);
		if (cols < 0) {
			r = -1;
			break;
		}
		if (out->rows > 0 && cols != out->cols) {
			r = fail(err, errlen, "%s: row %lld has %lld columns, expected %lld (as in the first row)",
			         path, (long long)lineno, (long long)cols, (long long)out->cols);
			break;
		}
		out->cols = cols;
		out->rows++;
	}
	free(line);
	fclose(f);
	if (r == 0 && out->rows == 0)
		r = fail(err, errlen, "%s: no data rows", path);
	if (r < 0) {
		free(vals);
		return -1;
	}
	out->v = vals;
	return 0;
}
