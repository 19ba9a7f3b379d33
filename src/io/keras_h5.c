/* Keras weights in HDF5, both layouts: Keras 3's attribute-path layout
 * (layers/<snake class name>/vars/<i>, used by model.weights.h5 inside .keras and by
 * .weights.h5 files) and the legacy layout of model.save('x.h5') and Keras 2's
 * save_weights (layer_names, per-layer weight_names). Also the legacy full-model
 * reader: its architecture is the root attribute model_config. */
#include "io/files.h"
#include "graph/config.h"

#include <string.h>

/* ---- the weights of one layer --------------------------------------------------- */
static ck_status wlist_add(ck_layer *l, ck_wlist *out)
{
    if (l->model) {
        for (int i = 0; i < l->model->n_layers; i++) {
            ck_status st = wlist_add(l->model->layers[i], out);
            if (st) return st;
        }
        return CK_OK;
    }
    for (int k = 0; k < l->n_weights; k++) {
        ck_status st = ck_grow((void **)&out->w, &out->cap, out->n + 1, sizeof *out->w);
        if (!st) st = ck_grow((void **)&out->owner, &out->cap_owner, out->n + 1, sizeof *out->owner);
        if (st) return st;
        out->w[out->n] = &l->weights[k];
        out->owner[out->n++] = l;
    }
    return CK_OK;
}

ck_status ck_wlist_of_layer(ck_layer *l, ck_wlist *out)
{
    *out = (ck_wlist){0};
    ck_status st = wlist_add(l, out);
    if (st) ck_wlist_free(out);
    return st;
}

void ck_wlist_free(ck_wlist *wl)
{
    ck_free(wl->w);
    ck_free(wl->owner);
    *wl = (ck_wlist){0};
}

ck_status ck_weight_shape_error(const char *origin, const ck_layer *owner, const ck_weight *w, const ck_shape *got)
{
    char e[128], g[128];
    ck_shape_repr(&w->shape, e, sizeof e);
    ck_shape_repr(got, g, sizeof g);
    return ck_fail(CK_ERR_SHAPE, "%s: layer '%s' weight '%s': expected shape %s, got %s", origin, owner->name,
                   w->name, e, g);
}

ck_status ck_load_h5_weight(hid_t loc, const char *dataset, const char *origin, const ck_layer *owner, ck_weight *w)
{
    ck_shape got;
    int64_t n;
    char where[1400];
    snprintf(where, sizeof where, "%s: layer '%s' weight '%s'", origin, owner->name, w->name);
    ck_status st = ck_h5_dataset_shape(loc, dataset, where, &got, &n);
    if (st) return st;
    if (!ck_shape_eq(&got, &w->shape)) return ck_weight_shape_error(origin, owner, w, &got);
    return ck_h5_read_floats(loc, dataset, origin, w->value, w->size);
}

/* ---- Keras 3 layout ------------------------------------------------------------- */
/* Keras names each list entry by its snake-cased class, numbered on repeats. */
typedef struct name_counter {
    char names[256][CK_STR_MAX];
    int counts[256];
    int n;
} name_counter;

static void entry_name(name_counter *c, const ck_layer *l, char *out, size_t cap)
{
    char snake[CK_STR_MAX];
    const char *cls = l->model ? (l->model->kind == CK_SEQUENTIAL ? "Sequential" : "Functional") : l->cls->class_name;
    ck_snake_case(cls, snake, sizeof snake);
    for (int i = 0; i < c->n; i++) {
        if (strcmp(c->names[i], snake)) continue;
        snprintf(out, cap, "%s_%d", snake, ++c->counts[i]);
        return;
    }
    if (c->n < 256) {
        snprintf(c->names[c->n], CK_STR_MAX, "%s", snake);
        c->counts[c->n++] = 0;
    }
    snprintf(out, cap, "%s", snake);
}

