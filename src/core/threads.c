/* How many threads a parallel loop gets, and the loop itself (core.h, "threads"). */
#include "core.h"

#include <omp.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <time.h>
#if defined(__unix__)
#include <sys/resource.h>
#endif
#if defined(__linux__)
#include <fcntl.h>
#include <unistd.h>
#endif

/* How often the calling thread looks at the machine's load again: /proc/loadavg
 * costs three system calls, about 10 us, against loops of 100 us and up. */
#define LOAD_CHECK_NS 20000000LL
/* A team's first thread that waited for the others longer than it worked, and
 * longer than this, waited for a member that had no core (waking a sleeping
 * thread takes tens of us); the calling thread then runs alone for a while
 * before it tries a team again: 0.1 s, twice as long after each late team in a
 * row, up to 3.2 s, so that on a machine that stays busy the tries cost little. */
#define LATE_NS 200000LL
#define BACKOFF_MIN_NS 100000000LL
#define BACKOFF_MAX_NS 3200000000LL

/* What the calling thread knows of the machine (thread-local, so concurrent
 * callers share nothing). */
typedef struct team_state {
    int64_t checked_at;   /* when the load was last looked at               */
    int64_t alone_until;  /* a member kept the team waiting: one thread till */
    int64_t backoff;      /* how long the next late team sends it alone     */
    int free_cores;       /* cpus the other processes left free             */
    int last_team;        /* the team this thread last asked for            */
    bool ignore_load;     /* CKERAS_IGNORE_LOAD=1                           */
} team_state;

static _Thread_local team_state state = {.checked_at = -LOAD_CHECK_NS, .backoff = BACKOFF_MIN_NS, .last_team = 1};

static int64_t clock_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
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

static int online_cpus(void)
{
#if defined(__linux__)
    long n = sysconf(_SC_NPROCESSORS_ONLN);
#else
    long n = omp_get_num_procs();
#endif
    return n > 0 ? (int)n : 1;
}

/* Looks at the load again. Our own team's threads count as running while
 * they spin between regions, so the team this thread last used is taken off
 * the running count: with it, the answer does not flip between 1 and 2
 * threads as our own spinning comes and goes. */
static void look_at_load(team_state *s, int64_t now)
{
    /* the tests' 2-thread runs set it so that they always run their team,
     * whatever else the machine runs (scripts/run-tests.sh) */
    const char *ignore = getenv("CKERAS_IGNORE_LOAD");
    s->ignore_load = ignore && *ignore == '1';
    int running = s->ignore_load ? -1 : running_now();
    int others = running < 0 ? 0 : running - s->last_team;
    s->free_cores = online_cpus() - (others > 0 ? others : 0); /* /proc/loadavg counts them all */
    s->checked_at = now;
}

/* What one more thread of a team maps: its stack (OMP_STACKSIZE, default unit
 * KiB, else pthreads' default, RLIMIT_STACK or 32 MiB when that is unlimited)
 * and some room for its thread-local data. */
#define THREAD_EXTRA ((int64_t)4 << 20)
#define DEFAULT_STACK ((int64_t)32 << 20)

static int64_t thread_bytes(void)
{
    const char *env = getenv("OMP_STACKSIZE");
    if (!env || !*env) env = getenv("GOMP_STACKSIZE");
    if (env && *env) {
        char *end;
        double v = strtod(env, &end);
        int unit = *end == 'B' || *end == 'b' ? 0 : *end == 'M' || *end == 'm' ? 20 : *end == 'G' || *end == 'g' ? 30 : 10;
        if (v > 0 && v < 1e15) return (int64_t)(v * (double)((int64_t)1 << unit)) + THREAD_EXTRA;
    }
#if defined(__unix__)
    struct rlimit r;
    if (!getrlimit(RLIMIT_STACK, &r) && r.rlim_cur != RLIM_INFINITY && r.rlim_cur < ((rlim_t)1 << 40))
        return (int64_t)r.rlim_cur + THREAD_EXTRA;
#endif
    return DEFAULT_STACK + THREAD_EXTRA;
}

/* libgomp ends the whole process when it cannot create a team's thread
 * (gomp_fatal, "Thread creation failed"): under an address-space limit a team
 * gets only the threads whose stacks fit now (those its earlier teams left
 * waiting are already counted in, so this errs on the side of fewer). */
static int team_with_room(int team)
{
    if (team < 2 || !ck_address_limited()) return team;
    int64_t each = thread_bytes();
    while (team > 1 && !ck_address_room((size_t)((team - 1) * each))) team--;
    return team;
}

int ck_team_size(int64_t work, int64_t grain)
{
    int wanted = omp_get_max_threads();
    if (wanted < 2 || work < grain || omp_in_parallel()) return 1;
    team_state *s = &state;
    int64_t now = clock_ns();
    if (now - s->checked_at >= LOAD_CHECK_NS) look_at_load(s, now);
    if (s->ignore_load) return team_with_room(wanted);
    int team = s->free_cores < wanted ? s->free_cores : wanted;
    team = team_with_room(team < 1 || now < s->alone_until ? 1 : team);
    s->last_team = team;
    return team;
}

void ck_team_barrier(int64_t *waited)
{
    bool first = omp_get_thread_num() == 0;
    int64_t t = first ? clock_ns() : 0;
#pragma omp barrier
    if (first) *waited += clock_ns() - t;
}

/* After a region: what its first thread worked and waited (ns). */
static void team_waited(int64_t worked, int64_t waited)
{
    team_state *s = &state;
    if (s->ignore_load) return;
    if (waited <= LATE_NS || waited <= worked) {
        s->backoff = BACKOFF_MIN_NS;
        return;
    }
    s->alone_until = clock_ns() + s->backoff;
    s->backoff = s->backoff * 2 < BACKOFF_MAX_NS ? s->backoff * 2 : BACKOFF_MAX_NS;
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
    int64_t start = clock_ns(), first_done = start;
#pragma omp parallel num_threads(threads)
    {
        for (;;) {
            int64_t lo = atomic_fetch_add_explicit(&next, size, memory_order_relaxed);
            if (lo >= n) break;
            fn(ctx, lo, lo + size < n ? lo + size : n);
        }
        if (omp_get_thread_num() == 0) first_done = clock_ns();
    }
    team_waited(first_done - start, clock_ns() - first_done);
}

void ck_team_run(int threads, ck_team_fn *fn, void *ctx)
{
    int64_t waited = 0;
    if (threads < 2) {
        fn(ctx, &waited);
        return;
    }
    int64_t start = clock_ns(), first_done = start;
#pragma omp parallel num_threads(threads)
    {
        fn(ctx, &waited);
        if (omp_get_thread_num() == 0) first_done = clock_ns();
    }
    int64_t end = clock_ns();
    waited += end - first_done;
    team_waited(end - start - waited, waited);
}

int ck_team_threads_now(void)
{
    return omp_in_parallel() ? omp_get_num_threads() : 1;
}
