/* nnrt_exit.h — the exit statuses of nnc and of every trainer it builds,
 * one table for both: compiler/util.h and runtime/nnrt_internal.h name
 * these values and define none of their own.  nnc(1) and nnc-trainer(1)
 * print the same table (tests/e2e/exit-codes.sh holds the three equal);
 * a trainer stopped by SIGINT or SIGTERM exits 128 + the signal. */
#ifndef NNRT_EXIT_H
#define NNRT_EXIT_H

enum {
	NNRT_EXIT_FAIL = 1,       /* nnc: an error in a .nn source; a trainer: a check failed (gradcheck above --tol) */
	NNRT_EXIT_USAGE = 2,      /* bad command line */
	NNRT_EXIT_IO = 3,         /* data, I/O or checkpoint error */
	NNRT_EXIT_NOMEM = 4,      /* out of memory */
	NNRT_EXIT_NUMERIC = 5,    /* non-finite loss or gradient */
	NNRT_EXIT_INTERNAL = 70,  /* a bug in nnc, or a descriptor this libnnrt does not read */
};

#endif
