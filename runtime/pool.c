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
	pthread_cond_t wake, idle;
	atomic_ullong generation;    /* bumped per region, under lock, after fn, ctx, ntasks */
	atomic_int busy;             /* workers still inside the current region */
	RtTask *fn;
	void *ctx;
	int64_t ntasks;
	atomic_llong next;           /* the next unclaimed task */
	void **buffer;               /* rt_pool_buffer: per thread */
	size_t *buffer_bytes;
} pool = {.threads = 1, .lock = PTHREAD_MUTEX_INITIALIZER, .wake = PTHREAD_COND_INITIALIZER,
          .idle = PTHREAD_COND_INITIALIZER};

static _Thread_local int my_worker = 0;   /* 0: the caller, 1..threads-1: workers */
static _Thread_local int in_region = 0;

static void claim_tasks(RtTask *fn, void *ctx, int64_t ntasks)
{
	in_region = 1;
	for (;;) {
		int64_t i = atomic_fetch_add(&pool.next, 1);
		if (i >= ntasks)
			break;
		fn(ctx, i, my_worker);
	}
	in_region = 0;
}

static inline void pause_briefly(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Spin, then sleep, until the generation moves past seen. */
static unsigned long long next_region(unsigned long long seen)
{
	double until = rt_now() + POOL_SPIN_US * 1e-6;
	for (int i = 0;; i++) {
		unsigned long long g = atomic_load_explicit(&pool.generation, memory_order_acquire);
		if (g != seen)
			return g;
		if (i % 64 == 63 && rt_now() > until)
			break;
		pause_briefly();
	}
	pthread_mutex_lock(&pool.lock);
	while (atomic_load(&pool.generation) == seen)
		pthread_cond_wait(&pool.wake, &pool.lock);
	unsigned long long g = atomic_load(&pool.generation);
	pthread_mutex_unlock(&pool.lock);
	return g;
}

static void *worker_main(void *arg)
{
	my_worker = (int)(intptr_t)arg;
	for (unsigned long long seen = 0;;) {
		seen = next_region(seen);
		claim_tasks(pool.fn, pool.ctx, pool.ntasks);
		if (atomic_fetch_sub(&pool.busy, 1) == 1) {   /* the last worker out */
			pthread_mutex_lock(&pool.lock);
			pthread_cond_signal(&pool.idle);
			pthread_mutex_unlock(&pool.lock);
		}
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
	pool.fn = fn;
	pool.ctx = ctx;
	pool.ntasks = ntasks;
	atomic_store(&pool.next, 0);
	atomic_store(&pool.busy, pool.threads - 1);
	pthread_mutex_lock(&pool.lock);
	atomic_fetch_add_explicit(&pool.generation, 1, memory_order_release);
	pthread_cond_broadcast(&pool.wake);
	pthread_mutex_unlock(&pool.lock);
	claim_tasks(fn, ctx, ntasks);
	double until = rt_now() + POOL_SPIN_US * 1e-6;
	for (int i = 0; atomic_load(&pool.busy) > 0 && (i % 64 != 63 || rt_now() < until); i++)
		pause_briefly();
	pthread_mutex_lock(&pool.lock);
	while (atomic_load(&pool.busy) > 0)
		pthread_cond_wait(&pool.idle, &pool.lock);
	pthread_mutex_unlock(&pool.lock);
}

/* A thread's own block for a task's temporary values (a convolution's
 * patches).  It grows to the largest size asked for, once: in the first
 * step, since every step asks the same sizes. */
void *rt_pool_buffer(int worker, size_t bytes)
{
	if (pool.buffer_bytes == NULL)   /* no pool started: the single caller */
		rt_pool_start(1);
	if (pool.buffer_bytes[worker] < bytes) {
		free(pool.buffer[worker]);
		pool.buffer[worker] = rt_alloc_aligned(bytes);
		pool.buffer_bytes[worker] = bytes;
	}
	return pool.buffer[worker];
}