/* The vars group of a layer: its own, or its RNN cell's (layers/lstm/cell/vars). */
static void vars_path(hid_t file, const char *base, char *out, size_t cap)
{
    snprintf(out, cap, "%s/cell/vars", base);
    if (ck_h5_exists(file, out)) {
        char own[1200];
        snprintf(own, sizeof own, "%s/vars/0", base);
        if (!ck_h5_exists(file, own)) return;
    }
    snprintf(out, cap, "%s/vars", base);
}

static ck_status keras3_read_model(ck_model *m, hid_t file, const char *prefix, const char *origin, int depth)
{
    if (depth > 32) return ck_fail(CK_ERR_FORMAT, "%s: models nested too deeply", origin);
    name_counter *names = ck_calloc(1, sizeof *names);
    if (!names) return CK_ERR_NOMEM;
    ck_status st = CK_OK;
    for (int i = 0; !st && i < m->n_layers; i++) {
        ck_layer *l = m->layers[i];
        char entry[CK_STR_MAX + 16], base[1024], vars[1100], ds[1200];
        entry_name(names, l, entry, sizeof entry);
        snprintf(base, sizeof base, "%.900slayers/%s", prefix, entry);
        if (l->model) {
            char inner[1100];
            snprintf(inner, sizeof inner, "%.1000s/", base);
            st = keras3_read_model(l->model, file, inner, origin, depth + 1);
            continue;
        }
        if (!l->n_weights) continue;
        vars_path(file, base, vars, sizeof vars);
        if (!ck_h5_exists(file, vars)) {
            st = ck_fail(CK_ERR_FORMAT, "%s: layer '%s': group '%s' with its %d weight%s is missing", origin, l->name,
                         vars, l->n_weights, l->n_weights == 1 ? "" : "s");
            break;
        }
        for (int k = 0; !st && k < l->n_weights; k++) {
            snprintf(ds, sizeof ds, "%s/%d", vars, k);
            st = ck_load_h5_weight(file, ds, origin, l, &l->weights[k]);
        }
        snprintf(ds, sizeof ds, "%s/%d", vars, l->n_weights);
        if (!st && ck_h5_exists(file, ds))
            st = ck_fail(CK_ERR_FORMAT, "%s: layer '%s': the file has more than its %d weights under '%s'", origin,
                         l->name, l->n_weights, vars);
    }
    ck_free(names);
    return st;
}

ck_status ck_keras3_weights_read(ck_model *m, hid_t file, const char *origin)
{
    ck_status st = ck_model_init_weights(m); /* weights the file lacks keep their initial values */
    return st ? st : keras3_read_model(m, file, "", origin, 0);
}

static ck_status write_vars(hid_t file, const char *path, const char *name, const ck_weight *ws, int n)
{
    hid_t g = ck_h5_group(file, path);
    if (g < 0) return ck_fail(CK_ERR_IO, "cannot create HDF5 group '%s'", path);
    ck_status st = name ? ck_h5_set_attr_string(g, "name", name) : CK_OK;
    for (int k = 0; !st && k < n; k++) {
        char ds[16];
        snprintf(ds, sizeof ds, "%d", k);
        st = ck_h5_write_floats(g, ds, &ws[k].shape, ws[k].value);
    }
    H5Gclose(g);
    return st;
}

static ck_status keras3_write_model(const ck_model *m, hid_t file, const char *prefix, int depth)
{
    if (depth > 32) return ck_fail(CK_ERR_FORMAT, "models nested too deeply");
    name_counter *names = ck_calloc(1, sizeof *names);
    if (!names) return CK_ERR_NOMEM;
    char path[1200];
    snprintf(path, sizeof path, "%.900svars", prefix);
    ck_status st = write_vars(file, path, m->base.name, NULL, 0);
    for (int i = 0; !st && i < m->n_layers; i++) {
        const ck_layer *l = m->layers[i];
        char entry[CK_STR_MAX + 16], base[1024];
        entry_name(names, l, entry, sizeof entry);
        snprintf(base, sizeof base, "%.900slayers/%s", prefix, entry);
        if (l->model) {
            char inner[1100];
            snprintf(inner, sizeof inner, "%.1000s/", base);
            st = keras3_write_model(l->model, file, inner, depth + 1);
            continue;
        }
        snprintf(path, sizeof path, "%.1000s/vars", base);
        st = write_vars(file, path, l->name, l->weights, l->n_weights);
    }
    ck_free(names);
    return st;
}

