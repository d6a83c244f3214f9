/* test_text_tasks.c — the text source's BERT data (runtime/data_text_tasks.c,
 * docs/text.md): mask's choices against their probabilities (15% of the
 * positions; of those 80% [MASK], 10% random, 10% kept), its targets and
 * untouched positions against the plain source, the same bytes for the
 * same seed and others for another seed or source; labels: "files"
 * worked out by hand (fortunes, padding, file indices, the split). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "nnrt_internal.h"
#include "check.h"

static char dir[] = "/tmp/nnrt-test-text-tasks-XXXXXX";

static void write_text(const char *name, const char *text)
{
	FILE *f = fopen(rt_printf("%s/%s", dir, name), "wb");
	fputs(text, f);
	fclose(f);
}

/* A text source: key "mask" (a number) or "labels" (a word), or neither
 * when key is NULL. */
static RtData *load(const char *path, const char *name, int64_t T, const char *key, double num, const char *part,
                    uint64_t seed, int64_t classes)
{
	RtSource s = {.name = (char *)name, .kind = NNRT_SOURCE_TEXT, .narg = key ? 5 : 4};
	RtKeyVal args[5] = {{"0", (char *)path, 0, 1}, {"length", "", (double)T, 0}, {"split", "", 0.5, 0},
	                    {"part", (char *)part, 0, 1}, {(char *)key, "files", num, key && !strcmp(key, "labels")}};
	s.arg = args;
	int labels = key && !strcmp(key, "labels");
	RtDataSpec spec = {.x_dt = RT_I32, .x_per = T, .has_y = 1, .y_dt = RT_I32, .y_per = labels ? 1 : T,
	                   .classes = classes, .source_dir = dir, .batch = 4, .seed = seed, .quiet = 1};
	return rt_data_load(&s, &spec);
}

static int32_t at(const void *p, int64_t i) { return ((const int32_t *)p)[i]; }

/* 40 000 characters over 10 letters: 20 000 train, about 3 000 chosen. */
static void test_mask_statistics(void)
{
	char *text = rt_alloc(40001);
	for (int i = 0; i < 40000; i++)
		text[i] = (char)('a' + (i * 7 + i / 13) % 10);
	write_text("letters", text);
	RtData *plain = load("letters", "train", 50, NULL, 0, "train", 1, 16);
	RtData *m = load("letters", "train", 50, "mask", 0.15, "train", 1, 16);
	int64_t n = m->n * m->x_per, chosen = 0, masked = 0, randomized = 0, kept = 0, wrong = 0;
	CHECK(m->n == plain->n && m->y_per == 50 && m->vocab->n == 10);
	for (int64_t i = 0; i < n; i++) {
		int32_t x = at(m->x, i), y = at(m->y, i), orig = at(plain->x, i);
		if (y == -1) {
			wrong += x != orig;   /* a position not chosen is left as it was */
			continue;
		}
		chosen++;
		wrong += y != orig;       /* the target is the original id */
		masked += x == 10;
		randomized += x != 10 && x != orig;
		kept += x == orig;
	}
	double c = (double)chosen / (double)n;
	printf("mask 0.15: %lld of %lld positions chosen (%.4f); of those [MASK] %.4f, random %.4f, kept %.4f\n",
	       (long long)chosen, (long long)n, c, (double)masked / (double)chosen,
	       (double)randomized / (double)chosen, (double)kept / (double)chosen);
	CHECK(wrong == 0);
	/* about 4 standard deviations each: 0.15 +- 0.0025; of ~3000, 0.8 +- 0.0073, 0.09 +- 0.0052 */
	CHECK(c > 0.14 && c < 0.16);
	CHECK((double)masked / (double)chosen > 0.77 && (double)masked / (double)chosen < 0.83);
	/* a random id is the original one time in 10: 0.09 changed, 0.11 kept */
	CHECK((double)randomized / (double)chosen > 0.07 && (double)randomized / (double)chosen < 0.11);
	CHECK((double)kept / (double)chosen > 0.09 && (double)kept / (double)chosen < 0.13);
	free(text);
}

