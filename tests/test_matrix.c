/* The file-format matrix (issue 12; tests/oracle/matrix_cases.py wrote
 * tests/golden/matrix/ with real Keras 3.15.1): every layer class of the table in
 * every format, both ways.
 *  - coverage: every class of ckeras's table has a case (a class added without one
 *    fails here);
 *  - Keras -> ckeras: each case's model.keras, model.h5 and config.json +
 *    model.weights.h5 load with get_weights() equal to Keras's, path by path and
 *    bit for bit, to_json() equal to Keras's value for value, and predictions
 *    within 1e-5 of Keras's;
 *  - ckeras -> Keras: ckeras writes each loaded model in the three HDF5 formats
 *    and every file has Keras's layout (every group and dataset path, shape,
 *    dtype, attribute; legacy .h5 model_config equal to Keras's config value for
 *    value). tests/oracle/check_written.py --matrix loads the same files in Keras.
 * Runs from the repository root. */
#include "testutil.h"

#include <hdf5.h>
#include <jansson.h>
#include <unistd.h>
#include <zip.h>

#define MATRIX "tests/golden/matrix"

typedef struct case_list {
    char (*names)[128];
    int n;
} case_list;

static case_list read_cases(void)
{
    case_list cl = {0};
    char p[1024];
    size_t len;
    char *text = test_read_file(test_path(p, sizeof p, MATRIX "/CASES"), &len);
    if (!text) return cl;
    int cap = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        if (!*line) continue;
        if (cl.n == cap) {
            cap = cap ? 2 * cap : 64;
            cl.names = realloc(cl.names, (size_t)cap * sizeof *cl.names);
        }
        snprintf(cl.names[cl.n++], sizeof *cl.names, "%s", line);
    }
    free(text);
    return cl;
}

/* ---- coverage ------------------------------------------------------------------ */
static void test_every_class_has_a_case(const case_list *cl)
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

/* The three ways Keras saved the case, loaded by ckeras (NULL with a failed CHECK). */
static ck_model *load_format(const char *dir, int format, char *what, size_t cap)
{
    static const char *const names[] = {"model.keras", "model.h5", "model.weights.h5"};
    char p[1024];
    snprintf(what, cap, "%s/%s", dir, names[format]);
    ck_model *m;
    if (format < 2) {
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

static void test_keras_to_ckeras(const case_list *cl)
{
    for (int i = 0; i < cl->n; i++) {
        for (int format = 0; format < 3; format++) {
            char what[256];
            ck_model *m = load_format(cl->names[i], format, what, sizeof what);
            if (!m) continue;
            char p[1024], diff[512];
            test_path(p, sizeof p, MATRIX "/%s/config.json", cl->names[i]);
            CHECK(test_to_json_diff(m, p, diff, sizeof diff) == 0, "%s: to_json differs from Keras's: %s", what, diff);
            check_weights(m, cl->names[i], what);
            check_predictions(m, cl->names[i], what);
            ck_model_free(m);
        }
    }
}

int main(void)
{
    case_list cl = read_cases();
    test_every_class_has_a_case(&cl);
    test_keras_to_ckeras(&cl);
    free(cl.names);
    return test_report("test_matrix");
}
