/* front.c — parse_program: read the main file and every module it
 * imports, check the bytes, parse each file once, and gather the
 * declarations (imported modules first, in the order their imports are
 * met, depth first; the main file last). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "front.h"

typedef struct Loader {
	const char *const *dirs;
	const char **loaded;  /* module names already read (or being read) */
	int nloaded;
	Decl **decls;
	int ndecls;
} Loader;

/* Read a whole file into the arena; `from` is where it was asked for
 * (line 0 for the command line), so a missing module points at its import. */
static char *read_file(const char *path, Loc from, size_t *lenp)
{
	int fd = open(path, O_RDONLY);
	struct stat st = { 0 };
	/* the file named on the command line is I/O (exit 3); a module is
	 * an error at the import that asked for it (exit 1) */
	if (fd < 0 && from.line == 0)
		fatal(EXIT_IO, "%s: %s", path, strerror(errno));
	if (fd < 0)
		error_at(from, "cannot open '%s': %s", path, strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && from.line == 0)
		fatal(EXIT_IO, "%s: is a directory, not a .nn file", path);
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode))
		error_at(from, "cannot read '%s': it is a directory", path);
	size_t cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 2 : 4096, len = 0;
	char *buf = xalloc(cap);
	for (;;) {
		if (len + 1 >= cap) {
			buf = xrealloc(buf, cap, 2 * cap);
			cap *= 2;
		}
		ssize_t n = read(fd, buf + len, cap - len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && from.line == 0)
			fatal(EXIT_IO, "%s: %s", path, strerror(errno));
		if (n < 0)
			error_at(from, "cannot read '%s': %s", path, strerror(errno));
		if (n == 0)
			break;
		len += (size_t)n;
	}
	close(fd);
	if (len > INT_MAX / 2)
		error_at(from, "'%s' is too large (%zu bytes)", path, len);
	buf[len] = 0;
	*lenp = len;
	return buf;
}

/* Length of the valid UTF-8 sequence at p (end excluded), or 0. */
static int utf8_len(const unsigned char *p, const unsigned char *end)
{
	unsigned c = p[0];
	int n = c < 0x80 ? 1 : c >= 0xC2 && c <= 0xDF ? 2 : c >= 0xE0 && c <= 0xEF ? 3
	      : c >= 0xF0 && c <= 0xF4 ? 4 : 0;
	if (n == 0 || end - p < n)
		return 0;
	for (int i = 1; i < n; i++)
		if ((p[i] & 0xC0) != 0x80)
			return 0;
	/* overlong forms, UTF-16 surrogates, and code points past U+10FFFF */
	if ((c == 0xE0 && p[1] < 0xA0) || (c == 0xED && p[1] > 0x9F)
	    || (c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F))
		return 0;
	return n;
}

/* The scanner trusts its input to be NUL-free UTF-8; say where it is not. */
static void check_bytes(const char *file, const char *text, size_t len)
{
	const unsigned char *p = (const unsigned char *)text, *end = p + len, *bol = p;
	int line = 1;
	while (p < end) {
		Loc at = { file, line, (int)(p - bol) + 1, 1 };
		if (*p == 0)
			error_at(at, "NUL byte in source (is this a text file?)");
		int n = utf8_len(p, end);
		if (n == 0)
			error_at(at, "invalid UTF-8 (byte 0x%02x); source files must be UTF-8", *p);
		if (*p == '\n') {
			line++;
			bol = p + 1;
		}
		p += n;
	}
}

static ParseState *parse_file(const char *path, const char *module, Loc from)
{
	size_t len;
	char *text = read_file(path, from, &len);
	diag_add_source(path, text, len);
	check_bytes(path, text, len);
	ParseState *ps = xalloc(sizeof *ps);
	ps->file = path;
	ps->module = module;
	parse_source(ps, text, len);
	return ps;
}

static const char *find_module(const Loader *ld, const Import *im)
{
	const char *tried = "";
	for (const char *const *d = ld->dirs; d && *d; d++) {
		const char *path = xprintf("%s/%s.nn", *d, im->name);
		if (access(path, F_OK) == 0)
			return path;
		tried = xprintf("%s%s%s", tried, *tried ? ", " : "", *d);
	}
	if (!*tried)
		error_at(im->loc, "cannot find module '%s' (no module directories are set)", im->name);
	error_at(im->loc, "cannot find module '%s' (looked in: %s)", im->name, tried);
}

