// A small fork/join pool for Parallel.forChunks: persistent workers that spin briefly between jobs.
//
// Why. DispatchQueue.concurrentPerform costs about 10 us per fork/join here (shared/DESIGN.md
// section 4), so work below ~50 us per chunk was never split, and a batch-1 network (convolutions of
// 10-40 us) ran on one core whatever --threads said. Here a job is published with one atomic store;
// workers that finished a job less than ~200 us ago are still spinning on the job counter and pick it
// up within a fraction of a microsecond; after that they sleep on a condition variable (no CPU use when
// idle). The caller runs chunks too and spins until every chunk is done.
//
// Chunks are claimed with an atomic counter, so a chunk runs exactly once whichever thread takes it.
// One job at a time: a caller that finds the pool busy (another thread's job, or a chunk body that
// calls forChunks again) runs its chunks itself.
#include "lowbit_kernels.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define LB_PAUSE() _mm_pause()
#else
#define LB_PAUSE() ((void)0)
#endif

enum { LB_MAX_WORKERS = 63, LB_SPIN_NANOSECONDS = 200000 };

typedef struct {
    pthread_mutex_t lock;           // guards sleeping workers' wake-up and worker creation
    pthread_cond_t wake;
    atomic_int busy;                // 1 while a caller owns the pool
    atomic_ulong generation;        // bumped per job
    int workers;                    // threads started
    int sleepers;                   // workers waiting on `wake`
    // The current job, written by its caller before `generation` is bumped.
    void (*body)(void *, long);
    void *context;
    long chunks;
    int active_workers;             // workers with a smaller index take part (the caller's thread count - 1)
    atomic_int open;                // 1 until every chunk is done
    atomic_long next;               // next unclaimed chunk
    atomic_long done;               // chunks finished
    // Monotonic counts of workers that entered and left a job: a caller returns only when they are
    // equal, so no worker can still be claiming from this job when the next one resets `next`.
    atomic_long joined, left;
} lb_pool;

static lb_pool pool = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER};
static _Thread_local int inside_pool_chunk = 0;

static unsigned long long now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (unsigned long long)t.tv_sec * 1000000000ull + (unsigned long long)t.tv_nsec;
}

/// Claims and runs chunks of the current job until none is left.
static void run_chunks(void) {
    long chunk;
    while ((chunk = atomic_fetch_add(&pool.next, 1)) < pool.chunks) {
        inside_pool_chunk = 1;
        pool.body(pool.context, chunk);
        inside_pool_chunk = 0;
        atomic_fetch_add(&pool.done, 1);
    }
}

static void *worker_main(void *argument) {
    const int index = (int)(intptr_t)argument;
    unsigned long seen = atomic_load(&pool.generation);
    for (;;) {
        // Spin for a while on the job counter, then sleep until the next job is published.
        unsigned long long start = now_ns();
        unsigned long current;
        int spins = 0;
        while ((current = atomic_load_explicit(&pool.generation, memory_order_acquire)) == seen) {
            LB_PAUSE();
            if (++spins % 256 == 0 && now_ns() - start > LB_SPIN_NANOSECONDS) {
                pthread_mutex_lock(&pool.lock);
                pool.sleepers++;
                while ((current = atomic_load(&pool.generation)) == seen) pthread_cond_wait(&pool.wake, &pool.lock);
                pool.sleepers--;
                pthread_mutex_unlock(&pool.lock);
                break;
            }
        }
        seen = current;
        atomic_fetch_add(&pool.joined, 1);
        if (atomic_load(&pool.open) && atomic_load(&pool.generation) == current && index < pool.active_workers) run_chunks();
        atomic_fetch_add(&pool.left, 1);
    }
    return NULL;
}

/// Starts workers up to `wanted` (capped); returns how many exist.
static int ensure_workers(int wanted) {
    if (wanted > LB_MAX_WORKERS) wanted = LB_MAX_WORKERS;
    pthread_mutex_lock(&pool.lock);
    while (pool.workers < wanted) {
        pthread_t thread;
        pthread_attr_t attributes;
        pthread_attr_init(&attributes);
        pthread_attr_setdetachstate(&attributes, PTHREAD_CREATE_DETACHED);
        int failed = pthread_create(&thread, &attributes, worker_main, (void *)(intptr_t)pool.workers);
        pthread_attr_destroy(&attributes);
        if (failed) break;
        pool.workers++;
    }
    int workers = pool.workers;
    pthread_mutex_unlock(&pool.lock);
    return workers;
}

void lb_parallel_for(long chunks, int threads, void (*body)(void *context, long chunk), void *context) {
    if (chunks <= 0) return;
    int expected = 0;
    int pooled = chunks > 1 && threads > 1 && !inside_pool_chunk && atomic_compare_exchange_strong(&pool.busy, &expected, 1);
    if (pooled && ensure_workers(threads - 1) == 0) {
        atomic_store(&pool.busy, 0);
        pooled = 0;
    }
    if (!pooled) {
        for (long chunk = 0; chunk < chunks; chunk++) body(context, chunk);
        return;
    }
    pool.body = body;
    pool.context = context;
    pool.chunks = chunks;
    pool.active_workers = threads - 1;
    atomic_store(&pool.next, 0);
    atomic_store(&pool.done, 0);
    atomic_store(&pool.open, 1);
    atomic_fetch_add(&pool.generation, 1);   // publishes the job (sequentially consistent)
    pthread_mutex_lock(&pool.lock);
    if (pool.sleepers > 0) pthread_cond_broadcast(&pool.wake);
    pthread_mutex_unlock(&pool.lock);
    run_chunks();
    while (atomic_load(&pool.done) < chunks) LB_PAUSE();
    atomic_store(&pool.open, 0);
    while (atomic_load(&pool.joined) != atomic_load(&pool.left)) LB_PAUSE();
    atomic_store(&pool.busy, 0);
}

long lb_atomic_add(long *counter, long value) {
    return __atomic_add_fetch(counter, value, __ATOMIC_ACQ_REL);
}
