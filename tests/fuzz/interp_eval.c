/* interp_eval.c — the reference interpreter's predictions for a .nn
 * program, to compare with a compiled trainer's `predict`.
 *
 *   interp_eval FILE.nn CHECKPOINT INPUT.csv
 *
 * Lowers FILE.nn as nnc does, through compiler/pipeline.c's stages
 * lower and eval (the eval function in evaluation mode), before any pass,
 * loads every parameter and buffer (batch norm's running statistics) from
 * the trainer's safetensors CHECKPOINT by name, feeds the rows of
 * INPUT.csv as one batch, runs compiler/ir/interp.c on the eval function
 * and prints the output slot one sample a line as `predict --output
 * logits` does (%.17g, so the comparison is limited by the trainer's
 * printing, not ours).
 *
 * What it checks: lowering's eval graph, interpreted in double, against
 * the code the passes and LLVM made of it.  What it cannot: the gradient
 * and update functions (gradcheck and the -O0/-O3 checkpoint comparison
 * cover those), and training-mode ops (dropout masks, batch statistics).
 *
 * Exit 0 after printing; 2 for usage; 3 for a file it cannot read or a
 * checkpoint that lacks a tensor; 1 for a source error in FILE.nn. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ast.h"
#include "interp.h"
#include "ir.h"

#ifndef FUZZ_STDLIB
#define FUZZ_STDLIB "stdlib"
#endif

static _Noreturn void die(const char *what, const char *arg)
{
	fprintf(stderr, "interp_eval: %s%s%s\n", what, arg ? ": " : "", arg ? arg : "");
	exit(3);
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		die("cannot open", path);
	size_t cap = 1 << 16, n = 0;
	char *buf = malloc(cap + 1);
	size_t got;
	while (buf && (got = fread(buf + n, 1, cap - n, f)) > 0)
		if ((n += got) == cap)
			buf = realloc(buf, (cap *= 2) + 1);
	fclose(f);
	if (!buf)
		die("out of memory reading", path);
	buf[n] = 0;
	*len = n;
	return buf;
}

/* The tensor NAME of a safetensors file into v (n values): the header
 * entry "NAME":{"dtype":..., "shape":..., "data_offsets":[a,b]}. */
static void st_tensor(const char *file, size_t len, const char *name, double *v, int64_t n)
{
	uint64_t hlen = 0;
	for (int i = 7; i >= 0 && len >= 8; i--)
		hlen = hlen << 8 | (unsigned char)file[i];
	if (len < 8 || hlen > len - 8)
		die("not a safetensors file", NULL);
	char key[600];
	snprintf(key, sizeof key, "\"%s\":{", name);
	char *header = strndup(file + 8, (size_t)hlen);
	const char *at = strstr(header, key);
	if (!at)
		die("checkpoint has no tensor", name);
	const char *dt = strstr(at, "\"dtype\":\""), *off = strstr(at, "\"data_offsets\":[");
	unsigned long long a, b;
	if (!dt || !off || sscanf(off + 16, "%llu,%llu", &a, &b) != 2)
		die("malformed checkpoint entry", name);
	int f64 = !strncmp(dt + 9, "F64", 3), width = f64 ? 8 : 4;
	if (b - a != (unsigned long long)(n * width) || 8 + hlen + b > len)
		die("checkpoint tensor has the wrong size", name);
	const char *data = file + 8 + hlen + a;
	for (int64_t i = 0; i < n; i++) {
		if (f64) {
			memcpy(&v[i], data + 8 * i, 8);
		} else {
			float x;
			memcpy(&x, data + 4 * i, 4);
			v[i] = x;
		}
	}
	free(header);
}

/* The rows of a numeric CSV of `cols` columns into a malloc'd array;
 * *rows is set to their number. */
static double *read_csv(const char *path, int64_t cols, int64_t *rows)
{
	size_t len;
	char *text = slurp(path, &len), *p = text;
	double *v = NULL;
	int64_t n = 0, cap = 0;
	while (*p) {
		char *end;
		double x = strtod(p, &end);
		if (end == p)
			die("not a number in", path);
		if (n == cap)
			v = realloc(v, sizeof *v * (size_t)(cap = cap ? 2 * cap : 1024));
		v[n++] = x;
		p = end;
		while (*p == ',' || isspace((unsigned char)*p))
			p++;
	}
	free(text);
	if (n == 0 || n % cols)
		die("the input's values do not make whole rows of the model's input", path);
	*rows = n / cols;
	return v;
}

static int find_slot(const Module *m, SlotRole role, int io)
{
	for (int i = 0; i < m->nslot; i++)
		if (m->slot[i].role == role && (io < 0 || m->slot[i].io == io))
			return i;
	return -1;
}

static void print_rows(const double *out, int64_t rows, int64_t k)
{
	for (int64_t r = 0; r < rows; r++)
		for (int64_t j = 0; j < k; j++)
			printf("%.17g%s", out[r * k + j], j + 1 < k ? " " : "\n");
}

int main(int argc, char **argv)
{
	if (argc != 4) {
		fputs("usage: interp_eval FILE.nn CHECKPOINT INPUT.csv\n", stderr);
		return 2;
	}
	const char *env = getenv("NNC_STDLIB");
	const char *dirs[2] = { env && *env ? env : FUZZ_STDLIB, NULL };
	Pipeline p = { .to = "eval", .verify = 1, .program = parse_program(argv[1], dirs) };
	Module *m = pipeline_run(&p, NULL);
	int in = find_slot(m, SLOT_INPUT, 0), out = find_slot(m, SLOT_OUTPUT, -1);
	if (in < 0 || out < 0)
		die("the model has no input or no output slot", argv[1]);
	int64_t rows, cols = shape_per_sample(m->slot[in].shape);
	double *x = read_csv(argv[3], cols, &rows);
	double **slot = interp_slots(m, rows);
	memcpy(slot[in], x, sizeof *x * (size_t)(rows * cols));
	size_t len;
	char *ck = slurp(argv[2], &len);
	for (int i = 0; i < m->nslot; i++)
		if (m->slot[i].role == SLOT_PARAM || m->slot[i].role == SLOT_BUFFER)
			st_tensor(ck, len, m->slot[i].name, slot[i], shape_numel(m->slot[i].shape, rows));
	interp_run(m, m->eval, slot, rows, 0);
	print_rows(slot[out], rows, shape_per_sample(m->slot[out].shape));
	free(ck);
	free(x);
	interp_free_slots(m, slot);
	return fflush(stdout) == 0 ? 0 : 3;
}
