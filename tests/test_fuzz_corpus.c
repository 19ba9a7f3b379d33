/* Replays the committed fuzz regression corpus (tests/fuzz/corpus/<target>/):
 * every crasher, hang and bomb found so far, plus small valid seeds, through the
 * same target functions scripts/fuzz.sh fuzzes. Each must end with a result or a
 * one-line error (the targets abort otherwise), without a sanitizer report, and
 * within 2 s of CPU time, the guarded HDF5 child's included (fuzz_setup lowers
 * the child's time limit so that the hang samples, which stall libhdf5 for ever,
 * cost a fraction of a second per read). CPU time rather than the wall clock, so
 * that a busy machine (CI under ASan beside other jobs) cannot fail the check. */
#include "testutil.h"

#include "fuzz/fuzz_targets.c"

#include <dirent.h>
#include <sys/resource.h>

static double seconds_of(struct timeval t)
{
    return (double)t.tv_sec + (double)t.tv_usec * 1e-6;
}

/* CPU seconds spent so far by this process and its waited-for children. */
static double cpu_seconds_now(void)
{
    struct rusage self, children;
    getrusage(RUSAGE_SELF, &self);
    getrusage(RUSAGE_CHILDREN, &children);
    return seconds_of(self.ru_utime) + seconds_of(self.ru_stime) + seconds_of(children.ru_utime) +
           seconds_of(children.ru_stime);
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
        double t0 = cpu_seconds_now();
        t->run((const uint8_t *)data, len);
        double took = cpu_seconds_now() - t0;
        CHECK(took < 2.0, "%s/%s took %.2f s of CPU (at most 2 s)", t->name, e->d_name, took);
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
