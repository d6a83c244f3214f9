/* checkpoint.c — checkpoints in the safetensors format, so NumPy and
 * PyTorch read them: an 8-byte little-endian header length, a JSON header
 * ({"__metadata__": {string: string}, NAME: {"dtype", "shape",
 * "data_offsets"}}), padded with spaces to 8 bytes, then the raw
 * little-endian tensor data.  Holds every param and optimizer-state
 * tensor (gradients are recomputed each step, so they are not saved).
 * Written atomically: FILE.tmp, fsync, rename over FILE, fsync the dir;
 * a failed save removes FILE.tmp and leaves FILE as it was.  FILE is
 * where --save's chain of symbolic links ends, and must be a regular
 * file or none: renaming over a device or a FIFO would replace it.
 * Integrity: metadata "checksum" is "crc32:HHHHHHHH", zlib's CRC-32 of
 * every byte after the header; loading checks it when present (files
 * written by other tools may lack it) and names the mismatch. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "nnrt_internal.h"

enum { MAX_HEADER = 64 << 20, MAX_ENTRIES = 1 << 14 };

void rt_meta_set(RtMeta *m, const char *key, const char *val)
{
	for (int i = 0; i < m->n; i++)
		if (!strcmp(m->key[i], key)) {
			m->val[i] = rt_strdup(val);
			return;
		}
	if (m->n == (int)(sizeof m->key / sizeof *m->key))
		rt_fatal(RT_EXIT_INTERNAL, "too many checkpoint metadata entries");
	m->key[m->n] = rt_strdup(key);
	m->val[m->n++] = rt_strdup(val);
}

const char *rt_meta_get(const RtMeta *m, const char *key)
{
	for (int i = 0; i < m->n; i++)
		if (!strcmp(m->key[i], key))
			return m->val[i];
	return NULL;
}

static const char *st_dtype(RtDType dt)
{
	return dt == RT_F32 ? "F32" : dt == RT_F64 ? "F64" : "I32";
}

static int saved(const RtTensor *t)
{
	return t->role != RT_GRAD;
}

/* ---- writing ------------------------------------------------------------ */

typedef struct Buf { char *p; size_t n, cap; } Buf;

