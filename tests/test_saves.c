/* Saves that cannot tear (issue 19). For every format ckeras writes (.keras,
 * .h5, .weights.h5, TF.js model.json, .npz, and ck_file_write behind
 * `config --output`):
 *   - kill -9 at random points of a child that saves model A and model B in
 *     turn, a bounded number of times: afterwards each file loads, and holds A's
 *     weights or B's, whole (never a TF.js manifest with the other's shard);
 *     the next save removes the killed saves' temporary files;
 *   - the destination's mode is kept (0444 stays 0444) and a new file gets 0666
 *     less the umask;
 *   - a full file system (a 160 KiB tmpfs, made when running as root) and a
 *     read-only one fail with the reason named and leave the old file intact;
 *     without root these skip with a message. */
#include "testutil.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *const formats[] = {"m.keras", "m.h5", "m.weights.h5", "model.json"};
#define N_FORMATS 4
#define KILLS 24

static ck_model *model_with_seed(uint64_t seed, int units)
{
    ck_model *m = ck_sequential("name='seq'");
    ck_sequential_add(m, ck_dense(units, "input_shape=(40,), activation='relu'"));
    ck_sequential_add(m, ck_dense(10, NULL));
    ck_model_set_seed(m, seed);
    CHECK_OK(ck_model_build(m));
    return m;
}

/* Whether the file's weights equal m's, exactly (a weights-only file is loaded
 * into a model shaped like m: Dense(units) first). */
static bool same_weights(const char *path, const ck_model *m, bool weights_only)
{
    ck_model *got = NULL;
    if (weights_only) {
        ck_weight_info first;
        if (ck_model_weight(m, 0, &first)) return false;
        got = model_with_seed(99, (int)first.shape.dim[1]);
        if (ck_model_load_weights(got, path)) {
            ck_model_free(got);
            return false;
        }
    } else if (!(got = ck_model_load(path))) {
        return false;
    }
    bool same = ck_model_weight_count(got) == ck_model_weight_count(m);
    for (int i = 0; same && i < ck_model_weight_count(m); i++) {
        ck_weight_info a, b;
        same = !ck_model_weight(got, i, &a) && !ck_model_weight(m, i, &b) && a.size == b.size &&
               !memcmp(a.data, b.data, (size_t)a.size * sizeof(float));
    }
    ck_model_free(got);
    return same;
}

static int count_temporaries(const char *dir)
{
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] == '.' && strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    if (d) closedir(d);
    return n;
}

static void remove_all(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d) closedir(d);
}

static void kill_loop(const char *dir, ck_model *a, ck_model *b)
{
    char p[N_FORMATS][256];
    for (int f = 0; f < N_FORMATS; f++) {
        snprintf(p[f], sizeof p[f], "%s/%s", dir, formats[f]);
        CHECK_OK(ck_model_save(a, p[f]));
    }
    struct timespec seed;
    clock_gettime(CLOCK_MONOTONIC, &seed);
    srand((unsigned)seed.tv_nsec);
    int torn = 0, temporaries_seen = 0;
    for (int k = 0; k < KILLS; k++) {
        pid_t pid = fork();
        if (pid == 0) {
            for (int round = 0;; round++)
                for (int f = 0; f < N_FORMATS; f++) ck_model_save(round & 1 ? a : b, p[f]);
        }
        /* 1 to 40 ms: a few saves in, at a random point of one */
        struct timespec t = {0, (long)(1 + rand() % 40) * 1000000L};
        nanosleep(&t, NULL);
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        temporaries_seen += count_temporaries(dir);
        for (int f = 0; f < N_FORMATS; f++) {
            bool weights_only = f == 2;
            if (!same_weights(p[f], a, weights_only) && !same_weights(p[f], b, weights_only)) {
                torn++;
                CHECK(0, "after kill %d, %s holds neither model's weights: %s", k, formats[f], ck_errmsg());
            }
        }
    }
    /* One more save of each: the killed saves' temporaries go. */
    for (int f = 0; f < N_FORMATS; f++) CHECK_OK(ck_model_save(a, p[f]));
    CHECK(count_temporaries(dir) == 0, "%d temporary files remain after the next saves", count_temporaries(dir));
    printf("kill -9 loop: %d kills during saves of 4 formats, %d torn files, %d temporaries left by kills (cleaned)\n",
           KILLS, torn, temporaries_seen);
}

