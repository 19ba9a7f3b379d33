/* Opening and saving model files. The format is detected from the first bytes and
 * the structure inside, not from the file name (a legacy HDF5 file named .keras
 * is common), except for Keras model code, which has no signature: a text file
 * named .py; saving picks the format from the path's ending. Also the format
 * inspection and the raw weight listing that work without building a model. */
#include "io/files.h"
#include "train/train.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

static const unsigned char hdf5_magic[8] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n'};

static bool is_python_path(const char *path)
{
    size_t n = strlen(path);
    return n > 3 && !strcmp(path + n - 3, ".py");
}

static ck_status sniff(const char *path, const char **format)
{
    FILE *f = fopen(path, "rb");
    if (!f) return ck_fail(CK_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    unsigned char head[16] = {0};
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    size_t i = 0;
    while (i < n && (head[i] == ' ' || head[i] == '\n' || head[i] == '\r' || head[i] == '\t')) i++;
    if (n >= 8 && !memcmp(head, hdf5_magic, 8)) *format = "hdf5";
    else if (n >= 4 && head[0] == 'P' && head[1] == 'K' && head[2] == 3 && head[3] == 4) *format = "keras-zip";
    else if (i < n && (head[i] == '{' || head[i] == '[')) *format = "json";
    else if (is_python_path(path)) *format = "python";
    else return ck_fail(CK_ERR_FORMAT, "%s: not a Keras model file (neither JSON, a .keras zip nor HDF5)", path);
    return CK_OK;
}

/* HDF5 files: a full legacy model, or one of the two weights-only layouts. */
static const char *hdf5_kind(hid_t f)
{
    if (ck_h5_has_attr(f, "model_config")) return "hdf5-model";
    if (ck_h5_has_attr(f, "layer_names") || ck_h5_has_attr(f, "layer_names0")) return "hdf5-weights-legacy";
    if (ck_h5_exists(f, "layers") || ck_h5_exists(f, "vars")) return "hdf5-weights-keras3";
    return "hdf5";
}

const char *ck_file_format_open(const char *path, hid_t *h5)
{
    const char *format = NULL;
    *h5 = -1;
    if (sniff(path, &format)) return NULL;
    if (!strcmp(format, "hdf5")) {
        if (ck_h5_open(path, h5)) return NULL;
        format = hdf5_kind(*h5);
    } else if (!strcmp(format, "json")) {
        json_t *root;
        if (ck_read_json_file(path, &root)) return NULL;
        format = json_object_get(root, "modelTopology") ? "tfjs" : "keras-json";
        json_decref(root);
    }
    return format;
}

const char *ck_file_format(const char *path)
{
    hid_t f;
    const char *format = ck_file_format_open(path, &f);
    if (f >= 0) H5Fclose(f);
    return format;
}

static ck_model *load(const char *path, bool with_weights)
{
    const char *format;
    if (!path) {
        ck_fail(CK_ERR_ARG, "ck_model_load: path is NULL");
        return NULL;
    }
    if (sniff(path, &format)) return NULL;
    ck_model *m = NULL;
    ck_status st;
    if (!strcmp(format, "hdf5")) {
        st = ck_h5_model_load(path, with_weights, &m);
    } else if (!strcmp(format, "keras-zip")) {
        st = ck_keras_zip_load(path, with_weights, &m);
    } else if (!strcmp(format, "python")) {
        st = ck_python_model_load(path, &m);
    } else {
        json_t *root;
        if ((st = ck_read_json_file(path, &root))) return NULL;
        if (json_object_get(root, "modelTopology")) st = ck_tfjs_load(path, root, with_weights, &m);
        else st = ck_model_from_json_value(root, path, &m);
        json_decref(root);
    }
    return st ? NULL : m;
}

ck_model *ck_model_load(const char *path) { return load(path, true); }
ck_model *ck_model_load_config(const char *path) { return load(path, false); }

/* ---- weights into an existing model ------------------------------------------------ */
static ck_status load_weights_hdf5(ck_model *m, const char *path)
{
    hid_t f;
    ck_status st = ck_h5_open(path, &f);
    if (st) return st;
    const char *kind = hdf5_kind(f);
    if (!strcmp(kind, "hdf5-model")) {
        hid_t g = ck_h5_exists(f, "model_weights") ? H5Gopen2(f, "model_weights", H5P_DEFAULT) : -1;
        st = g < 0 ? ck_fail(CK_ERR_FORMAT, "%s: group 'model_weights' is missing", path) : ck_legacy_weights_read(m, g, path);
        if (g >= 0) H5Gclose(g);
    } else if (!strcmp(kind, "hdf5-weights-legacy")) {
        st = ck_legacy_weights_read(m, f, path);
    } else if (!strcmp(kind, "hdf5-weights-keras3")) {
        st = ck_keras3_weights_read(m, f, path);
    } else {
        st = ck_fail(CK_ERR_FORMAT, "%s: HDF5 file holds no Keras weights (no layer_names, no layers group)", path);
    }
    H5Fclose(f);
    return st;
}

ck_status ck_model_load_weights(ck_model *m, const char *path)
{
    if (!m || !path) return ck_fail(CK_ERR_ARG, "ck_model_load_weights: NULL argument");
    if (!m->base.built) return ck_fail(CK_ERR_STATE, "%s: model '%s' is not built", path, m->base.name);
    const char *format;
    ck_status st = sniff(path, &format);
    if (st) return st;
    if (!strcmp(format, "hdf5")) return load_weights_hdf5(m, path);
    /* Other formats carry a config: load it, check it matches, copy the weights. */
    ck_model *src = ck_model_load(path);
    if (!src) return CK_ERR_FORMAT; /* the message is already set */
    ck_weight_ref *a = NULL, *b = NULL;
    int na = 0, nb = 0;
    st = ck_model_init_weights(m);
    if (!st) st = ck_model_init_weights(src);
    if (!st) st = ck_model_collect_weights(m, &a, &na);
    if (!st) st = ck_model_collect_weights(src, &b, &nb);
    if (!st && na != nb) st = ck_fail(CK_ERR_SHAPE, "%s: the file has %d weights, the model %d", path, nb, na);
    for (int i = 0; !st && i < na; i++) {
        if (!ck_shape_eq(&a[i].w->shape, &b[i].w->shape)) st = ck_weight_shape_error(path, a[i].layer, a[i].w, &b[i].w->shape);
        else memcpy(a[i].w->value, b[i].w->value, (size_t)a[i].w->size * sizeof(float));
    }
    ck_free(a);
    ck_free(b);
    ck_model_free(src);
    return st;
}

/* ---- saving --------------------------------------------------------------------------- */
static bool ends_with(const char *s, const char *tail)
{
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && !strcmp(s + a - b, tail);
}

ck_status ck_weights_h5_save(const ck_model *m, const char *path)
{
    hid_t f;
    void *img = NULL;
    size_t len = 0;
    ck_status st = ck_h5_create_memory(&f);
    if (st) return st;
    st = ck_keras3_weights_write(m, f);
    if (!st) st = ck_h5_image(f, &img, &len);
    H5Fclose(f);
    if (!st) st = ck_write_file_atomic(path, img, len);
    ck_free(img);
    return st;
}

/* Keras's legacy save (legacy_h5_format.save_model_to_hdf5) records the model and
 * each entry of its `layers` lists, nested models' too, without module,
 * registered_name, build_config and compile_config, under the layer's Python
 * class name (GroupedQueryAttention, not its export alias). */
static void legacy_config(json_t *o, int depth)
{
    json_t *cls = json_object_get(o, "class_name");
    if (!json_is_string(cls) || depth > 32) return;
    static const char *const dropped[] = {"module", "registered_name", "build_config", "compile_config"};
    for (int i = 0; i < CK_N_OF(dropped); i++) json_object_del(o, dropped[i]);
    const ck_layer_class *c = ck_find_layer_class(json_string_value(cls));
    if (c) json_object_set_new(o, "class_name", json_string(c->class_name));
    json_t *layers = json_object_get(json_object_get(o, "config"), "layers"), *e;
    size_t i;
    json_array_foreach(layers, i, e) legacy_config(e, depth + 1);
}

static ck_status legacy_model_config(const ck_model *m, char **text)
{
    json_t *o = ck_model_config_json(m);
    legacy_config(o, 0);
    *text = o ? json_dumps(o, JSON_PRESERVE_ORDER) : NULL;
    json_decref(o);
    return *text ? CK_OK : ck_fail(CK_ERR_NOMEM, "model '%s': config could not be written", m->base.name);
}

ck_status ck_h5_model_save(const ck_model *m, const char *path)
{
    hid_t f;
    void *img = NULL;
    size_t len = 0;
    char *config = NULL;
    ck_status st = legacy_model_config(m, &config);
    if (st) return st;
    if ((st = ck_h5_create_memory(&f))) {
        free(config);
        return st;
    }
    st = ck_h5_set_attr_string(f, "keras_version", "3.15.1");
    if (!st) st = ck_h5_set_attr_string(f, "backend", "jax");
    if (!st) st = ck_h5_set_attr_string(f, "model_config", config);
    if (!st) st = ck_legacy_training_write(m, f);
    hid_t g = st ? -1 : ck_h5_group(f, "model_weights");
    if (!st && g < 0) st = ck_fail(CK_ERR_IO, "%s: cannot create group 'model_weights'", path);
    if (!st) st = ck_legacy_weights_write(m, g);
    if (!st) {
        hid_t top = ck_h5_group(g, "top_level_model_weights");
        st = top < 0 ? ck_fail(CK_ERR_IO, "%s: cannot create group 'top_level_model_weights'", path)
                     : ck_legacy_set_weight_names(top, NULL, 0);
        if (top >= 0) H5Gclose(top);
    }
    if (g >= 0) H5Gclose(g);
    if (!st) st = ck_h5_image(f, &img, &len);
    H5Fclose(f);
    if (!st) st = ck_write_file_atomic(path, img, len);
    ck_free(img);
    free(config);
    return st;
}

/* "web/": a TF.js folder, as tensorflowjs_converter's output_path (model.json in it). */
static ck_status save_tfjs_folder(const ck_model *m, const char *dir)
{
    char path[4200];
    snprintf(path, sizeof path, "%smodel.json", dir);
    return ck_tfjs_save(m, path);
}

ck_status ck_model_save(const ck_model *m, const char *path)
{
    if (!m || !path) return ck_fail(CK_ERR_ARG, "ck_model_save: NULL argument");
    if (!m->base.built) return ck_fail(CK_ERR_STATE, "%s: model '%s' is not built", path, m->base.name);
    /* drawing pending initial values leaves the model as it was, logically */
    ck_status st = ck_model_init_weights((ck_model *)m);
    /* likewise building the optimizer a legacy .h5 load left unbuilt (its first
     * fit would): the file written keeps that .h5's optimizer state */
    if (!st) st = ck_optimizer_adopt_pending((ck_model *)m);
    if (st) return st;
    if (ends_with(path, ".keras")) st = ck_keras_zip_save(m, path);
    else if (ends_with(path, ".weights.h5")) st = ck_weights_h5_save(m, path);
    else if (ends_with(path, ".h5") || ends_with(path, ".hdf5")) st = ck_h5_model_save(m, path);
    else if (ends_with(path, ".json")) st = ck_tfjs_save(m, path);
    else if (ends_with(path, "/")) st = save_tfjs_folder(m, path);
    else return ck_fail(CK_ERR_ARG, "%s: unknown output format (use .keras, .h5, .weights.h5, model.json or a folder/)", path);
    /* the path once: some writers name it already */
    if (st && strncmp(ck_errmsg(), path, strlen(path)) != 0) st = ck_fail_prefix(st, "%s: ", path);
    return st;
}
