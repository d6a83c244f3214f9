/* data_read.c — a file read whole, once, from its start: a path, or "-"
 * for standard input.  Reading once is what lets a pipe, a FIFO or a
 * process substitution (`--input <(zcat f.csv.gz)`) stand in for a
 * file: nothing is opened twice, sought or measured beforehand.  Data
 * files are inflated on the way in when they are gzip (zlib passes
 * plain bytes through unchanged), so a format is told by the content,
 * never by the name. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "nnrt_internal.h"

enum { CHUNK = 1 << 20 };

int rt_error(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}

const char *rt_input_name(const char *path)
{
	return strcmp(path, "-") ? path : "standard input";
}

/* Room for one more byte besides the terminating NUL. */
static void reserve(RtBytes *b, size_t *cap)
{
	if (b->n + 2 <= *cap)
		return;
	*cap *= 2;
	b->p = rt_realloc(b->p, *cap);
}

/* A regular file's size is known: one allocation, and one byte spare for
 * the read that finds the end. */
static size_t first_capacity(int fd)
{
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 && st.st_size < (off_t)1 << 40)
		return (size_t)st.st_size + 2;
	return CHUNK;
}

static int read_plain(int fd, RtBytes *b, size_t cap, const char *name, char *err, size_t errlen)
{
	for (;;) {
		reserve(b, &cap);
		ssize_t got = read(fd, b->p + b->n, cap - b->n - 1);
		if (got == 0)
			return 0;
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return rt_error(err, errlen, "%s: %s", name, strerror(errno));
		b->n += (size_t)got;
	}
}

/* A damaged gzip stream keeps what inflated before the damage, with
 * zlib's word for it in b->gzip_error: the parser, which knows how much
 * it needed, says what was cut short. */
static int read_gzip(int fd, RtBytes *b, size_t cap, const char *name, char *err, size_t errlen)
{
	gzFile f = gzdopen(fd, "rb");
	if (!f) {
		close(fd);
		rt_fatal(RT_EXIT_NOMEM, "out of memory (reading %s)", name);
	}
	int zerr = Z_OK;
	for (;;) {
		reserve(b, &cap);
		size_t room = cap - b->n - 1;
		int got = gzread(f, b->p + b->n, (unsigned)(room > (1u << 30) ? 1u << 30 : room));
		if (got > 0) {
			b->n += (size_t)got;
			continue;
		}
		const char *msg = gzerror(f, &zerr);
		if (zerr == Z_ERRNO) {
			int e = errno;
			gzclose(f);
			return rt_error(err, errlen, "%s: %s", name, strerror(e));
		}
		if (zerr != Z_OK)
			b->gzip_error = rt_strdup(msg);
		break;
	}
	b->gzip = !gzdirect(f);
	gzclose(f);
	return 0;
}

int rt_read_whole(const char *path, int gunzip, RtBytes *out, char *err, size_t errlen)
{
	const char *name = rt_input_name(path);
	int fd = strcmp(path, "-") ? open(path, O_RDONLY) : dup(STDIN_FILENO);
	if (fd < 0)
		return rt_error(err, errlen, "%s: %s", name, strerror(errno));
	*out = (RtBytes){0};
	size_t cap = first_capacity(fd);
	out->p = rt_realloc(NULL, cap);
	int r = gunzip ? read_gzip(fd, out, cap, name, err, errlen) : read_plain(fd, out, cap, name, err, errlen);
	if (!gunzip)
		close(fd);
	if (r < 0) {
		free(out->p);
		return -1;
	}
	out->p[out->n] = '\0';   /* text parsers may treat the whole as one string */
	return 0;
}
