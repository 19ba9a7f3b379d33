/* fit() and evaluate() agree with Keras 3: for every case (saved initial weights,
 * fixed data, shuffle=False) the per-epoch history and the final evaluate() match
 * Keras's within 1e-4 relative, and the optimizer variable count equals Keras's.
 * tests/golden/train (tests/oracle/train_cases.py): MLPs with
 * SGD/momentum/nesterov/Adam/RMSprop and every loss; seq_train
 * (seq_train_cases.py): LSTM, GRU in both reset forms, SimpleRNN,
 * Embedding(mask_zero) + Bidirectional(LSTM), TimeDistributed, MultiHeadAttention,
 * ConvLSTM1D/2D, and use_causal_mask=True on MultiHeadAttention, Attention,
 * AdditiveAttention, GroupedQueryAttention (predict before fit, too);
 * areg_train (areg_train.py): losses that include an ActivityRegularization
 * layer's penalty. */
#include "testutil.h"

#include <jansson.h>

static ck_model *load_model(const char *root, const char *dir)
{
    char path[600];
    test_path(path, sizeof path, "tests/golden/%s/%s/config.json", root, dir);
    ck_model *m = ck_model_load_json_file(path);
    CHECK(m != NULL, "%s: %s", dir, ck_errmsg());
    test_set_golden_weights(m, root, dir);
    return m;
}

static void compare(const char *dir, const char *what, const char *key, double got, double want)
{
    double err = fabs(got - want) / fmax(fabs(want), 1e-3);
    CHECK(err <= 1e-4, "%s: %s %s = %.8g, Keras %.8g", dir, what, key, got, want);
}

/* predict.npy, where a case has it (the use_causal_mask cases): the initial
 * model's predictions agree with Keras's within 1e-4 before any fit. */
static void check_predict(const char *root, const char *dir, ck_model *m, const float *x, int64_t n)
{
    char path[600];
    test_array want;
    if (test_load_npy(test_path(path, sizeof path, "tests/golden/%s/%s/predict.npy", root, dir), &want)) return;
    float *got = calloc((size_t)want.size, sizeof *got);
    CHECK(got && want.dim[0] == n, "%s: predict.npy has %lld rows", dir, (long long)want.dim[0]);
    ck_status st = got && want.dim[0] == n ? ck_model_predict1(m, x, n, got) : CK_ERR_ARG;
    CHECK(st == CK_OK, "%s: predict: %s", dir, ck_errmsg());
    if (st == CK_OK) {
        double worst = 0.0;
        for (int64_t i = 0; i < want.size; i++) worst = fmax(worst, fabs(got[i] - want.data[i]));
        CHECK(worst <= 1e-4, "%s: predict differs from Keras by %g", dir, worst);
    }
    free(got);
    free(want.data);
}

/* One case of tests/golden/<root>/<dir>. */
static void run_case(const char *root, const char *dir)
{
    char path[600], metrics[256];
    test_path(path, sizeof path, "tests/golden/%s/%s/case.json", root, dir);
    json_error_t err;
    json_t *c = json_load_file(path, 0, &err);
    CHECK(c != NULL, "%s: %s", path, err.text);
    ck_model *m = load_model(root, dir);
    int64_t n = 0, ny = 0, nsw = 0;
    float *x = test_golden_array(root, dir, "x.npy", &n), *y = test_golden_array(root, dir, "y.npy", &ny);
    float *sw = json_is_true(json_object_get(c, "sample_weight")) ? test_golden_array(root, dir, "sw.npy", &nsw) : NULL;
    if (!c || !m || !x || !y) {
        CHECK(0, "%s: missing golden files", dir);
        goto done;
    }
    check_predict(root, dir, m, x, n);
    CHECK_OK(ck_model_compile(m, json_string_value(json_object_get(c, "optimizer")),
                              json_string_value(json_object_get(c, "loss")),
                              test_join_strings(json_object_get(c, "metrics"), metrics, sizeof metrics)));
    ck_fit_opts o = ck_fit_defaults();
    o.epochs = (int)json_integer_value(json_object_get(c, "epochs"));
    o.batch_size = json_integer_value(json_object_get(c, "batch_size"));
    o.shuffle = false;
    o.verbose = 0;
    o.validation_split = json_number_value(json_object_get(c, "validation_split"));
    o.sample_weight = sw;
    float cw[16];
    o.class_weight = test_class_weight(c, cw, 16, &o.n_class_weight);
    ck_history *h = NULL;
    CHECK_OK(ck_model_fit(m, x, y, n, &o, &h));
    /* Keras builds the optimizer at the first train step, so its count shows after fit. */
    ck_param_counts counts;
    CHECK_OK(ck_model_count_params(m, &counts));
    CHECK(counts.optimizer == json_integer_value(json_object_get(c, "optimizer_params")),
          "%s: optimizer params %lld", dir, (long long)counts.optimizer);
    json_t *want = json_object_get(c, "history");
    CHECK(h && ck_history_key_count(h) == (int)json_object_size(want), "%s: %d history keys, Keras %zu",
          dir, ck_history_key_count(h), json_object_size(want));
    const char *key;
    json_t *vals;
    json_object_foreach(want, key, vals) {
        size_t e;
        json_t *v;
        json_array_foreach(vals, e, v) compare(dir, "epoch", key, ck_history_value(h, key, (int)e),
                                               json_number_value(v));
    }
    ck_history *ev = NULL;
    CHECK_OK(ck_model_evaluate(m, x, y, n, 8, &ev));
    json_object_foreach(json_object_get(c, "evaluate"), key, vals)
        compare(dir, "evaluate", key, ck_history_value(ev, key, 0), json_number_value(vals));
    ck_history_free(h);
    ck_history_free(ev);
done:
    free(x), free(y), free(sw);
    ck_model_free(m);
    json_decref(c);
}

int main(void)
{
    static const char *const roots[] = {"train", "seq_train", "areg_train"};
    int cases = 0;
    for (int r = 0; r < 3; r++) {
        char path[512];
        size_t len;
        const char *root = roots[r];
        char *list = test_read_file(test_path(path, sizeof path, "tests/golden/%s/CASES", root), &len);
        CHECK(list != NULL, "missing %s", path);
        for (char *line = list ? strtok(list, "\n") : NULL; line; line = strtok(NULL, "\n"), cases++)
            run_case(root, line);
        free(list);
    }
    CHECK(cases == 73, "expected 73 cases, ran %d", cases);
    return test_report("test_train_keras");
}
