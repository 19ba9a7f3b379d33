/* The file-format matrix (issue 12; tests/oracle/matrix_cases.py wrote
 * tests/golden/matrix/ with real Keras 3.15.1): every layer class of the table in
 * every format, both ways.
 *  - coverage: every class of ckeras's table has a case (a class added without one
 *    fails here);
 *  - Keras -> ckeras: each case's model.keras, model.h5 and config.json +
 *    model.weights.h5 load with get_weights() equal to Keras's, path by path and
 *    bit for bit, to_json() equal to Keras's value for value, and predictions
 *    within 1e-5 of Keras's; parameter counts and bytes as Keras's summary;
 *  - ckeras -> Keras: ckeras writes each loaded model in the three HDF5 formats
 *    and every file has Keras's layout (every group and dataset path, shape,
 *    dtype, attribute; legacy .h5 model_config equal to Keras's config value for
 *    value). tests/oracle/check_written.py --matrix loads the same files in Keras.
 *  - training resumes across files (tests/oracle/resume_cases.py wrote
 *    tests/golden/resume/): ckeras continues Keras's 2-epoch .keras to Keras's
 *    3rd epoch (optimizer variables read as Keras saved them), and trains Keras's
 *    untrained file 2 epochs to Keras's state, writing optimizer/vars with
 *    Keras's layout; check_written.py lets Keras continue ckeras's file.
 * Runs from the repository root. */
#include "testutil.h"
#include "h5_layout.h"
#include "core/core.h"

#include <jansson.h>
#include <unistd.h>
#include <zip.h>

#define MATRIX "tests/golden/matrix"

/* TF.js (tests/oracle/matrix_tfjs_cases.py, tensorflowjs 4.17 in TensorFlow 2.15):
 * tfjs_h5/ is the converter's output from Keras's model.h5 (every case; Keras 3's
 * config verbatim), tfjs/ what it wrote from the model rebuilt in tf.keras 2.15 (the
 * cases tf.keras 2.15 can express; tfjs.json says why the others cannot). */
enum { FORMAT_KERAS, FORMAT_H5, FORMAT_WEIGHTS_H5, FORMAT_TFJS_FROM_H5, FORMAT_TFJS, FORMAT_COUNT };

/* The reason tf.keras 2.15 cannot express the case, or NULL when tfjs/ holds it. */
static char *tf_keras_exclusion(const char *dir)
{
    json_t *t = test_load_json(MATRIX "/%s/tfjs.json", dir);
    const char *why = json_string_value(json_object_get(t, "tf_keras"));
    CHECK(why && *why, "%s: tfjs.json gives no TF.js verdict (run tests/oracle/matrix_tfjs_cases.py)", dir);
    char *out = why && strcmp(why, "ok") ? strdup(why) : NULL;
    json_decref(t);
    return out;
}

static bool has_format(const char *dir, int format)
{
    if (format != FORMAT_TFJS) return true;
    char *why = tf_keras_exclusion(dir);
    free(why);
    return why == NULL;
}

/* ---- coverage ------------------------------------------------------------------ */
static void test_every_class_has_a_case(const test_case_list *cl)
{
    CHECK(cl->n > 0, "no cases under " MATRIX);
    for (int c = 0; c < ck_layer_class_count(); c++) {
        const char *cls = ck_layer_class_at(c);
        bool found = false;
        for (int i = 0; i < cl->n && !found; i++) {
            json_t *classes = test_load_json(MATRIX "/%s/classes.json", cl->names[i]);
            size_t k;
            json_t *v;
            json_array_foreach(classes, k, v) found |= !strcmp(json_string_value(v), cls);
            json_decref(classes);
        }
        CHECK(found, "class %s has no case in tests/oracle/matrix_cases.py", cls);
    }
}

/* Every class in TF.js: each case has the converter's tfjs_h5/ and a verdict in
 * tfjs.json, and each class a case that tf.keras 2.15 expresses (tfjs/) or else
 * only cases whose tfjs.json says why it cannot (a class whose case was never
 * run through tests/oracle/matrix_tfjs_cases.py fails here). */
