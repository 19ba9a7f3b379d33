/* Reading an untrusted HDF5 file without trusting libhdf5 with it. libhdf5 1.10
 * (Debian 12's 1.10.8) believes the sizes and addresses a file states: a damaged
 * global heap, where h5py keeps variable-length strings such as model_config and
 * weight_names, makes H5HG_read copy terabytes or loop for ever, and its other
 * parsers have bugs of the same kind. Validating everything libhdf5 dereferences
 * would mean writing a second HDF5 parser, and fixing one structure leaves the
 * next; so before a file is read in this process, a forked child reads it the way
 * the readers will (every group and its links, every attribute as the readers
 * read text, every dataset's type and shape, and the values of every dataset that
 * is small or not stored as one contiguous block) under the time and memory
 * limits of ck_set_limits. If libhdf5 crashes, stalls or runs out of memory only
 * the child dies, and the caller gets one line; if the child finishes, libhdf5
 * has parsed each structure the readers will touch without harm. Large contiguous
 * datasets are left to the parent, where libhdf5 reads each with one block read
 * checked against the end of the file, so a big file costs one metadata walk
 * (milliseconds), not a second read of its weights. The child never returns into
 * the caller's code: it ends with _exit, which runs no atexit handlers and
 * flushes no stdio buffers of the parent's. */
#include "io/h5.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CK_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || __has_feature(memory_sanitizer)
#define CK_SANITIZED 1
#endif
#endif

/* Values the child reads even when stored contiguously: every dataset of a
 * fuzzed or hand-made small file, while a real model's large kernels stay single-read. */
#define CHILD_READ_BYTES ((hsize_t)64 << 10)
/* A larger value is not read by the child at all (the parent reads only numbers). */
#define CHILD_MAX_BYTES ((hsize_t)64 << 20)

/* Reads an attribute or dataset of any type into native memory and frees what
 * the conversion made (variable-length data comes from the global heap). */
static void read_native(hid_t obj, bool is_attr)
{
    hid_t type = is_attr ? H5Aget_type(obj) : H5Dget_type(obj);
    hid_t space = is_attr ? H5Aget_space(obj) : H5Dget_space(obj);
    hid_t mt = type >= 0 ? H5Tget_native_type(type, H5T_DIR_ASCEND) : -1;
    hssize_t n = space >= 0 ? H5Sget_simple_extent_npoints(space) : -1;
    size_t each = mt >= 0 ? H5Tget_size(mt) : 0;
    if (n > 0 && each > 0 && (hsize_t)n <= CHILD_MAX_BYTES / each) {
        void *buf = calloc((size_t)n, each);
        herr_t e = -1;
        if (buf) e = is_attr ? H5Aread(obj, mt, buf) : H5Dread(obj, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
        if (e >= 0 && (H5Tdetect_class(mt, H5T_VLEN) > 0 || H5Tis_variable_str(mt) > 0))
            H5Dvlen_reclaim(mt, space, H5P_DEFAULT, buf);
        free(buf);
    }
    if (mt >= 0) H5Tclose(mt);
    if (type >= 0) H5Tclose(type);
    if (space >= 0) H5Sclose(space);
}

static herr_t visit_attr(hid_t loc, const char *name, const H5A_info_t *info, void *data)
{
    (void)info;
    (void)data;
    char **s;
    int n;
    /* Text exactly as the readers read it, then any type as native values. */
    if (!ck_h5_attr_strings(loc, name, "", &s, &n)) ck_h5_free_strings(s, n);
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a >= 0) {
        read_native(a, true);
        H5Aclose(a);
    }
    return 0;
}

