/* Keras weights in HDF5, both layouts: Keras 3's attribute-path layout
 * (layers/<snake class name>/vars/<i>, used by model.weights.h5 inside .keras and by
 * .weights.h5 files) and the legacy layout of model.save('x.h5') and Keras 2's
 * save_weights (layer_names, per-layer weight_names). Also the legacy full-model
 * reader: its architecture is the root attribute model_config. */
#include "io/files.h"
#include "graph/config.h"

#include <math.h>
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

/* ---- one layer's saved-state tree ---------------------------------------------- */
/* A weight handed down the tree, with its name below the current part
 * ("kernel" of "lstm_cell/kernel" inside the cell). */
typedef struct part_weight {
    ck_weight *w;
    const char *rel;
} part_weight;

/* Called for each vars group of a layer's tree with the weights it holds. */
typedef ck_status (*vars_visit)(void *ctx, const char *vars, const char *name, const ck_layer *owner,
                                const part_weight *ws, int n);

static bool in_scope(const char *rel, const char *scope)
{
    size_t n = strlen(scope);
    return !strncmp(rel, scope, n) && rel[n] == '/';
}

/* Keras's _save_state on one layer: its own vars, then each saved part. `ws` are
 * the weights below `base`, which the parts share out by scope. */
static ck_status walk_layer(const ck_layer *l, const char *name, const char *base, const part_weight *ws, int n,
                            const ck_layer *owner, vars_visit visit, void *ctx, int depth)
{
    if (depth > 16) return ck_fail(CK_ERR_FORMAT, "layer '%s': wrappers nested too deeply", owner->name);
    const ck_saved_part *parts = l->cls->keras.saved_parts;
    part_weight *mine = ck_calloc((size_t)n + 1, sizeof *mine);
    if (!mine) return CK_ERR_NOMEM;
    int n_mine = 0;
    for (int i = 0; i < n; i++) {
        bool claimed = false;
        for (const ck_saved_part *p = parts; p && p->attr && !claimed; p++) {
            const char *scope = p->scope                       ? p->scope
                                : p->sublayer < l->n_sublayers ? l->sublayers[p->sublayer]->name
                                                               : "";
            claimed = *scope && in_scope(ws[i].rel, scope);
        }
        if (!claimed) mine[n_mine++] = ws[i];
    }
    char path[1400];
    snprintf(path, sizeof path, "%.1300s/vars", base);
    ck_status st = visit(ctx, path, name, owner, mine, n_mine);
    for (const ck_saved_part *p = parts; !st && p && p->attr; p++) {
        const ck_layer *sub = p->scope ? NULL : p->sublayer < l->n_sublayers ? l->sublayers[p->sublayer] : NULL;
        if (!p->scope && !sub) continue;
        const char *scope = sub ? sub->name : p->scope;
        size_t len = strlen(scope) + 1;
        n_mine = 0;
        for (int i = 0; i < n; i++)
            if (in_scope(ws[i].rel, scope)) mine[n_mine++] = (part_weight){ws[i].w, ws[i].rel + len};
        snprintf(path, sizeof path, "%.1200s/%s", base, p->attr);
        if (sub) {
            st = walk_layer(sub, scope, path, mine, n_mine, owner, visit, ctx, depth + 1);
        } else {
            char vars[1500];
            snprintf(vars, sizeof vars, "%s/vars", path);
            st = visit(ctx, vars, scope, owner, mine, n_mine);
        }
    }
    ck_free(mine);
    return st;
}

/* Every vars group of a model, nested models included, as Keras 3 saves them
 * (layers/<entry>/...; a model's own vars group holds nothing). */
