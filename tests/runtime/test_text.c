/* test_text.c — the text source against docs/text.md's rules, worked out
 * by hand: strict UTF-8, the vocabulary of a directory corpus (files
 * without a '.', in byte order of names), the split, the streams and the
 * batches, and the vocabulary's checkpoint form.  The refusals (not
 * UTF-8, empty, too short, missing) end the process and are tested by
 * tests/e2e/text.sh. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "nnrt_internal.h"
#include "check.h"

static char dir[] = "/tmp/nnrt-test-text-XXXXXX";

static void write_text(const char *name, const char *text)
{
	FILE *f = fopen(rt_printf("%s/%s", dir, name), "wb");
	fputs(text, f);
	fclose(f);
}

static int decodes(const char *bytes, size_t n, int32_t want)
{
	int32_t cp = -1;
	return rt_utf8_decode((const unsigned char *)bytes, n, &cp) == (int)n && cp == want;
}

static int refused(const char *bytes, size_t n)
{
	int32_t cp;
	return rt_utf8_decode((const unsigned char *)bytes, n, &cp) == 0;
}

static void test_utf8(void)
{
	CHECK(decodes("a", 1, 'a'));
	CHECK(decodes("\xc3\xa9", 2, 0xE9));
	CHECK(decodes("\xe2\x82\xac", 3, 0x20AC));
	CHECK(decodes("\xf0\x9f\x98\x80", 4, 0x1F600));
	CHECK(decodes("\xf4\x8f\xbf\xbf", 4, 0x10FFFF));
	CHECK(refused("\xc0\x80", 2));           /* overlong NUL */
	CHECK(refused("\xe0\x80\xaf", 3));       /* overlong '/' */
	CHECK(refused("\xed\xa0\x80", 3));       /* a surrogate */
	CHECK(refused("\xf4\x90\x80\x80", 4));   /* past U+10FFFF */
	CHECK(refused("\xc3", 1));               /* cut short */
	CHECK(refused("\x80", 1));               /* a continuation byte first */
	CHECK(refused("\xff", 1));
	char buf[4];
	const int32_t cps[] = {'a', 0xE9, 0x20AC, 0x1F600};
	for (int i = 0; i < 4; i++) {
		int32_t back = -1;
		int n = rt_utf8_encode(cps[i], buf);
		CHECK(n == i + 1 && rt_utf8_decode((unsigned char *)buf, (size_t)n, &back) == n && back == cps[i]);
	}
}

static RtData *load(const char *path, double length, double split, const char *part, int64_t batch)
{
	RtSource s = {.name = "t", .kind = NNRT_SOURCE_TEXT, .narg = 4};
	RtKeyVal args[4] = {{"0", (char *)path, 0, 1}, {"length", "", length, 0}, {"split", "", split, 0},
	                    {"part", (char *)part, 0, 1}};
	s.arg = args;
	RtDataSpec spec = {.x_dt = RT_I32, .x_per = (int64_t)length, .has_y = 1, .y_dt = RT_I32,
	                   .y_per = (int64_t)length, .classes = 64, .source_dir = dir, .batch = batch};
	return rt_data_load(&s, &spec);
}

static int32_t x_at(const RtData *d, int64_t sample, int64_t t) { return ((int32_t *)d->x)[sample * d->x_per + t]; }
static int32_t y_at(const RtData *d, int64_t sample, int64_t t) { return ((int32_t *)d->y)[sample * d->y_per + t]; }

/* 26 letters, each its own id: B = 3 streams of L = 8 (y, z dropped),
 * T = 2: floor(7 / 2) = 3 batches; sample kB + b starts at b*8 + 2k. */
