/* fault.c — the runtime's test hooks and its signal handling.
 *
 * Test hooks, read once from the environment (documented in trainer(1)):
 *   NNRT_FAIL_ALLOC=N         the Nth allocation of the runtime fails, as
 *                             if memory ran out (exit 4);
 *   NNRT_FAULT_WRITE=N[:EIO]  the Nth write of checkpoint data fails with
 *                             ENOSPC (a full disk), or EIO;
 *   NNRT_FAULT_SIGNAL=N[:TERM|:KILL]  the trainer sends itself SIGINT
 *                             (or SIGTERM, or SIGKILL: a rank that dies
 *                             under mpirun) during training step N, so a
 *                             test interrupts at an exact step.
 * They exist so the suite can prove that every allocation and every
 * write of a checkpoint ends in a clean error; unset, they cost one
 * counter increment.
 *
 * Signals: SIGINT and SIGTERM only raise a flag; the training loop looks
 * at it after each step, saves and exits 130 or 143.  The handler is
 * one-shot (SA_RESETHAND): a second signal kills the process at once,
 * which loses nothing since checkpoints are replaced atomically. */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "nnrt_internal.h"

/* NAME=N or NAME=N:SUFFIX; *which is the index of SUFFIX in suffix[]
 * (0 when there is none: suffix[0] is the default). */
static int64_t env_count(const char *name, const char *const *suffix, int *which)
{
	const char *v = getenv(name);
	*which = 0;
	if (!v || !*v)
		return 0;
	char *end;
	long long n = strtoll(v, &end, 10);
	int ok = n > 0 && (!*end || *end == ':');
	if (ok && *end) {
		for (*which = 0; suffix[*which] && strcmp(end + 1, suffix[*which]); ++*which)
			;
		ok = suffix[*which] != NULL;
	}
	if (!ok)
		rt_fatal(RT_EXIT_USAGE, "%s: '%s' is not a positive count (with an optional :%s)", name, v,
		         suffix[0] ? suffix[1] : "");
	return n;
}

int rt_fault_alloc(void)
{
	static int64_t fail_at = -1, count;
	static const char *const none[] = {NULL};
	int which;
	if (fail_at < 0)
		fail_at = env_count("NNRT_FAIL_ALLOC", none, &which);
	return fail_at > 0 && ++count == fail_at;
}

int rt_fault_write(void)
{
	static int64_t fail_at = -1, count;
	static const char *const errs[] = {"ENOSPC", "EIO", NULL};
	static int which;
	if (fail_at < 0)
		fail_at = env_count("NNRT_FAULT_WRITE", errs, &which);
	if (fail_at > 0 && ++count == fail_at) {
		errno = which == 1 ? EIO : ENOSPC;
		return 1;
	}
	return 0;
}

void rt_fault_signal(int64_t step)
{
	static int64_t at = -1;
	static const char *const sigs[] = {"INT", "TERM", "KILL", NULL};
	static int which;
	if (at < 0)
		at = env_count("NNRT_FAULT_SIGNAL", sigs, &which);
	if (at > 0 && step == at)
		kill(getpid(), which == 2 ? SIGKILL : which == 1 ? SIGTERM : SIGINT);
}

volatile sig_atomic_t rt_stop_signal;

static void on_stop(int sig)
{
	rt_stop_signal = sig;
}

void rt_signals_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_stop;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

const char *rt_signal_name(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
}