ck_status ck_keras3_weights_write(const ck_model *m, hid_t file)
{
    return keras3_write_model(m, file, "", 0);
}

/* ---- legacy layout -------------------------------------------------------------- */
/* Keras's load_weights_from_hdf5_group: layers with weights are matched in order. */
ck_status ck_legacy_weights_read(ck_model *m, hid_t group, const char *origin)
{
    char **names;
    int n_names;
    ck_status st = ck_model_init_weights(m);
    if (st) return st;
    st = ck_h5_attr_strings(group, "layer_names", origin, &names, &n_names);
    if (st) return st;
    int file_i = 0;
    for (int i = 0; !st && i < m->n_layers; i++) {
        ck_wlist wl;
        if ((st = ck_wlist_of_layer(m->layers[i], &wl))) break;
        if (!wl.n) {
            ck_wlist_free(&wl);
            continue;
        }
        char **wn = NULL;
        int n_wn = 0;
        hid_t g = -1;
        /* Skip the file's layers without weights (InputLayer, Dropout, ...). */
        while (!st && file_i < n_names) {
            g = H5Gopen2(group, names[file_i], H5P_DEFAULT);
            if (g < 0) {
                st = ck_fail(CK_ERR_FORMAT, "%s: group for layer '%s' is missing", origin, names[file_i]);
                break;
            }
            st = ck_h5_attr_strings(g, "weight_names", origin, &wn, &n_wn);
            file_i++;
            if (!st && n_wn > 0) break;
            H5Gclose(g);
            g = -1;
        }
        if (!st && g < 0)
            st = ck_fail(CK_ERR_FORMAT, "%s: layer '%s' has %d weights but the file has no more layers with weights",
                         origin, m->layers[i]->name, wl.n);
        if (!st && n_wn != wl.n)
            st = ck_fail(CK_ERR_SHAPE, "%s: layer '%s' has %d weights but the file's layer '%s' has %d", origin,
                         m->layers[i]->name, wl.n, names[file_i - 1], n_wn);
        for (int k = 0; !st && k < wl.n; k++) st = ck_load_h5_weight(g, wn[k], origin, wl.owner[k], wl.w[k]);
        if (g >= 0) H5Gclose(g);
        ck_h5_free_strings(wn, n_wn);
        ck_wlist_free(&wl);
    }
    while (!st && file_i < n_names) {
        hid_t g = H5Gopen2(group, names[file_i], H5P_DEFAULT);
        char **wn = NULL;
        int n_wn = 0;
        if (g >= 0 && !ck_h5_attr_strings(g, "weight_names", origin, &wn, &n_wn) && n_wn > 0)
            st = ck_fail(CK_ERR_FORMAT, "%s: the file's layer '%s' has weights but the model has no layer left for them",
                         origin, names[file_i]);
        ck_h5_free_strings(wn, n_wn);
        if (g >= 0) H5Gclose(g);
        file_i++;
    }
    ck_h5_free_strings(names, n_names);
    return st;
}

