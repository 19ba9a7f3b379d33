/* An address-space limit (RLIMIT_AS, `ulimit -v`) ends every operation with
 * a result or a clean out-of-memory error: never a hang (OpenBLAS retries a
 * buffer it cannot map for ever), never the process ended by a library
 * (libgomp exits when it cannot create a thread), never a crash, nothing
 * written half-way. Each operation (load a .keras and a guarded .h5; predict
 * and fit a CNN at 2 threads, so that the thread team and OpenBLAS start; save
 * in three formats over an older file) runs in a child process under a sweep
 * of limits from just above what the child has mapped to past OpenBLAS's
 * 128 MiB buffer, each bounded by a timeout. The parent makes no ckeras call
 * (libgomp's threads do not survive a fork). ASan reserves terabytes of
 * shadow address space, so under ASan the sweep cannot run and says so. */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <omp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__)
#define UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define UNDER_ASAN 1
#endif
#endif
#ifndef UNDER_ASAN
#define UNDER_ASAN 0
#endif

#define CHILD_SECONDS 60 /* a hang; the slowest case here takes about a second */

static char dir[512];
static const float *x_data;
static float xs[64 * 28 * 28], ys[64];

static ck_status load_rel(const char *rel)
{
    char p[1024];
    ck_model *m = ck_model_load(test_path(p, sizeof p, "%s", rel));
    if (!m) return ck_errstatus();
    ck_model_free(m);
    return CK_OK;
}

static ck_status load_keras(void) { return load_rel("tests/golden/files/seq_mlp/model.keras"); }
static ck_status load_h5(void) { return load_rel("tests/golden/files/nested_seq/model.h5"); }

/* Large enough at 64 samples for the convolutions to take a team of threads
 * (the second's products are 142 M multiply-adds) and for fit's products to
 * go to OpenBLAS. */
static ck_model *cnn(ck_status *st)
{
    ck_model *m = ck_sequential("name='cnn'");
    *st = m ? CK_OK : ck_errstatus();
    if (!*st) *st = ck_sequential_add(m, ck_layer_new("Conv2D", "filters=32, kernel_size=3, activation='relu', input_shape=(28, 28, 1)"));
    if (!*st) *st = ck_sequential_add(m, ck_layer_new("MaxPooling2D", NULL));
    if (!*st) *st = ck_sequential_add(m, ck_layer_new("Conv2D", "filters=64, kernel_size=3, activation='relu'"));
    if (!*st) *st = ck_sequential_add(m, ck_layer_new("Flatten", NULL));
    if (!*st) *st = ck_sequential_add(m, ck_dense(10, "activation='softmax'"));
    if (!*st) *st = ck_model_build(m);
    if (*st) {
        ck_model_free(m);
        return NULL;
    }
    return m;
}

static ck_status predict_cnn(void)
{
    ck_status st;
    ck_model *m = cnn(&st);
    if (!m) return st;
    static float out[64 * 10];
    st = ck_model_predict1(m, x_data, 64, out);
    ck_model_free(m);
    return st;
}

static ck_status fit_cnn(void)
{
    ck_status st;
    ck_model *m = cnn(&st);
    if (!m) return st;
    st = ck_model_compile(m, "adam", "sparse_categorical_crossentropy", NULL);
    ck_fit_opts o = {.epochs = 1, .batch_size = 32, .verbose = 0};
    ck_history *h = NULL;
    if (!st) st = ck_model_fit(m, x_data, ys, 64, &o, &h);
    ck_history_free(h);
    ck_model_free(m);
    return st;
}

static ck_status save_as(const char *name)
{
    ck_status st;
    ck_model *m = cnn(&st);
    if (!m) return st;
    char p[640];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    st = ck_model_save(m, p);
    ck_model_free(m);
    return st;
}

static ck_status save_keras(void) { return save_as("m.keras"); }
static ck_status save_h5(void) { return save_as("m.h5"); }
static ck_status save_tfjs(void) { return save_as("model.json"); }

typedef struct operation {
    const char *name;
    ck_status (*run)(void);
    const char *writes; /* the file it saves over, or NULL */
    bool team;          /* starts a team of threads (checked without a limit) */
    bool blas;          /* maps OpenBLAS's 128 MiB buffer (likewise)          */
} operation;