static void test_every_class_has_tfjs(const test_case_list *cl)
{
    for (int c = 0; c < ck_layer_class_count(); c++) {
        const char *cls = ck_layer_class_at(c);
        int expressed = 0, reasoned = 0;
        for (int i = 0; i < cl->n; i++) {
            json_t *classes = test_load_json(MATRIX "/%s/classes.json", cl->names[i]);
            size_t k;
            json_t *v;
            bool covers = false;
            json_array_foreach(classes, k, v) covers |= !strcmp(json_string_value(v), cls);
            json_decref(classes);
            if (!covers) continue;
            char p[1024], *why = tf_keras_exclusion(cl->names[i]);
            for (int format = FORMAT_TFJS_FROM_H5; format <= (why ? FORMAT_TFJS_FROM_H5 : FORMAT_TFJS); format++)
                CHECK(access(test_path(p, sizeof p, MATRIX "/%s/%s/model.json", cl->names[i],
                                       format == FORMAT_TFJS ? "tfjs" : "tfjs_h5"), R_OK) == 0,
                      "%s: no TF.js golden %s", cl->names[i], p);
            expressed += !why;
            reasoned += why != NULL;
            free(why);
        }
        CHECK(expressed + reasoned > 0, "class %s has no TF.js case or reasoned exclusion", cls);
    }
}

/* ---- Keras -> ckeras ------------------------------------------------------------ */
static void check_weights(const ck_model *m, const char *dir, const char *what)
{
    json_t *expect = test_load_json(MATRIX "/%s/weights.json", dir);
    int n = ck_model_weight_count(m);
    CHECK(expect && (size_t)n == json_array_size(expect), "%s: ckeras has %d weights, Keras %zu", what, n,
          json_array_size(expect));
    for (int i = 0; expect && i < n && (size_t)i < json_array_size(expect); i++) {
        ck_weight_info w;
        test_array a;
        char p[1024];
        if (ck_model_weight(m, i, &w) != CK_OK) continue;
        const char *path = json_string_value(json_object_get(json_array_get(expect, (size_t)i), "path"));
        CHECK(path && !strcmp(w.path, path), "%s: weight %d is '%s', Keras's '%s'", what, i, w.path, path);
        if (test_load_npy(test_path(p, sizeof p, MATRIX "/%s/weights/%d.npy", dir, i), &a)) {
            CHECK(0, "%s: cannot read %s", what, p);
            continue;
        }
        CHECK(a.size == w.size && test_max_error(w.data, a.data, a.size, 0) == 0, "%s: weight '%s' differs from Keras's",
              what, w.path);
        test_free_array(&a);
    }
    json_decref(expect);
}

static void check_predictions(ck_model *m, const char *dir, const char *what)
{
    char p[1024];
    int n_in = ck_model_input_count(m), n_out = ck_model_output_count(m);
    test_array x[8] = {0}, y;
    ck_shape in_shapes[8], out_shapes[8];
    const float *inputs[8];
    float *outputs[8] = {0};
    CHECK(n_in > 0 && n_in <= 8 && n_out > 0 && n_out <= 8, "%s: %d inputs, %d outputs", what, n_in, n_out);
    if (n_in <= 0 || n_in > 8 || n_out <= 0 || n_out > 8) return;
    bool ok = true;
    for (int i = 0; i < n_in && ok; i++) {
        ok = !test_load_npy(test_path(p, sizeof p, MATRIX "/%s/x%d.npy", dir, i), &x[i]);
        in_shapes[i].rank = x[i].rank;
        memcpy(in_shapes[i].dim, x[i].dim, sizeof x[i].dim);
        inputs[i] = x[i].data;
    }
    CHECK(ok, "%s: Keras's inputs", what);
    ck_status st = ok ? ck_model_output_shapes_for(m, in_shapes, out_shapes) : CK_ERR_IO;
    for (int j = 0; !st && j < n_out; j++) {
        int64_t size = 1;
        for (int d = 0; d < out_shapes[j].rank; d++) size *= out_shapes[j].dim[d];
        outputs[j] = calloc((size_t)size, sizeof(float));
    }
    if (!st) st = ck_model_predict_shaped(m, in_shapes, inputs, outputs, 0);
    CHECK(st == CK_OK, "%s: predict: %s", what, ck_errmsg());
    for (int j = 0; !st && j < n_out; j++) {
        if (test_load_npy(test_path(p, sizeof p, MATRIX "/%s/y%d.npy", dir, j), &y)) {
            CHECK(0, "%s: Keras has no output %d", what, j);
            continue;
        }
        int64_t size = 1;
        for (int d = 0; d < out_shapes[j].rank; d++) size *= out_shapes[j].dim[d];
        CHECK(size == y.size, "%s: output %d has %lld values, Keras's %lld", what, j, (long long)size,
              (long long)y.size);
        if (size == y.size) {
            double err = test_max_error(outputs[j], y.data, y.size, 1e-5);
            CHECK(err <= 1e-5, "%s: output %d differs from Keras's by %g", what, j, err);
        }
        test_free_array(&y);
    }
    test_path(p, sizeof p, MATRIX "/%s/y%d.npy", dir, n_out);
    CHECK(access(p, R_OK) != 0, "%s: Keras has more than %d outputs", what, n_out);
    for (int i = 0; i < n_in; i++) test_free_array(&x[i]);
    for (int j = 0; j < n_out; j++) free(outputs[j]);
}

