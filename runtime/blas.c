/* blas.c — which OpenBLAS kernels the trainer's GEMMs run on.
 *
 * OpenBLAS built with DYNAMIC_ARCH (Debian's is) picks its kernels when it
 * loads, from a table of CPU models.  A model newer than its table (0.3.21
 * does not know family 6 model 0xCF) or a VM that hides the model gets the
 * Prescott (SSE3) fallback, whose GEMMs run at half the speed of the
 * AVX-512 ones the same CPU executes (bench/README.md).
 *
 * So, when OPENBLAS_CORETYPE is unset, the trainer asks the CPU what it
 * supports (cpuid, with the operating system's register-state support, as
 * the compiler's __builtin_cpu_supports reports it) and, where OpenBLAS
 * chose a lesser kernel family, starts OpenBLAS's loader again with the
 * family named in OPENBLAS_CORETYPE, the variable OpenBLAS documents for
 * this choice.  gotoblas_dynamic_quit and gotoblas_dynamic_init are the
 * loader's two exported entry points; they are weak references here, so a
 * BLAS without them (a single-architecture build, another library) is left
 * as it is.  A user's OPENBLAS_CORETYPE is always obeyed.  This runs before
 * any BLAS call, while OpenBLAS's worker threads are idle. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "nnrt_internal.h"

char *openblas_get_corename(void);                      /* OpenBLAS's cblas.h */
void gotoblas_dynamic_quit(void) __attribute__((weak));  /* driver/others/dynamic.c */
void gotoblas_dynamic_init(void) __attribute__((weak));

/* Kernel families by the widest vectors they use; a name not listed is 0. */
static const struct { const char *name; int tier; } families[] = {
	{"Sandybridge", 1}, {"Bulldozer", 1}, {"Piledriver", 1}, {"Steamroller", 1},
	{"Haswell", 2}, {"Zen", 2}, {"Excavator", 2},
	{"SkylakeX", 3}, {"Cooperlake", 3}, {"SapphireRapids", 3},
};

static int tier_of(const char *name)
{
	for (size_t i = 0; i < sizeof families / sizeof families[0]; i++)
		if (name && !strcasecmp(name, families[i].name))
			return families[i].tier;
	return 0;
}

/* The best family this CPU and OS run, as OPENBLAS_CORETYPE spells it. */
static const char *best_family(void)
{
#if defined(__x86_64__) && defined(__GNUC__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
	    __builtin_cpu_supports("avx512vl") && __builtin_cpu_supports("avx512dq") &&
	    __builtin_cpu_supports("avx512cd"))
		return "SkylakeX";
	if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"))
		return "Haswell";
	if (__builtin_cpu_supports("avx"))
		return "Sandybridge";
#endif
	return NULL;
}

static char blas_note[96];

void rt_blas_setup(void)
{
	const char *picked = openblas_get_corename();
	snprintf(blas_note, sizeof blas_note, "OpenBLAS kernel %s", picked);
	if (getenv("OPENBLAS_CORETYPE")) {
		snprintf(blas_note, sizeof blas_note, "OpenBLAS kernel %s (OPENBLAS_CORETYPE)", picked);
		return;
	}
	const char *best = best_family();
	if (!best || tier_of(best) <= tier_of(picked) || !gotoblas_dynamic_quit || !gotoblas_dynamic_init)
		return;
	char was[32];
	snprintf(was, sizeof was, "%s", picked);
	setenv("OPENBLAS_CORETYPE", best, 1);
	gotoblas_dynamic_quit();
	gotoblas_dynamic_init();
	snprintf(blas_note, sizeof blas_note, "OpenBLAS kernel %s (OpenBLAS picked %s; this CPU runs %s)",
	         openblas_get_corename(), was, best);
}

const char *rt_blas_note(void)
{
	return blas_note;
}
