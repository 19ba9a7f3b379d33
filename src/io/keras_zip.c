/* Keras 3 .keras archives: a stored zip of metadata.json, config.json and
 * model.weights.h5. Reading takes config.json (and the weights when asked) straight
 * from the archive in memory; writing builds the three members and renames the
 * finished zip over the target, so an interrupted save never damages a file. */
#include "io/files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zip.h>

#define MEMBER_MAX ((zip_uint64_t)1 << 34) /* 16 GB: refuse absurd member sizes */

static ck_status read_member(zip_t *z, const char *name, const char *origin, char **data, size_t *len)
{
    zip_stat_t zs;
    if (zip_stat(z, name, 0, &zs) < 0 || !(zs.valid & ZIP_STAT_SIZE))
        return ck_fail(CK_ERR_FORMAT, "%s: archive member '%s' is missing", origin, name);
    if (zs.size > MEMBER_MAX) return ck_fail(CK_ERR_FORMAT, "%s: archive member '%s' is too large", origin, name);
    char *buf = ck_malloc((size_t)zs.size + 1);
    if (!buf) return CK_ERR_NOMEM;
    zip_file_t *zf = zip_fopen(z, name, 0);
    zip_int64_t got = zf ? zip_fread(zf, buf, zs.size) : -1;
    if (zf) zip_fclose(zf);
    if (got < 0 || (zip_uint64_t)got != zs.size) {
        ck_free(buf);
        return ck_fail(CK_ERR_FORMAT, "%s: archive member '%s' is damaged (truncated or corrupt)", origin, name);
    }
    buf[zs.size] = '\0';
    *data = buf;
    *len = (size_t)zs.size;
    return CK_OK;
}

static ck_status open_zip(const char *path, zip_t **z)
{
    int err = 0;
    *z = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &err);
    if (!*z) {
        zip_error_t ze;
        zip_error_init_with_code(&ze, err);
        ck_status st = ck_fail(CK_ERR_FORMAT, "%s: not a readable .keras zip archive (%s)", path, zip_error_strerror(&ze));
        zip_error_fini(&ze);
        return st;
    }
    return CK_OK;
}

ck_status ck_keras_zip_load(const char *path, bool with_weights, ck_model **out)
{
    zip_t *z;
    ck_status st = open_zip(path, &z);
    if (st) return st;
    char *text = NULL, *h5 = NULL;
    size_t len = 0, h5_len = 0;
    char origin[1200];
    snprintf(origin, sizeof origin, "%s: config.json", path);
    st = read_member(z, "config.json", path, &text, &len);
    json_t *root = NULL;
    if (!st) {
        json_error_t err;
        root = json_loadb(text, len, 0, &err);
        if (!root) st = ck_fail(CK_ERR_FORMAT, "%s: JSON syntax error at line %d, column %d: %s", origin, err.line,
                                err.column, err.text);
    }
    ck_free(text);
    ck_model *m = NULL;
    if (!st) st = ck_model_from_json_value(root, path, &m);
    if (!st) ck_keras_restore_compile(m, json_object_get(root, "compile_config"));
    json_decref(root);
    if (!st && with_weights) st = read_member(z, "model.weights.h5", path, &h5, &h5_len);
    zip_close(z);
    if (!st && with_weights) {
        hid_t f;
        snprintf(origin, sizeof origin, "%s: model.weights.h5", path);
        if (!(st = ck_h5_open_image(h5, h5_len, origin, &f))) {
            st = ck_keras3_weights_read(m, f, origin);
            if (!st) st = ck_keras3_optimizer_read(m, f, origin);
            H5Fclose(f);
        }
    }
    ck_free(h5);
    if (st) {
        ck_model_free(m);
        return st;
    }
    *out = m;
    return CK_OK;
}

/* ---- writing ---------------------------------------------------------------------- */
static ck_status add_member(zip_t *z, const char *name, const void *data, size_t len)
{
    zip_source_t *src = zip_source_buffer(z, data, len, 0);
    zip_int64_t idx = src ? zip_file_add(z, name, src, ZIP_FL_OVERWRITE | ZIP_FL_ENC_UTF_8) : -1;
    if (idx < 0) {
        if (src) zip_source_free(src);
        return ck_fail(CK_ERR_IO, "cannot add '%s' to the archive: %s", name, zip_strerror(z));
    }
    /* Keras writes every member stored, uncompressed. */
    zip_set_file_compression(z, (zip_uint64_t)idx, ZIP_CM_STORE, 0);
    return CK_OK;
}

static char *metadata_json(void)
{
    char date[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(date, sizeof date, "%Y-%m-%d@%H:%M:%S", &tm);
    json_t *meta = json_pack("{s:s, s:s}", "keras_version", "3.15.1", "date_saved", date);
    char *s = json_dumps(meta, JSON_PRESERVE_ORDER);
    json_decref(meta);
    return s;
}

ck_status ck_keras_zip_save(const ck_model *m, const char *path)
{
    char *config = NULL, *meta = metadata_json();
    void *h5 = NULL;
    size_t h5_len = 0;
    hid_t f = -1;
    ck_status st = ck_model_to_json(m, &config);
    if (!st && !meta) st = CK_ERR_NOMEM;
    if (!st) st = ck_h5_create_memory(&f);
    if (!st) st = ck_keras3_weights_write(m, f);
    if (!st) st = ck_keras3_optimizer_write(m, f);
    if (!st) st = ck_h5_image(f, &h5, &h5_len);
    if (f >= 0) H5Fclose(f);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp-%ld", path, (long)getpid());
    zip_t *z = NULL;
    if (!st) {
        int err = 0;
        z = zip_open(tmp, ZIP_CREATE | ZIP_TRUNCATE, &err);
        if (!z) st = ck_fail(CK_ERR_IO, "%s: cannot create the archive", path);
    }
    if (!st) st = add_member(z, "metadata.json", meta, strlen(meta));
    if (!st) st = add_member(z, "config.json", config, strlen(config));
    if (!st) st = add_member(z, "model.weights.h5", h5, h5_len);
    if (z && !st && zip_close(z) < 0) {
        st = ck_fail(CK_ERR_IO, "%s: cannot write the archive: %s", path, zip_strerror(z));
        zip_discard(z);
    } else if (z && st) {
        zip_discard(z);
    }
    if (!st && rename(tmp, path) != 0) st = ck_fail(CK_ERR_IO, "%s: cannot replace the file", path);
    if (st) remove(tmp);
    free(config);
    free(meta);
    ck_free(h5);
    return st;
}
