/* Reading whole files and writing them atomically, so that a crash or a kill
 * during a save never leaves a half-written file where a good one was. */
#include "core/core.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CK_MAX_FILE ((int64_t)1 << 34) /* 16 GiB: beyond this a "model" is not one */

ck_status ck_read_file(const char *path, char **data, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) return ck_fail(CK_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return ck_fail(CK_ERR_IO, "%s: not a regular file", path);
    }
    if ((int64_t)sb.st_size > CK_MAX_FILE) {
        fclose(f);
        return ck_fail(CK_ERR_IO, "%s: file is too large (%lld bytes)", path, (long long)sb.st_size);
    }
    char *buf = ck_malloc((size_t)sb.st_size + 1);
    if (!buf) {
        fclose(f);
        return ck_fail_prefix(CK_ERR_NOMEM, "%s: ", path);
    }
    size_t got = fread(buf, 1, (size_t)sb.st_size, f);
    bool bad = ferror(f);
    fclose(f);
    if (bad || got != (size_t)sb.st_size) {
        ck_free(buf);
        return ck_fail(CK_ERR_IO, "%s: read error", path);
    }
    buf[got] = '\0';
    *data = buf;
    *len = got;
    return CK_OK;
}

/* ---- atomic saves ------------------------------------------------------------
 * A save writes a temporary file in the destination's folder (so the rename
 * stays on one file system), named .<name>.tmp-<pid>-XXXXXX, writes and fsyncs
 * it, gives it the destination's mode (a new file: 0666 less the umask), renames
 * it over the destination and fsyncs the folder, so that after a crash or a kill
 * the name holds either the old file or the new one, whole. Temporaries whose
 * process is gone (a killed save) are removed by the next save of that name. */

/* The process's umask without changing it (umask(2) can only set it, and
 * setting it back would race with other threads creating files). */
static mode_t current_umask(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[128];
    unsigned mask = 022;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "Umask: %o", &mask) == 1) break;
    if (f) fclose(f);
    return (mode_t)mask;
}

static void split_path(const char *path, char *dir, size_t cap, const char **base)
{
    const char *slash = strrchr(path, '/');
    *base = slash ? slash + 1 : path;
    if (!slash) snprintf(dir, cap, ".");
    else if (slash == path) snprintf(dir, cap, "/");
    else snprintf(dir, cap, "%.*s", (int)(slash - path), path);
}

/* The pid in a temporary's name .<name>.tmp-<pid>-XXXXXX, or 0 if it is none. */
static long temporary_pid(const char *name)
{
    const char *t = name[0] == '.' ? strstr(name, ".tmp-") : NULL, *last = NULL;
    for (; t; t = strstr(t + 1, ".tmp-")) last = t;
    if (!last) return 0;
    char *end;
    long pid = strtol(last + 5, &end, 10);
    return end != last + 5 && *end == '-' && strlen(end + 1) == 6 ? pid : 0;
}

/* Removes the temporaries of saves whose process no longer runs (killed during
 * a save), in the folder of a new save: of any name, since a TF.js shard's
 * name changes with its contents. */
static void remove_stale_temporaries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    while ((e = readdir(d))) {
        long pid = temporary_pid(e->d_name);
        if (pid <= 0 || pid == (long)getpid()) continue; /* ours may be another thread's save */
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue;
        char p[4400];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
}

static bool write_all(int fd, const void *data, size_t len)
{
    const char *p = data;
    while (len > 0) {
        ssize_t w = write(fd, p, len);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (w == 0) errno = EIO;
            return false;
        }
        p += w;
        len -= (size_t)w;
    }
    return true;
}

static bool fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY);
    if (fd < 0) return false;
    bool ok = fsync(fd) == 0 || errno == EINVAL; /* some file systems cannot sync a folder */
    close(fd);
    return ok;
}

ck_status ck_write_file_atomic(const char *path, const void *data, size_t len)
{
    char dir[4096], tmp[4400];
    const char *base;
    split_path(path, dir, sizeof dir, &base);
    if (!*base) return ck_fail(CK_ERR_IO, "%s: not a file name", path);
    remove_stale_temporaries(dir);
    struct stat old;
    mode_t mode = stat(path, &old) == 0 ? old.st_mode & 07777 : 0666 & ~current_umask();
    snprintf(tmp, sizeof tmp, "%s/.%s.tmp-%ld-XXXXXX", dir, base, (long)getpid());
    int fd = mkstemp(tmp);
    if (fd < 0) return ck_fail(CK_ERR_IO, "%s: cannot write: %s", path, strerror(errno));
    bool ok = write_all(fd, data, len) && fsync(fd) == 0 && fchmod(fd, mode) == 0;
    int err = errno;
    ok = close(fd) == 0 && ok;
    if (ok && rename(tmp, path) != 0) ok = false, err = errno;
    if (!ok) {
        unlink(tmp);
        return ck_fail(CK_ERR_IO, "%s: cannot write: %s", path, strerror(err ? err : EIO));
    }
    if (!fsync_dir(dir)) return ck_fail(CK_ERR_IO, "%s: written, but its folder could not be synced: %s", path, strerror(errno));
    return CK_OK;
}

ck_status ck_file_write(const char *path, const void *data, size_t len)
{
    if (!path || (!data && len)) return ck_fail(CK_ERR_ARG, "ck_file_write: NULL argument");
    return ck_write_file_atomic(path, data, len);
}
