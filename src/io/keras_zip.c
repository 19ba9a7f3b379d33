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

/* Reads a member whose stated size passes ck_zip_size_ok(implied, max). */
static ck_status read_member(zip_t *z, const char *name, const char *origin, uint64_t implied, int64_t max, char **data,
                             size_t *len)
{
    zip_stat_t zs;
    if (zip_stat(z, name, 0, &zs) < 0 || !(zs.valid & ZIP_STAT_SIZE) || !(zs.valid & ZIP_STAT_COMP_SIZE))
        return ck_fail(CK_ERR_FORMAT, "%s: archive member '%s' is missing", origin, name);
    bool stored = (zs.valid & ZIP_STAT_COMP_METHOD) && zs.comp_method == ZIP_CM_STORE;
    ck_status st = ck_zip_size_ok(zs.size, zs.comp_size, stored, implied, max, origin, name);
    if (st) return st;
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
    ck_limits lim;
    ck_get_limits(&lim);
    st = read_member(z, "config.json", path, 0, lim.config_max_bytes, &text, &len);
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
    if (!st && with_weights)
        st = read_member(z, "model.weights.h5", path, ck_weights_member_bytes(m), lim.inflate_max_bytes, &h5, &h5_len);
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
    /* Built in memory and written by ck_write_zip_atomic: Keras stores every
     * member uncompressed. */
    if (!st) {
        const char *names[] = {"metadata.json", "config.json", "model.weights.h5"};
        const void *data[] = {meta, config, h5};
        size_t lens[] = {strlen(meta), strlen(config), h5_len};
        st = ck_write_zip_atomic(path, names, data, lens, 3, false);
    }
    free(config);
    free(meta);
    ck_free(h5);
    return st;
}
