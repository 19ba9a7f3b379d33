/* Files written by tf.keras 2.15 and by the real TensorFlow.js converter
 * (tests/golden/tf2/, from tests/oracle/tf2_cases.py in a TensorFlow venv): the
 * Keras 2.13+ zip .keras layout, the legacy .h5 and TF.js model.json + shards of
 * Dense, Conv, LSTM, BatchNormalization and nested models each load with Keras's
 * parameter counts, get_weights() bit for bit and predictions within float32
 * tolerance; the architecture-only load gives the same counts, and its summary is
 * Keras 3's summary of the same .h5 (tests/oracle/tf2_summaries.py). Runs from the
 * repository root. */
#include "testutil.h"

#include <jansson.h>
#include <unistd.h>

#define TOL 1e-5

static const char *const cases[] = {"dense", "conv", "lstm", "bn", "nested"};
static const char *const files[] = {"model.keras", "model.h5", "tfjs/model.json"};

static void check_counts(const ck_model *m, const char *dir, const char *what)
{
    char p[1024];
    json_error_t err;
    json_t *c = json_load_file(test_path(p, sizeof p, "%s/counts.json", dir), 0, &err);
    ck_param_counts got;
    CHECK(c && ck_model_count_params(m, &got) == CK_OK, "%s: counts: %s", what, c ? ck_errmsg() : err.text);
    if (c) {
        int64_t total = json_integer_value(json_object_get(c, "total"));
        int64_t nt = json_integer_value(json_object_get(c, "non_trainable"));
        CHECK(got.total == total && got.non_trainable == nt, "%s: %lld params (%lld non-trainable), Keras %lld (%lld)",
              what, (long long)got.total, (long long)got.non_trainable, (long long)total, (long long)nt);
    }
    json_decref(c);
}

static void check_weights(const ck_model *m, const char *dir, const char *what)
{
    char p[1024];
    int n = ck_model_weight_count(m), i = 0;
    for (;; i++) {
        test_array a;
        test_path(p, sizeof p, "%s/weights/%d.npy", dir, i);
        if (access(p, R_OK)) break;
        ck_weight_info w;
        if (test_load_npy(p, &a) || i >= n || ck_model_weight(m, i, &w) != CK_OK) {
            CHECK(0, "%s: weight %d missing (ckeras has %d)", what, i, n);
            test_free_array(&a);
            return;
        }
        CHECK(w.size == a.size && test_max_error(w.data, a.data, a.size, 0) == 0, "%s: weight %d (%s) differs from Keras",
              what, i, w.path);
        test_free_array(&a);
    }
    CHECK(i == n, "%s: Keras has %d weights, ckeras %d", what, i, n);
}

static void check_predictions(ck_model *m, const char *dir, const char *what)
{
    char p[1024];
    test_array x = {0}, y = {0};
    bool ok = !test_load_npy(test_path(p, sizeof p, "%s/x.npy", dir), &x) &&
              !test_load_npy(test_path(p, sizeof p, "%s/y.npy", dir), &y);
    CHECK(ok, "%s: cannot read x.npy/y.npy", what);
    float *out = ok ? calloc((size_t)y.size, sizeof *out) : NULL;
    if (out) {
        ck_status st = ck_model_predict1(m, x.data, x.dim[0], out);
        CHECK(st == CK_OK, "%s: predict: %s", what, ck_errmsg());
        double e = st ? 1 : test_max_error(out, y.data, y.size, TOL);
        CHECK(e <= TOL, "%s: predictions differ from Keras by %g", what, e);
    }
    free(out);
    test_free_array(&x);
    test_free_array(&y);
}

static void check_summary(const char *dir, const char *file, const char *what)
{
    char p[1024];
    char *want = test_read_file(test_path(p, sizeof p, "%s/summary.txt", dir), NULL);
    if (!want) return; /* tf2_summaries.py not run for this case: counts still checked */
    ck_model *m = ck_model_load_config(test_path(p, sizeof p, "%s/%s", dir, file));
    char *text = NULL;
    CHECK(m && ck_model_summary(m, NULL, &text) == CK_OK, "%s: summary: %s", what, ck_errmsg());
    CHECK(text && !strcmp(text, want), "%s: summary differs from Keras 3's:\n%s\nKeras:\n%s", what, text ? text : "",
          want);
    free(text);
    free(want);
    ck_model_free(m);
}

static void run_case(const char *name)
{
    char dir[256], p[1024], what[512];
    snprintf(dir, sizeof dir, "tests/golden/tf2/%s", name);
    for (size_t k = 0; k < sizeof files / sizeof *files; k++) {
        snprintf(what, sizeof what, "tf2/%s/%s", name, files[k]);
        ck_model *m = ck_model_load(test_path(p, sizeof p, "%s/%s", dir, files[k]));
        CHECK(m, "%s: %s", what, ck_errmsg());
        if (!m) continue;
        check_counts(m, dir, what);
        check_weights(m, dir, what);
        check_predictions(m, dir, what);
        ck_model_free(m);
        m = ck_model_load_config(p);
        CHECK(m, "%s: architecture only: %s", what, ck_errmsg());
        if (m) check_counts(m, dir, what);
        ck_model_free(m);
        check_summary(dir, files[k], what);
    }
}

int main(void)
{
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) run_case(cases[i]);
    return test_report("test_tf2_files");
}
