/* How many threads a parallel loop gets, and the loop itself (core.h, "threads"). */
#include "core.h"

#include <omp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#if defined(__linux__)
#include <fcntl.h>
#include <unistd.h>
#endif

/* How often the calling thread looks at the machine's load again: /proc/loadavg
 * costs three system calls, about 10 us, against loops of 100 us and up. */
#define LOAD_CHECK_NS 20000000LL

static int64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC_COARSE, &t);
    return (int64_t)t.tv_sec * 1000000000LL + t.tv_nsec;
}

/* Runnable threads on the whole machine right now (the 4th field of
 * /proc/loadavg, "running/total", counts the reader too); -1 where unknown. */
static int running_now(void)
{
#if defined(__linux__)
    char text[128];
    int fd = open("/proc/loadavg", O_RDONLY | O_CLOEXEC);
    if (fd < 0) return -1;
    ssize_t got = read(fd, text, sizeof text - 1);
    close(fd);
    if (got <= 0) return -1;
    text[got] = '\0';
    int running = 0;
    const char *c = text;
    for (int spaces = 0; *c && spaces < 3; c++) spaces += *c == ' ';
    if (*c < '0' || *c > '9') return -1;
    for (; *c >= '0' && *c <= '9'; c++) running = running * 10 + (*c - '0');
    return running;
#else
    return -1;
#endif
}

/* The cores the other processes leave free, looked at every LOAD_CHECK_NS per
 * calling thread (thread-local, so that concurrent callers share nothing). Our
 * own team's threads count as running while they spin between regions, so the
 * team this thread last used is taken off the running count: with it, the
 * answer does not flip between 1 and 2 threads as our own spinning comes and
 * goes. */
static int cores_free(int cores, int wanted)
{
    static _Thread_local int64_t checked_at = -LOAD_CHECK_NS;
    static _Thread_local int free_cores = 0, last_team = 1;
    static _Thread_local bool ignore_load = false;
    int64_t t = now_ns();
    if (t - checked_at >= LOAD_CHECK_NS) {
        /* the tests' 2-thread runs set it so that they always run their team,
         * whatever else the machine runs (scripts/run-tests.sh) */
        const char *ignore = getenv("CKERAS_IGNORE_LOAD");
        ignore_load = ignore && *ignore == '1';
        int running = ignore_load ? -1 : running_now();
        int others = running < 0 ? 0 : running - last_team;
        free_cores = cores - (others > 0 ? others : 0);
        checked_at = t;
    }
    if (ignore_load) return wanted;
    int team = free_cores < wanted ? free_cores : wanted;
    team = team < 1 ? 1 : team;
    last_team = team;
    return team;
}

int ck_team_size(int64_t work, int64_t grain)
{
    int wanted = omp_get_max_threads();
    if (wanted < 2 || work < grain || omp_in_parallel()) return 1;
#if defined(__linux__)
    long cores = sysconf(_SC_NPROCESSORS_ONLN); /* /proc/loadavg counts all of them */
#else
    long cores = omp_get_num_procs();
#endif
    return cores_free(cores > 0 ? (int)cores : 1, wanted);
}

void ck_parallel_for(int threads, int64_t n, ck_range_fn *fn, void *ctx)
{
    if (n <= 0) return;
    if (threads < 2 || n < 2) {
        fn(ctx, 0, n);
        return;
    }
    /* four pieces a thread: a thread that waits for a core leaves most of its
     * share to the others instead of holding the team up by all of it */
    int64_t pieces = 4 * (int64_t)threads < n ? 4 * (int64_t)threads : n, size = (n + pieces - 1) / pieces;
    atomic_int_fast64_t next = 0;
#pragma omp parallel num_threads(threads)
    for (;;) {
        int64_t lo = atomic_fetch_add_explicit(&next, size, memory_order_relaxed);
        if (lo >= n) break;
        fn(ctx, lo, lo + size < n ? lo + size : n);
    }
}