/* Parameter counts and their bytes (summary's "Total params: 23 (152.00 B)"). */
static void check_counts(const ck_model *m, const char *dir, const char *what)
{
    json_t *k = test_load_json(MATRIX "/%s/counts.json", dir), *bytes = json_object_get(k, "bytes");
    ck_param_counts c;
    CHECK(k && ck_model_count_params(m, &c) == CK_OK, "%s: counts", what);
    if (!k) return;
    CHECK(c.trainable == json_integer_value(json_object_get(k, "trainable")) &&
              c.non_trainable == json_integer_value(json_object_get(k, "non_trainable")),
          "%s: %lld trainable and %lld non-trainable params, Keras %lld and %lld", what, (long long)c.trainable,
          (long long)c.non_trainable, (long long)json_integer_value(json_object_get(k, "trainable")),
          (long long)json_integer_value(json_object_get(k, "non_trainable")));
    double tb = json_number_value(json_object_get(bytes, "trainable"));
    double nb = json_number_value(json_object_get(bytes, "non_trainable"));
    CHECK(c.trainable_bytes == tb && c.non_trainable_bytes == nb, "%s: %g + %g bytes, Keras %g + %g", what,
          c.trainable_bytes, c.non_trainable_bytes, tb, nb);
    json_decref(k);
}

/* The ways Keras saved the case, loaded by ckeras (NULL with a failed CHECK). */
static ck_model *load_format(const char *dir, int format, char *what, size_t cap)
{
    static const char *const names[] = {"model.keras", "model.h5", "model.weights.h5", "tfjs_h5/model.json",
                                        "tfjs/model.json"};
    char p[1024];
    snprintf(what, cap, "%s/%s", dir, names[format]);
    ck_model *m;
    if (format != FORMAT_WEIGHTS_H5) {
        m = ck_model_load(test_path(p, sizeof p, MATRIX "/%s/%s", dir, names[format]));
    } else {
        m = ck_model_load_json_file(test_path(p, sizeof p, MATRIX "/%s/config.json", dir));
        if (m && ck_model_load_weights(m, test_path(p, sizeof p, MATRIX "/%s/%s", dir, names[format])) != CK_OK) {
            ck_model_free(m);
            m = NULL;
        }
    }
    CHECK(m != NULL, "%s: %s", what, ck_errmsg());
    return m;
}

static void test_keras_to_ckeras(const test_case_list *cl)
{
    for (int i = 0; i < cl->n; i++) {
        for (int format = 0; format < FORMAT_COUNT; format++) {
            char what[256];
            if (!has_format(cl->names[i], format)) continue;
            ck_model *m = load_format(cl->names[i], format, what, sizeof what);
            if (!m) continue;
            char p[1024], diff[512];
            test_path(p, sizeof p, MATRIX "/%s/config.json", cl->names[i]);
            /* tfjs/ holds tf.keras 2.15's config, which is not Keras 3's value for
             * value (BatchNormalization's axis resolved to 1, no build_config) */
            if (format != FORMAT_TFJS)
                CHECK(test_to_json_diff(m, p, diff, sizeof diff) == 0, "%s: to_json differs from Keras's: %s", what, diff);
            check_weights(m, cl->names[i], what);
            check_counts(m, cl->names[i], what);
            check_predictions(m, cl->names[i], what);
            ck_model_free(m);
        }
    }
}

/* ---- ckeras -> Keras: the layout of what ckeras writes (h5_layout.c) --------------- */
static void test_ckeras_writes_keras_layout(const test_case_list *cl)
{
    char tmpdir[] = "/tmp/ckeras-matrix-XXXXXX";
    CHECK(mkdtemp(tmpdir) != NULL, "mkdtemp");
    static const char *const outs[] = {"model.keras", "model.h5", "model.weights.h5"};
    for (int i = 0; i < cl->n; i++) {
        char what[256], out[1024], inner[1024];
        ck_model *m = load_format(cl->names[i], 0, what, sizeof what);
        json_t *golden = test_load_json(MATRIX "/%s/layout.json", cl->names[i]);
        for (int k = 0; m && golden && k < 3; k++) {
            snprintf(out, sizeof out, "%s/%s", tmpdir, outs[k]);
            snprintf(what, sizeof what, "%s: ckeras's %s", cl->names[i], outs[k]);
            CHECK(ck_model_save(m, out) == CK_OK, "%s: %s", what, ck_errmsg());
            const char *h5 = out;
            if (k == 0) {
                test_check_members(out, json_object_get(golden, "keras_members"), what);
                snprintf(inner, sizeof inner, "%s/inner.weights.h5", tmpdir);
                CHECK(test_extract_weights(out, inner), "%s: no model.weights.h5 inside", what);
                h5 = inner;
            }
            json_t *ours = test_h5_layout(h5);
            test_compare_layout(ours, json_object_get(golden, outs[k]), what);
            json_decref(ours);
            remove(out);
            if (k == 0) remove(inner);
        }
        json_decref(golden);
        ck_model_free(m);
    }
    rmdir(tmpdir);
}

