/* data_idx.c — IDX files (LeCun's MNIST format), plain or gzip.
 *
 * Layout: two zero bytes, a type byte, a dimension count, then one
 * big-endian u32 per dimension and the elements, big-endian.  zlib's
 * gzread reads a plain file transparently, so gzip is told apart by its
 * magic bytes only for the error messages — never by the file's name. */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>
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

static int read_exact(gzFile f, void *buf, size_t n)
{
	char *p = buf;
	while (n > 0) {
		unsigned chunk = n > (1u << 30) ? 1u << 30 : (unsigned)n;
		int got = gzread(f, p, chunk);
		if (got <= 0)
			return -1;
		p += got;
		n -= (size_t)got;
	}
	return 0;
}

static int elem_size(int type)
{
	switch (type) {
	case 0x08: case 0x09: return 1;   /* u8, i8 */
	case 0x0B: return 2;              /* i16 */
	case 0x0C: case 0x0D: return 4;   /* i32, f32 */
	case 0x0E: return 8;              /* f64 */
	default: return 0;
	}
}

static double elem_value(int type, const unsigned char *p)
{
	if (type == 0x08)   /* the common case, kept off the general path */
		return p[0];
	uint64_t v = 0;
	for (int i = 0; i < elem_size(type); i++)
		v = v << 8 | p[i];
	switch (type) {
	case 0x08: return (double)(uint8_t)v;
	case 0x09: return (double)(int8_t)v;
	case 0x0B: return (double)(int16_t)v;
	case 0x0C: return (double)(int32_t)v;
	case 0x0D: { uint32_t u = (uint32_t)v; float f; memcpy(&f, &u, 4); return f; }
	default: { double d; memcpy(&d, &v, 8); return d; }
	}
}

static int is_gzip(const char *path)
{
	unsigned char m[2] = {0};
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0;
	size_t n = fread(m, 1, 2, f);
	fclose(f);
	return n == 2 && m[0] == 0x1f && m[1] == 0x8b;
}

static int read_header(gzFile f, const char *path, RtIdx *out, int *type, char *err, size_t errlen)
{
	unsigned char h[4];
	if (read_exact(f, h, 4) < 0) {
		int zerr = 0;
		const char *msg = gzerror(f, &zerr);
		if (zerr < 0 && zerr != Z_ERRNO)
			return fail(err, errlen, "%s: corrupt or truncated gzip data (gzip: %s)", path, msg);
		return fail(err, errlen, "%s: not an IDX file (shorter than its header)", path);
	}
	if (h[0] || h[1])
		return fail(err, errlen, "%s: not an IDX file (bad magic %02x %02x %02x %02x; IDX starts 00 00)%s",
		            path, h[0], h[1], h[2], h[3], is_gzip(path) ? "" : ", nor gzip");
	if (!elem_size(h[2]))
		return fail(err, errlen, "%s: not an IDX file (bad magic %02x %02x %02x %02x: unknown element "
		            "type 0x%02x; known: 08 u8, 09 i8, 0b i16, 0c i32, 0d f32, 0e f64)",
		            path, h[0], h[1], h[2], h[3], h[2]);
	if (h[3] < 1 || h[3] > RT_MAX_DIM)
		return fail(err, errlen, "%s: IDX file with %d dimensions (1 to %d supported)", path, h[3], RT_MAX_DIM);
	*type = h[2];
	out->ndim = h[3];
	out->per = 1;
	for (int i = 0; i < out->ndim; i++) {
		unsigned char b[4];
		if (read_exact(f, b, 4) < 0)
			return fail(err, errlen, "%s: truncated IDX header", path);
		out->dim[i] = (int64_t)b[0] << 24 | b[1] << 16 | b[2] << 8 | b[3];
		if (i > 0)
			out->per *= out->dim[i];
	}
	out->n = out->dim[0];
	/* Bound the allocation: 2^31 elements is far past any IDX data set
	 * and keeps a corrupt header from asking for terabytes. */
	if (out->per > 0 && out->n > (INT64_C(1) << 31) / out->per)
		return fail(err, errlen, "%s: IDX dimensions too large", path);
	return 0;
}

int rt_idx_read(const char *path, RtIdx *out, char *err, size_t errlen)
{
	int gz = is_gzip(path);
	gzFile f = gzopen(path, "rb");
	if (!f)
		return fail(err, errlen, "%s: %s", path, strerror(errno ? errno : ENOENT));
	int type = 0, r = read_header(f, path, out, &type, err, errlen);
	if (r < 0) {
		gzclose(f);
		return r;
	}
	int64_t total = out->n * out->per;
	size_t es = (size_t)elem_size(type);
	unsigned char *raw = rt_realloc(NULL, (size_t)total * es + 1);
	if (read_exact(f, raw, (size_t)total * es) < 0) {
		int zerr;
		const char *msg = gzerror(f, &zerr);
		fail(err, errlen, "%s: truncated IDX data (%lld elements expected%s%s)", path,
		     (long long)total, zerr < 0 && gz ? "; gzip: " : "", zerr < 0 && gz ? msg : "");
		gzclose(f);
		free(raw);
		return -1;
	}
	out->raw = raw;
	out->type = type;
	gzclose(f);
	return 0;
}

double rt_idx_get(const RtIdx *idx, int64_t i)
{
	return elem_value(idx->type, idx->raw + (size_t)i * (size_t)elem_size(idx->type));
}
