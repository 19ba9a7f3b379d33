/* ck_model_check_data against real Keras (tests/oracle/data_check_cases.py ->
 * tests/golden/data_check): for every (model, loss, label shape) case, a label
 * shape Keras's fit() refuses is refused here too, with one line naming the
 * array, the loss and the shape it wants; one ckeras accepts, Keras trained on.
 * The only cases ckeras refuses and Keras takes are elementwise losses whose
 * labels broadcast against the output ((n, 1) for (n, 3)), which ckeras does
 * not compute. Also: NaN in x or y and mismatched samples fail fit/evaluate
 * before any step, naming the array. */
#include "testutil.h"

#include <jansson.h>

static ck_array zeros(json_t *shape)
{
    ck_array a = {.dtype = CK_FLOAT32};
    a.shape.rank = (int)json_array_size(shape);
    for (int d = 0; d < a.shape.rank; d++) a.shape.dim[d] = json_integer_value(json_array_get(shape, (size_t)d));
    a.data = calloc((size_t)ck_array_size(&a), sizeof(float));
    return a;
}

/* Labels and output that numpy broadcasts against each other (trailing dims
 * equal or 1, the batch axis aside). */
static bool broadcasts(json_t *y, json_t *out)
{
    size_t ry = json_array_size(y), ro = json_array_size(out);
    for (size_t k = 1; k < ry && k < ro; k++) {
        json_int_t a = json_integer_value(json_array_get(y, ry - k)), b = json_integer_value(json_array_get(out, ro - k));
        if (a != 1 && b != 1 && a != b) return false;
    }
    return true;
}

static void test_against_keras(void)
{
    json_t *root = test_load_json("tests/golden/data_check/cases.json");
    json_t *cases = json_object_get(root, "cases");
    int refused_broadcasts = 0;
    for (size_t i = 0; i < json_array_size(cases); i++) {
        json_t *c = json_array_get(cases, i);
        const char *model = json_string_value(json_object_get(c, "model"));
        const char *loss = json_string_value(json_object_get(c, "loss"));
        bool keras_raises = json_is_true(json_object_get(c, "keras_raises"));
        char path[512], *text;
        text = test_read_file(test_path(path, sizeof path, "tests/golden/data_check/%s.json", model), NULL);
        ck_model *m = text ? ck_model_from_json(text, path) : NULL;
        free(text);
        CHECK(m, "%s: %s", model, ck_errmsg());
        if (!m) continue;
        CHECK_OK(ck_model_compile(m, "sgd", loss, NULL));
        ck_array x = zeros(json_object_get(c, "x_shape")), y = zeros(json_object_get(c, "y_shape"));
        ck_status st = ck_model_check_data(m, &x, 1, &y, 1);
        char ys[64];
        snprintf(ys, sizeof ys, "(%lld..., rank %d)", (long long)y.shape.dim[0], y.shape.rank);
        if (keras_raises) {
            CHECK(st == CK_ERR_SHAPE, "%s %s y %s: Keras raised (%s), ckeras accepted", model, loss, ys,
                  json_string_value(json_object_get(c, "keras_error")));
            CHECK(st == CK_OK || !strncmp(ck_errmsg(), "y: shape (", 10) || strstr(ck_errmsg(), "cardinality"),
                  "%s %s: message '%s' does not name y", model, loss, ck_errmsg());
        } else if (st != CK_OK) {
            bool elementwise = strstr(loss, "crossentropy") == NULL;
            CHECK(elementwise && broadcasts(json_object_get(c, "y_shape"), json_object_get(c, "output_shape")),
                  "%s %s y %s: Keras trained, ckeras refused: %s", model, loss, ys, ck_errmsg());
            refused_broadcasts++;
        }
        ck_array_free(&x);
        ck_array_free(&y);
        ck_model_free(m);
    }
    CHECK(json_array_size(cases) >= 80, "only %zu cases", json_array_size(cases));
    printf("data_check: %zu Keras cases, %d broadcast labels refused\n", json_array_size(cases), refused_broadcasts);
    json_decref(root);
}

/* NaN or infinity in x, y or validation data: CK_ERR_NUMERIC naming the array. */
static void test_non_finite(void)
{
    ck_model *m = ck_sequential(NULL);
    ck_sequential_add(m, ck_dense(2, "input_shape=(3,), activation='softmax'"));
    CHECK_OK(ck_model_build(m));
    CHECK_OK(ck_model_compile(m, "sgd", "sparse_categorical_crossentropy", NULL));
    float x[4 * 3] = {0}, y[4] = {0, 1, 0, 1};
    ck_fit_opts o = ck_fit_defaults();
    o.verbose = 0;
    x[7] = NAN;
    CHECK(ck_model_fit(m, x, y, 4, &o, NULL) == CK_ERR_NUMERIC && strstr(ck_errmsg(), "x: NaN at sample 2"),
          "NaN x: %s", ck_errmsg());
    CHECK(ck_model_evaluate(m, x, y, 4, 0, NULL) == CK_ERR_NUMERIC, "evaluate NaN x: %s", ck_errmsg());
    x[7] = 0;
    y[3] = INFINITY;
    CHECK(ck_model_fit(m, x, y, 4, &o, NULL) == CK_ERR_NUMERIC && strstr(ck_errmsg(), "y: infinity at sample 3"),
          "inf y: %s", ck_errmsg());
    y[3] = 1;
    float vx[3] = {NAN, 0, 0}, vy[1] = {0};
    o.val_x = vx, o.val_y = vy, o.n_val = 1;
    CHECK(ck_model_fit(m, x, y, 4, &o, NULL) == CK_ERR_NUMERIC && strstr(ck_errmsg(), "val_x: NaN"),
          "NaN val_x: %s", ck_errmsg());
    ck_array ax = {.dtype = CK_FLOAT32, .shape = {2, {4, 3}}, .data = x};
    ck_array ay = {.dtype = CK_FLOAT32, .shape = {1, {3}}, .data = y};
    CHECK(ck_model_check_data(m, &ax, 1, &ay, 1) == CK_ERR_SHAPE && strstr(ck_errmsg(), "x has 4 samples, y has 3"),
          "cardinality: %s", ck_errmsg());
    ck_array bad_x = {.dtype = CK_FLOAT32, .shape = {2, {4, 5}}, .data = calloc(20, sizeof(float))};
    ay.shape.dim[0] = 4;
    CHECK(ck_model_check_data(m, &bad_x, 1, &ay, 1) == CK_ERR_SHAPE, "x (4, 5) for input (None, 3) accepted");
    free(bad_x.data);
    ck_model_free(m);
}

int main(void)
{
    test_against_keras();
    test_non_finite();
    return test_report("test_data_check");
}