static const operation operations[] = {
    {"load .keras", load_keras, NULL, false, false}, {"load .h5", load_h5, NULL, false, false},
    {"predict CNN", predict_cnn, NULL, true, false}, {"fit CNN", fit_cnn, NULL, true, true},
    {"save .keras", save_keras, "m.keras", false, false}, {"save .h5", save_h5, "m.h5", false, false},
    {"save TF.js", save_tfjs, "model.json", false, false},
};

/* VmSize (now) or VmPeak (the most so far) of this process, in bytes. */
static long mapped_bytes(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kb = -1;
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, field, strlen(field))) kb = atol(line + strlen(field));
    if (f) fclose(f);
    return kb * 1024;
}

/* The child: limit, run, report "status footprint message" on the pipe, the
 * footprint being how far its address space grew. headroom < 0: no limit
 * (the reference run). */
static void child(const operation *op, long headroom, int fd)
{
    setenv("CKERAS_IGNORE_LOAD", "1", 1); /* the team starts whatever else runs */
    omp_set_num_threads(2);
    long start = mapped_bytes("VmSize:");
    if (headroom >= 0) {
        struct rlimit r = {(rlim_t)(start + headroom), (rlim_t)(start + headroom)};
        if (setrlimit(RLIMIT_AS, &r)) _exit(3);
    }
    ck_status st = op->run();
    char msg[1200];
    int n = snprintf(msg, sizeof msg, "%d %ld %ld %s", (int)st, mapped_bytes("VmPeak:") - start,
                     mapped_bytes("Threads:") / 1024, st ? ck_errmsg() : "");
    if (write(fd, msg, (size_t)(n < (int)sizeof msg ? n : (int)sizeof msg - 1)) < 0) _exit(4);
    _exit(0);
}

typedef struct outcome {
    bool ended;       /* exited by itself, status 0, within the time */
    int status;       /* the operation's ck_status                   */
    long footprint;   /* bytes its address space grew by at most     */
    long threads;     /* threads it had at the end                   */
    char message[1200];
    char how[128];    /* how it ended when it did not                */
} outcome;

static outcome run_child(const operation *op, long headroom)
{
    outcome o = {0};
    int fds[2];
    if (pipe(fds)) return snprintf(o.how, sizeof o.how, "pipe: %s", strerror(errno)), o;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(fds[0]);
        child(op, headroom, fds[1]);
    }
    close(fds[1]);
    int status = 0;
    struct timespec start, now, nap = {0, 5000000};
    clock_gettime(CLOCK_MONOTONIC, &start);
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) break;
        clock_gettime(CLOCK_MONOTONIC, &now);
        if (now.tv_sec - start.tv_sec > CHILD_SECONDS) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            snprintf(o.how, sizeof o.how, "still running after %d s (a hang)", CHILD_SECONDS);
            close(fds[0]);
            return o;
        }
        nanosleep(&nap, NULL);
    }
    ssize_t got = read(fds[0], o.message, sizeof o.message - 1);
    close(fds[0]);
    if (WIFSIGNALED(status)) snprintf(o.how, sizeof o.how, "killed by signal %d", WTERMSIG(status));
    else if (WEXITSTATUS(status) != 0) snprintf(o.how, sizeof o.how, "exit status %d (a library ended the process)", WEXITSTATUS(status));
    else if (got <= 0) snprintf(o.how, sizeof o.how, "no report");
    else {
        o.message[got] = '\0';
        char *end;
        o.status = (int)strtol(o.message, &end, 10);
        o.footprint = strtol(end, &end, 10);
        o.threads = strtol(end, &end, 10);
        memmove(o.message, end + (*end == ' '), strlen(end + (*end == ' ')) + 1);
        o.ended = true;
    }
    return o;
}

/* The folder's file names, sorted and joined (the saves' published files and
 * any temporary left behind). */
static void listing(char *out, size_t cap)
{
    out[0] = '\0';
    DIR *d = opendir(dir);
    char names[32][256];
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) && n < 32)
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) snprintf(names[n++], sizeof names[0], "%s", e->d_name);
    if (d) closedir(d);
    qsort(names, (size_t)n, sizeof names[0], (int (*)(const void *, const void *))strcmp);
    for (int i = 0; i < n; i++) snprintf(out + strlen(out), cap - strlen(out), "%s%s", i ? " " : "", names[i]);
}

static void empty_dir(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[800];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d) closedir(d);
}

