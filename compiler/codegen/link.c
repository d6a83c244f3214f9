/* link.c — the object file nnc wrote, plus libnnrt (which holds the
 * trainer's main), OpenBLAS, zlib and libm, into one executable.
 *
 * libnnrt is linked by the path of its static archive, so a trainer runs
 * without LD_LIBRARY_PATH and keeps working after nnc is upgraded.  The
 * archive is looked for in $NNC_RUNTIME_DIR (the build tree sets it),
 * else in the libdir nnc was configured with. */
#ifdef HAVE_CONFIG_H
#include "config.h"
#endif
#include <errno.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "ir.h"

#ifndef NNC_LIBDIR
#define NNC_LIBDIR "/usr/local/lib"
#endif
/* The libraries of a runtime built with MPI (configure), else empty. */
#ifndef NNC_MPI_LIBS
#define NNC_MPI_LIBS ""
#endif
/* Flags the runtime itself was built with that its users must link with
 * too: "-fsanitize=address,undefined" in a sanitizer build, else empty. */
#ifndef NNC_LINK_FLAGS
#define NNC_LINK_FLAGS ""
#endif

extern char **environ;

static const char *runtime_archive(void)
{
	const char *dir = getenv("NNC_RUNTIME_DIR");
	if (!dir || !*dir)
		dir = NNC_LIBDIR;
	return xprintf("%s/libnnrt.a", dir);
}

/* Runs argv, waits for it; 0 when it exited with status 0. */
static int run(char *const argv[])
{
	pid_t pid;
	int err = posix_spawnp(&pid, argv[0], NULL, NULL, argv, environ);
	if (err) {
		fprintf(stderr, "nnc: error: cannot run the linker '%s': %s\n", argv[0], strerror(err));
		return -1;
	}
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			fprintf(stderr, "nnc: error: waiting for '%s': %s\n", argv[0], strerror(errno));
			return -1;
		}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFEXITED(status))
		fprintf(stderr, "nnc: error: linking failed: '%s' exited with status %d\n", argv[0], WEXITSTATUS(status));
	else
		fprintf(stderr, "nnc: error: linking failed: '%s' was killed by signal %d\n", argv[0], WTERMSIG(status));
	return -1;
}

int link_trainer(const char *obj_path, const char *out_path)
{
	return link_objects(&obj_path, 1, out_path);
}

/* Returns 0 when out_path was written, else EXIT_IO after saying why.
 * A staged program is one object per stage (llvm.c). */
int link_objects(const char *const *objs, int nobj, const char *out_path)
{
	const char *lib = runtime_archive();
	if (access(lib, R_OK) != 0) {
		fprintf(stderr, "nnc: error: cannot find the runtime library %s: %s\n"
			"nnc: note: set NNC_RUNTIME_DIR to the directory that holds libnnrt.a\n",
			lib, strerror(errno));
		return EXIT_IO;
	}
	const char *cc = getenv("NNC_CC");
	char **argv = xalloc(sizeof *argv * (size_t)(nobj + 48));
	int n = 0;
	argv[n++] = (char *)(cc && *cc ? cc : "cc");
	for (int i = 0; i < nobj; i++)
		argv[n++] = (char *)objs[i];
	static const char *const rest[] = { "-o", NULL, NULL, "-lopenblas", "-lz", "-lm", "-lpthread" };
	for (int i = 0; i < 7; i++)
		argv[n++] = (char *)(i == 1 ? out_path : i == 2 ? lib : rest[i]);
	/* a libnnrt built with MPI (configure) needs its libraries, a word each */
	char mpi_libs[sizeof NNC_MPI_LIBS], *save = NULL;
	memcpy(mpi_libs, NNC_MPI_LIBS, sizeof mpi_libs);
	for (char *w = strtok_r(mpi_libs, " ", &save); w && n < nobj + 44; w = strtok_r(NULL, " ", &save))
		argv[n++] = w;
	if (*NNC_LINK_FLAGS)
		argv[n++] = NNC_LINK_FLAGS;
	argv[n] = NULL;
	return run(argv) == 0 ? 0 : EXIT_IO;
}