static ck_status walk_model(const ck_model *m, const char *prefix, vars_visit visit, void *ctx, int depth)
{
    if (depth > 32) return ck_fail(CK_ERR_FORMAT, "models nested too deeply");
    char path[1200];
    snprintf(path, sizeof path, "%.900svars", prefix);
    ck_status st = visit(ctx, path, m->base.name, &m->base, NULL, 0);
    name_counter *names = st ? NULL : ck_calloc(1, sizeof *names);
    if (!st && !names) return CK_ERR_NOMEM;
    for (int i = 0; !st && i < m->n_layers; i++) {
        const ck_layer *l = m->layers[i];
        char entry[CK_STR_MAX + 16], base[1024];
        entry_name(names, l, entry, sizeof entry);
        snprintf(base, sizeof base, "%.900slayers/%s", prefix, entry);
        if (l->model) {
            char inner[1100];
            snprintf(inner, sizeof inner, "%.1000s/", base);
            st = walk_model(l->model, inner, visit, ctx, depth + 1);
            continue;
        }
        part_weight *ws = ck_calloc((size_t)l->n_weights + 1, sizeof *ws);
        if (!ws) st = CK_ERR_NOMEM;
        for (int k = 0; !st && k < l->n_weights; k++) ws[k] = (part_weight){&l->weights[k], l->weights[k].name};
        if (!st) st = walk_layer(l, l->name, base, ws, l->n_weights, l, visit, ctx, 0);
        ck_free(ws);
    }
    ck_free(names);
    return st;
}

typedef struct read_ctx {
    hid_t file;
    const char *origin;
} read_ctx;

static ck_status read_vars(void *ctx, const char *vars, const char *name, const ck_layer *owner, const part_weight *ws,
                           int n)
{
    (void)name;
    const read_ctx *r = ctx;
    if (!n) return CK_OK;
    if (!ck_h5_exists(r->file, vars))
        return ck_fail(CK_ERR_FORMAT, "%s: layer '%s': group '%s' with its %d weight%s is missing", r->origin,
                       owner->name, vars, n, n == 1 ? "" : "s");
    char ds[1600];
    ck_status st = CK_OK;
    for (int k = 0; !st && k < n; k++) {
        snprintf(ds, sizeof ds, "%s/%d", vars, k);
        st = ck_load_h5_weight(r->file, ds, r->origin, owner, ws[k].w);
    }
    snprintf(ds, sizeof ds, "%s/%d", vars, n);
    if (!st && ck_h5_exists(r->file, ds))
        st = ck_fail(CK_ERR_FORMAT, "%s: layer '%s': the file has more than %d weight%s under '%s'", r->origin,
                     owner->name, n, n == 1 ? "" : "s", vars);
    return st;
}

ck_status ck_keras3_weights_read(ck_model *m, hid_t file, const char *origin)
{
    ck_status st = ck_model_init_weights(m); /* weights the file lacks keep their initial values */
    read_ctx r = {file, origin};
    return st ? st : walk_model(m, "", read_vars, &r, 0);
}

/* Keras saves a variable in its own dtype: a float16 / bfloat16 layer's float
 * variables as float16 / bfloat16 datasets (counters keep their integer type).
 * A float64 layer's are float32 datasets: Keras stores backend.convert_to_numpy
 * of each value (H5IOStore.__setitem__, keras/src/saving/saving_lib.py;
 * save_weights_to_hdf5_group, keras/src/legacy/saving/legacy_h5_format.py),
 * and under JAX's default (x64 disabled) a float64 variable holds float32. */
static ck_half dataset_half(const ck_layer *owner, const ck_weight *w)
{
    return w->dtype == CK_FLOAT32 ? ck_layer_variable_half(owner) : CK_HALF_NONE;
}

static ck_status mark_bfloat16(hid_t group, const char *dataset)
{
    hid_t d = H5Dopen2(group, dataset, H5P_DEFAULT);
    ck_status st = d < 0 ? ck_h5_write_failed("cannot open HDF5 dataset '%s'", dataset)
                         : ck_h5_set_attr_string(d, "dtype", "bfloat16");
    if (d >= 0) H5Dclose(d);
    return st;
}

