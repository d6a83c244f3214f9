/* test_data.c — the IDX reader (plain and gzip, detected by magic; bad
 * magic; truncation), the CSV reader (bad cells named by row and
 * column), loading sources into the model's dtypes, and the generated
 * sources (random, adding). */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "nnrt_internal.h"
#include "check.h"

static char dir[] = "/tmp/nnrt-test-data-XXXXXX";

static char *path_of(const char *name)
{
	return rt_printf("%s/%s", dir, name);
}

/* An IDX file of n samples of rows x cols u8 values i*7+j, or labels. */
static size_t idx_bytes(unsigned char *buf, int ndim, const int *dims)
{
	size_t n = 4, total = 1;
	buf[0] = buf[1] = 0;
	buf[2] = 0x08;
	buf[3] = (unsigned char)ndim;
	for (int i = 0; i < ndim; i++) {
		buf[n++] = 0, buf[n++] = 0, buf[n++] = (unsigned char)(dims[i] >> 8), buf[n++] = (unsigned char)dims[i];
		total *= (size_t)dims[i];
	}
	for (size_t i = 0; i < total; i++)
		buf[n++] = (unsigned char)(i * 7 % 10);
	return n;
}

static void write_file(const char *name, const void *data, size_t len, int gz)
{
	char *p = path_of(name);
	if (gz) {
		gzFile f = gzopen(p, "wb");
		gzwrite(f, data, (unsigned)len);
		gzclose(f);
	} else {
		FILE *f = fopen(p, "wb");
		fwrite(data, 1, len, f);
		fclose(f);
	}
}

static void test_idx(void)
{
	unsigned char buf[4096];
	int idims[3] = {5, 2, 3}, ldims[1] = {5};
	size_t n = idx_bytes(buf, 3, idims);
	write_file("img.idx", buf, n, 0);
	write_file("img.gz.renamed", buf, n, 1);   /* gzip without a .gz name */
	write_file("trunc.idx", buf, n - 3, 0);
	write_file("trunc.idx.gz", buf, n - 3, 1);
	size_t ln = idx_bytes(buf, 1, ldims);
	write_file("lab.idx", buf, ln, 0);
	char err[512];
	RtIdx a, b;
	CHECK(rt_idx_read(path_of("img.idx"), &a, err, sizeof err) == 0);
	CHECK(a.n == 5 && a.per == 6 && a.ndim == 3 && rt_idx_get(&a, 1) == 7 && rt_idx_get(&a, 2) == 4);
	CHECK(rt_idx_read(path_of("img.gz.renamed"), &b, err, sizeof err) == 0);
	CHECK(b.n == 5 && b.per == 6 && !memcmp(a.raw, b.raw, 30));
	CHECK(rt_idx_read(path_of("trunc.idx"), &a, err, sizeof err) < 0 && strstr(err, "truncated"));
	CHECK(rt_idx_read(path_of("trunc.idx.gz"), &a, err, sizeof err) < 0 && strstr(err, "truncated"));
	CHECK(rt_idx_read(path_of("missing.idx"), &a, err, sizeof err) < 0 && strstr(err, "missing.idx"));
	write_file("bad.idx", "\x01\x02\x08\x01\0\0\0\1x", 9, 0);
	CHECK(rt_idx_read(path_of("bad.idx"), &a, err, sizeof err) < 0 && strstr(err, "bad magic"));
	write_file("badtype.idx", "\0\0\x07\x01\0\0\0\1x", 9, 0);
	CHECK(rt_idx_read(path_of("badtype.idx"), &a, err, sizeof err) < 0 && strstr(err, "not an IDX"));
	write_file("short.idx", "\0\0", 2, 0);
	CHECK(rt_idx_read(path_of("short.idx"), &a, err, sizeof err) < 0);
	/* i32 elements are big-endian and signed */
	write_file("i32.idx", "\0\0\x0c\x01\0\0\0\2\xff\xff\xff\xfe\0\0\1\0", 16, 0);
	CHECK(rt_idx_read(path_of("i32.idx"), &a, err, sizeof err) == 0 && rt_idx_get(&a, 0) == -2 && rt_idx_get(&a, 1) == 256);
}

static void test_idx_source(void)
{
	RtSource s = {.name = "train", .kind = NNRT_SOURCE_IDX, .narg = 3};
	RtKeyVal args[3] = {{"0", "img.idx", 0, 1}, {"1", "lab.idx", 0, 1}, {"scale", "0.5", 0.5, 0}};
	s.arg = args;
	RtDataSpec spec = {.precision = RT_F32, .x_per = 6, .has_y = 1, .y_dt = RT_I32, .y_per = 1,
	                   .classes = 10, .data_dir = dir};
	RtData *d = rt_data_load(&s, &spec);
	float x[6];
	int32_t y;
	rt_data_gather(d, NULL, 0, 1, x, &y);
	CHECK(d->n == 5 && x[1] == 3.5f && ((int32_t *)d->y)[1] == 7 && y == 0);
	char *resolved = rt_resolve_path("lab.idx", &spec);
	CHECK(!strcmp(resolved, path_of("lab.idx")));
}

