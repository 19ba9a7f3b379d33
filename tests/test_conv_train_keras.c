/* Training CNNs agrees with Keras 3: for every case of
 * tests/oracle/conv_train_cases.py (convolutions, BatchNormalization in
 * training, pooling, padding/cropping/upsampling, PReLU; Adam, SGD momentum,
 * RMSprop) the model starts from Keras's initial weights and runs
 * fit(epochs=1) then fit(epochs=2) with shuffle=False as Keras did. Per-epoch
 * history and evaluate() must match within 1e-4 relative, and after the first
 * epoch every weight, including BatchNormalization's moving_mean and
 * moving_variance (updated only in training, by the momentum rule), must match
 * Keras's within 1e-4, and so must predict() of the trained model. */
#include "testutil.h"

#include <jansson.h>

static float *load(const char *dir, const char *file, int64_t *n)
{
    char path[600];
    test_array a;
    test_path(path, sizeof path, "tests/golden/conv_train/%s/%s", dir, file);
    if (test_load_npy(path, &a) != 0) return NULL;
    *n = a.dim[0];
    return a.data;
}

static void set_weights(ck_model *m, const char *dir)
{
    char path[600];
    for (int i = 0; i < ck_model_weight_count(m); i++) {
        test_array a;
        test_path(path, sizeof path, "tests/golden/conv_train/%s/weights/%d.npy", dir, i);
        CHECK(test_load_npy(path, &a) == 0, "%s: weight %d", dir, i);
        ck_shape s = {.rank = a.rank};
        for (int r = 0; r < a.rank; r++) s.dim[r] = a.dim[r];
        CHECK_OK(ck_model_set_weight(m, i, &s, a.data));
        test_free_array(&a);
    }
}

/* Every weight after one epoch, moving statistics included. */
static void check_after1(ck_model *m, const char *dir)
{
    char path[600];
    for (int i = 0; i < ck_model_weight_count(m); i++) {
        test_array a;
        ck_weight_info w;
        test_path(path, sizeof path, "tests/golden/conv_train/%s/after1/%d.npy", dir, i);
        CHECK(test_load_npy(path, &a) == 0, "%s: after1 weight %d", dir, i);
        CHECK_OK(ck_model_weight(m, i, &w));
        CHECK(w.size == a.size, "%s: weight %d size", dir, i);
        if (w.size == a.size) {
            double err = test_max_error(w.data, a.data, a.size, 1e-5);
            CHECK(err <= 1e-4, "%s: %s after one epoch: error %g", dir, w.path, err);
        }
        test_free_array(&a);
    }
}

static void compare(const char *dir, const char *what, const char *key, double got, double want)
{
    double err = fabs(got - want) / fmax(fabs(want), 1e-3);
    CHECK(err <= 1e-4, "%s: %s %s = %.8g, Keras %.8g", dir, what, key, got, want);
}

static void compare_history(const char *dir, const char *what, const ck_history *h, json_t *want)
{
    CHECK(h && ck_history_key_count(h) == (int)json_object_size(want), "%s: %s: %d history keys, Keras %zu", dir,
          what, h ? ck_history_key_count(h) : -1, json_object_size(want));
    const char *key;
    json_t *vals;
    json_object_foreach(want, key, vals) {
        size_t e;
        json_t *v;
        json_array_foreach(vals, e, v) compare(dir, what, key, ck_history_value(h, key, (int)e), json_number_value(v));
    }
}

/* predict() of the trained model (an inference engine, which may fold
 * BatchNormalization into the convolution before it). */
static void check_predict(ck_model *m, const char *dir, const float *x, int64_t n)
{
    char path[600];
    test_array want;
    test_path(path, sizeof path, "tests/golden/conv_train/%s/predict.npy", dir);
    CHECK(test_load_npy(path, &want) == 0, "%s: predict.npy", dir);
    float *got = malloc((size_t)want.size * sizeof *got);
    CHECK_OK(ck_model_predict1(m, x, n, got));
    double err = test_max_error(got, want.data, want.size, 1e-5);
    CHECK(err <= 1e-4, "%s: predict: error %g", dir, err);
    free(got);
    test_free_array(&want);
}

static void run_case(const char *dir)
{
    char path[600], metrics[256] = "";
    test_path(path, sizeof path, "tests/golden/conv_train/%s/case.json", dir);
    json_error_t err;
    json_t *c = json_load_file(path, 0, &err);
    CHECK(c != NULL, "%s: %s", path, err.text);
    test_path(path, sizeof path, "tests/golden/conv_train/%s/config.json", dir);
    ck_model *m = ck_model_load_json_file(path);
    CHECK(m != NULL, "%s: %s", dir, ck_errmsg());
    int64_t n = 0, ny = 0;
    float *x = load(dir, "x.npy", &n), *y = load(dir, "y.npy", &ny);
    if (!c || !m || !x || !y) {
        CHECK(0, "%s: missing golden files", dir);
        goto done;
    }
    set_weights(m, dir);
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(c, "metrics"), i, v) {
        if (i) strncat(metrics, ", ", sizeof metrics - strlen(metrics) - 1);
        strncat(metrics, json_string_value(v), sizeof metrics - strlen(metrics) - 1);
    }
    CHECK_OK(ck_model_compile(m, json_string_value(json_object_get(c, "optimizer")),
                              json_string_value(json_object_get(c, "loss")), metrics));
    ck_fit_opts o = ck_fit_defaults();
    o.epochs = 1;
    o.batch_size = json_integer_value(json_object_get(c, "batch_size"));
    o.shuffle = false;
    o.verbose = 0;
    ck_history *h1 = NULL, *h2 = NULL, *ev = NULL;
    CHECK_OK(ck_model_fit(m, x, y, n, &o, &h1));
    compare_history(dir, "fit 1", h1, json_object_get(c, "history1"));
    check_after1(m, dir);
    o.epochs = 2;
    CHECK_OK(ck_model_fit(m, x, y, n, &o, &h2));
    compare_history(dir, "fit 2", h2, json_object_get(c, "history2"));
    CHECK_OK(ck_model_evaluate(m, x, y, n, 8, &ev));
    const char *key;
    json_object_foreach(json_object_get(c, "evaluate"), key, v)
        compare(dir, "evaluate", key, ck_history_value(ev, key, 0), json_number_value(v));
    check_predict(m, dir, x, n);
    ck_history_free(h1);
    ck_history_free(h2);
    ck_history_free(ev);
done:
    free(x), free(y);
    ck_model_free(m);
    json_decref(c);
}

int main(void)
{
    char path[512];
    size_t len;
    char *list = test_read_file(test_path(path, sizeof path, "tests/golden/conv_train/CASES"), &len);
    CHECK(list != NULL, "missing %s", path);
    for (char *line = list ? strtok(list, "\n") : NULL; line; line = strtok(NULL, "\n")) run_case(line);
    free(list);
    return test_report("test_conv_train_keras");
}
