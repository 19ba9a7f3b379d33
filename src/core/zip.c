/* Zip members for the .keras and .npz readers and writers: the sizes a member
 * may inflate to, checked before a byte is inflated, and archives built in
 * memory then written atomically (file.c). */
#include "core/core.h"

#include <string.h>
#include <zip.h>

ck_status ck_write_zip_atomic(const char *path, const char *const *names, const void *const *data, const size_t *lens,
                              int n, bool deflate)
{
    /* libzip writes no file for an archive without members (its documented
     * choice); numpy's np.savez() of nothing writes the 22-byte end record alone,
     * which libzip reads back as an empty archive. */
    if (n == 0) {
        static const unsigned char empty[22] = {'P', 'K', 5, 6};
        return ck_write_file_atomic(path, empty, sizeof empty);
    }
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
    zip_t *z = src ? zip_open_from_source(src, ZIP_TRUNCATE, &ze) : NULL;
    ck_status st = z ? CK_OK : ck_fail(CK_ERR_NOMEM, "%s: cannot start the archive: %s", path, zip_error_strerror(&ze));
    if (!z && src) zip_source_free(src);
    zip_error_fini(&ze);
    if (st) return st;
    zip_source_keep(src); /* read back after zip_close */
    for (int i = 0; !st && i < n; i++) {
        zip_source_t *m = zip_source_buffer(z, data[i], lens[i], 0);
        zip_int64_t idx = m ? zip_file_add(z, names[i], m, ZIP_FL_OVERWRITE | ZIP_FL_ENC_UTF_8) : -1;
        if (idx < 0) {
            if (m) zip_source_free(m);
            st = ck_fail(CK_ERR_NOMEM, "%s: cannot add '%s': %s", path, names[i], zip_strerror(z));
        } else {
            zip_set_file_compression(z, (zip_uint64_t)idx, deflate ? ZIP_CM_DEFLATE : ZIP_CM_STORE, 0);
        }
    }
    if (!st && zip_close(z) < 0) {
        st = ck_fail(CK_ERR_NOMEM, "%s: cannot build the archive: %s", path, zip_strerror(z));
        zip_discard(z);
    } else if (st) {
        zip_discard(z);
    }
    zip_stat_t zs;
    char *buf = NULL;
    if (!st && (zip_source_stat(src, &zs) < 0 || !(zs.valid & ZIP_STAT_SIZE) || zip_source_open(src) < 0))
        st = ck_fail(CK_ERR_NOMEM, "%s: the archive built in memory cannot be read back", path);
    else if (!st) {
        buf = ck_malloc(zs.size ? (size_t)zs.size : 1);
        if (!buf || zip_source_read(src, buf, zs.size) != (zip_int64_t)zs.size)
            st = buf ? ck_fail(CK_ERR_NOMEM, "%s: the archive built in memory cannot be read back", path) : CK_ERR_NOMEM;
        zip_source_close(src);
    }
    zip_source_free(src);
    if (!st) st = ck_write_file_atomic(path, buf, (size_t)zs.size);
    ck_free(buf);
    return st;
}

/* Deflate emits at least one bit per 258 repeated bytes (RFC 1951 length codes),
 * so no member inflates beyond about 1032 times its compressed size. */
#define DEFLATE_MAX_RATIO 1032

ck_status ck_zip_size_ok(uint64_t size, uint64_t comp_size, bool stored, uint64_t implied, int64_t max,
                         const char *origin, const char *member)
{
    ck_limits lim;
    ck_get_limits(&lim);
    uint64_t reach = stored ? comp_size : comp_size * DEFLATE_MAX_RATIO + 1024;
    if (comp_size > ((uint64_t)1 << 50)) reach = UINT64_MAX;
    if (size > reach)
        return ck_fail(CK_ERR_FORMAT, "%s: archive member '%s' states %llu bytes, more than its %llu compressed bytes can hold",
                       origin, member, (unsigned long long)size, (unsigned long long)comp_size);
    if (implied && size > implied + (uint64_t)lim.inflate_slack_bytes)
        return ck_fail(CK_ERR_FORMAT, "%s: archive member '%s' states %llu bytes, its contents imply at most %llu",
                       origin, member, (unsigned long long)size,
                       (unsigned long long)(implied + (uint64_t)lim.inflate_slack_bytes));
    if (size > (uint64_t)max)
        return ck_fail(CK_ERR_FORMAT, "%s: archive member '%s' states %llu bytes, above the limit of %lld (ck_set_limits)",
                       origin, member, (unsigned long long)size, (long long)max);
    return CK_OK;
}