/* ---- ckeras -> TF.js: model.json and shards as tensorflowjs wrote them --------------- */
/* The shard files of a model.json's groups, back to back. */
static char *read_shards(const char *model_json, json_t *root, size_t *len)
{
    char dir[1024], p[2048];
    snprintf(dir, sizeof dir, "%.*s", (int)(strrchr(model_json, '/') - model_json), model_json);
    char *all = calloc(1, 1);
    *len = 0;
    size_t i, k;
    json_t *g, *path;
    json_array_foreach(json_object_get(root, "weightsManifest"), i, g) json_array_foreach(json_object_get(g, "paths"), k, path)
    {
        size_t n;
        char *data = test_read_file((snprintf(p, sizeof p, "%s/%s", dir, json_string_value(path)), p), &n);
        if (!data) {
            free(all);
            return NULL;
        }
        all = realloc(all, *len + n + 1);
        memcpy(all + *len, data, n);
        *len += n;
        free(data);
    }
    return all;
}

/* What ckeras wrote against what tensorflowjs wrote for the same model: format,
 * modelTopology (tf.keras 2.15's config) and each manifest group's weights (names,
 * shapes, dtypes, in order) value for value, the shards' bytes. Not compared:
 * generatedBy/convertedBy (the writer's name) and the shard file names (ckeras
 * names its shard by content so that a save never overwrites the shard the old
 * model.json names; tensorflowjs writes group1-shard1of1.bin). */
static void compare_tfjs(const char *ours_path, const char *keras_path, const char *what)
{
    json_t *ours = json_load_file(ours_path, 0, NULL), *keras = json_load_file(keras_path, 0, NULL);
    CHECK(ours && keras, "%s: model.json unreadable", what);
    if (!ours || !keras) goto done;
    CHECK(json_equal(json_object_get(ours, "format"), json_object_get(keras, "format")), "%s: format differs", what);
    char diff[512];
    json_t *ot = json_object_get(ours, "modelTopology"), *kt = json_object_get(keras, "modelTopology");
    CHECK(test_json_diff(ot, kt, "$.modelTopology", diff, sizeof diff) == 0, "%s: %s", what, diff);
    json_t *om = json_object_get(ours, "weightsManifest"), *km = json_object_get(keras, "weightsManifest");
    CHECK(json_array_size(om) == json_array_size(km), "%s: %zu weight groups, tensorflowjs %zu", what,
          json_array_size(om), json_array_size(km));
    for (size_t g = 0; g < json_array_size(om) && g < json_array_size(km); g++) {
        json_t *ow = json_object_get(json_array_get(om, g), "weights"), *kw = json_object_get(json_array_get(km, g), "weights");
        CHECK(test_json_diff(ow, kw, "$.weightsManifest[].weights", diff, sizeof diff) == 0, "%s: %s", what, diff);
    }
    size_t olen, klen;
    char *ob = read_shards(ours_path, ours, &olen), *kb = read_shards(keras_path, keras, &klen);
    CHECK(ob && kb && olen == klen && !memcmp(ob, kb, olen), "%s: the shards' bytes differ from tensorflowjs's (%zu, %zu bytes)",
          what, olen, klen);
    free(ob);
    free(kb);
done:
    json_decref(ours);
    json_decref(keras);
}

/* Every case as ckeras writes TF.js: read back by ckeras with the same weights and
 * predictions; where tf.keras 2.15 can express the case, value for value what
 * tensorflowjs wrote (tests/oracle/check_tfjs_written.py --matrix loads the same
 * files in tensorflowjs's own reader). */
static void test_ckeras_writes_tfjs(const test_case_list *cl)
{
    char tmpdir[] = "/tmp/ckeras-matrix-tfjs-XXXXXX";
    CHECK(mkdtemp(tmpdir) != NULL, "mkdtemp");
    for (int i = 0; i < cl->n; i++) {
        char what[256], out[1024], golden[1024];
        ck_model *m = load_format(cl->names[i], FORMAT_KERAS, what, sizeof what);
        snprintf(out, sizeof out, "%s/%s/", tmpdir, cl->names[i]);
        snprintf(what, sizeof what, "%s: ckeras's TF.js", cl->names[i]);
        CHECK(m && ck_model_save(m, out) == CK_OK, "%s: %s", what, ck_errmsg());
        ck_model_free(m);
        strcat(out, "model.json");
        if (has_format(cl->names[i], FORMAT_TFJS))
            compare_tfjs(out, test_path(golden, sizeof golden, MATRIX "/%s/tfjs/model.json", cl->names[i]), what);
        m = ck_model_load(out);
        CHECK(m != NULL, "%s: read back: %s", what, ck_errmsg());
        if (m) {
            check_weights(m, cl->names[i], what);
            check_predictions(m, cl->names[i], what);
        }
        ck_model_free(m);
    }
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
    CHECK(system(cmd) == 0, "%s", cmd);
}