static void modes(const char *dir, ck_model *a)
{
    char p[256];
    snprintf(p, sizeof p, "%s/m.keras", dir);
    CHECK_OK(ck_model_save(a, p));
    chmod(p, 0444);
    CHECK_OK(ck_model_save(a, p));
    struct stat sb;
    CHECK(stat(p, &sb) == 0 && (sb.st_mode & 07777) == 0444, "a 0444 destination became %o", sb.st_mode & 07777);
    chmod(p, 0644);
    mode_t old = umask(027);
    static const char *const fresh[] = {"new.keras", "new.h5", "new.weights.h5", "new.json", "new.npz"};
    for (size_t i = 0; i < sizeof fresh / sizeof *fresh; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, fresh[i]);
        unlink(p);
        if (strstr(fresh[i], ".npz")) {
            ck_array arr = {.dtype = CK_FLOAT32, .shape = {.rank = 1, .dim = {1}}, .data = (float[]){1}};
            CHECK_OK(ck_npz_write(p, NULL, &arr, 1));
        } else {
            CHECK_OK(ck_model_save(a, p));
        }
        CHECK(stat(p, &sb) == 0 && (sb.st_mode & 07777) == 0640, "%s: new file has mode %o under umask 027, not 640",
              fresh[i], sb.st_mode & 07777);
    }
    umask(old);
}

/* Saves on a file system that cannot take them: the reason in the message, the
 * previous file whole. */
static void refused(const char *mnt, const char *options, const char *reason, ck_model *small, ck_model *big)
{
    /* Room for the small model's files, not for the big one's as well. */
    if (mount("ckeras-test", mnt, "tmpfs", 0, "size=160k")) {
        printf("SKIP %s: cannot mount a tmpfs (%s)\n", reason, strerror(errno));
        return;
    }
    char p[N_FORMATS][256];
    for (int f = 0; f < N_FORMATS; f++) {
        snprintf(p[f], sizeof p[f], "%s/%s", mnt, formats[f]);
        CHECK_OK(ck_model_save(small, p[f]));
    }
    char cfg[256];
    snprintf(cfg, sizeof cfg, "%s/config.json", mnt);
    CHECK_OK(ck_file_write(cfg, "{}", 2));
    if (*options && mount("ckeras-test", mnt, "tmpfs", MS_REMOUNT | MS_RDONLY, "size=160k")) {
        printf("SKIP %s: cannot remount read-only (%s)\n", reason, strerror(errno));
        umount(mnt);
        return;
    }
    for (int f = 0; f < N_FORMATS; f++) {
        ck_status st = ck_model_save(big, p[f]);
        CHECK(st != CK_OK && strstr(ck_errmsg(), reason) && strstr(ck_errmsg(), p[f]) && !strchr(ck_errmsg(), '\n'),
              "%s on %s: %s", formats[f], reason, st ? ck_errmsg() : "saved");
        CHECK(same_weights(p[f], small, f == 2), "%s: the previous file was damaged by a refused save", formats[f]);
    }
    char *big_text = malloc(256 << 10);
    memset(big_text, ' ', 256 << 10);
    ck_status st = ck_file_write(cfg, big_text, 256 << 10);
    free(big_text);
    CHECK(st != CK_OK && strstr(ck_errmsg(), reason), "config --output on %s: %s", reason, st ? ck_errmsg() : "written");
    size_t len = 0;
    char *kept = test_read_file(cfg, &len);
    CHECK(kept && len == 2 && !memcmp(kept, "{}", 2), "config.json changed by a refused write");
    free(kept);
    CHECK(count_temporaries(mnt) == 0, "refused saves left %d temporaries", count_temporaries(mnt));
    umount(mnt);
    printf("%s: refused with the reason, old files intact\n", reason);
}

int main(void)
{
    char dir[] = "/tmp/ckeras-saves-XXXXXX";
    if (!mkdtemp(dir)) return 1;
    ck_model *a = model_with_seed(1, 500), *b = model_with_seed(2, 500), *small = model_with_seed(3, 4);
    kill_loop(dir, a, b);
    remove_all(dir);
    modes(dir, a);
    remove_all(dir);
    if (geteuid() != 0) {
        printf("SKIP full and read-only file systems: mounting a tmpfs needs root\n");
    } else {
        refused(dir, "", "No space left on device", small, a);
        refused(dir, "ro", "Read-only file system", small, a);
    }
    remove_all(dir);
    rmdir(dir);
    ck_model_free(a);
    ck_model_free(b);
    ck_model_free(small);
    return test_report("test_saves");
}
