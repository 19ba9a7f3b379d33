/* fit()/evaluate() against Keras 3 on the cases of tests/oracle/train_more.py:
 * data read from a CSV file with a label column; functional models with several
 * inputs and outputs (losses, loss weights and metrics per output); kernel, bias
 * and activity regularizers; Maximum/Minimum with tied branches (JAX's half
 * gradients). Per-epoch history and the final evaluate() must match Keras's
 * within 1e-4 relative, and trained weights where the oracle saved them. */
#include "testutil.h"

#include <jansson.h>

#define GOLD "tests/golden/train_more/%s/%s"

static ck_model *load_model(const char *dir)
{
    char path[600];
    ck_model *m = ck_model_load_json_file(test_path(path, sizeof path, GOLD, dir, "config.json"));
    CHECK(m != NULL, "%s: %s", dir, ck_errmsg());
    if (!m) return NULL;
    ck_npz z;
    CHECK_OK(ck_npz_read(test_path(path, sizeof path, GOLD, dir, "weights.npz"), &z));
    CHECK(z.n == ck_model_weight_count(m), "%s: %d arrays for %d weights", dir, z.n, ck_model_weight_count(m));
    for (int i = 0; i < z.n && i < ck_model_weight_count(m); i++) {
        CHECK_OK(ck_array_to_float32(&z.arrays[i]));
        CHECK_OK(ck_model_set_weight(m, i, &z.arrays[i].shape, z.arrays[i].data));
    }
    ck_npz_free(&z);
    return m;
}

static void compare(const char *dir, const char *what, const char *key, double got, double want)
{
    double err = fabs(got - want) / fmax(fabs(want), 1e-3);
    CHECK(err <= 1e-4, "%s: %s %s = %.8g, Keras %.8g", dir, what, key, got, want);
}

static void compare_logs(const char *dir, json_t *c, const ck_history *h, const ck_history *ev)
{
    json_t *want = json_object_get(c, "history"), *vals;
    CHECK(h && ck_history_key_count(h) == (int)json_object_size(want), "%s: %d history keys, Keras %zu", dir,
          h ? ck_history_key_count(h) : -1, json_object_size(want));
    const char *key;
    json_object_foreach(want, key, vals) {
        size_t e;
        json_t *v;
        json_array_foreach(vals, e, v) compare(dir, "epoch", key, ck_history_value(h, key, (int)e), json_number_value(v));
    }
    json_object_foreach(json_object_get(c, "evaluate"), key, vals)
        compare(dir, "evaluate", key, ev ? ck_history_value(ev, key, 0) : NAN, json_number_value(vals));
}

static json_t *load_case(const char *dir)
{
    char path[600];
    json_error_t err;
    json_t *c = json_load_file(test_path(path, sizeof path, GOLD, dir, "case.json"), 0, &err);
    CHECK(c != NULL, "%s: %s", path, err.text);
    return c;
}

static const char *get_str(json_t *c, const char *key) { return json_string_value(json_object_get(c, key)); }

static void test_csv_case(const char *dir)
{
    char path[600];
    json_t *c = load_case(dir);
    ck_model *m = load_model(dir);
    ck_array x, y;
    CHECK_OK(ck_csv_read(test_path(path, sizeof path, GOLD, dir, "data.csv"), get_str(c, "label_column"), &x, &y));
    if (!c || !m || !x.data) goto done;
    CHECK_OK(ck_model_compile(m, get_str(c, "optimizer"), get_str(c, "loss"), "accuracy"));
    ck_fit_opts o = ck_fit_defaults();
    o.epochs = (int)json_integer_value(json_object_get(c, "epochs"));
    o.batch_size = json_integer_value(json_object_get(c, "batch_size"));
    o.shuffle = false;
    o.verbose = 0;
    ck_history *h = NULL, *ev = NULL;
    CHECK_OK(ck_model_fit(m, x.data, y.data, x.shape.dim[0], &o, &h));
    CHECK_OK(ck_model_evaluate(m, x.data, y.data, x.shape.dim[0], o.batch_size, &ev));
    compare_logs(dir, c, h, ev);
    ck_history_free(h), ck_history_free(ev);
done:
    ck_array_free(&x), ck_array_free(&y);
    ck_model_free(m);
    json_decref(c);
}

static float *load_npy(const char *dir, const char *name, int i, int64_t *n)
{
    char file[32], path[600];
    if (i >= 0) snprintf(file, sizeof file, "%s%d.npy", name, i);
    else snprintf(file, sizeof file, "%s.npy", name);
    test_array a;
    if (test_load_npy(test_path(path, sizeof path, GOLD, dir, file), &a) != 0) return NULL;
    *n = a.dim[0];
    return a.data;
}