/* ---- training that resumes across files ---------------------------------------------- */
#define RESUME "tests/golden/resume"

/* A case's data: x, and y (one output) or y0, y1 (two). */
typedef struct resume_data {
    test_array x, y[2];
    int n_out;
} resume_data;

static bool load_data(const char *name, int n_out, resume_data *d)
{
    char p[1024];
    *d = (resume_data){.n_out = n_out};
    bool ok = !test_load_npy(test_path(p, sizeof p, RESUME "/%s/x.npy", name), &d->x);
    for (int i = 0; ok && i < n_out; i++)
        ok = !test_load_npy(n_out == 1 ? test_path(p, sizeof p, RESUME "/%s/y.npy", name)
                                       : test_path(p, sizeof p, RESUME "/%s/y%d.npy", name, i),
                            &d->y[i]);
    return ok;
}

static void free_data(resume_data *d)
{
    test_free_array(&d->x);
    for (int i = 0; i < d->n_out; i++) test_free_array(&d->y[i]);
}

static ck_status fit_epochs(ck_model *m, const resume_data *d, int epochs, ck_history **h)
{
    ck_fit_opts o = ck_fit_defaults();
    o.epochs = epochs, o.batch_size = 4, o.shuffle = false, o.verbose = 0;
    const float *x[1] = {d->x.data}, *y[2] = {d->y[0].data, d->n_out > 1 ? d->y[1].data : NULL};
    return ck_model_fit_multi(m, x, y, d->x.dim[0], &o, h);
}

/* Every array of dir/<k>.npy (dir under the repository root) against values (get_weights() or optimizer.variables). */
static void check_arrays(const char *dir, int n, const float *(*get)(void *ctx, int i, int64_t *size), void *ctx,
                         double tol, const char *what)
{
    char p[1024];
    for (int i = 0;; i++) {
        test_array a;
        if (test_load_npy(test_path(p, sizeof p, "%s/%d.npy", dir, i), &a)) {
            CHECK(i == n, "%s: Keras has %d arrays, ckeras %d", what, i, n);
            return;
        }
        int64_t size = 0;
        const float *v = i < n ? get(ctx, i, &size) : NULL;
        CHECK(v && size == a.size, "%s: array %d missing or of another size", what, i);
        if (v && size == a.size) {
            double err = test_max_error(v, a.data, a.size, tol);
            CHECK(err <= tol, "%s: array %d differs from Keras's by %g", what, i, err);
        }
        test_free_array(&a);
    }
}

typedef struct opt_view {
    const ck_model *m;
    float buf[4096];
} opt_view;

static const float *optimizer_array(void *ctx, int i, int64_t *size)
{
    opt_view *v = ctx;
    ck_shape s;
    if (ck_model_optimizer_variable(v->m, i, &s, NULL)) return NULL;
    *size = 1;
    for (int d = 0; d < s.rank; d++) *size *= s.dim[d];
    return *size <= 4096 && !ck_model_optimizer_variable(v->m, i, &s, v->buf) ? v->buf : NULL;
}

static const float *weight_array(void *ctx, int i, int64_t *size)
{
    ck_weight_info w;
    if (ck_model_weight(ctx, i, &w)) return NULL;
    *size = w.size;
    return w.data;
}

/* The optimizer's variables against dir/<opt>/ (when opt is given) and the
 * weights against dir/<weights>/. */
static void check_state(const ck_model *m, const char *dir, const char *opt, const char *weights, double tol,
                        const char *what)
{
    char p[1024], w[1300];
    opt_view v = {.m = m};
    snprintf(w, sizeof w, "%s optimizer", what);
    if (opt)
        check_arrays((snprintf(p, sizeof p, RESUME "/%s/%s", dir, opt), p), ck_model_optimizer_variable_count(m),
                     optimizer_array, &v, tol, w);
    snprintf(w, sizeof w, "%s weights", what);
    check_arrays((snprintf(p, sizeof p, RESUME "/%s/%s", dir, weights), p), ck_model_weight_count(m), weight_array,
                 (void *)m, tol, w);
}

