/* mpi.c — the ranks of `mpirun -np P ./trainer train` (data-parallel
 * training, shard.c), and nothing else of MPI.
 *
 * A trainer is an MPI program only when a launcher started it as one of
 * several ranks (OMPI_COMM_WORLD_SIZE, or PMI_SIZE of other launchers,
 * above 1): run alone, or built without MPI (configure found no mpicc),
 * it is the single process it always was.  A trainer without MPI that
 * finds itself one of several ranks says so and exits 2, rather than
 * training P copies that each write the checkpoint.
 *
 * Failure: a rank that exits non-zero, or is killed, makes mpirun end
 * the others (Open MPI's default) and name it; rt_fatal prefixes every
 * message of rank R > 0 with "rank R", so the cause is named too.  Only a
 * run that ends well calls MPI_Finalize (rt_mpi_end): finalizing waits for
 * every rank, and a rank that stops on an error must not wait for ranks
 * blocked in the next exchange. */
#include <stdlib.h>
#include <string.h>
#include "nnrt_internal.h"
#ifdef NNRT_MPI
#include <mpi.h>
#endif

static int my_rank = 0, nranks = 1, started = 0;
static int *counts;              /* 4 P ints for the exchanges: the step allocates nothing */

int rt_rank(void) { return my_rank; }
int rt_ranks(void) { return nranks; }

/* The number of ranks the launcher started, 1 when none did. */
static int launched_ranks(const char **var)
{
	static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"};
	for (size_t i = 0; i < sizeof vars / sizeof vars[0]; i++) {
		const char *v = getenv(vars[i]);
		if (v && atoi(v) > 1) {
			*var = vars[i];
			return atoi(v);
		}
	}
	return 1;
}

/* "rank R: " before a message of a rank launched as one of several
 * (mpirun names a rank that fails by its exit; this names the cause),
 * from the launcher's word until MPI has started; else "". */
const char *rt_mpi_who(void)
{
	static char note[32];
	const char *var = NULL, *rank = getenv("OMPI_COMM_WORLD_RANK");
	if (started)
		snprintf(note, sizeof note, "rank %d: ", my_rank);
	else if (launched_ranks(&var) > 1 && rank)
		snprintf(note, sizeof note, "rank %.12s: ", rank);
	return note;
}

const char *rt_mpi_note(void)
{
#ifdef NNRT_MPI
	return "built in: mpirun -np P trains on P ranks (nnc-trainer(1), MPI)";
#else
	return "not built in (configure found no MPI): one process";
#endif
}

void rt_mpi_start(int *argc, char ***argv)
{
	const char *var = NULL;
	int want = launched_ranks(&var);
	if (want == 1)
		return;
#ifdef NNRT_MPI
	MPI_Init(argc, argv);
	MPI_Comm_rank(MPI_COMM_WORLD, &my_rank);
	MPI_Comm_size(MPI_COMM_WORLD, &nranks);
	counts = rt_alloc(sizeof(int) * 4 * (size_t)nranks);
	started = 1;
#else
	(void)argc, (void)argv;
	rt_fatal(RT_EXIT_USAGE, "started as one of %d ranks (%s=%s), but this trainer was built without MPI "
	         "(configure found no mpicc): run it without mpirun, or rebuild nnc with Open MPI installed",
	         want, var, getenv(var));
#endif
}

void rt_mpi_end(void)
{
#ifdef NNRT_MPI
	if (started)
		MPI_Finalize();
#endif
}

/* all[r n .. r n + n) = rank r's mine[0 .. n), for every rank. */
void rt_mpi_allgather(const double *mine, int n, double *all)
{
#ifdef NNRT_MPI
	if (started) {
		MPI_Allgather(mine, n, MPI_DOUBLE, all, n, MPI_DOUBLE, MPI_COMM_WORLD);
		return;
	}
#endif
	memcpy(all, mine, sizeof(double) * (size_t)n);
}

/* Rank j owns bytes [lo[j], lo[j+1]) of a vector.  to_owners: every
 * rank sends part j of its vec to rank j, which receives them into
 * pieces, rank by rank (P times its part).  from_owners: every rank's
 * own part of vec goes to all, so vec is whole everywhere. */
void rt_mpi_to_owners(const char *vec, const int64_t *lo, char *pieces)
{
#ifdef NNRT_MPI
	int p = nranks, r = my_rank, *sc = counts, *sd = sc + p, *rc = sd + p, *rd = rc + p;
	for (int j = 0; j < p; j++) {
		sc[j] = (int)(lo[j + 1] - lo[j]), sd[j] = (int)lo[j];
		rc[j] = (int)(lo[r + 1] - lo[r]), rd[j] = j * rc[j];
	}
	MPI_Alltoallv(vec, sc, sd, MPI_BYTE, pieces, rc, rd, MPI_BYTE, MPI_COMM_WORLD);
#else
	(void)vec, (void)lo, (void)pieces;
#endif
}

void rt_mpi_from_owners(char *vec, const int64_t *lo)
{
#ifdef NNRT_MPI
	int p = nranks, *n = counts, *displs = counts + p;
	for (int j = 0; j < p; j++)
		n[j] = (int)(lo[j + 1] - lo[j]), displs[j] = (int)lo[j];
	MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_BYTE, vec, n, displs, MPI_BYTE, MPI_COMM_WORLD);
#else
	(void)vec, (void)lo;
#endif
}