static void put(Buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(Buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (b->n + (size_t)n + 1 > b->cap) {
		b->cap = (b->n + (size_t)n + 1) * 2;
		b->p = rt_realloc(b->p, b->cap);
	}
	va_start(ap, fmt);
	vsnprintf(b->p + b->n, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->n += (size_t)n;
}

static void put_json_string(Buf *b, const char *s)
{
	put(b, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (*p == '"' || *p == '\\')
			put(b, "\\%c", *p);
		else if (*p < 0x20)
			put(b, "\\u%04x", *p);
		else
			put(b, "%c", *p);
	}
	put(b, "\"");
}

static Buf header_json(const RtDesc *d, const RtMeta *meta)
{
	Buf b = {0};
	put(&b, "{\"__metadata__\":{");
	for (int i = 0; i < meta->n; i++) {
		put(&b, i ? "," : "");
		put_json_string(&b, meta->key[i]);
		put(&b, ":");
		put_json_string(&b, meta->val[i]);
	}
	put(&b, "}");
	int64_t off = 0;
	for (int i = 0; i < d->ntensor; i++) {
		const RtTensor *t = &d->tensor[i];
		if (!saved(t))
			continue;
		int64_t bytes = t->count * rt_dtype_size(t->dt);
		put(&b, ",");
		put_json_string(&b, t->name);
		put(&b, ":{\"dtype\":\"%s\",\"shape\":[", st_dtype(t->dt));
		for (int k = 0; k < t->shape.ndim; k++)
			put(&b, "%s%lld", k ? "," : "", (long long)t->shape.dim[k]);
		put(&b, "],\"data_offsets\":[%lld,%lld]}", (long long)off, (long long)(off + bytes));
		off += bytes;
	}
	put(&b, "}");
	while (b.n % 8)   /* the data then starts 8-byte aligned */
		put(&b, " ");
	return b;
}

/* Allocates nothing: the new checkpoint is already in place, and running
 * out of memory now would report a failure that did not happen. */
static void fsync_dir(const char *path)
{
	char copy[4096];
	if (snprintf(copy, sizeof copy, "%s", path) >= (int)sizeof copy)
		return;
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		fsync(fd);   /* makes the rename durable; failure here loses nothing already written */
		close(fd);
	}
}

static uint32_t crc_bytes(uint32_t crc, const char *p, size_t n)
{
	while (n > 0) {   /* zlib's crc32 takes a uInt length */
		uInt chunk = n > (1u << 30) ? 1u << 30 : (uInt)n;
		crc = (uint32_t)crc32(crc, (const Bytef *)p, chunk);
		p += chunk;
		n -= chunk;
	}
	return crc;
}

static uint32_t state_crc(const RtDesc *d, const char *state)
{
	uint32_t crc = (uint32_t)crc32(0L, Z_NULL, 0);
	for (int i = 0; i < d->ntensor; i++)
		if (saved(&d->tensor[i]))
			crc = crc_bytes(crc, state + d->tensor[i].offset,
			                (size_t)(d->tensor[i].count * rt_dtype_size(d->tensor[i].dt)));
	return crc;
}

/* fwrite through the NNRT_FAULT_WRITE hook: 0 and errno set on failure. */
static int write_bytes(FILE *f, const void *p, size_t n)
{
	if (rt_fault_write())
		return 0;
	errno = EIO;   /* fwrite need not set errno on a short write */
	return fwrite(p, 1, n, f) == n;
}

static int write_file(FILE *f, const RtDesc *d, const char *state, const Buf *h)
{
	unsigned char len[8];
	for (int i = 0; i < 8; i++)
		len[i] = (unsigned char)((uint64_t)h->n >> (8 * i));
	int ok = write_bytes(f, len, 8) && write_bytes(f, h->p, h->n);
	for (int i = 0; ok && i < d->ntensor; i++) {
		const RtTensor *t = &d->tensor[i];
		if (saved(t))
			ok = write_bytes(f, state + t->offset, (size_t)(t->count * rt_dtype_size(t->dt)));
	}
	return ok && fflush(f) == 0 && fsync(fileno(f)) == 0;
}

/* The file a save replaces: the path, or the end of its chain of
 * symbolic links, which need not exist yet (a dangling link names the
 * file to create).  Renaming over the link itself would cut it from
 * the file it points to. */
char *rt_save_target(const char *path)
{
	char *p = rt_strdup(path), to[4096];
	for (int hops = 0; hops < 40; hops++) {
		struct stat st;
		if (lstat(p, &st) != 0 || !S_ISLNK(st.st_mode))
			return p;
		ssize_t n = readlink(p, to, sizeof to - 1);
		if (n < 0)
			return p;
		to[n] = '\0';
		char *slash = strrchr(p, '/');
		p = to[0] == '/' || !slash ? rt_strdup(to) : rt_printf("%.*s/%s", (int)(slash - p), p, to);
	}
	rt_fatal(RT_EXIT_IO, "cannot save to %s: too many levels of symbolic links", path);
}

/* Why a save may not replace target, or NULL: a checkpoint is renamed
 * into place, which would swap a device, a FIFO or a socket for a
 * regular file (and a directory cannot be renamed over at all). */
const char *rt_save_refusal(const char *target)
{
	struct stat st;
	if (stat(target, &st) != 0 || S_ISREG(st.st_mode))
		return NULL;
	const char *what = S_ISDIR(st.st_mode) ? "a directory" : S_ISFIFO(st.st_mode) ? "a FIFO"
	                 : S_ISCHR(st.st_mode) ? "a character device" : S_ISBLK(st.st_mode) ? "a block device"
	                 : S_ISSOCK(st.st_mode) ? "a socket" : "not a regular file";
	return rt_printf("it is %s; a checkpoint is written to a new file and renamed over the old one, "
	                 "so it must be a regular file or not exist yet", what);
}

/* FILE.tmp is created afresh: whatever held the name before (a stale
 * file, a link, a FIFO that would block the open) is not written through. */
static FILE *create_tmp(const char *tmp)
{
	unlink(tmp);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
	FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (fd >= 0 && !f)
		close(fd);
	return f;
}

void rt_checkpoint_save(const char *path, const RtDesc *d, const char *state, const RtMeta *meta)
{
	char *target = rt_save_target(path);
	const char *refusal = rt_save_refusal(target);
	if (refusal)
		rt_fatal(RT_EXIT_IO, "cannot write checkpoint %s%s: %s", path,
		         strcmp(target, path) ? rt_printf(" (a link to %s)", target) : "", refusal);
	RtMeta m = *meta;
	rt_meta_set(&m, "checksum", rt_printf("crc32:%08x", (unsigned)state_crc(d, state)));
	Buf h = header_json(d, &m);
	char *tmp = rt_printf("%s.tmp", target);
	FILE *f = create_tmp(tmp);
	if (!f)
		rt_fatal(RT_EXIT_IO, "cannot write checkpoint %s: %s", tmp, strerror(errno));
	int ok = write_file(f, d, state, &h);
	int saved_errno = errno;
	ok = (fclose(f) == 0) && ok;
	free(h.p);
	if (!ok || rename(tmp, target) != 0) {
		int e = ok ? errno : saved_errno;
		unlink(tmp);
		rt_fatal(RT_EXIT_IO, "cannot write checkpoint %s: %s (%s was left as it was)", path,
		         strerror(e), access(target, F_OK) == 0 ? "the previous checkpoint" : "no file");
	}
	fsync_dir(target);
}

/* ---- reading: a small JSON parser, bounded by the header length ---------- */

typedef struct Json { const char *p, *end; char *err; size_t errlen; const char *start; } Json;

typedef struct Entry {
	char *name, *dtype;
	int ndim;
	int64_t shape[RT_MAX_DIM + 1];
	int64_t begin, end;
} Entry;

static int jfail(Json *j, const char *what)
{
	snprintf(j->err, j->errlen, "malformed header: %s at byte %ld", what, (long)(j->p - j->start + 8));
	return -1;
}

static void skip_ws(Json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r'))
		j->p++;
}

static int expect(Json *j, char c)
{
	skip_ws(j);
	if (j->p >= j->end || *j->p != c) {
		char what[24];
		snprintf(what, sizeof what, "expected '%c'", c);
		return jfail(j, what);
	}
	j->p++;
	return 0;
}

static int jstring(Json *j, char **out)
{
	if (expect(j, '"') < 0)
		return -1;
	char *s = rt_alloc((size_t)(j->end - j->p) + 1), *o = s;
	while (j->p < j->end && *j->p != '"') {
		char c = *j->p++;
		if (c == '\\') {
			if (j->p >= j->end)
				return jfail(j, "bad escape");
			c = *j->p++;
			switch (c) {
			case 'n': c = '\n'; break;
			case 't': c = '\t'; break;
			case 'r': c = '\r'; break;
			case 'b': c = '\b'; break;
			case 'f': c = '\f'; break;
			case 'u': {
				if (j->end - j->p < 4)
					return jfail(j, "bad \\u escape");
				char hex[5] = {j->p[0], j->p[1], j->p[2], j->p[3], 0};
				long v = strtol(hex, NULL, 16);
				c = v < 0x80 ? (char)v : '?';   /* names and metadata we write are ASCII */
				j->p += 4;
				break;
			}
			default: break;   /* \" \\ \/ stand for themselves */
			}
		}
		*o++ = c;
	}
	*o = '\0';
	if (j->p >= j->end)
		return jfail(j, "unterminated string");
	j->p++;
	*out = s;
	return 0;
}

static int jint(Json *j, int64_t *out)
{
	skip_ws(j);
	char buf[32];
	size_t n = 0;
	while (j->p < j->end && n < sizeof buf - 1 && (*j->p == '-' || (*j->p >= '0' && *j->p <= '9')))
		buf[n++] = *j->p++;
	buf[n] = '\0';
	char *e;
	long long v = strtoll(buf, &e, 10);
	if (n == 0 || *e || v < 0)
		return jfail(j, "expected a non-negative integer");
	*out = v;
	return 0;
}

static int jint_array(Json *j, int64_t *v, int max, int *n)
{
	if (expect(j, '[') < 0)
		return -1;
	*n = 0;
	skip_ws(j);
	if (j->p < j->end && *j->p == ']')
		return j->p++, 0;
	do {
		if (*n == max)
			return jfail(j, "array too long");
		if (jint(j, &v[(*n)++]) < 0)
			return -1;
		skip_ws(j);
	} while (j->p < j->end && *j->p == ',' && j->p++);
	return expect(j, ']');
}

static int jmeta(Json *j, RtMeta *meta)
{
	if (expect(j, '{') < 0)
		return -1;
	skip_ws(j);
	if (j->p < j->end && *j->p == '}')
		return j->p++, 0;
	do {
		char *k, *v;
		if (jstring(j, &k) < 0 || expect(j, ':') < 0 || jstring(j, &v) < 0)
			return -1;
		if (meta)
			rt_meta_set(meta, k, v);
		skip_ws(j);
	} while (j->p < j->end && *j->p == ',' && j->p++);
	return expect(j, '}');
}

static int jtensor(Json *j, Entry *e)
{
	int64_t offs[2];
	int noff = 0, seen = 0;
	if (expect(j, '{') < 0)
		return -1;
	do {
		char *k;
		if (jstring(j, &k) < 0 || expect(j, ':') < 0)
			return -1;
		int r;
		if (!strcmp(k, "dtype")) r = jstring(j, &e->dtype), seen |= 1;
		else if (!strcmp(k, "shape")) r = jint_array(j, e->shape, RT_MAX_DIM + 1, &e->ndim), seen |= 2;
		else if (!strcmp(k, "data_offsets")) r = jint_array(j, offs, 2, &noff), seen |= 4;
		else r = jfail(j, "unknown tensor key");
		if (r < 0)
			return -1;
		skip_ws(j);
	} while (j->p < j->end && *j->p == ',' && j->p++);
	if (seen != 7 || noff != 2 || offs[1] < offs[0])
		return jfail(j, "tensor entry needs dtype, shape and data_offsets [begin, end]");
	e->begin = offs[0];
	e->end = offs[1];
	return expect(j, '}');
}

static int parse_header(Json *j, Entry *ent, int *nent, RtMeta *meta)
{
	*nent = 0;
	if (expect(j, '{') < 0)
		return -1;
	skip_ws(j);
	if (j->p < j->end && *j->p == '}')
		return j->p++, 0;
	do {
		char *name;
		if (jstring(j, &name) < 0 || expect(j, ':') < 0)
			return -1;
		if (!strcmp(name, "__metadata__")) {
			if (jmeta(j, meta) < 0)
				return -1;
		} else {
			if (*nent == MAX_ENTRIES)
				return jfail(j, "too many tensors");
			ent[*nent] = (Entry){.name = name};
			if (jtensor(j, &ent[(*nent)++]) < 0)
				return -1;
		}
		skip_ws(j);
	} while (j->p < j->end && *j->p == ',' && j->p++);
	return expect(j, '}');
}

static int check_entry(const RtTensor *t, const Entry *e, int64_t data_len, char *err, size_t errlen)
{
	int64_t bytes = t->count * rt_dtype_size(t->dt);
	int same = e->ndim == t->shape.ndim;
	for (int k = 0; same && k < e->ndim; k++)
		same = e->shape[k] == t->shape.dim[k];
	char want[128];
	rt_shape_str(&t->shape, want, sizeof want);
	if (strcmp(e->dtype, st_dtype(t->dt)))
		snprintf(err, errlen, "tensor %s has dtype %s, the model wants %s", t->name, e->dtype, st_dtype(t->dt));
	else if (!same) {
		RtShape got = {.ndim = e->ndim > RT_MAX_DIM ? RT_MAX_DIM : e->ndim};
		memcpy(got.dim, e->shape, sizeof(int64_t) * (size_t)got.ndim);
		char have[128];
		rt_shape_str(&got, have, sizeof have);
		snprintf(err, errlen, "tensor %s has shape %s%s, the model wants %s", t->name, have,
		         e->ndim > RT_MAX_DIM ? "..." : "", want);
	}
	else if (e->end - e->begin != bytes || e->end > data_len)
		snprintf(err, errlen, "tensor %s: data_offsets [%lld, %lld] do not fit (%lld data bytes)",
		         t->name, (long long)e->begin, (long long)e->end, (long long)data_len);
	else
		return 0;
	return -1;
}

/* Read whole, so that a pipe or process substitution serves as --load. */
static int read_all(const char *path, char **data, int64_t *len, char *err, size_t errlen)
{
	RtBytes b;
	char why[512];
	if (rt_read_whole(path, 0, &b, why, sizeof why) < 0)
		return rt_error(err, errlen, "cannot read checkpoint %s", why);
	*data = b.p;
	*len = (int64_t)b.n;
	return 0;
}

/* A checkpoint of another model is named by its first tensor, in the
 * model's order, that is missing or differs in dtype or shape. */
static int check_tensors(const char *path, const RtDesc *d, const Entry *ent, int nent,
                         const char *data, int64_t data_len, char *state, char *err, size_t errlen)
{
	for (int i = 0; i < d->ntensor; i++) {
		const RtTensor *t = &d->tensor[i];
		if (!saved(t))
			continue;
		int k = 0;
		while (k < nent && strcmp(ent[k].name, t->name))
			k++;
		char why[384];
		if (k == nent)
			return rt_error(err, errlen, "%s: tensor %s is missing (a checkpoint of another model?%s%s)",
			                 path, t->name, nent ? " its first tensor is " : "", nent ? ent[0].name : "");
		if (check_entry(t, &ent[k], data_len, why, sizeof why) < 0)
			return rt_error(err, errlen, "%s: %s", path, why);
		memcpy(state + t->offset, data + ent[k].begin, (size_t)(ent[k].end - ent[k].begin));
	}
	return 0;
}

/* The CRC covers every data byte, whatever the tensors' order in the file. */
static int check_sum(const char *path, const char *want, const char *data, int64_t len,
                     char *err, size_t errlen)
{
	if (!want)
		return 0;
	char got[24];
	snprintf(got, sizeof got, "crc32:%08x", (unsigned)crc_bytes((uint32_t)crc32(0L, Z_NULL, 0), data, (size_t)len));
	if (strcmp(got, want))
		return rt_error(err, errlen, "%s: checksum mismatch: the data has %s, the header says %s "
		                 "(the file was damaged after it was written)", path, got, want);
	return 0;
}

/* A checkpoint file read whole, its header parsed and its checksum
 * checked: what --load and --init both start from. */
typedef struct CkFile { char *file; Entry *ent; int nent; const char *data; int64_t data_len; } CkFile;

static int open_checkpoint(const char *path, RtMeta *meta, CkFile *f, char *err, size_t errlen)
{
	char jerr[256];
	int64_t len = 0;
	*f = (CkFile){0};
	if (read_all(path, &f->file, &len, err, errlen) < 0)
		return -1;
	uint64_t hlen = 0;
	for (int i = 7; len >= 8 && i >= 0; i--)
		hlen = hlen << 8 | (unsigned char)f->file[i];
	if (len < 8 || hlen > MAX_HEADER || (int64_t)hlen > len - 8) {
		free(f->file);
		return rt_error(err, errlen, "%s: not a safetensors file (bad header length)", path);
	}
	Json j = {f->file + 8, f->file + 8 + hlen, jerr, sizeof jerr, f->file + 8};
	f->ent = rt_alloc(sizeof *f->ent * MAX_ENTRIES);
	if (parse_header(&j, f->ent, &f->nent, meta) < 0) {
		free(f->file);
		free(f->ent);
		return rt_error(err, errlen, "%s: %s", path, jerr);
	}
	f->data = f->file + 8 + hlen;
	f->data_len = len - 8 - (int64_t)hlen;
	return 0;
}

static void close_checkpoint(CkFile *f)
{
	free(f->file);
	free(f->ent);
}

int rt_checkpoint_load(const char *path, const RtDesc *d, char *state, RtMeta *meta,
                       char *err, size_t errlen)
{
	CkFile f;
	if (open_checkpoint(path, meta, &f, err, errlen) < 0)
		return -1;
	int r = check_tensors(path, d, f.ent, f.nent, f.data, f.data_len, state, err, errlen);
	const char *sig = rt_meta_get(meta, "signature"), *model = rt_meta_get(meta, "model");
	if (r == 0 && (!sig || strcmp(sig, d->signature)))
		r = rt_error(err, errlen, "%s: checkpoint of model '%s' with signature %s, but this trainer's "
		              "model '%s' has %s (same tensors, other inputs or outputs)", path,
		              model ? model : "?", sig ? sig : "(none)", d->model, d->signature);
	if (r == 0)
		r = check_sum(path, rt_meta_get(meta, "checksum"), f.data, f.data_len, err, errlen);
	close_checkpoint(&f);
	return r;
}

int rt_checkpoint_meta(const char *path, RtMeta *meta, char *err, size_t errlen)
{
	CkFile f;
	if (open_checkpoint(path, meta, &f, err, errlen) < 0)
		return -1;
	close_checkpoint(&f);
	return 0;
}

/* Whether the file's tensor `saved` (of model `from`) is this model's
 * parameter `name`: the same name, or the same path below each model's
 * own name (bert_pretrain.encoder_1.W is bert_classify.encoder_1.W). */
static int same_param(const char *saved, const char *from, const char *name, const char *model)
{
	if (!strcmp(saved, name))
		return 1;
	size_t a = from ? strlen(from) : 0, b = strlen(model);
	return from && !strncmp(saved, from, a) && saved[a] == '.' && !strncmp(name, model, b) && name[b] == '.'
	       && !strcmp(saved + a, name + b);
}

/* --init: the parameters and running statistics found in the file under
 * their own name are copied; a name found with another dtype or shape is
 * an error (the names say the same tensor is meant, the data cannot be
 * it).  Optimizer state is never read: training starts afresh. */
int rt_checkpoint_init(const char *path, const RtDesc *d, char *state, RtMeta *meta, char *loaded,
                       char *err, size_t errlen)
{
	CkFile f;
	if (open_checkpoint(path, meta, &f, err, errlen) < 0)
		return -1;
	int r = check_sum(path, rt_meta_get(meta, "checksum"), f.data, f.data_len, err, errlen);
	for (int i = 0; r == 0 && i < d->ntensor; i++) {
		const RtTensor *t = &d->tensor[i];
		loaded[i] = 0;
		if (t->role != RT_PARAM && t->role != RT_BUFFER)
			continue;
		int k = 0;
		while (k < f.nent && !same_param(f.ent[k].name, rt_meta_get(meta, "model"), t->name, d->model))
			k++;
		char why[384];
		if (k == f.nent)
			continue;
		if (check_entry(t, &f.ent[k], f.data_len, why, sizeof why) < 0) {
			r = rt_error(err, errlen, "--init %s: its %s is this model's %s by name, but %s", path,
			             f.ent[k].name, t->name, why);
			break;
		}
		memcpy(state + t->offset, f.data + f.ent[k].begin, (size_t)(f.ent[k].end - f.ent[k].begin));
		loaded[i] = 1;
	}
	close_checkpoint(&f);
	return r;
}