static int same_data(const RtData *a, const RtData *b)
{
	size_t bytes = sizeof(int32_t) * (size_t)(a->n * a->x_per);
	return a->n == b->n && !memcmp(a->x, b->x, bytes) && !memcmp(a->y, b->y, bytes);
}

static void test_mask_determinism(void)
{
	RtData *a = load("letters", "train", 50, "mask", 0.15, "train", 7, 16);
	RtData *b = load("letters", "train", 50, "mask", 0.15, "train", 7, 16);
	RtData *seed = load("letters", "train", 50, "mask", 0.15, "train", 8, 16);
	RtData *name = load("letters", "other", 50, "mask", 0.15, "train", 7, 16);
	CHECK(same_data(a, b));
	CHECK(!same_data(a, seed));
	CHECK(!same_data(a, name));
}

/* Training's masks: drawn anew per (seed, epoch, position) from the
 * unmasked ids, at the same rate, the targets the original ids. */
static void test_remask(void)
{
	RtData *m = load("letters", "train", 50, "mask", 0.15, "train", 1, 16);
	RtData *plain = load("letters", "train", 50, NULL, 0, "train", 1, 16);
	int64_t n = 8 * 50, chosen = 0, wrong = 0;
	int32_t x[2][400], y[2][400], x2[400], y2[400];
	for (int e = 0; e < 2; e++)
		rt_text_remask(m, x[e], y[e], 8, 1, e, 4);
	rt_text_remask(m, x2, y2, 8, 1, 1, 4);
	CHECK(!memcmp(x[1], x2, sizeof x2) && !memcmp(y[1], y2, sizeof y2));   /* same draws, same bytes */
	CHECK(memcmp(y[0], y[1], sizeof y2) != 0);                             /* another epoch, other masks */
	CHECK(memcmp(y[0], (int32_t *)m->y + 4 * 50, sizeof y2) != 0);          /* not the load-time masks */
	for (int e = 0; e < 2; e++)
		for (int64_t i = 0; i < n; i++) {
			int32_t orig = at(plain->x, 4 * 50 + i);
			chosen += y[e][i] != -1;
			wrong += y[e][i] == -1 ? x[e][i] != orig : y[e][i] != orig;
		}
	CHECK(wrong == 0 && chosen > 80 && chosen < 160);   /* 800 positions: 120 expected, sd 10 */
}

/* File "a": three fortunes (one empty between two '%' lines, skipped);
 * file "b": two, the last without a final '%'.  split 0.5: the first
 * floor(n / 2) of each file train. */
static void test_categories(void)
{
	mkdir(rt_printf("%s/fortunes", dir), 0700);
	write_text("fortunes/a", "ab\n%\nbbbbbb\n%\n%\nc\n%\n");
	write_text("fortunes/b", "ba\n%\nc\n");
	write_text("fortunes/a.dat", "not read");
	RtData *tr = load("fortunes", "train", 4, "labels", 0, "train", 1, 2);
	RtData *va = load("fortunes", "valid", 4, "labels", 0, "validation", 1, 2);
	/* vocabulary: \n % a b c -> ids 0..4; padding is 5 */
	CHECK(tr->vocab->n == 5 && tr->n == 2 && va->n == 3 && !tr->ordered && tr->y_per == 1);
	static const int32_t tx[] = {2, 3, 0, 5, /* b: */ 3, 2, 0, 5};
	static const int32_t vx[] = {3, 3, 3, 3, /* cut */ 4, 0, 5, 5, /* b: */ 4, 0, 5, 5};
	CHECK(!memcmp(tr->x, tx, sizeof tx) && at(tr->y, 0) == 0 && at(tr->y, 1) == 1);
	CHECK(!memcmp(va->x, vx, sizeof vx) && at(va->y, 0) == 0 && at(va->y, 1) == 0 && at(va->y, 2) == 1);
}

int main(void)
{
	if (!mkdtemp(dir))
		return 99;
	test_mask_statistics();
	test_mask_determinism();
	test_remask();
	test_categories();
	return check_done_in(dir);
}
