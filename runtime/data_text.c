/* data_text.c — the text source: a UTF-8 corpus made characters, the
 * characters made ids, a train/validation split, and batches for
 * truncated backpropagation through time.  docs/text.md states every rule
 * exactly (a PyTorch script reimplements them); in short:
 *
 *   corpus      a file, or every regular file of a directory whose name
 *               has no '.', in byte order of names, concatenated
 *   vocabulary  the distinct code points of the whole corpus, ascending;
 *               a character's id is its index there
 *   split       the first floor(split * N) characters train, the rest
 *               validate (N characters in all)
 *   batches     a part of n ids is cut into B streams of L = floor(n / B)
 *               ids; batch k holds x = stream[kT, kT+T), y one further,
 *               for each stream; floor((L - 1) / T) batches, in order
 *
 * The batches are stored as samples in batch order (sample kB + b is
 * stream b's k-th sequence), so the trainer's in-order gathering of B
 * samples at a time is exactly batch k, and the hidden state of a row
 * may carry from one batch to the next. */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "nnrt_internal.h"

enum { MAX_CODE_POINT = 0x10FFFF };

typedef RtText Text;

int rt_utf8_decode(const unsigned char *p, size_t left, int32_t *cp)
{
	static const int32_t min[5] = {0, 0, 0x80, 0x800, 0x10000};
	int len = p[0] < 0x80 ? 1 : (p[0] & 0xE0) == 0xC0 ? 2 : (p[0] & 0xF0) == 0xE0 ? 3
	        : (p[0] & 0xF8) == 0xF0 ? 4 : 0;
	if (len == 0 || (size_t)len > left)
		return 0;
	int32_t v = len == 1 ? p[0] : p[0] & (0x7F >> len);
	for (int i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		v = v << 6 | (p[i] & 0x3F);
	}
	if (v < min[len] || v > MAX_CODE_POINT || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return len;
}

static void text_push(Text *t, int32_t cp)
{
	if (t->n == t->cap) {
		t->cap = t->cap ? 2 * t->cap : 1 << 16;
		t->cp = rt_realloc(t->cp, sizeof *t->cp * (size_t)t->cap);
	}
	t->cp[t->n++] = cp;
}

/* Appends one file's characters; a byte that starts no valid character
 * ends the run, naming the file and the offset. */
static void read_file(const char *path, Text *t)
{
	char err[512];
	RtBytes b;
	if (rt_read_whole(path, 0, &b, err, sizeof err) < 0)
		rt_fatal(RT_EXIT_IO, "cannot read %s", err);
	const unsigned char *p = (const unsigned char *)b.p;
	for (size_t i = 0; i < b.n;) {
		int32_t cp;
		int len = rt_utf8_decode(p + i, b.n - i, &cp);
		if (len == 0)
			rt_fatal(RT_EXIT_IO, "%s: not UTF-8 text: byte offset %zu (0x%02x) starts no valid character",
			         path, i, p[i]);
		text_push(t, cp);
		i += (size_t)len;
	}
	free(b.p);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The files of a directory corpus: regular files (links followed) whose
 * name has no '.', so that fortune's index files (.dat, .u8) stay out. */
static char **corpus_files(const char *dir, int64_t *n)
{
	DIR *d = opendir(dir);
	if (!d)
		rt_fatal(RT_EXIT_IO, "cannot read the text corpus %s: %s", dir, strerror(errno));
	char **name = NULL;
	int64_t cap = 0;
	*n = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		struct stat st;
		char *path = rt_printf("%s/%s", dir, e->d_name);
		if (strchr(e->d_name, '.') || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		if (*n == cap) {
			cap = cap ? 2 * cap : 64;
			name = rt_realloc(name, sizeof *name * (size_t)cap);
		}
		name[(*n)++] = rt_strdup(e->d_name);
	}
	closedir(d);
	if (*n > 1)   /* no array at all when the directory has no file to read */
		qsort(name, (size_t)*n, sizeof *name, by_name);   /* strcmp: byte order */
	return name;
}

/* file_end[i] is where file i's characters end (one file: the corpus). */
static Text read_corpus(const char *path)
{
	Text t = {0};
	struct stat st;
	if (stat(path, &st) != 0)
		rt_fatal(RT_EXIT_IO, "cannot read the text corpus %s: %s", path, strerror(errno));
	if (!S_ISDIR(st.st_mode)) {
		read_file(path, &t);
		t.nfile = 1;
		t.file_end = rt_alloc(sizeof *t.file_end);
		t.file_end[0] = t.n;
		return t;
	}
	char **name = corpus_files(path, &t.nfile);
	if (t.nfile == 0)
		rt_fatal(RT_EXIT_IO, "text corpus %s: the directory holds no file to read (a regular file whose "
		         "name has no '.')", path);
	t.file_end = rt_alloc(sizeof *t.file_end * (size_t)t.nfile);
	for (int64_t i = 0; i < t.nfile; i++) {
		read_file(rt_printf("%s/%s", path, name[i]), &t);
		t.file_end[i] = t.n;
	}
	return t;
}

/* The vocabulary, and every character replaced by its id in place. */
static RtVocab *make_vocab(Text *t)
{
	int32_t *id = rt_alloc(sizeof *id * (MAX_CODE_POINT + 1));
	for (int64_t i = 0; i < t->n; i++)
		id[t->cp[i]] = 1;
	RtVocab *v = rt_alloc(sizeof *v);
	for (int32_t c = 0; c <= MAX_CODE_POINT; c++)
		v->n += id[c];
	v->cp = rt_alloc(sizeof *v->cp * (size_t)v->n);
	for (int32_t c = 0, k = 0; c <= MAX_CODE_POINT; c++)
		if (id[c]) {
			v->cp[k] = c;
			id[c] = k++;
		}
	for (int64_t i = 0; i < t->n; i++)
		t->cp[i] = id[t->cp[i]];
	free(id);
	return v;
}

static double num_arg(const RtSource *s, const char *key, double dflt)
{
	const RtKeyVal *kv = rt_source_arg(s, key);
	return kv && !kv->is_str ? kv->num : dflt;
}

/* The batches of ids[0, n): sample kB + b is stream b's sequence k. */
static void batchify(RtData *d, const int32_t *ids, int64_t L, int64_t B, int64_t T, int has_y)
{
	int32_t *x = d->x, *y = d->y;
	for (int64_t k = 0; k < d->n / B; k++)
		for (int64_t b = 0; b < B; b++) {
			const int32_t *from = ids + b * L + k * T;
			memcpy(x + (k * B + b) * T, from, sizeof *x * (size_t)T);
			if (has_y)
				memcpy(y + (k * B + b) * T, from + 1, sizeof *y * (size_t)T);
		}
}

/* The model reads i32[B, T] with T the source's length (nnc checks it);
 * its output needs a class for every character. */
static void check_model(const RtSource *s, const RtDataSpec *spec, int64_t T, const RtVocab *v,
                        const char *path)
{
	if (spec->x_dt != RT_I32 || spec->x_per != T || (spec->has_y && (spec->y_dt != RT_I32 || spec->y_per != T)))
		rt_fatal(RT_EXIT_INTERNAL, "data source '%s': the model does not read i32[B, %lld] character ids",
		         s->name, (long long)T);
	if (spec->classes > 0 && v->n > spec->classes)
		rt_fatal(RT_EXIT_IO, "text corpus %s has %lld distinct characters, but the model's output has %lld "
		         "classes: it needs one class per character (%lld or more)", path, (long long)v->n,
		         (long long)spec->classes, (long long)v->n);
}

RtData *rt_text_load(const RtSource *s, const RtDataSpec *spec)
{
	const RtKeyVal *part_arg = rt_source_arg(s, "part");
	const char *part = part_arg ? part_arg->str : "train";
	int64_t T = (int64_t)num_arg(s, "length", 0), B = spec->batch;
	double split = num_arg(s, "split", 0.9);
	char *path = rt_resolve_corpus(rt_source_arg(s, "0")->str, spec);
	Text t = read_corpus(path);
	if (t.n == 0)
		rt_fatal(RT_EXIT_IO, "text corpus %s is empty: no characters to learn from", path);
	RtVocab *v = make_vocab(&t);
	if (rt_source_arg(s, "labels"))
		return rt_text_categories(s, spec, &t, v, path);
	double mask = num_arg(s, "mask", 0);
	check_model(s, spec, T, v, path);
	int64_t ntrain = (int64_t)floor(split * (double)t.n);
	int validation = !strcmp(part, "validation");
	int64_t first = validation ? ntrain : 0, n = validation ? t.n - ntrain : ntrain;
	int64_t L = n / B, nb = L >= 1 ? (L - 1) / T : 0;
	if (nb == 0)
		rt_fatal(RT_EXIT_IO, "text corpus %s: the %s part (%lld of %lld characters, split %g) is too short "
		         "for length %lld at batch %lld: %lld stream%s of %lld characters hold%s no sequence of "
		         "length + 1 = %lld; it needs %lld characters", path, part, (long long)n, (long long)t.n, split,
		         (long long)T, (long long)B, (long long)B, B == 1 ? "" : "s", (long long)L, B == 1 ? "s" : "",
		         (long long)(T + 1), (long long)(B * (T + 1)));
	RtData *d = rt_alloc(sizeof *d);
	d->name = rt_strdup(s->name);
	d->n = nb * B;
	d->x_per = T;
	d->x_dt = RT_I32;
	d->x = rt_alloc(sizeof(int32_t) * (size_t)(d->n * T));
	if (spec->has_y) {
		d->y_per = T;
		d->y_dt = RT_I32;
		d->y = rt_alloc(sizeof(int32_t) * (size_t)(d->n * T));
	}
	batchify(d, t.cp + first, L, B, T, spec->has_y && mask == 0);
	free(t.cp);
	if (mask > 0)
		rt_text_mask(d, s, spec, v->n, mask);
	d->ordered = 1;
	d->vocab = v;
	d->origin = rt_printf("text %s (%s part: %lld characters, vocabulary %lld; %lld streams, %lld batches)",
	                      path, part, (long long)n, (long long)v->n, (long long)B, (long long)nb);
	return d;
}

/* ---- the vocabulary as text ------------------------------------------------ */

char *rt_vocab_format(const RtVocab *v)
{
	char *s = rt_alloc((size_t)v->n * 9 + 1), *o = s;
	for (int64_t i = 0; i < v->n; i++)
		o += sprintf(o, "%sU+%04X", i ? " " : "", (unsigned)v->cp[i]);
	return s;
}

int rt_vocab_parse(const char *s, RtVocab *out)
{
	*out = (RtVocab){0};
	out->cp = rt_alloc(sizeof *out->cp * (strlen(s) / 7 + 1));
	for (const char *p = s;;) {
		char *end;
		if (strncmp(p, "U+", 2) || !isxdigit((unsigned char)p[2]))
			return -1;
		long v = strtol(p + 2, &end, 16);
		if (end - p < 6 || end - p > 8 || v > MAX_CODE_POINT || (out->n && v <= out->cp[out->n - 1]))
			return -1;
		out->cp[out->n++] = (int32_t)v;
		if (*end == '\0')
			return 0;
		if (*end != ' ')
			return -1;
		p = end + 1;
	}
}

int rt_utf8_encode(int32_t cp, char *out)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	int len = cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
	for (int i = len - 1; i > 0; i--, cp >>= 6)
		out[i] = (char)(0x80 | (cp & 0x3F));
	out[0] = (char)((0xF00 >> len & 0xF0) | cp);
	return len;
}

const char *rt_char_name(int32_t cp)
{
	if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0))
		return rt_printf("U+%04X", (unsigned)cp);
	char u[5] = {0};
	rt_utf8_encode(cp, u);
	return rt_printf("'%s' (U+%04X)", u, (unsigned)cp);
}
