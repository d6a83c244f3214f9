/* test_checkpoint.c — safetensors round trip, and every kind of bad file
 * refused with a one-line reason naming the first problem. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "nnrt_internal.h"
#include "check.h"

static const char *desc_text =
	"nnc-model 1\nmodel m\nprecision f32\nsignature 1111222233334444\n"
	"io x input f32 [B,3] io=0\n"
	"tensor m.W param f32 [3,2] offset=0\n"
	"tensor m.b param f64 [2] offset=32\n"
	"tensor m.W.grad grad f32 [3,2] offset=64 of=m.W\n"
	"tensor m.W.m state f32 [3,2] offset=96 of=m.W\n"
	"tensor m.n state i32 [] offset=128 of=m.W\n"
	"state_bytes 192\nend\n";

static char dir[] = "/tmp/nnrt-test-ck-XXXXXX";

static RtDesc *desc(const char *from, const char *to)
{
	char err[256];
	const char *p = strstr(desc_text, from);
	char *text = rt_printf("%.*s%s%s", (int)(p - desc_text), desc_text, to, p + strlen(from));
	RtDesc *d = rt_desc_parse(text, err, sizeof err);
	if (!d)
		fprintf(stderr, "%s\n", err);
	return d;
}

static void fill(char *state)
{
	for (int i = 0; i < 6; i++)
		((float *)state)[i] = (float)i * 0.5f;
	((double *)(state + 32))[0] = -1.25;
	((double *)(state + 32))[1] = 3e100;
	for (int i = 0; i < 6; i++)
		((float *)(state + 64))[i] = 99;   /* a gradient: not saved */
	for (int i = 0; i < 6; i++)
		((float *)(state + 96))[i] = (float)-i;
	((int32_t *)(state + 128))[0] = 42;
}

static int load_err(const char *path, const RtDesc *d, const char *want)
{
	char state[192], err[512] = "";
	RtMeta m = {0};
	int r = rt_checkpoint_load(path, d, state, &m, err, sizeof err);
	if (r == 0 || !strstr(err, want) || strchr(err, '\n')) {
		fprintf(stderr, "  %s: got '%s', want '%s'\n", path, err, want);
		return 0;
	}
	return 1;
}

static char *write_raw(const char *name, const char *header, size_t data_len)
{
	char *p = rt_printf("%s/%s", dir, name);
	FILE *f = fopen(p, "wb");
	uint64_t n = strlen(header);
	unsigned char len[8];
	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)(n >> (8 * i));
	fwrite(len, 1, 8, f);
	fwrite(header, 1, n, f);
	for (size_t i = 0; i < data_len; i++)
		fputc(0, f);
	fclose(f);
	return p;
}

static void test_round_trip(void)
{
	RtDesc *d = desc("", "");
	char *state = rt_alloc(192), *back = rt_alloc(192), err[512];
	fill(state);
	RtMeta m = {0}, m2 = {0};
	rt_meta_set(&m, "signature", d->signature);
	rt_meta_set(&m, "note", "quote \" and \\ and\nnewline");
	char *path = rt_printf("%s/ck.safetensors", dir);
	rt_checkpoint_save(path, d, state, &m);
	CHECK(access(rt_printf("%s.tmp", path), F_OK) != 0);
	CHECK(rt_checkpoint_load(path, d, back, &m2, err, sizeof err) == 0);
	CHECK(!memcmp(state, back, 64) && !memcmp(state + 96, back + 96, 36));
	CHECK(((float *)(back + 64))[0] == 0);
	CHECK(rt_meta_get(&m2, "note") && !strcmp(rt_meta_get(&m2, "note"), "quote \" and \\ and\nnewline"));
	FILE *f = fopen(path, "rb");
	unsigned char len[8];
	CHECK(fread(len, 1, 8, f) == 8 && len[0] % 8 == 0);   /* data starts 8-byte aligned */
	fclose(f);

	CHECK(load_err(path, desc("signature 1111222233334444", "signature 1111222233334445"),
	               "signature 1111222233334444, but this trainer's model 'm' has 1111222233334445"));
	CHECK(load_err(path, desc("m.b param f64", "m.b param f32"), "tensor m.b has dtype F64, the model wants F32"));
	CHECK(load_err(path, desc("m.W param f32 [3,2]", "m.W param f32 [2,3]"), "tensor m.W has shape [3,2], the model wants [2,3]"));
	CHECK(load_err(path, desc("m.W.m state", "m.W.v state"), "tensor m.W.v is missing (a checkpoint of another model? its first tensor is m.W)"));

	/* one flipped data byte: the CRC in the metadata no longer matches */
	int64_t hlen = 0;
	FILE *c = fopen(path, "r+b");
	CHECK(fread(&hlen, 8, 1, c) == 1);   /* little-endian host */
	fseek(c, 8 + hlen + 5, SEEK_SET);
	int byte = fgetc(c);
	fseek(c, 8 + hlen + 5, SEEK_SET);
	fputc(byte ^ 0x10, c);
	fclose(c);
	CHECK(load_err(path, d, "checksum mismatch: the data has crc32:"));
	rt_checkpoint_save(path, d, state, &m);

	/* truncate the data: the last tensor's offsets no longer fit */
	FILE *g = fopen(path, "r+b");
	fseek(g, 0, SEEK_END);
	CHECK(ftruncate(fileno(g), ftell(g) - 2) == 0);
	fclose(g);
	CHECK(load_err(path, d, "do not fit"));
}

static void test_bad_files(void)
{
	RtDesc *d = desc("", "");
	CHECK(load_err(rt_printf("%s/none", dir), d, "cannot read checkpoint"));
	char *p = rt_printf("%s/short", dir);
	FILE *f = fopen(p, "wb");
	fputs("abc", f);
	fclose(f);
	CHECK(load_err(p, d, "bad header length"));
	p = rt_printf("%s/huge", dir);
	f = fopen(p, "wb");
	fwrite("\xff\xff\xff\xff\xff\xff\xff\x7f{}", 1, 10, f);
	fclose(f);
	CHECK(load_err(p, d, "bad header length"));
	CHECK(load_err(write_raw("notjson", "[1,2]", 0), d, "malformed header"));
	CHECK(load_err(write_raw("unterminated", "{\"a\":{\"dtype\":\"F32", 0), d, "malformed header"));
	CHECK(load_err(write_raw("nosig", "{\"__metadata__\":{}}", 0), d, "tensor m.W is missing"));
	CHECK(load_err(write_raw("badoff", "{\"__metadata__\":{\"signature\":\"1111222233334444\"},"
	                         "\"m.W\":{\"dtype\":\"F32\",\"shape\":[3,2],\"data_offsets\":[8,0]}}", 64), d,
	               "data_offsets"));
	CHECK(load_err(write_raw("negshape", "{\"__metadata__\":{\"signature\":\"1111222233334444\"},"
	                         "\"m.W\":{\"dtype\":\"F32\",\"shape\":[-3,2],\"data_offsets\":[0,24]}}", 64), d,
	               "malformed header"));
}

int main(void)
{
	if (!mkdtemp(dir))
		return 99;
	test_round_trip();
	test_bad_files();
	return check_done_in(dir);
}