static void check_losses(const ck_history *h, json_t *keras, int first, const char *what)
{
    CHECK(h && ck_history_epochs(h) > 0, "%s: no history", what);
    for (int e = 0; h && e < ck_history_epochs(h); e++) {
        double want = json_number_value(json_array_get(keras, (size_t)(first + e)));
        double got = ck_history_value(h, "loss", e);
        CHECK(fabs(got - want) <= 1e-4 * fmax(1.0, fabs(want)), "%s: epoch %d loss %.7g, Keras %.7g", what,
              first + e + 1, got, want);
    }
}

/* case.json's "compile" as ck_model_compile_outputs + weighted metrics: one spec per output. */
static ck_status compile_case(ck_model *m, json_t *info)
{
    json_t *c = json_object_get(info, "compile");
    const char *losses[2] = {0}, *metrics[2] = {0}, *weighted[2] = {0};
    double weights[2] = {1, 1};
    int n_losses = (int)json_array_size(json_object_get(c, "losses"));
    int n_metrics = (int)json_array_size(json_object_get(c, "metrics"));
    int n_weighted = (int)json_array_size(json_object_get(c, "weighted"));
    for (int i = 0; i < 2; i++) {
        losses[i] = json_string_value(json_array_get(json_object_get(c, "losses"), (size_t)i));
        metrics[i] = json_string_value(json_array_get(json_object_get(c, "metrics"), (size_t)i));
        weighted[i] = json_string_value(json_array_get(json_object_get(c, "weighted"), (size_t)i));
        json_t *w = json_array_get(json_object_get(c, "loss_weights"), (size_t)i);
        if (w) weights[i] = json_number_value(w);
    }
    for (int i = 0; i < 2; i++) {
        if (metrics[i] && !*metrics[i]) metrics[i] = NULL;
        if (weighted[i] && !*weighted[i]) weighted[i] = NULL;
    }
    ck_status st = ck_model_compile_outputs(m, json_string_value(json_object_get(info, "spec")), losses, n_losses,
                                            json_is_array(json_object_get(c, "loss_weights")) ? weights : NULL,
                                            metrics, n_metrics);
    if (!st && n_weighted) st = ck_model_compile_weighted_metrics(m, weighted, n_weighted);
    return st;
}

static json_t *zip_config(const char *path)
{
    int err = 0;
    zip_t *z = zip_open(path, ZIP_RDONLY, &err);
    zip_stat_t zs;
    char *buf = z && zip_stat(z, "config.json", 0, &zs) == 0 ? calloc(zs.size + 1, 1) : NULL;
    zip_file_t *zf = buf ? zip_fopen(z, "config.json", 0) : NULL;
    if (zf) zip_fread(zf, buf, zs.size), zip_fclose(zf);
    if (z) zip_close(z);
    json_t *v = buf ? json_loads(buf, 0, NULL) : NULL;
    free(buf);
    return v;
}

/* compile() in ckeras writes Keras's compile_config value for value: the
 * optimizer (a schedule in its rate), the losses as given (a loss object with
 * its config), loss_weights, metrics and weighted_metrics, as Keras wrote them
 * for the same keywords. */
static void check_own_compile_config(const char *name, json_t *info)
{
    char p[1024], *text = NULL, *keras_text = NULL;
    ck_model *m = ck_model_load(test_path(p, sizeof p, RESUME "/%s/start.keras", name));
    CHECK(m && compile_case(m, info) == CK_OK && ck_model_compile_config(m, &text) == CK_OK &&
              ck_model_to_json(m, &keras_text) == CK_OK,
          "%s: compile: %s", name, ck_errmsg());
    json_t *keras = zip_config(p);
    json_t *ours = text ? json_loads(text, 0, NULL) : NULL, *kc = json_object_get(keras, "compile_config");
    char *kt = kc ? json_dumps(kc, JSON_COMPACT) : NULL;
    /* compile() with dicts by output name: Keras records dicts, the C API takes lists */
    bool dicts = json_is_true(json_object_get(json_object_get(info, "compile"), "dict"));
    CHECK(dicts || (ours && json_equal(ours, kc)),
          "%s: ckeras's compile_config differs from Keras's:\n  ckeras %s\n  Keras  %s", name, text ? text : "none",
          kt ? kt : "none");
    json_t *in_json = keras_text ? json_loads(keras_text, 0, NULL) : NULL;
    CHECK(dicts || json_equal(json_object_get(in_json, "compile_config"), kc), "%s: to_json()'s compile_config differs",
          name);
    /* and read back: a model loaded from Keras's file writes Keras's compile_config again */
    ck_model *loaded = ck_model_load(test_path(p, sizeof p, RESUME "/%s/epoch2.keras", name));
    char *again = NULL;
    CHECK(loaded && ck_model_optimizer_class(loaded) && ck_model_to_json(loaded, &again) == CK_OK,
          "%s: epoch2.keras not compiled on load: %s", name, ck_errmsg());
    json_t *back = again ? json_loads(again, 0, NULL) : NULL;
    json_t *kc2 = zip_config(p);
    CHECK(json_equal(json_object_get(back, "compile_config"), json_object_get(kc2, "compile_config")),
          "%s: the loaded model's compile_config differs from its file's", name);
    json_decref(back);
    json_decref(kc2);
    free(again);
    ck_model_free(loaded);
    free(kt);
    json_decref(ours);
    json_decref(keras);
    json_decref(in_json);
    free(text);
    free(keras_text);
    ck_model_free(m);
}