static void test_streams(void)
{
	write_text("abc", "abcdefghijklmnopqrstuvwxyz");
	RtData *d = load("abc", 2, 1, "train", 3);
	CHECK(d->n == 9 && d->ordered && d->vocab->n == 26 && d->vocab->cp[0] == 'a');
	int ok = 1;
	for (int64_t k = 0; k < 3; k++)
		for (int64_t b = 0; b < 3; b++)
			for (int64_t t = 0; t < 2; t++)
				ok &= x_at(d, k * 3 + b, t) == b * 8 + k * 2 + t && y_at(d, k * 3 + b, t) == b * 8 + k * 2 + t + 1;
	CHECK(ok);
	CHECK(x_at(d, 5, 0) == 18 && y_at(d, 5, 1) == 20);
	/* split 0.5: floor(13.0) = 13 train characters; validation n..z, ids
	 * of the whole corpus: B = 2 streams of 6, T = 2: floor(5 / 2) = 2 */
	RtData *v = load("abc", 2, 0.5, "validation", 2);
	CHECK(v->n == 4 && v->vocab->n == 26);
	CHECK(x_at(v, 0, 0) == 13 && y_at(v, 0, 1) == 15);   /* k 0, stream 0 */
	CHECK(x_at(v, 3, 0) == 21 && x_at(v, 3, 1) == 22 && y_at(v, 3, 1) == 23);   /* k 1, stream 1 */
	/* split 0.7 of 26: floor(18.2) = 18 ('a'..'r'), B = 1, T = 5: floor(17 / 5) = 3 */
	RtData *tr = load("abc", 5, 0.7, "train", 1);
	CHECK(tr->n == 3 && x_at(tr, 2, 4) == 14 && y_at(tr, 2, 4) == 15);
}

/* A directory: its files without '.', in byte order of names ("B" before
 * "a"), concatenated; other files and subdirectories left out. */
static void test_directory(void)
{
	mkdir(rt_printf("%s/corpus", dir), 0777);
	mkdir(rt_printf("%s/corpus/sub", dir), 0777);
	write_text("corpus/a", "z\xc3\xa9z\xc3\xa9z");
	write_text("corpus/B", "xyx");
	write_text("corpus/a.dat", "\xff\xff not text, never read");
	write_text("corpus/sub/c", "QQQQ");
	RtData *d = load("corpus", 2, 1, "train", 1);
	/* "xyx" "zézéz": vocabulary x y z é, ids 0 1 0 2 3 2 3 2 */
	const int32_t want[] = {0, 1, 0, 2, 3, 2, 3, 2};
	CHECK(d->vocab->n == 4 && d->vocab->cp[2] == 'z' && d->vocab->cp[3] == 0xE9);
	CHECK(d->n == 3);   /* L = 8, floor(7 / 2) */
	int ok = 1;
	for (int64_t k = 0; k < 3; k++)
		ok &= x_at(d, k, 0) == want[2 * k] && x_at(d, k, 1) == want[2 * k + 1] && y_at(d, k, 1) == want[2 * k + 2];
	CHECK(ok);
}

static void test_vocab_text(void)
{
	RtVocab v = {3, (int32_t[]){'\n', ' ', 0x1F600}}, back;
	char *s = rt_vocab_format(&v);
	CHECK(!strcmp(s, "U+000A U+0020 U+1F600"));
	CHECK(rt_vocab_parse(s, &back) == 0 && back.n == 3 && back.cp[2] == 0x1F600);
	CHECK(rt_vocab_parse("U+0020 U+000A", &back) < 0);    /* not ascending */
	CHECK(rt_vocab_parse("U+0020  U+0021", &back) < 0);
	CHECK(rt_vocab_parse("U+20", &back) < 0);
	CHECK(rt_vocab_parse("U+110000", &back) < 0);
	CHECK(rt_vocab_parse("", &back) < 0);
	CHECK(!strcmp(rt_char_name('a'), "'a' (U+0061)") && !strcmp(rt_char_name('\n'), "U+000A"));
}

int main(void)
{
	if (!mkdtemp(dir))
		return 99;
	test_utf8();
	test_streams();
	test_directory();
	test_vocab_text();
	return check_done_in(dir);
}