ck_status ck_legacy_weights_write(const ck_model *m, hid_t group)
{
    const char **names = ck_calloc((size_t)m->n_layers + 1, sizeof *names);
    if (!names) return CK_ERR_NOMEM;
    for (int i = 0; i < m->n_layers; i++) names[i] = m->layers[i]->name;
    ck_status st = ck_h5_set_attr_strings(group, "layer_names", names, m->n_layers);
    if (!st) st = ck_h5_set_attr_string(group, "backend", "jax");
    if (!st) st = ck_h5_set_attr_string(group, "keras_version", "3.15.1");
    ck_free(names);
    for (int i = 0; !st && i < m->n_layers; i++) {
        ck_layer *l = m->layers[i];
        ck_wlist wl;
        if ((st = ck_wlist_of_layer(l, &wl))) break;
        hid_t g = ck_h5_group(group, l->name);
        const char **wn = ck_calloc((size_t)wl.n + 1, sizeof *wn);
        if (g < 0 || !wn) st = g < 0 ? ck_fail(CK_ERR_IO, "cannot create HDF5 group '%s'", l->name) : CK_ERR_NOMEM;
        /* Keras 3's legacy writer names each weight by its variable.path. */
        for (int k = 0; !st && k < wl.n; k++) {
            wn[k] = wl.w[k]->path;
            const char *slash = strrchr(wl.w[k]->path, '/');
            char dir[300];
            snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - wl.w[k]->path) : 0, wl.w[k]->path);
            hid_t d = *dir ? ck_h5_group(g, dir) : H5Gopen2(g, ".", H5P_DEFAULT);
            if (d < 0) st = ck_fail(CK_ERR_IO, "cannot create HDF5 group '%s'", dir);
            else {
                st = ck_h5_write_floats(d, slash ? slash + 1 : wl.w[k]->path, &wl.w[k]->shape, wl.w[k]->value);
                H5Gclose(d);
            }
        }
        if (!st) st = ck_h5_set_attr_strings(g, "weight_names", wn, wl.n);
        ck_free(wn);
        if (g >= 0) H5Gclose(g);
        ck_wlist_free(&wl);
    }
    return st;
}

/* ---- legacy full model ---------------------------------------------------------- */
ck_status ck_h5_model_load(const char *path, bool with_weights, ck_model **out)
{
    hid_t f;
    ck_status st = ck_h5_open(path, &f);
    if (st) return st;
    if (!ck_h5_has_attr(f, "model_config")) {
        bool weights_only = ck_h5_has_attr(f, "layer_names") || ck_h5_exists(f, "layers");
        H5Fclose(f);
        if (weights_only)
            return ck_fail(CK_ERR_FORMAT, "%s: a weights-only HDF5 file (no model_config): it needs the "
                                          "model's architecture (a JSON config or model file) to load into "
                                          "(model.load_weights; --weights FILE on the command line)", path);
        return ck_fail(CK_ERR_FORMAT, "%s: HDF5 file without a model_config attribute: not a Keras model", path);
    }
    char *text = NULL;
    st = ck_h5_attr_string(f, "model_config", path, &text);
    json_t *root = NULL;
    if (!st) {
        json_error_t err;
        root = json_loads(text, 0, &err);
        if (!root) st = ck_fail(CK_ERR_FORMAT, "%s: model_config: JSON syntax error at line %d, column %d: %s", path,
                                err.line, err.column, err.text);
    }
    ck_free(text);
    ck_model *m = NULL;
    if (!st) st = ck_model_from_json_value(root, path, &m);
    json_decref(root);
    if (!st && ck_h5_has_attr(f, "training_config") && !ck_h5_attr_string(f, "training_config", path, &text)) {
        json_t *tc = json_loads(text, 0, NULL);
        ck_free(text);
        ck_keras_restore_legacy_compile(m, tc, ck_h5_exists(f, "optimizer_weights"));
        json_decref(tc);
    }
    if (!st && with_weights) {
        hid_t g = ck_h5_exists(f, "model_weights") ? H5Gopen2(f, "model_weights", H5P_DEFAULT) : -1;
        if (g < 0) st = ck_fail(CK_ERR_FORMAT, "%s: group 'model_weights' is missing", path);
        else {
            st = ck_legacy_weights_read(m, g, path);
            H5Gclose(g);
        }
    }
    H5Fclose(f);
    if (st) {
        ck_model_free(m);
        return st;
    }
    *out = m;
    return CK_OK;
}