/* Saves m to tmpdir/<name><ending>, loads it back, trains the 3rd epoch there. */
static void save_and_continue(ck_model *m, const char *name, const char *ending, const resume_data *d, json_t *loss,
                              const char *tmpdir, const char *what)
{
    char out[1024], w[1200];
    snprintf(out, sizeof out, "%s/%s%s", tmpdir, name, ending);
    snprintf(w, sizeof w, "%s, saved as %s, + ckeras 1", what, ending);
    CHECK(ck_model_save(m, out) == CK_OK, "%s: save: %s", w, ck_errmsg());
    ck_model *back = ck_model_load(out);
    CHECK(back != NULL, "%s: %s", w, ck_errmsg());
    ck_history *h = NULL;
    if (back) {
        CHECK(fit_epochs(back, d, 1, &h) == CK_OK, "%s: fit: %s", w, ck_errmsg());
        check_losses(h, loss, 2, w);
        check_state(back, name, NULL, "w3", 1e-4, w);
    }
    ck_history_free(h);
    ck_model_free(back);
    remove(out);
}

static void check_layouts(ck_model *m, const char *name, const char *tmpdir)
{
    char out[1024], inner[1100], what[256];
    json_t *golden = test_load_json(RESUME "/%s/layout.json", name);
    snprintf(out, sizeof out, "%s/%s_layout.keras", tmpdir, name);
    snprintf(inner, sizeof inner, "%s/inner.weights.h5", tmpdir);
    CHECK(ck_model_save(m, out) == CK_OK, "%s: save: %s", name, ck_errmsg());
    json_t *ours = test_extract_weights(out, inner) ? test_h5_layout(inner) : NULL;
    snprintf(what, sizeof what, "%s: ckeras's trained .keras", name);
    test_compare_layout(ours, json_object_get(golden, "model.keras"), what);
    json_decref(ours);
    remove(out);
    remove(inner);
    /* the legacy .h5 of the same state: training_config and optimizer_weights */
    snprintf(out, sizeof out, "%s/%s_layout.h5", tmpdir, name);
    CHECK(ck_model_save(m, out) == CK_OK, "%s: save .h5: %s", name, ck_errmsg());
    ours = test_h5_layout(out);
    snprintf(what, sizeof what, "%s: ckeras's trained .h5", name);
    test_compare_layout(ours, json_object_get(golden, "model.h5"), what);
    json_decref(ours);
    json_decref(golden);
    remove(out);
}

/* Keras's file after 2 epochs (its optimizer state as `opt`): read, saved in both
 * formats and continued, then one more epoch here equals Keras's third. */
static void continue_keras_file(const char *name, const char *file, const char *opt, const char *kind,
                                const resume_data *d, json_t *loss, const char *tmpdir)
{
    char p[1024], what[256];
    ck_history *h = NULL;
    snprintf(what, sizeof what, "%s: Keras 2 epochs%s + ckeras 1", name, kind);
    ck_model *m = ck_model_load(test_path(p, sizeof p, RESUME "/%s/%s", name, file));
    CHECK(m != NULL, "%s: %s", what, ck_errmsg());
    if (m) {
        check_state(m, name, opt, "w2", 0, what);
        snprintf(what, sizeof what, "%s: Keras 2 epochs%s, converted", name, kind);
        save_and_continue(m, name, ".keras", d, loss, tmpdir, what);
        save_and_continue(m, name, ".h5", d, loss, tmpdir, what);
        snprintf(what, sizeof what, "%s: Keras 2 epochs%s + ckeras 1", name, kind);
        CHECK(fit_epochs(m, d, 1, &h) == CK_OK, "%s: fit: %s", what, ck_errmsg());
        check_losses(h, loss, 2, what);
        check_state(m, name, NULL, "w3", 1e-4, what);
    }
    ck_history_free(h);
    ck_model_free(m);
}