/* Where the oracle saved Keras's trained weights (trained.npz), ours must agree. */
static void compare_trained(const char *dir, ck_model *m)
{
    char path[600];
    test_path(path, sizeof path, GOLD, dir, "trained.npz");
    FILE *f = fopen(path, "rb");
    if (!f) return;
    fclose(f);
    ck_npz z;
    CHECK_OK(ck_npz_read(path, &z));
    for (int i = 0; i < z.n && i < ck_model_weight_count(m); i++) {
        ck_weight_info w;
        CHECK_OK(ck_model_weight(m, i, &w));
        CHECK_OK(ck_array_to_float32(&z.arrays[i]));
        double err = test_max_error(w.data, z.arrays[i].data, ck_array_size(&z.arrays[i]), 1e-6);
        CHECK(err <= 1e-5, "%s: trained weight %d differs from Keras's by %g", dir, i, err);
    }
    ck_npz_free(&z);
}

/* Functional models with several inputs/outputs: losses, loss_weights and
 * metrics per output; Keras's log names ("cls_loss", "reg_mae"). */
static void test_multi_case(const char *dir)
{
    json_t *c = load_case(dir);
    ck_model *m = load_model(dir);
    const char *losses[4], *metrics[4];
    double weights[4];
    float *x[4] = {0}, *y[4] = {0};
    int64_t n = 0, k;
    if (!c || !m) goto done;
    int ni = (int)json_integer_value(json_object_get(c, "n_inputs")), no = (int)json_integer_value(json_object_get(c, "n_outputs"));
    for (int i = 0; i < ni; i++) CHECK((x[i] = load_npy(dir, "x", i, &n)) != NULL, "%s: x%d", dir, i);
    for (int i = 0; i < no; i++) {
        CHECK((y[i] = load_npy(dir, "y", i, &k)) != NULL, "%s: y%d", dir, i);
        losses[i] = json_string_value(json_array_get(json_object_get(c, "losses"), (size_t)i));
        weights[i] = json_number_value(json_array_get(json_object_get(c, "loss_weights"), (size_t)i));
        metrics[i] = json_string_value(json_array_get(json_object_get(c, "metrics"), (size_t)i));
    }
    CHECK_OK(ck_model_compile_outputs(m, get_str(c, "optimizer"), losses, no, weights, metrics, no));
    const char *wm = get_str(c, "weighted_metrics");
    if (wm) CHECK_OK(ck_model_compile_weighted_metrics(m, &wm, 1));
    int64_t nsw = 0;
    float *sw = json_is_true(json_object_get(c, "sample_weight")) ? load_npy(dir, "sw", -1, &nsw) : NULL;
    ck_fit_opts o = ck_fit_defaults();
    o.epochs = (int)json_integer_value(json_object_get(c, "epochs"));
    o.batch_size = json_integer_value(json_object_get(c, "batch_size"));
    o.validation_split = json_number_value(json_object_get(c, "validation_split"));
    o.shuffle = false;
    o.verbose = 0;
    o.sample_weight = sw;
    ck_history *h = NULL, *ev = NULL;
    CHECK_OK(ck_model_fit_multi(m, (const float *const *)x, (const float *const *)y, n, &o, &h));
    CHECK_OK(ck_model_evaluate_multi(m, (const float *const *)x, (const float *const *)y, n, o.batch_size, &ev));
    compare_logs(dir, c, h, ev);
    compare_trained(dir, m);
    ck_history_free(h), ck_history_free(ev);
    /* the one-input one-output entry points refuse such a model clearly */
    if (ni > 1 || no > 1)
        CHECK(ck_model_fit(m, x[0], y[0], n, &o, NULL) == CK_ERR_ARG && strstr(ck_errmsg(), "use ck_model_fit_multi"),
              "%s: ck_model_fit: %s", dir, ck_errmsg());
    free(sw);
done:
    for (int i = 0; i < 4; i++) free(x[i]), free(y[i]);
    ck_model_free(m);
    json_decref(c);
}

int main(void)
{
    test_csv_case("csv_classes");
    test_multi_case("multi_io");
    test_multi_case("multi_out_adam");
    test_multi_case("reg_l1_l2");
    test_multi_case("reg_strings_sgd");
    test_multi_case("weighted_metrics");
    test_multi_case("reg_orthogonal");
    test_multi_case("max_ties");
    test_multi_case("min_ties3");
    return test_report("test_train_more");
}
