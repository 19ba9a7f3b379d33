/* The threading floor (core/threads.c): ck_parallel_for runs every index of
 * [0, n) exactly once, for teams of 1 to 4 and sizes around the piece
 * boundaries, with no OpenMP region at all for a team of one (a region of one
 * thread still costs libgomp's futex calls); ck_team_size gives one thread at
 * OMP_NUM_THREADS=1, under the grain and inside a team, and the whole
 * OpenMP count otherwise when the load is ignored (CKERAS_IGNORE_LOAD), never
 * more and never less than one when it is looked at; after a region where a
 * member kept the first thread waiting 5 ms (it sleeps, as a thread without a
 * core would wait), the calling thread gets one thread whatever the load;
 * ck_team_run runs fn once per member, and straight for a team of one. */
#include "testutil.h"
#include "core/core.h"

#include <omp.h>
#include <stdatomic.h>
#include <time.h>

typedef struct hits {
    int *count;              /* [n] times each index ran */
    atomic_int in_region[2]; /* pieces run outside, inside an OpenMP region */
} hits;

static void mark(void *ctx, int64_t lo, int64_t hi)
{
    hits *h = ctx;
    for (int64_t i = lo; i < hi; i++) h->count[i]++;
    atomic_fetch_add(&h->in_region[omp_in_parallel()], 1);
}

static void check_cover(int threads, int64_t n)
{
    hits h = {.count = calloc((size_t)(n > 0 ? n : 1), sizeof(int))};
    atomic_init(&h.in_region[0], 0), atomic_init(&h.in_region[1], 0);
    ck_parallel_for(threads, n, mark, &h);
    int64_t wrong = 0;
    for (int64_t i = 0; i < n; i++) wrong += h.count[i] != 1;
    CHECK(wrong == 0, "threads %d, n %lld: %lld indices not run exactly once", threads, (long long)n, (long long)wrong);
    bool team = threads > 1 && n > 1;
    CHECK(team || h.in_region[1] == 0, "threads %d, n %lld: a team of one opened a region", threads, (long long)n);
    CHECK(!team || h.in_region[0] == 0, "threads %d, n %lld: pieces ran outside the team", threads, (long long)n);
    CHECK(n == 0 || h.in_region[0] + h.in_region[1] >= 1, "threads %d, n %lld: nothing ran", threads, (long long)n);
    free(h.count);
}

static void team_inside(void *ctx, int64_t lo, int64_t hi)
{
    int *sizes = ctx;
    for (int64_t i = lo; i < hi; i++) sizes[i] = ck_team_size(1 << 30, 1);
}

static void count_members(void *ctx, int64_t *waited)
{
    atomic_int *members = ctx;
    atomic_fetch_add(&members[omp_in_parallel()], 1);
    ck_team_barrier(waited);
}

static void late_member(void *ctx, int64_t *waited)
{
    (void)ctx, (void)waited;
    struct timespec late = {0, 5 * 1000 * 1000};
    if (omp_get_thread_num() == 1) nanosleep(&late, NULL);
}

int main(void)
{
    int64_t sizes[] = {0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 100, 1001};
    for (int threads = 1; threads <= 4; threads++)
        for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) check_cover(threads, sizes[i]);

    setenv("CKERAS_IGNORE_LOAD", "1", 1);
    omp_set_num_threads(1);
    CHECK(ck_team_size(1 << 30, 1) == 1, "OMP_NUM_THREADS=1 got a team");
    omp_set_num_threads(3);
    CHECK(ck_team_size(999, 1000) == 1, "work under the grain got a team");
    CHECK(ck_team_size(1000, 1000) == 3, "work at the grain got %d threads, not 3", ck_team_size(1000, 1000));
    int inside[8] = {0};
    ck_parallel_for(2, 8, team_inside, inside);
    for (int i = 0; i < 8; i++) CHECK(inside[i] == 1, "inside a team, index %d got a team of %d", i, inside[i]);

    unsetenv("CKERAS_IGNORE_LOAD"); /* looked at again after 20 ms */
    struct timespec wait = {0, 30 * 1000 * 1000};
    nanosleep(&wait, NULL);
    for (int i = 0; i < 3; i++) {
        int t = ck_team_size(1 << 30, 1);
        CHECK(t >= 1 && t <= 3, "with the load looked at: %d threads, not 1 to 3", t);
    }
    for (int threads = 1; threads <= 3; threads++) {
        atomic_int members[2]; /* outside, inside a region */
        atomic_init(&members[0], 0), atomic_init(&members[1], 0);
        ck_team_run(threads, count_members, members);
        int outside = atomic_load(&members[0]), inside = atomic_load(&members[1]);
        CHECK(threads == 1 ? outside == 1 && inside == 0 : outside == 0 && inside == threads,
              "ck_team_run(%d): %d calls outside a region, %d inside", threads, outside, inside);
    }
    ck_team_run(2, late_member, NULL);
    CHECK(ck_team_size(1 << 30, 1) == 1, "after a member kept the team waiting 5 ms, still a team");
    return test_report("test_threads");
}