/* u8 images stay bytes in memory; a gathered batch holds each byte as
 * (float type)((double)byte * scale), exactly what loading stored when it
 * converted the whole set, for every byte value and both float types. */
static void test_idx_bytes_gathered(RtDType dt)
{
	unsigned char buf[16 + 4 * 256];
	memcpy(buf, "\0\0\x08\x02\0\0\0\x04\0\0\0\x40", 12);   /* 4 samples of 64 bytes */
	for (int i = 0; i < 256; i++)
		buf[12 + i] = (unsigned char)(i * 37 + 11);
	write_file("all.idx", buf, 12 + 256, 0);
	double scale = 1.0 / 255;   /* not exact in binary: the order of rounding shows */
	RtSource s = {.name = "train", .kind = NNRT_SOURCE_IDX, .narg = 2};
	RtKeyVal args[2] = {{"0", "all.idx", 0, 1}, {"scale", "0.00392", scale, 0}};
	s.arg = args;
	RtDataSpec spec = {.precision = dt, .x_per = 64, .data_dir = dir};
	RtData *d = rt_data_load(&s, &spec);
	CHECK(d->n == 4 && d->x == NULL && d->x_u8 != NULL);
	int64_t idx[4] = {2, 0, 3, 1};
	double out[4 * 64];
	rt_data_gather(d, idx, 1, 3, out, NULL);   /* samples 0, 3, 1 */
	int ok = 1;
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < 64; k++) {
			unsigned char b = buf[12 + idx[1 + i] * 64 + k];
			int64_t at = i * 64 + k;
			ok &= dt == RT_F32 ? ((float *)out)[at] == (float)((double)b * scale)
			                   : out[at] == (double)b * scale;
		}
	CHECK(ok);
}

static void test_csv(void)
{
	char err[512];
	RtCsv c;
	const char *good = "a,b,label\n1, 2.5 ,0\n\n# comment\n-3,4e1,1\r\n";
	write_file("good.csv", good, strlen(good), 0);
	CHECK(rt_csv_read(path_of("good.csv"), 1, &c, err, sizeof err) == 0);
	CHECK(c.rows == 2 && c.cols == 3 && c.v[1] == 2.5 && c.v[3] == -3 && c.v[4] == 40);
	const char *bad = "1,2,0\n3,x,1\n";
	write_file("bad.csv", bad, strlen(bad), 0);
	CHECK(rt_csv_read(path_of("bad.csv"), 0, &c, err, sizeof err) < 0);
	CHECK(strstr(err, "row 2, column 2") != NULL);
	const char *ragged = "1,2,0\n3,1\n";
	write_file("ragged.csv", ragged, strlen(ragged), 0);
	CHECK(rt_csv_read(path_of("ragged.csv"), 0, &c, err, sizeof err) < 0 && strstr(err, "row 2 has 2 columns"));
	write_file("empty.csv", "# nothing\n", 10, 0);
	CHECK(rt_csv_read(path_of("empty.csv"), 0, &c, err, sizeof err) < 0 && strstr(err, "no data rows"));
	const char *nan = "1,nan,0\n";
	write_file("nan.csv", nan, strlen(nan), 0);
	CHECK(rt_csv_read(path_of("nan.csv"), 0, &c, err, sizeof err) < 0 && strstr(err, "column 2"));
}

static void test_csv_source(void)
{
	RtSource s = {.name = "xor", .kind = NNRT_SOURCE_CSV, .narg = 2};
	RtKeyVal args[2] = {{"0", "good.csv", 0, 1}, {"header", "1", 1, 0}};
	s.arg = args;
	/* float target of one value: the last column */
	RtDataSpec spec = {.precision = RT_F64, .x_per = 2, .has_y = 1, .y_dt = RT_F64, .y_per = 1, .data_dir = dir};
	RtData *d = rt_data_load(&s, &spec);
	CHECK(d->n == 2 && ((double *)d->x)[2] == -3 && ((double *)d->y)[1] == 1);
	/* float target of two values: the last two columns */
	spec.x_per = 1, spec.y_per = 2;
	d = rt_data_load(&s, &spec);
	CHECK(((double *)d->x)[1] == -3 && ((double *)d->y)[0] == 2.5 && ((double *)d->y)[3] == 1);
}

