/* exchange.c — the cost of the gradient exchange of data-parallel
 * training (runtime/shard.c, mpi.c) at P ranks, next to MPI_Allreduce's
 * MPI_SUM on the same bytes (docs/scale.md):
 *
 *   mpicc -O2 bench/exchange.c -o exchange
 *   mpirun -np 2 ./exchange FLOATS [REPEATS]
 *
 * The exchange is the trainer's: an all-to-all of the P parts of FLOATS
 * floats, then an all-gather of the parts (the fold between them costs
 * one pass over a part and is left out).  Prints the minimum and the
 * median over REPEATS (default 200) of each, in microseconds, from
 * rank 0. */
#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void report(const char *what, double *t, int n, long floats)
{
	qsort(t, (size_t)n, sizeof *t, by_value);
	printf("%-26s %ld floats (%.2f MB): min %8.1f us, median %8.1f us\n", what, floats,
	       (double)floats * 4 / 1e6, t[0] * 1e6, t[n / 2] * 1e6);
}

int main(int argc, char **argv)
{
	MPI_Init(&argc, &argv);
	int r, p;
	MPI_Comm_rank(MPI_COMM_WORLD, &r);
	MPI_Comm_size(MPI_COMM_WORLD, &p);
	long g = argc > 1 ? atol(argv[1]) : 0;
	int n = argc > 2 ? atoi(argv[2]) : 200;
	if (g < p || n < 1) {
		if (r == 0)
			fprintf(stderr, "usage: mpirun -np P exchange FLOATS [REPEATS]  (FLOATS >= P)\n");
		MPI_Finalize();
		return 2;
	}
	float *vec = calloc((size_t)g, 4), *pieces = calloc((size_t)g + (size_t)p, 4);
	int *sc = malloc(sizeof(int) * 4 * (size_t)p), *sd = sc + p, *rc = sd + p, *rd = rc + p;
	double *t1 = malloc(sizeof(double) * (size_t)n), *t2 = malloc(sizeof(double) * (size_t)n);
	for (int j = 0; j < p; j++) {
		sc[j] = (int)((g * (j + 1) / p - g * j / p) * 4), sd[j] = (int)(g * j / p * 4);
		rc[j] = (int)((g * (r + 1) / p - g * r / p) * 4), rd[j] = j * rc[j];
	}
	for (int i = 0; i < n; i++) {
		MPI_Barrier(MPI_COMM_WORLD);
		double t = MPI_Wtime();
		MPI_Alltoallv(vec, sc, sd, MPI_BYTE, pieces, rc, rd, MPI_BYTE, MPI_COMM_WORLD);
		MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_BYTE, vec, sc, sd, MPI_BYTE, MPI_COMM_WORLD);
		t1[i] = MPI_Wtime() - t;
		MPI_Barrier(MPI_COMM_WORLD);
		t = MPI_Wtime();
		MPI_Allreduce(MPI_IN_PLACE, vec, (int)g, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
		t2[i] = MPI_Wtime() - t;
	}
	if (r == 0) {
		printf("%d ranks, %d repeats\n", p, n);
		report("exchange (exact, shard.c)", t1, n, g);
		report("MPI_Allreduce(MPI_SUM)", t2, n, g);
	}
	MPI_Finalize();
	return 0;
}