static void visit_dataset(hid_t root, const char *name)
{
    ck_shape shape;
    int64_t n;
    bool numeric = !ck_h5_dataset_shape(root, name, "", &shape, &n);
    hid_t d = H5Dopen2(root, name, H5P_DEFAULT);
    if (d < 0) return;
    hid_t dcpl = H5Dget_create_plist(d), type = H5Dget_type(d);
    H5D_layout_t layout = dcpl >= 0 ? H5Pget_layout(dcpl) : H5D_LAYOUT_ERROR;
    size_t each = type >= 0 ? H5Tget_size(type) : 0;
    bool small = numeric && each > 0 && (hsize_t)n <= CHILD_READ_BYTES / each;
    if (layout != H5D_CONTIGUOUS || small || !numeric) {
        if (numeric && n > 0 && (hsize_t)n <= CHILD_MAX_BYTES / sizeof(float)) {
            float *buf = malloc((size_t)n * sizeof *buf);
            if (buf) ck_h5_read_floats(root, name, "", buf, n);
            free(buf);
        } else if (!numeric) {
            read_native(d, false);
        }
    }
    if (type >= 0) H5Tclose(type);
    if (dcpl >= 0) H5Pclose(dcpl);
    H5Dclose(d);
}

static herr_t visit_object(hid_t root, const char *name, const H5O_info_t *info, void *data)
{
    (void)data;
    /* An object or attribute list libhdf5 cannot go through ends the walk (and
     * the file is refused): what it skipped might be what the readers reach. */
    hid_t obj = H5Oopen(root, name, H5P_DEFAULT);
    if (obj < 0) return -1;
    herr_t listed = H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, visit_attr, NULL);
    H5Oclose(obj);
    if (listed < 0) return -1;
    if (info->type == H5O_TYPE_DATASET) visit_dataset(root, name);
    /* Links the readers may test by name (H5Lexists) resolve through these. */
    if (info->type == H5O_TYPE_GROUP) {
        hid_t g = H5Gopen2(root, name, H5P_DEFAULT);
        H5G_info_t gi;
        if (g >= 0) {
            H5Gget_info(g, &gi);
            H5Gclose(g);
        }
    }
    return 0;
}

#ifndef CK_SANITIZED
/* Address space now in use, so that the child's limit is a margin above it. */
static rlim_t address_space_now(void)
{
    unsigned long pages = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%lu", &pages) != 1) pages = 0;
        fclose(f);
    }
    return (rlim_t)pages * (rlim_t)sysconf(_SC_PAGESIZE);
}
#endif

/* Set by a fuzzer or another tool to write a crash report of the input; the
 * child's crash is the expected outcome, not the parent's, so it is cleared. */
extern void __sanitizer_set_death_callback(void (*callback)(void)) __attribute__((weak));

/* The child dies of its crash as the system would end it, leaving no report files
 * that handlers installed by the program (a fuzzer's, a crash reporter's) write. */
static void default_crash_handling(void)
{
    static const int sigs[] = {SIGSEGV, SIGBUS, SIGILL, SIGFPE, SIGABRT, SIGALRM, SIGPROF};
    sigset_t unblock;
    sigemptyset(&unblock);
    for (int i = 0; i < CK_N_OF(sigs); i++) {
        signal(sigs[i], SIG_DFL);
        sigaddset(&unblock, sigs[i]);
    }
    sigprocmask(SIG_UNBLOCK, &unblock, NULL);
    if (__sanitizer_set_death_callback) __sanitizer_set_death_callback(NULL);
}

/* Wall-clock seconds the parent waits before it kills a child that neither
 * finished nor used up its CPU time (one blocked rather than spinning): generous,
 * since on a loaded machine CPU time accrues far slower than wall time. */
static double wall_backstop(const ck_limits *lim)
{
    return 10.0 * lim->hdf5_seconds + 10.0;
}

static void child_run(const char *path, const void *image, size_t len, const ck_limits *lim, int report)
{
    /* A crash report (ASan's, say) would be a second line on the caller's stderr. */
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0) {
        dup2(null, STDERR_FILENO);
        dup2(null, STDOUT_FILENO);
    }
    default_crash_handling();
    /* The limit is CPU time (SIGPROF ends the child), so a legitimate file read
     * on a busy machine, where the child waits for a core, is not taken for a
     * stalled one; libhdf5's stalls on damaged heaps are loops that burn CPU. */
    double cpu = lim->hdf5_seconds;
    struct itimerval budget = {.it_value = {(time_t)cpu, (suseconds_t)((cpu - (double)(time_t)cpu) * 1e6)}};
    if (!budget.it_value.tv_sec && !budget.it_value.tv_usec) budget.it_value.tv_usec = 1;
    setitimer(ITIMER_PROF, &budget, NULL);
    /* Ends the child even if the parent is gone; the parent kills it sooner. */
    alarm((unsigned)wall_backstop(lim) + 2);
