/* data_idx.c — IDX files (LeCun's MNIST format), plain or gzip.
 *
 * Layout: two zero bytes, a type byte, a dimension count, then one
 * big-endian u32 per dimension and the elements, big-endian.  The file
 * arrives whole and inflated (data_read.c); whether it was gzip serves
 * the error messages only — never the file's name. */
#include <stdlib.h>
#include <string.h>
#include "nnrt_internal.h"

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

/* The bytes of a file being parsed, consumed from the front. */
typedef struct Cursor { const unsigned char *p; size_t left; } Cursor;

static int take(Cursor *c, void *out, size_t n)
{
	if (c->left < n)
		return -1;
	memcpy(out, c->p, n);
	c->p += n;
	c->left -= n;
	return 0;
}

static int read_header(Cursor *c, const RtBytes *b, const char *path, RtIdx *out, int *type,
                       char *err, size_t errlen)
{
	unsigned char h[4];
	if (take(c, h, 4) < 0) {
		if (b->gzip_error)
			return rt_error(err, errlen, "%s: corrupt or truncated gzip data (gzip: %s)", path, b->gzip_error);
		return rt_error(err, errlen, "%s: not an IDX file (shorter than its header)", path);
	}
	if (h[0] || h[1])
		return rt_error(err, errlen, "%s: not an IDX file (bad magic %02x %02x %02x %02x; IDX starts 00 00)%s",
		            path, h[0], h[1], h[2], h[3], b->gzip ? "" : ", nor gzip");
	if (!elem_size(h[2]))
		return rt_error(err, errlen, "%s: not an IDX file (bad magic %02x %02x %02x %02x: unknown element "
		            "type 0x%02x; known: 08 u8, 09 i8, 0b i16, 0c i32, 0d f32, 0e f64)",
		            path, h[0], h[1], h[2], h[3], h[2]);
	if (h[3] < 1 || h[3] > RT_MAX_DIM)
		return rt_error(err, errlen, "%s: IDX file with %d dimensions (1 to %d supported)", path, h[3], RT_MAX_DIM);
	*type = h[2];
	out->ndim = h[3];
	out->per = 1;
	for (int i = 0; i < out->ndim; i++) {
		unsigned char d[4];
		if (take(c, d, 4) < 0)
			return rt_error(err, errlen, "%s: truncated IDX header", path);
		out->dim[i] = (int64_t)d[0] << 24 | d[1] << 16 | d[2] << 8 | d[3];
		if (i > 0)
			out->per *= out->dim[i];
	}
	out->n = out->dim[0];
	/* Bound the sizes: 2^31 elements is far past any IDX data set and
	 * keeps a corrupt header's products from overflowing. */
	if (out->per > 0 && out->n > (INT64_C(1) << 31) / out->per)
		return rt_error(err, errlen, "%s: IDX dimensions too large", path);
	return 0;
}

int rt_idx_parse(RtBytes *b, const char *name, RtIdx *out, char *err, size_t errlen)
{
	Cursor c = {(const unsigned char *)b->p, b->n};
	int type = 0;
	if (read_header(&c, b, name, out, &type, err, errlen) < 0) {
		free(b->p);
		return -1;
	}
	size_t bytes = (size_t)(out->n * out->per) * (size_t)elem_size(type);
	if (c.left < bytes) {
		rt_error(err, errlen, "%s: truncated IDX data (%lld elements expected%s%s)", name,
		     (long long)(out->n * out->per), b->gzip_error ? "; gzip: " : "",
		     b->gzip_error ? b->gzip_error : "");
		free(b->p);
		return -1;
	}
	/* The elements move to the front so that raw is the block to free. */
	memmove(b->p, c.p, bytes);
	out->raw = (unsigned char *)b->p;
	out->type = type;
	return 0;
}

int rt_idx_read(const char *path, RtIdx *out, char *err, size_t errlen)
{
	RtBytes b;
	if (rt_read_whole(path, 1, &b, err, errlen) < 0)
		return -1;
	return rt_idx_parse(&b, rt_input_name(path), out, err, errlen);
}

double rt_idx_get(const RtIdx *idx, int64_t i)
{
	return elem_value(idx->type, idx->raw + (size_t)i * (size_t)elem_size(idx->type));
}