static void test_resume_case(const char *name, const char *tmpdir)
{
    json_t *info = test_load_json(RESUME "/%s/case.json", name), *loss = json_object_get(info, "loss");
    resume_data d;
    int n_out = (int)json_integer_value(json_object_get(info, "outputs"));
    if (!info || !load_data(name, n_out ? n_out : 1, &d)) {
        CHECK(0, "%s: resume golden", name);
        json_decref(info);
        return;
    }
    check_own_compile_config(name, info);
    /* Keras's legacy .h5 of the same state: load_model compiles it and builds the
     * optimizer over none of the model's variables (only its scalars, as Keras's
     * opt_h5); fit builds it over the trainable ones with the file's slots.
     * Converted, the file keeps the .h5's whole optimizer state. */
    continue_keras_file(name, "epoch2.h5", "opt_h5", " (.h5)", &d, loss, tmpdir);
    /* Keras's 2 epochs (.keras), then ckeras's 3rd; and the same after a convert. */
    continue_keras_file(name, "epoch2.keras", "opt2", "", &d, loss, tmpdir);
    ck_history *h = NULL;
    char p[1024], what[256];
    /* ckeras's 2 epochs from Keras's untrained file, saved as .keras and .h5
     * (Keras's layouts), read back, one more. */
    snprintf(what, sizeof what, "%s: ckeras 2 epochs", name);
    ck_model *m = ck_model_load(test_path(p, sizeof p, RESUME "/%s/start.keras", name));
    CHECK(m != NULL, "%s: %s", what, ck_errmsg());
    if (m) {
        CHECK(fit_epochs(m, &d, 2, &h) == CK_OK, "%s: fit: %s", what, ck_errmsg());
        check_losses(h, loss, 0, what);
        check_state(m, name, "opt2", "w2", 1e-4, what);
        check_layouts(m, name, tmpdir);
        save_and_continue(m, name, ".keras", &d, loss, tmpdir, what);
        save_and_continue(m, name, ".h5", &d, loss, tmpdir, what);
    }
    ck_history_free(h);
    ck_model_free(m);
    json_decref(info);
    free_data(&d);
}

static void test_resume(void)
{
    char p[1024], tmpdir[] = "/tmp/ckeras-resume-XXXXXX";
    CHECK(mkdtemp(tmpdir) != NULL, "mkdtemp");
    size_t len;
    char *cases = test_read_file(test_path(p, sizeof p, RESUME "/CASES"), &len);
    CHECK(cases != NULL, "no cases under " RESUME);
    for (char *name = cases ? strtok(cases, "\n") : NULL; name; name = strtok(NULL, "\n")) test_resume_case(name, tmpdir);
    free(cases);
    rmdir(tmpdir);
}

/* ---- defects the matrix found --------------------------------------------------------- */
/* Keras refuses two operations of one name (ops/function.py _build_map): a config
 * whose InputLayer is renamed like its Dense, and a graph built through the API. */
static void test_duplicate_names_refused(void)
{
    static const char *const keras_says = "The name \"dense\" is used 2 times in the model. All operation names should be unique.";
    char p[1024];
    size_t len;
    char *text = test_read_file(test_path(p, sizeof p, MATRIX "/dense/config.json"), &len);
    CHECK(text != NULL, "dense/config.json");
    if (!text) return;
    ck_buf renamed = {0};
    const char *from = "\"input_layer\"";
    for (const char *s = text, *hit; *s; s = hit + strlen(from)) {
        hit = strstr(s, from);
        if (!hit) {
            ck_buf_printf(&renamed, "%s", s);
            break;
        }
        ck_buf_printf(&renamed, "%.*s\"dense\"", (int)(hit - s), s);
    }
    ck_model *m = ck_model_from_json(renamed.data, "dup.json");
    CHECK(!m && strstr(ck_errmsg(), keras_says) && strstr(ck_errmsg(), "dup.json"), "duplicate names: %s",
          m ? "accepted" : ck_errmsg());
    ck_model_free(m);
    ck_buf_free(&renamed);
    free(text);

    ck_model *g = ck_functional(NULL);
    ck_ktensor *x = ck_input(g, "shape=(3,)");
    ck_ktensor *h = ck_call1(g, ck_dense(2, "name='dense'"), x);
    ck_ktensor *y = ck_call1(g, ck_dense(2, "name='dense'"), h);
    CHECK(ck_functional_finish(g, &x, 1, &y, 1) != CK_OK && strstr(ck_errmsg(), keras_says), "API duplicate names: %s",
          ck_errmsg());
    ck_model_free(g);
}

int main(void)
{
    test_case_list cl = test_read_cases(MATRIX "/CASES");
    test_every_class_has_a_case(&cl);
    test_every_class_has_tfjs(&cl);
    test_keras_to_ckeras(&cl);
    test_ckeras_writes_keras_layout(&cl);
    test_ckeras_writes_tfjs(&cl);
    test_duplicate_names_refused();
    test_resume();
    free(cl.names);
    return test_report("test_matrix");
}
