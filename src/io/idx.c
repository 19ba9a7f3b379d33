/*
 * MNIST / Fashion-MNIST IDX files (plain or gzip, read through zlib's gzread,
 * which passes uncompressed files through): the magic 0x00 0x00 type rank,
 * big-endian dimension sizes, then the data. Only unsigned bytes (type 0x08)
 * are used by these datasets and accepted here; the array comes back as uint8.
 */
#include "core/core.h"

#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

static ck_status read_exact(gzFile f, void *buf, size_t n, const char *path, const char *what)
{
    /* gzread takes and returns int-sized counts. */
    for (size_t done = 0; done < n;) {
        unsigned want = n - done > (1u << 30) ? (1u << 30) : (unsigned)(n - done);
        int got = gzread(f, (char *)buf + done, want);
        if (got <= 0) return ck_fail(CK_ERR_FORMAT, "%s: truncated IDX file (reading %s)", path, what);
        done += (size_t)got;
    }
    return CK_OK;
}

/* The most data bytes a file of this size can hold, plain or gzip'ed (deflate
 * reaches about 1032:1), and never beyond ck_limits' inflate_max_bytes. */
static int64_t idx_max_bytes(const char *path)
{
    struct stat sb;
    if (stat(path, &sb)) return 0;
    ck_limits lim;
    ck_get_limits(&lim);
    int64_t reach = (int64_t)sb.st_size * 1032 + 1024;
    return reach < lim.inflate_max_bytes ? reach : lim.inflate_max_bytes;
}

ck_status ck_idx_read(const char *path, ck_array *out)
{
    if (!path || !out)
        return ck_fail(CK_ERR_ARG, "ck_idx_read: NULL argument");
    memset(out, 0, sizeof *out);
    gzFile f = gzopen(path, "rb");
    if (!f)
        return ck_fail(CK_ERR_IO, "%s: cannot open", path);
    unsigned char head[4], dims[4 * CK_MAX_RANK];
    ck_status st = read_exact(f, head, 4, path, "the magic number");
    if (st == CK_OK && (head[0] || head[1] || head[2] != 0x08 || head[3] == 0 || head[3] > CK_MAX_RANK))
        st = ck_fail(CK_ERR_FORMAT, "%s: not an unsigned-byte IDX file (magic %02x %02x %02x %02x)", path,
                     head[0], head[1], head[2], head[3]);
    if (st == CK_OK)
        st = read_exact(f, dims, 4u * head[3], path, "the dimensions");
    int64_t total = 1;
    for (int i = 0; st == CK_OK && i < head[3]; i++) {
        int64_t d = ((int64_t)dims[4 * i] << 24) | (dims[4 * i + 1] << 16) | (dims[4 * i + 2] << 8) | dims[4 * i + 3];
        out->shape.dim[i] = d;
        if (!ck_mul_ok(total, d, &total) || total > ((int64_t)1 << 34))
            st = ck_fail(CK_ERR_FORMAT, "%s: dimensions too large", path);
    }
    if (st == CK_OK && total > idx_max_bytes(path))
        st = ck_fail(CK_ERR_FORMAT, "%s: the dimensions promise %lld bytes, more than the file can hold", path,
                     (long long)total);
    out->shape.rank = head[3];
    if (st == CK_OK && !(out->data = ck_malloc((size_t)total + 1)))
        st = ck_fail(CK_ERR_NOMEM, "%s: out of memory for %lld bytes", path, (long long)total);
    if (st == CK_OK)
        st = read_exact(f, out->data, (size_t)total, path, "the data");
    gzclose(f);
    out->dtype = CK_UINT8;
    if (st != CK_OK) {
        ck_free(out->data);
        memset(out, 0, sizeof *out);
    }
    return st;
}