static ck_status write_vars(void *ctx, const char *vars, const char *name, const ck_layer *owner,
                            const part_weight *ws, int n)
{
    hid_t g = ck_h5_group(*(hid_t *)ctx, vars);
    if (g < 0) return ck_h5_write_failed("cannot create HDF5 group '%s'", vars);
    ck_status st = ck_h5_set_attr_string(g, "name", name);
    for (int k = 0; !st && k < n; k++) {
        char ds[16];
        snprintf(ds, sizeof ds, "%d", k);
        ck_half half = dataset_half(owner, ws[k].w);
        st = ck_h5_write_floats(g, ds, &ws[k].w->shape, ws[k].w->value, half);
        /* H5IOStore.__setitem__ (keras/src/saving/saving_lib.py) marks bfloat16
         * datasets, which h5py stores as an untagged opaque type */
        if (!st && half == CK_HALF_BFLOAT16) st = mark_bfloat16(g, ds);
    }
    H5Gclose(g);
    return st;
}

ck_status ck_keras3_weights_write(const ck_model *m, hid_t file)
{
    return walk_model(m, "", write_vars, &file, 0);
}

static ck_status write_int32_scalar(hid_t loc, const char *name, int32_t value)
{
    hid_t space = H5Screate(H5S_SCALAR);
    hid_t d = H5Dcreate2(loc, name, H5T_STD_I32LE, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t e = d < 0 ? -1 : H5Dwrite(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, &value);
    if (d >= 0) H5Dclose(d);
    H5Sclose(space);
    return e < 0 ? ck_h5_write_failed("cannot write HDF5 dataset '%s'", name) : CK_OK;
}

/* ---- LossScaleOptimizer (keras/src/optimizers/loss_scale_optimizer.py) -------------- */
/* Whether Keras has m's optimizer in a LossScaleOptimizer: Trainer.compile wraps
 * it for a model whose own dtype policy is mixed_float16; a file's compile may
 * also have named one (ck_model.loss_scale.wrapped). */
static bool loss_scaled(const ck_model *m)
{
    const ck_loss_scale *ls = &m->loss_scale;
    return !strcmp(m->base.dtype, "mixed_float16") || (ls->wrapped && m->engine && ls->engine == m->engine);
}

static const char *loss_scale_name(const ck_model *m)
{
    const ck_loss_scale *ls = &m->loss_scale;
    return ls->wrapped && ls->engine == m->engine && *ls->name ? ls->name : LOSS_SCALE_NAME;
}

/* A file's step_counter and dynamic_scale (both scalars), kept with the inner
 * optimizer's iteration they go with; a file without them keeps none. */
static ck_status loss_scale_read(ck_model *m, hid_t loc, const char *counter, const char *scale, const char *origin,
                                 int64_t iterations)
{
    if (!ck_h5_exists(loc, counter) || !ck_h5_exists(loc, scale)) return CK_OK;
    ck_shape shape;
    int64_t size[2];
    float v[2];
    ck_status st = ck_h5_dataset_shape(loc, counter, origin, &shape, &size[0]);
    if (!st) st = ck_h5_dataset_shape(loc, scale, origin, &shape, &size[1]);
    if (st || size[0] != 1 || size[1] != 1) return st;
    if (!(st = ck_h5_read_floats(loc, counter, origin, &v[0], 1))) st = ck_h5_read_floats(loc, scale, origin, &v[1], 1);
    if (st) return st;
    ck_loss_scale *ls = &m->loss_scale;
    ls->read = true, ls->engine = m->engine, ls->iterations = iterations;
    ls->step_counter = (int64_t)v[0], ls->dynamic_scale = v[1];
    return CK_OK;
}

/* The step_counter and dynamic_scale Keras would hold now. ckeras's float32
 * backward needs no loss scale and never skips a step, so each of its steps is
 * one Keras takes with all-finite gradients (_stateful_handle_finite_grads):
 * the counter goes up by one, and the step after it reached
 * dynamic_growth_steps - 1 sets it to 0 and doubles the scale. They start from
 * what the file the model came from held (at its iteration), else from Keras's
 * initial values (0 and initial_scale) at iteration 0; a scale past float32's
 * range is inf, where Keras would have met overflowing gradients and halved it. */
static void loss_scale_now(const ck_model *m, int64_t iterations, int32_t *counter, float *scale)
{
    const ck_loss_scale *ls = &m->loss_scale;
    bool same = ls->engine == m->engine, read = same && ls->read;
    int64_t growth = same && ls->growth_steps > 0 ? ls->growth_steps : LOSS_SCALE_GROWTH;
    double initial = same && ls->initial_scale > 0 ? ls->initial_scale : LOSS_SCALE_INITIAL;
    int64_t since = iterations - (read ? ls->iterations : 0);
    int64_t total = (read ? ls->step_counter : 0) + (since > 0 ? since : 0);
    int64_t doublings = total / growth;
    *counter = (int32_t)(total % growth);
    *scale = (float)ldexp(read ? ls->dynamic_scale : initial, doublings > 1100 ? 1100 : (int)doublings);
}

/* The LossScaleOptimizer's own variables in Keras's order: iterations and
 * learning_rate from Optimizer.__init__ (both stay 0: its `iterations` and
 * `learning_rate` forward to the inner optimizer's), then step_counter and
 * dynamic_scale from its build(). */
#define LOSS_SCALE_VARS 4
static const char *const loss_scale_vars[LOSS_SCALE_VARS] = {"iteration", "learning_rate", "step_counter",
                                                              "dynamic_scale"};

static ck_status loss_scale_write(const ck_model *m, hid_t loc, const char *const names[LOSS_SCALE_VARS])
{
    ck_shape scalar = {0};
    int32_t counter;
    float scale, zero = 0.0f, it = 0.0f;
    ck_status st = ck_model_optimizer_variable(m, 0, &scalar, &it);
    if (st) return st;
    loss_scale_now(m, (int64_t)it, &counter, &scale);
    if (!(st = write_int32_scalar(loc, names[0], 0))) st = ck_h5_write_floats(loc, names[1], &scalar, &zero, CK_HALF_NONE);
    if (!st) st = write_int32_scalar(loc, names[2], counter);
    if (!st) st = ck_h5_write_floats(loc, names[3], &scalar, &scale, CK_HALF_NONE);
    return st;
}

/* ---- optimizer state (optimizer/vars/<i>, Keras's optimizer.variables) ---------------- */
/* Keras's load_own_variables skips an optimizer whose variable count differs from
 * the file's (with a warning); so does this, keeping the fresh state. A model
 * compiled under mixed_float16 has Keras's LossScaleOptimizer around the
 * optimizer (Trainer.compile): its own variables (the loss scale) come first in
 * optimizer/vars and the optimizer's are under optimizer/inner_optimizer/vars;
 * ckeras's backward runs in float32, where no gradient underflows, so it
 * trains without loss scaling and reads the inner optimizer's state, keeping
 * the loss scale's step_counter and dynamic_scale for the files it writes. */
ck_status ck_keras3_optimizer_read(ck_model *m, hid_t file, const char *origin)
{
    int n = ck_model_optimizer_variable_count(m);
    bool inner = ck_h5_exists(file, "optimizer/inner_optimizer/vars/0");
    const char *group = inner ? "optimizer/inner_optimizer/vars" : "optimizer/vars";
    char ds[96];
    snprintf(ds, sizeof ds, "%s/%d", group, n);
    if (!n || !ck_h5_exists(file, "optimizer/vars/0") || ck_h5_exists(file, ds)) return CK_OK;
    snprintf(ds, sizeof ds, "%s/%d", group, n - 1);
    if (!ck_h5_exists(file, ds)) return CK_OK;
    ck_status st = CK_OK;
    int64_t iterations = 0;
    for (int i = 0; !st && i < n; i++) {
        ck_shape want, got;
        int64_t size;
        snprintf(ds, sizeof ds, "%s/%d", group, i);
        st = ck_model_optimizer_variable(m, i, &want, NULL);
        if (!st) st = ck_h5_dataset_shape(file, ds, origin, &got, &size);
        if (!st && !ck_shape_eq(&want, &got)) {
            char e[128], g[128];
            ck_shape_repr(&want, e, sizeof e);
            ck_shape_repr(&got, g, sizeof g);
            st = ck_fail(CK_ERR_SHAPE, "%s: optimizer variable %d: expected shape %s, got %s", origin, i, e, g);
        }
        float *v = st ? NULL : ck_malloc((size_t)(size + 1) * sizeof *v);
        if (!st && !v) st = CK_ERR_NOMEM;
        if (!st) st = ck_h5_read_floats(file, ds, origin, v, size);
        if (!st) st = ck_model_set_optimizer_variable(m, i, &got, v);
        if (!st && i == 0) iterations = (int64_t)v[0];
        ck_free(v);
    }
    if (!st && inner) st = loss_scale_read(m, file, "optimizer/vars/2", "optimizer/vars/3", origin, iterations);
    return st;
}

/* Keras's optimizer.name: the one a loaded file's compile_config gave, else the
 * default Keras derives from the class (to_snake_case: "adam", "rm_sprop"). */
static void optimizer_name(const ck_model *m, const char *cls, char *out, size_t cap)
{
    json_t *cc = m->file_compile_config ? json_loads(m->file_compile_config, 0, NULL) : NULL;
    json_t *opt = json_object_get(cc, "optimizer");
    /* a LossScaleOptimizer's inner optimizer is the one ckeras compiled */
    if (json_is_string(json_object_get(opt, "class_name")) &&
        !strcmp(json_string_value(json_object_get(opt, "class_name")), "LossScaleOptimizer"))
        opt = json_object_get(json_object_get(opt, "config"), "inner_optimizer");
    json_t *name = json_object_get(json_object_get(opt, "config"), "name");
    if (json_is_string(name)) snprintf(out, cap, "%s", json_string_value(name));
    else ck_snake_case(cls, out, cap);
    json_decref(cc);
}

/* A copy of optimizer variable i and its shape (NULL with *st set on failure). */
static float *optimizer_variable_copy(const ck_model *m, int i, ck_shape *shape, ck_status *st)
{
    *st = ck_model_optimizer_variable(m, i, shape, NULL);
    if (*st) return NULL;
    int64_t size = 1;
    for (int d = 0; d < shape->rank; d++) size *= shape->dim[d];
    float *v = ck_malloc((size_t)(size + 1) * sizeof *v);
    if (!v) *st = CK_ERR_NOMEM;
    else *st = ck_model_optimizer_variable(m, i, shape, v);
    if (*st) {
        ck_free(v);
        return NULL;
    }
    return v;
}

/* The optimizer's variables as datasets <first + i> of `vars` (named `name`
 * unless NULL), the iteration as int32. */
static ck_status optimizer_vars_write(const ck_model *m, hid_t file, const char *vars, const char *name, int first)
{
    int n = ck_model_optimizer_variable_count(m);
    hid_t g = ck_h5_group(file, vars);
    if (g < 0) return ck_h5_write_failed("cannot create HDF5 group '%s'", vars);
    ck_status st = name ? ck_h5_set_attr_string(g, "name", name) : CK_OK;
    for (int i = 0; !st && i < n; i++) {
        ck_shape shape;
        char ds[16];
        snprintf(ds, sizeof ds, "%d", first + i);
        float *v = optimizer_variable_copy(m, i, &shape, &st);
        if (!st) st = i == 0 ? write_int32_scalar(g, ds, (int32_t)v[0]) : ck_h5_write_floats(g, ds, &shape, v, CK_HALF_NONE);
        ck_free(v);
    }
    H5Gclose(g);
    return st;
}

/* A built optimizer's variables as Keras saves them: its name on the vars group,
 * the iteration as int32. Only with a compile_config that names the optimizer
 * (Keras saves an optimizer only with the compile that made it). */
ck_status ck_keras3_optimizer_write(const ck_model *m, hid_t file)
{
    int n = ck_model_optimizer_variable_count(m);
    const char *cls = ck_model_optimizer_class(m);
    json_t *cc = ck_model_compile_config_value(m);
    bool compiled = json_is_object(json_object_get(cc, "optimizer"));
    json_decref(cc);
    if (!n || !m->optimizer_built || !cls || !compiled) return CK_OK;
    char name[CK_NAME_MAX];
    optimizer_name(m, cls, name, sizeof name);
    if (!loss_scaled(m)) return optimizer_vars_write(m, file, "optimizer/vars", name, 0);
    /* Keras saves the LossScaleOptimizer's `variables` (its own, then the inner
     * optimizer's) in optimizer/vars and the inner optimizer as its child
     * (saving_lib's _save_state). */
    static const char *const own[LOSS_SCALE_VARS] = {"0", "1", "2", "3"};
    hid_t g = ck_h5_group(file, "optimizer/vars");
    if (g < 0) return ck_h5_write_failed("cannot create HDF5 group 'optimizer/vars'");
    ck_status st = ck_h5_set_attr_string(g, "name", loss_scale_name(m));
    if (!st) st = loss_scale_write(m, g, own);
    H5Gclose(g);
    if (!st) st = optimizer_vars_write(m, file, "optimizer/vars", NULL, LOSS_SCALE_VARS);
    if (!st) st = optimizer_vars_write(m, file, "optimizer/inner_optimizer/vars", name, 0);
    return st;
}

/* ---- legacy training state -------------------------------------------------------- */
/* Keras's legacy serialization of a loss object (legacy serialize_keras_object):
 * {class_name, config} without module and registered_name; lists of losses and
 * dicts by output alike. */
static void legacy_losses(json_t *v)
{
    size_t i;
    const char *key;
    json_t *x;
    if (json_is_array(v)) json_array_foreach(v, i, x) legacy_losses(x);
    else if (json_is_object(v) && json_object_get(v, "class_name")) {
        json_object_del(v, "module");
        json_object_del(v, "registered_name");
    } else if (json_is_object(v)) json_object_foreach(v, key, x) legacy_losses(x);
}

/* legacy_h5_format.save_model_to_hdf5 with include_optimizer: the compile config
 * as training_config, its optimizer as optimizer_config {class_name, config},
 * and the optimizer's variables under optimizer_weights/<name>/..., listed by
 * their paths in weight_names. */
ck_status ck_legacy_training_write(const ck_model *m, hid_t file)
{
    int n = ck_model_optimizer_variable_count(m);
    json_t *cc = ck_model_compile_config_value(m), *opt = json_object_get(cc, "optimizer");
    if (!n || !m->optimizer_built || !json_is_object(opt)) {
        json_decref(cc);
        return CK_OK;
    }
    /* saving_utils.model_metadata serializes model.optimizer, which is
     * Trainer.compile's LossScaleOptimizer where there is one. */
    bool scaled = loss_scaled(m);
    json_t *wrapped = scaled ? ck_loss_scale_config(m, opt) : json_incref(opt);
    json_t *legacy = json_pack("{s:O, s:O}", "class_name", json_object_get(wrapped, "class_name"), "config",
                               json_object_get(wrapped, "config"));
    json_decref(wrapped);
    json_object_del(cc, "optimizer");
    json_object_set_new(cc, "optimizer_config", legacy);
    legacy_losses(json_object_get(cc, "loss"));
    char *text = json_dumps(cc, JSON_PRESERVE_ORDER);
    char name[CK_NAME_MAX];
    optimizer_name(m, ck_model_optimizer_class(m), name, sizeof name);
    json_decref(cc);
    ck_status st = text ? ck_h5_set_attr_string(file, "training_config", text) : CK_ERR_NOMEM;
    free(text);
    /* The LossScaleOptimizer's own variables first (its `variables`), under its name. */
    int own = scaled ? LOSS_SCALE_VARS : 0;
    char **paths = ck_calloc((size_t)(own + n), sizeof *paths);
    hid_t g = st ? -1 : ck_h5_group(file, "optimizer_weights");
    if (!st && !paths) st = CK_ERR_NOMEM;
    if (!st && g < 0) st = ck_h5_write_failed("cannot create HDF5 group 'optimizer_weights'");
    const char *lso = loss_scale_name(m);
    for (int i = 0; !st && i < own; i++) {
        if (!(paths[i] = ck_malloc(strlen(lso) + strlen(loss_scale_vars[i]) + 2))) st = CK_ERR_NOMEM;
        else sprintf(paths[i], "%s/%s", lso, loss_scale_vars[i]);
    }
    hid_t own_dir = st || !own ? -1 : ck_h5_group(g, lso);
    if (!st && own && own_dir < 0) st = ck_h5_write_failed("cannot create HDF5 group '%s'", lso);
    if (!st && own) st = loss_scale_write(m, own_dir, loss_scale_vars);
    if (own_dir >= 0) H5Gclose(own_dir);
    for (int i = 0; !st && i < n; i++) {
        char var[CK_NAME_MAX + 16];
        st = ck_model_optimizer_variable_name(m, i, var, sizeof var);
        /* Nadam's u_product is a bare backend.Variable: its path is "variable" */
        bool bare = !st && !strcmp(var, "u_product");
        char **path = &paths[own + i];
        if (!st && !(*path = ck_malloc(strlen(name) + strlen(var) + 2))) st = CK_ERR_NOMEM;
        if (st) break;
        if (bare) strcpy(*path, "variable");
        else sprintf(*path, "%s/%s", name, var);
        ck_shape shape;
        float *v = optimizer_variable_copy(m, i, &shape, &st);
        hid_t dir = st ? -1 : bare ? H5Gopen2(g, ".", H5P_DEFAULT) : ck_h5_group(g, name);
        if (!st && dir < 0) st = ck_h5_write_failed("cannot create HDF5 group '%s'", name);
        if (!st) st = i == 0 ? write_int32_scalar(dir, var, (int32_t)v[0])
                             : ck_h5_write_floats(dir, bare ? "variable" : var, &shape, v, CK_HALF_NONE);
        if (dir >= 0) H5Gclose(dir);
        ck_free(v);
    }
    if (!st) st = ck_h5_set_attr_strings(g, "weight_names", (const char *const *)paths, own + n);
    for (int i = 0; paths && i < own + n; i++) ck_free(paths[i]);
    ck_free(paths);
    if (g >= 0) H5Gclose(g);
    return st;
}

/* load_model_from_hdf5: the optimizer is built over no variables (only its
 * scalars exist, see ck_keras_restore_legacy_compile) and set_weights takes the
 * saved values in order, so the iteration and learning rate come back. Every
 * saved value is kept for the first fit (ck_model.pending_optimizer). */
ck_status ck_legacy_optimizer_read(ck_model *m, hid_t file, const char *origin)
{
    int n = ck_model_optimizer_variable_count(m);
    hid_t g = n && ck_h5_exists(file, "optimizer_weights") ? H5Gopen2(file, "optimizer_weights", H5P_DEFAULT) : -1;
    if (g < 0) return CK_OK;
    char **all_names = NULL, **names;
    int n_all = 0, n_names, own = 0;
    ck_status st = ck_h5_attr_strings(g, "weight_names", origin, &all_names, &n_all);
    /* A LossScaleOptimizer's own variables come first, under its name: the
     * optimizer ckeras trains is its inner one. */
    const char *lso = loss_scale_name(m);
    size_t lso_len = strlen(lso);
    while (!st && m->loss_scale.wrapped && own < n_all && !strncmp(all_names[own], lso, lso_len) &&
           all_names[own][lso_len] == '/')
        own++;
    names = all_names + own, n_names = n_all - own;
    int64_t total = 0, first_sizes[4] = {0};
    for (int i = 0; !st && i < n_names; i++) {
        ck_shape got;
        int64_t size;
        st = ck_h5_dataset_shape(g, names[i], origin, &got, &size);
        if (!st && i < 4) first_sizes[i] = size;
        if (!st && !ck_add_ok(total, size, &total))
            st = ck_fail(CK_ERR_OVERFLOW, "%s: optimizer_weights: too many values", origin);
    }
    float *all = st ? NULL : ck_malloc((size_t)(total + 1) * sizeof *all);
    if (!st && !all) st = CK_ERR_NOMEM;
    for (int64_t i = 0, at = 0; !st && i < n_names; i++) {
        ck_shape got;
        int64_t size;
        if (!(st = ck_h5_dataset_shape(g, names[i], origin, &got, &size)))
            st = ck_h5_read_floats(g, names[i], origin, all + at, size);
        at += size;
    }
    for (int i = 0; !st && i < n && i < n_names && i < 4; i++) {
        ck_shape want;
        st = ck_model_optimizer_variable(m, i, &want, NULL);
        if (st || want.rank != 0 || first_sizes[i] != 1) break; /* Keras keeps a fresh optimizer then */
        st = ck_model_set_optimizer_variable(m, i, &want, all + i);
    }
    if (!st && own) {
        char counter[CK_NAME_MAX + 16], scale[CK_NAME_MAX + 16];
        snprintf(counter, sizeof counter, "%s/step_counter", lso);
        snprintf(scale, sizeof scale, "%s/dynamic_scale", lso);
        st = loss_scale_read(m, g, counter, scale, origin, n_names && first_sizes[0] == 1 ? (int64_t)all[0] : 0);
    }
    if (!st) {
        ck_free(m->pending_optimizer);
        m->pending_optimizer = all, m->pending_optimizer_floats = total, all = NULL;
    }
    ck_free(all);
    ck_h5_free_strings(all_names, n_all);
    H5Gclose(g);
    return st;
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

ck_status ck_legacy_set_weight_names(hid_t group, const char *const *names, int n)
{
    if (n > 0) return ck_h5_set_attr_strings(group, "weight_names", names, n);
    hsize_t zero = 0;
    hid_t space = H5Screate_simple(1, &zero, NULL);
    hid_t a = H5Acreate2(group, "weight_names", H5T_IEEE_F64LE, space, H5P_DEFAULT, H5P_DEFAULT);
    if (a >= 0) H5Aclose(a);
    H5Sclose(space);
    return a < 0 ? ck_h5_write_failed("cannot write HDF5 attribute 'weight_names'") : CK_OK;
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
        if (g < 0 || !wn) st = g < 0 ? ck_h5_write_failed("cannot create HDF5 group '%s'", l->name) : CK_ERR_NOMEM;
        /* Keras 3's legacy writer names each weight by its variable.path. */
        for (int k = 0; !st && k < wl.n; k++) {
            wn[k] = wl.w[k]->path;
            const char *slash = strrchr(wl.w[k]->path, '/');
            char dir[300];
            snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - wl.w[k]->path) : 0, wl.w[k]->path);
            hid_t d = *dir ? ck_h5_group(g, dir) : H5Gopen2(g, ".", H5P_DEFAULT);
            if (d < 0) st = ck_h5_write_failed("cannot create HDF5 group '%s'", dir);
            else {
                st = ck_h5_write_floats(d, slash ? slash + 1 : wl.w[k]->path, &wl.w[k]->shape, wl.w[k]->value,
                                        dataset_half(l, wl.w[k]));
                H5Gclose(d);
            }
        }
        if (!st) st = ck_legacy_set_weight_names(g, wn, wl.n);
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
            return ck_fail(CK_ERR_UNSUPPORTED, "%s: a weights-only HDF5 file (no model_config): it needs the "
                                          "model's architecture (a JSON config or model file) to load into "
                                          "(model.load_weights; ckeras predict, evaluate, fit and export take it as --weights FILE)",
                           path);
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
            if (!st) st = ck_legacy_optimizer_read(m, f, path);
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
