/* pool.c — the trainer's threads (--threads N): N - 1 workers and the
 * calling thread share the tasks of one parallel region at a time.
 *
 * A region is rt_pool_run(ntasks, fn, ctx): every task index in
 * [0, ntasks) runs exactly once, on whichever thread claims it first, and
 * the call returns when all have run.  What makes the trainer's bytes the
 * same at any thread count is the callers' rule, not the pool's: a
 * region's tasks are a partition fixed by the data's shape alone, each
 * task writes only its own part of the result, and so nothing a task
 * computes depends on which thread ran it or how many ran.
 *
 * A region started inside a task (a convolution's blocks, each calling
 * the GEMM) runs its tasks inline on that thread: the partition, hence the
 * arithmetic, is the same, and no thread waits for a pool it is part of.
 *
 * Between regions a worker first spins for POOL_SPIN_US microseconds,
 * then sleeps on a condition variable; the caller waits for the workers
 * the same way.  Regions come a fraction of a millisecond apart, with
 * elementwise loops between them; a worker that slept was, measured on
 * the loaded 2-core VM, woken by the scheduler after the caller had run
 * every task itself: LeNet's first convolution took 1,245 us at one
 * thread and still 1,238 at two with sleeping workers, 760 with spinning
 * ones (docs/scale.md). */
#include <pthread.h>
#include <stdlib.h>
#include <stdatomic.h>
#include "nnrt_internal.h"

enum { POOL_SPIN_US = 200 };

static struct {
	int threads;                 /* workers + the caller; 1 until rt_pool_start */
	pthread_mutex_t lock;
	pthread_cond_t wake, done_cond;
	atomic_uint generation;      /* the current region's number, bumped under lock */
	/* The current region's claims: its number (high 32 bits) and the next
	 * unclaimed task (low 32).  A worker claims task i of region g by a
	 * compare-and-swap from (g, i) to (g, i + 1), so a worker that comes
	 * late, after its region ended, finds another number and claims
	 * nothing: the caller waits for the tasks to be done, not for every
	 * worker to pass by (a worker the scheduler left asleep on a loaded
	 * machine). */
	atomic_ullong claim;
	atomic_llong ntasks, done;
	RtTask *fn;                  /* read only after a claim: stable until its task is done */
	void *ctx;
	pthread_mutex_t grow;        /* rt_pool_buffer's allocations: the arena is one thread's */
	void **buffer;               /* rt_pool_buffer: per thread */
	size_t *buffer_bytes;
} pool = {.threads = 1, .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER,
          .done_cond = PTHREAD_COND_INITIALIZER, .grow = PTHREAD_MUTEX_INITIALIZER};

static _Thread_local int my_worker = 0;   /* 0: the caller, 1..threads-1: workers */
static _Thread_local int in_region = 0;

static inline void pause_briefly(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Run tasks of region g until none is left to claim. */
static void claim_tasks(unsigned g)
{
	in_region = 1;
	unsigned long long cur = atomic_load(&pool.claim);
	while (cur >> 32 == g && (int64_t)(cur & 0xffffffffu) < atomic_load(&pool.ntasks)) {
		if (!atomic_compare_exchange_weak(&pool.claim, &cur, cur + 1))
			continue;   /* cur now holds the claim word as it was */
		pool.fn(pool.ctx, (int64_t)(cur & 0xffffffffu), my_worker);
		if (atomic_fetch_add(&pool.done, 1) + 1 == atomic_load(&pool.ntasks)) {
			pthread_mutex_lock(&pool.lock);   /* the last task: wake a sleeping caller */
			pthread_cond_signal(&pool.done_cond);
			pthread_mutex_unlock(&pool.lock);
		}
		cur = atomic_load(&pool.claim);
	}
	in_region = 0;
}

/* Spin for POOL_SPIN_US, then sleep, until cond() holds. */
static void wait_for(int (*cond)(unsigned), unsigned arg, pthread_cond_t *cv)
{
	double until = rt_now() + POOL_SPIN_US * 1e-6;
	for (int i = 0; !cond(arg); i++) {
		if (i % 64 == 63 && rt_now() > until) {
			pthread_mutex_lock(&pool.lock);
			while (!cond(arg))
				pthread_cond_wait(cv, &pool.lock);
			pthread_mutex_unlock(&pool.lock);
			return;
		}
		pause_briefly();
	}
}

static int region_after(unsigned seen) { return atomic_load(&pool.generation) != seen; }
static int all_done(unsigned unused) { (void)unused; return atomic_load(&pool.done) == atomic_load(&pool.ntasks); }

static void *worker_main(void *arg)
{
	my_worker = (int)(intptr_t)arg;
	for (unsigned seen = 0;;) {
		wait_for(region_after, seen, &pool.wake);
		seen = atomic_load(&pool.generation);
		claim_tasks(seen);
	}
	return NULL;
}

void rt_pool_start(int threads)
{
	pool.buffer = rt_alloc(sizeof(void *) * (size_t)threads);
	pool.buffer_bytes = rt_alloc(sizeof(size_t) * (size_t)threads);
	for (int w = 1; w < threads; w++) {
		pthread_t id;
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		if (pthread_create(&id, &attr, worker_main, (void *)(intptr_t)w) != 0)
			rt_fatal(RT_EXIT_NOMEM, "--threads %d: cannot start thread %d", threads, w + 1);
		pthread_attr_destroy(&attr);
	}
	pool.threads = threads;
}

int rt_pool_threads(void)
{
	return pool.threads;
}

void rt_pool_run(int64_t ntasks, RtTask *fn, void *ctx)
{
	if (pool.threads == 1 || ntasks <= 1 || in_region) {
		for (int64_t i = 0; i < ntasks; i++)
			fn(ctx, i, my_worker);
		return;
	}
	if (ntasks > 0xffffffffLL)
		rt_fatal(RT_EXIT_INTERNAL, "a parallel region of %lld tasks", (long long)ntasks);
	unsigned g = atomic_load(&pool.generation) + 1;
	pool.fn = fn;
	pool.ctx = ctx;
	atomic_store(&pool.ntasks, ntasks);
	atomic_store(&pool.done, 0);
	atomic_store(&pool.claim, (unsigned long long)g << 32);
	pthread_mutex_lock(&pool.lock);
	atomic_store(&pool.generation, g);
	pthread_cond_broadcast(&pool.wake);
	pthread_mutex_unlock(&pool.lock);
	claim_tasks(g);
	wait_for(all_done, 0, &pool.done_cond);
}

/* A thread's own block for a task's temporary values (a convolution's
 * patches).  It grows to the largest size asked for, once: in the first
 * step, since every step asks the same sizes. */
void *rt_pool_buffer(int worker, size_t bytes)
{
	if (pool.buffer_bytes == NULL)   /* no pool started: the single caller */
		rt_pool_start(1);
	if (pool.buffer_bytes[worker] < bytes) {
		pthread_mutex_lock(&pool.grow);
		free(pool.buffer[worker]);
		pool.buffer[worker] = rt_alloc_aligned(bytes);
		pool.buffer_bytes[worker] = bytes;
		pthread_mutex_unlock(&pool.grow);
	}
	return pool.buffer[worker];
}
