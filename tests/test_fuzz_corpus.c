/* Replays the committed fuzz regression corpus (tests/fuzz/corpus/<target>/):
 * every crasher, hang and bomb found so far, plus small valid seeds, through the
 * same target functions scripts/fuzz.sh fuzzes. Each must end with a result or a
 * one-line error (the targets abort otherwise), without a sanitizer report, and
 * within 2 s (fuzz_setup lowers the HDF5 child's time limit so that the hang
 * samples, which stall libhdf5 for ever, cost a fraction of a second per read). */
#include "testutil.h"

#include "fuzz/fuzz_targets.c"

#include <dirent.h>
#include <time.h>

static double seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static int replay_target(const fuzz_target *t)
{
    char dir[1024];
    test_path(dir, sizeof dir, "tests/fuzz/corpus/%s", t->name);
    DIR *d = opendir(dir);
    CHECK(d != NULL, "no corpus folder %s", dir);
    if (!d) return 0;
    int files = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char p[1400];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        size_t len;
        char *data = test_read_file(p, &len);
        CHECK(data != NULL, "cannot read %s", p);
        if (!data) continue;
        double t0 = seconds_now();
        t->run((const uint8_t *)data, len);
        double took = seconds_now() - t0;
        CHECK(took < 2.0, "%s/%s took %.2f s (at most 2 s)", t->name, e->d_name, took);
        free(data);
        files++;
    }
    closedir(d);
    CHECK(files > 0, "corpus %s is empty", t->name);
    return files;
}

int main(void)
{
    fuzz_setup();
    int total = 0;
    for (size_t i = 0; i < sizeof fuzz_targets / sizeof *fuzz_targets; i++) total += replay_target(&fuzz_targets[i]);
    fuzz_cleanup();
    printf("replayed %d corpus files over %zu targets\n", total, sizeof fuzz_targets / sizeof *fuzz_targets);
    return test_report("test_fuzz_corpus");
}