#ifndef CK_SANITIZED
    /* Sanitizers reserve terabytes of shadow memory up front, so there an
     * absurd allocation is refused by the sanitizer's allocator instead. */
    rlim_t now = address_space_now();
    struct rlimit r = {now + (rlim_t)lim->hdf5_memory_bytes, now + (rlim_t)lim->hdf5_memory_bytes};
    setrlimit(RLIMIT_AS, &r);
#endif
    /* A walk that libhdf5 gives up part-way leaves objects unvisited that the
     * readers may still reach, in another order: such a file is refused. An
     * unopenable file is left to the parent, whose open fails the same way. */
    char done = 'k';
    hid_t f = ck_h5_open_unchecked(path, image, len);
    if (f >= 0) {
        if (H5Ovisit(f, H5_INDEX_NAME, H5_ITER_INC, visit_object, NULL) < 0) done = 'w';
        H5Fclose(f);
    }
    _exit(write(report, &done, 1) == 1 ? 0 : 1);
}

static double now_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Waits for the child's one byte until the deadline; 0 if none came. */
static char wait_report(int fd, double seconds)
{
    double end = now_seconds() + seconds;
    for (;;) {
        double left = end - now_seconds();
        if (left <= 0) return 0;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        int r = poll(&p, 1, (int)(left * 1000) + 1);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return 0;
        char c;
        ssize_t got;
        do got = read(fd, &c, 1);
        while (got < 0 && errno == EINTR);
        return got == 1 ? c : 0;
    }
}

ck_status ck_h5_check(const char *path, const void *image, size_t len, const char *origin)
{
    ck_limits lim;
    ck_get_limits(&lim);
    if (lim.hdf5_in_process) return CK_OK;
    int fds[2];
    if (pipe(fds))
        return ck_fail(errno == ENOMEM ? CK_ERR_NOMEM : CK_ERR_IO, "%s: cannot check the HDF5 file: %s", origin, strerror(errno));
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    pid_t pid = fork();
    if (pid < 0) {
        int e = errno;
        close(fds[0]);
        close(fds[1]);
        return ck_fail(e == ENOMEM || e == EAGAIN ? CK_ERR_NOMEM : CK_ERR_IO, "%s: cannot check the HDF5 file: fork: %s",
                       origin, strerror(e));
    }
    if (pid == 0) {
        close(fds[0]);
        child_run(path, image, len, &lim, fds[1]);
    }
    close(fds[1]);
    char report = wait_report(fds[0], wall_backstop(&lim));
    bool done = report != 0;
    close(fds[0]);
    if (!done) kill(pid, SIGKILL);
    int status = 0;
    pid_t got;
    do got = waitpid(pid, &status, 0);
    while (got < 0 && errno == EINTR);
    /* A program that reaps every child itself may have taken the status first. */
    bool clean = done && (got < 0 || (WIFEXITED(status) && WEXITSTATUS(status) == 0));
    if (clean && report == 'w')
        return ck_fail(CK_ERR_FORMAT, "%s: damaged HDF5 file: libhdf5 cannot walk all of its groups and objects", origin);
    if (clean) return CK_OK;
    if (!done && (got < 0 || (WIFSIGNALED(status) &&
                              (WTERMSIG(status) == SIGKILL || WTERMSIG(status) == SIGPROF))))
        return ck_fail(CK_ERR_FORMAT, "%s: damaged HDF5 file: libhdf5 did not finish reading it within %g s of CPU time", origin,
                       lim.hdf5_seconds);
    if (WIFSIGNALED(status))
        return ck_fail(CK_ERR_FORMAT, "%s: damaged HDF5 file: libhdf5 crashed reading it (%s)", origin,
                       strsignal(WTERMSIG(status)));
    return ck_fail(CK_ERR_FORMAT, "%s: damaged HDF5 file: libhdf5 failed reading it (out of memory or a sanitizer report)",
                   origin);
}