static void test_random(void)
{
	RtSource s = {.name = "r", .kind = NNRT_SOURCE_RANDOM, .narg = 2};
	RtKeyVal args[2] = {{"count", "100", 100, 0}, {"classes", "4", 4, 0}};
	s.arg = args;
	RtDataSpec spec = {.precision = RT_F32, .x_per = 3, .has_y = 1, .y_dt = RT_I32, .y_per = 1, .classes = 4, .seed = 5};
	RtData *a = rt_data_load(&s, &spec), *b = rt_data_load(&s, &spec);
	CHECK(a->n == 100 && !memcmp(a->x, b->x, 300 * sizeof(float)) && !memcmp(a->y, b->y, 100 * sizeof(int32_t)));
	int ok = 1;
	for (int i = 0; i < 100; i++)
		ok &= ((int32_t *)a->y)[i] >= 0 && ((int32_t *)a->y)[i] < 4;
	CHECK(ok);
	spec.seed = 6;
	RtData *c = rt_data_load(&s, &spec);
	CHECK(memcmp(a->x, c->x, 300 * sizeof(float)) != 0);
}

/* The adding problem's samples of one source: the structure exactly (two
 * markers, one in each half; values in [0, 1); y their sum) and the
 * statistics within 5 standard errors of n = 20000 samples: y is the sum
 * of two U[0, 1) values, so mean 1 (sd sqrt(1/6) = 0.408, se 0.0029) and
 * the constant-1 predictor's MSE is var(y) = 1/6 (the squared error has
 * sd sqrt(1/15 - 1/36) = 0.197, se 0.0014); each of the 50 positions of a
 * half holds the marker 400 times expected (sd 19.6). */
enum { ADD_T = 100, ADD_N = 20000 };

static void check_adding_structure(const float *x, const float *y, int *ok, int64_t *hits)
{
	for (int64_t i = 0; i < ADD_N; i++) {
		const float *s = x + i * 2 * ADD_T;
		int first = 0, second = 0;
		double sum = 0;
		for (int t = 0; t < ADD_T; t++) {
			*ok &= s[2 * t] >= 0 && s[2 * t] < 1 && (s[2 * t + 1] == 0 || s[2 * t + 1] == 1);
			if (s[2 * t + 1] == 1) {
				*(t < ADD_T / 2 ? &first : &second) += 1;
				sum += s[2 * t];
				hits[t]++;
			}
		}
		*ok &= first == 1 && second == 1 && y[i] == (float)sum;
	}
}

static void test_adding(void)
{
	RtSource s = {.name = "train", .kind = NNRT_SOURCE_ADDING, .narg = 2};
	RtKeyVal args[2] = {{"length", "100", ADD_T, 0}, {"count", "20000", ADD_N, 0}};
	s.arg = args;
	RtDataSpec spec = {.precision = RT_F32, .x_per = 2 * ADD_T, .has_y = 1, .y_dt = RT_F32, .y_per = 1, .seed = 5};
	RtData *d = rt_data_load(&s, &spec);
	const float *x = d->x, *y = d->y;
	int ok = d->n == ADD_N;
	int64_t hits[ADD_T] = { 0 };
	check_adding_structure(x, y, &ok, hits);
	CHECK(ok);
	double mean = 0, mse = 0;
	for (int64_t i = 0; i < ADD_N; i++)
		mean += y[i] / (double)ADD_N, mse += (y[i] - 1.0) * (y[i] - 1.0) / ADD_N;
	CHECK(fabs(mean - 1) < 5 * 0.0029);
	CHECK(fabs(mse - 1.0 / 6) < 5 * 0.0014);
	int spread = 1;
	for (int t = 0; t < ADD_T; t++)
		spread &= hits[t] > 400 - 5 * 20 && hits[t] < 400 + 5 * 20;
	CHECK(spread);
	/* sample i is a function of (seed, name, i): a shorter count is a prefix */
	args[1].num = 10;
	RtData *prefix = rt_data_load(&s, &spec);
	CHECK(!memcmp(prefix->x, d->x, 10 * 2 * ADD_T * sizeof(float)) && !memcmp(prefix->y, d->y, 10 * sizeof(float)));
	s.name = "test";
	RtData *other = rt_data_load(&s, &spec);
	CHECK(memcmp(other->x, d->x, 10 * 2 * ADD_T * sizeof(float)) != 0);
	s.name = "train", spec.seed = 6;
	other = rt_data_load(&s, &spec);
	CHECK(memcmp(other->x, d->x, 10 * 2 * ADD_T * sizeof(float)) != 0);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 99;
	test_idx();
	test_idx_source();
	test_idx_bytes_gathered(RT_F32);
	test_idx_bytes_gathered(RT_F64);
	test_csv();
	test_csv_source();
	test_random();
	test_adding();
	return check_done_in(dir);
}
