/* Reading whole files and writing them atomically, so that a crash or a kill
 * during a save never leaves a half-written file where a good one was. */
#include "core/core.h"

#include <errno.h>
#include <fcntl.h>
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

ck_status ck_write_file_atomic(const char *path, const void *data, size_t len)
{
    size_t n = strlen(path);
    char *tmp = ck_malloc(n + 16);
    if (!tmp) return CK_ERR_NOMEM;
    snprintf(tmp, n + 16, "%s.tmpXXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        ck_status st = ck_fail(CK_ERR_IO, "%s: cannot create a temporary file: %s", path, strerror(errno));
        ck_free(tmp);
        return st;
    }
    const char *p = data;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, p, left);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) break;
        p += w;
        left -= (size_t)w;
    }
    bool ok = left == 0 && fsync(fd) == 0;
    ok = close(fd) == 0 && ok;
    if (ok) chmod(tmp, 0644); /* mkstemp makes 0600; saved models are ordinary files */
    if (!ok || rename(tmp, path) != 0) {
        ck_status st = ck_fail(CK_ERR_IO, "%s: write failed: %s", path, strerror(errno));
        unlink(tmp);
        ck_free(tmp);
        return st;
    }
    ck_free(tmp);
    return CK_OK;
}
