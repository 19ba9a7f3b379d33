/* Looking inside model files without building a model: the format, writer,
 * version and whether optimizer state is present (ckeras inspect), and the raw
 * list of stored weight arrays, which works even when the architecture uses
 * layers ckeras does not know (QKeras, Lambda, subclassed models). */
#include "io/files.h"

#include <stdlib.h>
#include <string.h>
#include <zip.h>

typedef struct visit_ctx {
    ck_stored_weight_fn fn;
    void *ctx;
    const char *origin;
    const char *prefix;     /* skip datasets outside this group ("" = all) */
    ck_status st;
    int stop;
} visit_ctx;

static herr_t visit_cb(hid_t obj, const char *name, const H5O_info_t *info, void *data)
{
    visit_ctx *v = data;
    if (info->type != H5O_TYPE_DATASET || strncmp(name, v->prefix, strlen(v->prefix))) return 0;
    /* Optimizer state is not part of the model's weights. */
    if (!strncmp(name, "optimizer/", 10) || !strncmp(name, "optimizer_weights/", 18)) return 0;
    ck_shape shape;
    int64_t n;
    if (ck_h5_dataset_shape(obj, name, v->origin, &shape, &n)) return 0; /* text datasets are not weights */
    v->stop = v->fn(v->ctx, name, &shape);
    return v->stop ? 1 : 0;
}

static ck_status list_h5(hid_t f, const char *origin, ck_stored_weight_fn fn, void *ctx)
{
    /* A full legacy model keeps its weights under model_weights/. */
    visit_ctx v = {fn, ctx, origin, ck_h5_has_attr(f, "model_config") ? "model_weights/" : "", CK_OK, 0};
    if (H5Ovisit(f, H5_INDEX_NAME, H5_ITER_INC, visit_cb, &v) < 0)
        return ck_fail(CK_ERR_FORMAT, "%s: the HDF5 tree could not be walked", origin);
    return v.st;
}

/* implied: what the member's contents should take (ck_zip_size_ok), 0 if unknown. */
static ck_status zip_member(const char *path, const char *name, uint64_t implied, char **data, size_t *len)
{
    int err = 0;
    zip_t *z = zip_open(path, ZIP_RDONLY | ZIP_CHECKCONS, &err);
    if (!z) return ck_fail(CK_ERR_FORMAT, "%s: not a readable zip archive", path);
    zip_stat_t zs;
    ck_status st = CK_OK;
    ck_limits lim;
    ck_get_limits(&lim);
    int64_t max = strstr(name, ".json") ? lim.config_max_bytes : lim.inflate_max_bytes;
    if (zip_stat(z, name, 0, &zs) < 0 || !(zs.valid & ZIP_STAT_SIZE) || !(zs.valid & ZIP_STAT_COMP_SIZE)) {
        st = ck_fail(CK_ERR_FORMAT, "%s: archive member '%s' is missing", path, name);
    } else if ((st = ck_zip_size_ok(zs.size, zs.comp_size,
                                    (zs.valid & ZIP_STAT_COMP_METHOD) && zs.comp_method == ZIP_CM_STORE, implied, max, path,
                                    name))) {
    } else {
        char *buf = ck_malloc((size_t)zs.size + 1);
        zip_file_t *zf = buf ? zip_fopen(z, name, 0) : NULL;
        zip_int64_t got = zf ? zip_fread(zf, buf, zs.size) : -1;
        if (zf) zip_fclose(zf);
        if (!buf) st = CK_ERR_NOMEM;
        else if (got < 0 || (zip_uint64_t)got != zs.size) {
            ck_free(buf);
            st = ck_fail(CK_ERR_FORMAT, "%s: archive member '%s' is damaged", path, name);
        } else {
            buf[zs.size] = '\0';
            *data = buf;
            *len = (size_t)zs.size;
        }
    }
    zip_close(z);
    return st;
}

/* Opens the HDF5 part of a file in format fmt: itself (already open in *f when the
 * caller detected the format with ck_file_format_open), or a .keras archive's
 * model.weights.h5. */