static const char OLD[] = "an older file that a failed save must leave as it is\n";

static void put_old(const char *name)
{
    char p[800];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    FILE *f = fopen(p, "wb");
    CHECK(f && fwrite(OLD, 1, sizeof OLD - 1, f) == sizeof OLD - 1, "cannot write %s", p);
    if (f) fclose(f);
}

static bool still_old(const char *name)
{
    char p[800];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    size_t len = 0;
    char *text = test_read_file(p, &len);
    bool same = text && len == sizeof OLD - 1 && !memcmp(text, OLD, len);
    free(text);
    return same;
}

static void sweep(const operation *op)
{
    /* Fractions of what the operation maps without a limit (sixteenths),
     * then fixed sizes: a thread's stack, one OpenBLAS buffer and a little,
     * two, and plenty. */
    static const long sixteenths[] = {1, 2, 4, 8, 12, 14, 15, 16, 18};
    static const long fixed_mib[] = {1, 12, 132, 140, 300};
    enum { N_FRACTIONS = sizeof sixteenths / sizeof *sixteenths, N_LIMITS = N_FRACTIONS + sizeof fixed_mib / sizeof *fixed_mib };
    char before[2048] = "", after[2048];
    if (op->writes) {
        empty_dir();
        put_old(op->writes);
        listing(before, sizeof before);
    }
    outcome ref = run_child(op, -1);
    CHECK(ref.ended && ref.status == CK_OK, "%s without a limit: %s %s", op->name, ref.how, ref.message);
    CHECK(!op->team || ref.threads >= 2, "%s: no team of threads started (%ld threads)", op->name, ref.threads);
    CHECK(!op->blas || ref.footprint >= 128L << 20, "%s: OpenBLAS's buffer was not mapped (%ld KiB)", op->name,
          ref.footprint >> 10);
    int ok = 0, nomem = 0;
    for (int i = 0; i < N_LIMITS; i++) {
        if (op->writes) {
            empty_dir();
            put_old(op->writes);
        }
        long headroom = i < N_FRACTIONS ? ref.footprint * sixteenths[i] / 16 : fixed_mib[i - N_FRACTIONS] << 20;
        outcome o = run_child(op, headroom);
        CHECK(o.ended, "%s under %ld KiB of headroom: %s", op->name, headroom >> 10, o.how);
        if (!o.ended) continue;
        CHECK(o.status == CK_OK || o.status == CK_ERR_NOMEM, "%s under %ld KiB: %s, not out of memory: %s", op->name,
              headroom >> 10, ck_status_name((ck_status)o.status), o.message);
        if (o.status) {
            nomem++;
            CHECK(o.message[0] && !strchr(o.message, '\n'), "%s under %ld KiB: not one line: '%s'", op->name,
                  headroom >> 10, o.message);
        } else {
            ok++;
        }
        if (!op->writes) continue;
        listing(after, sizeof after);
        if (o.status) {
            CHECK(still_old(op->writes) && !strcmp(before, after),
                  "%s under %ld KiB failed (%s) but changed the folder: [%s] -> [%s]", op->name, headroom >> 10,
                  o.message, before, after);
        } else {
            CHECK(!still_old(op->writes), "%s under %ld KiB: succeeded but the old file is still there", op->name,
                  headroom >> 10);
            CHECK(!strstr(after, ".tmp") && !strstr(after, "ckeras-"), "%s under %ld KiB: left [%s]", op->name,
                  headroom >> 10, after);
        }
    }
    printf("%-12s maps %6ld KiB; under %2d limits: %2d succeeded, %2d out of memory\n", op->name, ref.footprint >> 10,
           N_LIMITS, ok, nomem);
}

int main(void)
{
    if (UNDER_ASAN) {
        printf("test_memlimit: not run under AddressSanitizer (its shadow memory needs terabytes of address space)\n");
        return 0;
    }
    for (int i = 0; i < 64 * 28 * 28; i++) xs[i] = (float)((i * 7) % 13) / 13.0f;
    for (int i = 0; i < 64; i++) ys[i] = (float)(i % 10);
    x_data = xs;
    test_scratch_dir(dir, sizeof dir, "memlimit");
    for (size_t i = 0; i < sizeof operations / sizeof *operations; i++) sweep(&operations[i]);
    empty_dir();
    rmdir(dir);
    return test_report("test_memlimit");
}