static void add_decls(Loader *ld, const ParseState *ps)
{
	for (int i = 0; i < ps->ndecls; i++) {
		ld->decls = vec_grow(ld->decls, ld->ndecls, sizeof *ld->decls);
		ld->decls[ld->ndecls++] = ps->decls[i];
	}
}

/* Depth first, each module once: a module's own imports precede it, and
 * an import cycle simply finds the module already taken. */
static void load_imports(Loader *ld, const ParseState *ps)
{
	for (int i = 0; i < ps->nimports; i++) {
		const Import *im = &ps->imports[i];
		int seen = 0;
		for (int j = 0; j < ld->nloaded && !seen; j++)
			seen = strcmp(ld->loaded[j], im->name) == 0;
		if (seen)
			continue;
		ld->loaded = vec_grow(ld->loaded, ld->nloaded, sizeof *ld->loaded);
		ld->loaded[ld->nloaded++] = im->name;
		ParseState *mod = parse_file(find_module(ld, im), im->name, im->loc);
		load_imports(ld, mod);
		add_decls(ld, mod);
	}
}

Program *parse_program(const char *path, const char *const *stdlib_dirs)
{
	Loader ld = { .dirs = stdlib_dirs };
	ParseState *main_ps = parse_file(path, "", (Loc){ path, 0, 0, 0 });
	if (main_ps->ndecls == 0 && main_ps->nimports == 0)
		error_at((Loc){ path, 1, 1, 1 },
		         "empty program: nothing to compile (expected 'model', 'fn', 'train' or 'import')");
	load_imports(&ld, main_ps);
	add_decls(&ld, main_ps);
	Program *prog = xalloc(sizeof *prog);
	prog->decls = ld.decls;
	prog->ndecls = ld.ndecls;
	prog->main_file = path;
	prog->stdlib_dirs = stdlib_dirs;
	return prog;
}

/* Does the text declare `fn NAME` or `model NAME` at the start of a line?
 * A textual look, not a parse: the module is not imported, and an error in
 * it must not hide the user's own. */
static int declares(const char *text, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
		p += strspn(p, " \t");
		size_t kw = !strncmp(p, "fn", 2) ? 2 : !strncmp(p, "model", 5) ? 5 : 0;
		if (!kw || (p[kw] != ' ' && p[kw] != '\t'))
			continue;
		const char *q = p + kw + strspn(p + kw, " \t");
		if (!strncmp(q, name, n) && (q[n] == '(' || q[n] == ' ' || q[n] == '\t'))
			return 1;
	}
	return 0;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = NULL;
	size_t len = 0, cap = 0, got;
	char chunk[4096];
	while ((got = fread(chunk, 1, sizeof chunk, f)) > 0 && len < (1u << 22)) {
		if (len + got + 1 > cap) {
			size_t ncap = 2 * (len + got + 1);
			buf = xrealloc(buf, cap, ncap);
			cap = ncap;
		}
		memcpy(buf + len, chunk, got);
		len += got;
	}
	fclose(f);
	if (buf)
		buf[len] = 0;
	return buf;
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

const char *modules_defining(const Program *prog, const char *name)
{
	const char *found = NULL, *seen = "";
	for (const char *const *d = prog->stdlib_dirs; d && *d; d++) {
		DIR *dir = opendir(*d);
		if (!dir)
			continue;
		char **files = NULL;
		int n = 0;
		for (struct dirent *e; (e = readdir(dir)) != NULL;) {
			size_t len = strlen(e->d_name);
			if (len > 3 && !strcmp(e->d_name + len - 3, ".nn")) {
				files = vec_grow(files, n, sizeof *files);
				files[n++] = xstrndup(e->d_name, len - 3);
			}
		}
		closedir(dir);
		if (n)
			qsort(files, (size_t)n, sizeof *files, by_name);
		for (int i = 0; i < n; i++) {
			const char *tag = xprintf("/%s/", files[i]);
			if (strstr(seen, tag))
				continue;   /* an earlier directory's module of that name wins */
			seen = xprintf("%s%s", seen, tag);
			const char *text = slurp(xprintf("%s/%s.nn", *d, files[i]));
			if (text && declares(text, name))
				found = found ? xprintf("%s, '%s'", found, files[i]) : xprintf("'%s'", files[i]);
		}
	}
	return found;
}