static ck_status open_weights_h5(const char *path, const char *fmt, hid_t *f, char *origin, size_t cap)
{
    snprintf(origin, cap, "%s", path);
    if (!strncmp(fmt, "hdf5", 4)) return *f >= 0 ? CK_OK : ck_h5_open(path, f);
    if (strcmp(fmt, "keras-zip")) return ck_fail(CK_ERR_UNSUPPORTED, "%s: a %s file holds no HDF5 weights", path, fmt);
    char *data;
    size_t len;
    /* Architectures ckeras can build bound the weights by their size. */
    ck_model *arch = ck_model_load_config(path);
    uint64_t implied = ck_weights_member_bytes(arch);
    ck_model_free(arch);
    ck_status st = zip_member(path, "model.weights.h5", implied, &data, &len);
    if (st) return st;
    snprintf(origin, cap, "%s: model.weights.h5", path);
    st = ck_h5_open_image(data, len, origin, f);
    ck_free(data);
    return st;
}

static ck_status list_tfjs(const char *path, ck_stored_weight_fn fn, void *ctx)
{
    json_t *root;
    ck_status st = ck_read_json_file(path, &root);
    if (st) return st;
    size_t i, k;
    json_t *g, *w;
    json_array_foreach(json_object_get(root, "weightsManifest"), i, g) {
        json_array_foreach(json_object_get(g, "weights"), k, w) {
            json_t *shape = json_object_get(w, "shape");
            ck_shape s = {.rank = (int)json_array_size(shape)};
            if (s.rank > CK_MAX_RANK) {
                json_decref(root);
                return ck_fail(CK_ERR_FORMAT, "%s: a weight has too many dimensions", path);
            }
            for (int d = 0; d < s.rank; d++) s.dim[d] = json_integer_value(json_array_get(shape, (size_t)d));
            const char *name = json_string_value(json_object_get(w, "name"));
            if (fn(ctx, name ? name : "?", &s)) {
                json_decref(root);
                return CK_OK;
            }
        }
    }
    json_decref(root);
    return CK_OK;
}

/* The listing of a file whose format is known; h5 is its open HDF5 file or -1. */
static ck_status list_weights(const char *path, const char *fmt, hid_t h5, ck_stored_weight_fn fn, void *ctx)
{
    if (!strcmp(fmt, "tfjs")) return list_tfjs(path, fn, ctx);
    if (!strcmp(fmt, "keras-json")) return ck_fail(CK_ERR_UNSUPPORTED, "%s: a JSON config holds no weights", path);
    hid_t f = h5;
    char origin[1200];
    ck_status st = open_weights_h5(path, fmt, &f, origin, sizeof origin);
    if (st) return st;
    st = list_h5(f, origin, fn, ctx);
    if (f != h5) H5Fclose(f);
    return st;
}

ck_status ck_file_list_weights(const char *path, ck_stored_weight_fn fn, void *ctx)
{
    if (!path || !fn) return ck_fail(CK_ERR_ARG, "ck_file_list_weights: NULL argument");
    hid_t h5;
    const char *fmt = ck_file_format_open(path, &h5);
    if (!fmt) return CK_ERR_FORMAT;
    ck_status st = list_weights(path, fmt, h5, fn, ctx);
    if (h5 >= 0) H5Fclose(h5);
    return st;
}

ck_status ck_file_read_weight(const char *path, const char *weight_path, ck_shape *shape, float **data)
{
    if (!path || !weight_path || !shape || !data) return ck_fail(CK_ERR_ARG, "ck_file_read_weight: NULL argument");
    hid_t f;
    char origin[1200];
    const char *fmt = ck_file_format_open(path, &f);
    if (!fmt) return CK_ERR_FORMAT;
    ck_status st = open_weights_h5(path, fmt, &f, origin, sizeof origin);
    if (st) return st;
    int64_t n = 0;
    st = ck_h5_dataset_shape(f, weight_path, origin, shape, &n);
    float *buf = st ? NULL : malloc((size_t)(n ? n : 1) * sizeof *buf);
    if (!st && !buf) st = CK_ERR_NOMEM;
    if (!st) st = ck_h5_read_floats(f, weight_path, origin, buf, n);
    H5Fclose(f);
    if (st) {
        free(buf);
        return st;
    }
    *data = buf;
    return CK_OK;
}

/* ---- inspect -------------------------------------------------------------------------- */
static int count_cb(void *ctx, const char *path, const ck_shape *s)
{
    (void)path;
    ck_file_info *info = ctx;
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++) n *= s->dim[i] < 0 ? 0 : s->dim[i];
    info->n_weights++;
    info->n_values += n;
    return 0;
}

static void copy_str(char *dst, size_t cap, const char *src) { snprintf(dst, cap, "%s", src ? src : ""); }

static void config_facts(json_t *root, ck_file_info *info)
{
    json_t *topo = json_object_get(root, "modelTopology");
    if (topo) root = topo;
    json_t *mc = json_object_get(root, "model_config");
    if (json_is_object(mc)) {
        copy_str(info->keras_version, sizeof info->keras_version, json_string_value(json_object_get(root, "keras_version")));
        copy_str(info->backend, sizeof info->backend, json_string_value(json_object_get(root, "backend")));
        root = mc;
    }
    if (!info->keras_version[0])
        copy_str(info->keras_version, sizeof info->keras_version, json_string_value(json_object_get(root, "keras_version")));
    if (!info->backend[0]) copy_str(info->backend, sizeof info->backend, json_string_value(json_object_get(root, "backend")));
    copy_str(info->model_class, sizeof info->model_class, json_string_value(json_object_get(root, "class_name")));
    if (json_object_get(root, "compile_config") && !json_is_null(json_object_get(root, "compile_config")) &&
        json_object_size(json_object_get(root, "compile_config")) > 0)
        info->has_optimizer = true;
    info->has_config = json_is_object(root) && json_object_get(root, "class_name");
}

static void inspect_hdf5(const char *path, hid_t f, ck_file_info *info)
{
    char *s = NULL;
    if (!ck_h5_attr_string(f, "keras_version", path, &s)) copy_str(info->keras_version, sizeof info->keras_version, s);
    ck_free(s);
    s = NULL;
    if (!ck_h5_attr_string(f, "backend", path, &s)) copy_str(info->backend, sizeof info->backend, s);
    ck_free(s);
    s = NULL;
    if (!ck_h5_attr_string(f, "model_config", path, &s)) {
        json_t *root = json_loads(s, 0, NULL);
        config_facts(root, info);
        json_decref(root);
    }
    ck_free(s);
    info->has_optimizer = ck_h5_has_attr(f, "training_config") || ck_h5_exists(f, "optimizer_weights") ||
                          ck_h5_exists(f, "optimizer");
}

/* A .keras archive: its config and metadata, then its weights file, opened once. */
static ck_status inspect_keras_zip(const char *path, ck_file_info *info)
{
    char *data;
    size_t len;
    ck_status st = zip_member(path, "config.json", 0, &data, &len);
    if (st) return st;
    json_t *root = json_loadb(data, len, 0, NULL);
    ck_free(data);
    config_facts(root, info);
    json_decref(root);
    if (!zip_member(path, "metadata.json", 0, &data, &len)) {
        json_t *meta = json_loadb(data, len, 0, NULL);
        copy_str(info->keras_version, sizeof info->keras_version, json_string_value(json_object_get(meta, "keras_version")));
        json_decref(meta);
        ck_free(data);
    }
    hid_t f = -1;
    char origin[1200];
    if ((st = open_weights_h5(path, "keras-zip", &f, origin, sizeof origin))) return st;
    if (ck_h5_exists(f, "optimizer")) info->has_optimizer = true;
    st = list_h5(f, origin, count_cb, info);
    H5Fclose(f);
    return st;
}

ck_status ck_file_inspect(const char *path, ck_file_info *info)
{
    if (!path || !info) return ck_fail(CK_ERR_ARG, "ck_file_inspect: NULL argument");
    *info = (ck_file_info){0};
    hid_t h5;
    const char *fmt = ck_file_format_open(path, &h5);
    if (!fmt) return CK_ERR_FORMAT;
    copy_str(info->format, sizeof info->format, fmt);
    ck_status st = CK_OK;
    if (h5 >= 0) {
        inspect_hdf5(path, h5, info);
        st = list_weights(path, fmt, h5, count_cb, info);
        H5Fclose(h5);
    } else if (!strcmp(fmt, "keras-zip")) {
        st = inspect_keras_zip(path, info);
    } else {
        json_t *root;
        if ((st = ck_read_json_file(path, &root))) return st;
        config_facts(root, info);
        if (!strcmp(fmt, "tfjs") && !info->keras_version[0])
            copy_str(info->keras_version, sizeof info->keras_version, json_string_value(json_object_get(root, "generatedBy")));
        json_decref(root);
        if (strcmp(fmt, "keras-json")) st = list_weights(path, fmt, -1, count_cb, info);
    }
    info->has_weights = info->n_weights > 0;
    return st;
}
