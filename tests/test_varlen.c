/* Variable-length sequence models (inputs with None non-batch dims) run on the
 * data's shape, as Keras does, and match real Keras 3 (tests/oracle/varlen_cases.py
 * -> tests/golden/varlen) within 1e-5: the published sentiment model (Embedding on
 * (None, None), tf.keras 2.11 HDF5) at lengths 7 and 13, and models from their
 * Keras JSON configs at two lengths each: LSTMs on (None, None, 3), a masked
 * Embedding(mask_zero) + LSTM on padded ids, Conv1D/pooling on (None, None, 4),
 * Bidirectional(LSTM) + GlobalMaxPooling1D, a nested Sequential LSTM followed
 * by TimeDistributed(Dense) whose output length follows the input's. Also: the model's
 * own shapes, summary and weights are untouched by a specialised call, an input
 * contradicting a known dim fails clearly, and the plain predict refuses clearly.
 * Training too: the LSTM model fits (SGD, mse) on length-6 data to Keras's
 * history and weights, the sentiment model evaluates to Keras's logs. */
#include "testutil.h"

#include <jansson.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static ck_shape shape_of(const test_array *a)
{
    ck_shape s = {.rank = a->rank};
    for (int d = 0; d < a->rank; d++) s.dim[d] = a->dim[d];
    return s;
}

/* Predicts golden x<T>.npy with the shaped call and compares with y<T>.npy. */
static void check_length(ck_model *m, const char *dir, int t)
{
    char p[1024];
    test_array x, y;
    int rx = test_load_npy(test_path(p, sizeof p, "tests/golden/varlen/%s/x%d.npy", dir, t), &x);
    int ry = test_load_npy(test_path(p, sizeof p, "tests/golden/varlen/%s/y%d.npy", dir, t), &y);
    CHECK(rx == 0 && ry == 0, "%s: missing x%d.npy/y%d.npy", dir, t, t);
    if (rx || ry) {
        if (!rx) test_free_array(&x);
        if (!ry) test_free_array(&y);
        return;
    }
    ck_shape in = shape_of(&x), out;
    CHECK_OK(ck_model_output_shapes_for(m, &in, &out));
    bool same = out.rank == y.rank;
    for (int d = 0; same && d < y.rank; d++) same = out.dim[d] == y.dim[d];
    char got[96];
    ck_shape_format(&out, got, sizeof got);
    CHECK(same, "%s T=%d: output shape %s differs from Keras's", dir, t, got);
    float *pred = calloc((size_t)y.size, sizeof *pred);
    const float *xs[1] = {x.data};
    float *ys[1] = {pred};
    const int64_t batches[2] = {2, 32}; /* a partial last batch, and one batch */
    for (int b = 0; b < 2; b++) {
        int64_t bs = batches[b];
        memset(pred, 0, (size_t)y.size * sizeof *pred);
        ck_status st = ck_model_predict_shaped(m, &in, xs, ys, bs);
        CHECK(st == CK_OK, "%s T=%d: %s", dir, t, ck_errmsg());
        double err = st ? 1.0 : test_max_error(pred, y.data, y.size, 1e-5);
        CHECK(err <= 1e-5, "%s T=%d batch %lld: max error %g", dir, t, (long long)bs, err);
    }
    free(pred);
    test_free_array(&x);
    test_free_array(&y);
}

/* Stored shapes and summary text are those of the model as built. */
static void check_unchanged(ck_model *m, const char *summary_before, const char *what)
{
    const ck_shape *s = ck_model_input_shape(m, 0);
    CHECK(s->rank >= 2 && s->dim[1] == CK_NONE, "%s: input shape lost its None", what);
    char *after = NULL;
    CHECK_OK(ck_model_summary(m, NULL, &after));
    CHECK(after && !strcmp(after, summary_before), "%s: summary changed", what);
    free(after);
}

static double json_num(const char *path, const char *key)
{
    json_error_t e;
    json_t *j = json_load_file(path, 0, &e), *v = j ? json_object_get(j, key) : NULL;
    double d = v ? json_number_value(v) : NAN;
    json_decref(j);
    return d;
}

static bool close_to(double a, double b) { return fabs(a - b) <= 1e-5 * (fabs(b) > 1 ? fabs(b) : 1); }

/* model.evaluate on x13 with labels: Keras's loss and accuracy; the plain call
 * refuses (no length to go by). */
static void sentiment_evaluate(ck_model *m)
{
    char p[1024], e[1024];
    test_array x, y;
    if (test_load_npy(test_path(p, sizeof p, "tests/golden/varlen/sentiment/x13.npy"), &x)) {
        CHECK(0, "sentiment: x13.npy missing");
        return;
    }
    if (test_load_npy(test_path(p, sizeof p, "tests/golden/varlen/sentiment/eval_y.npy"), &y)) {
        CHECK(0, "sentiment: eval_y.npy missing");
        test_free_array(&x);
        return;
    }
    test_path(e, sizeof e, "tests/golden/varlen/sentiment/eval.json");
    CHECK_OK(ck_model_compile(m, "sgd", "binary_crossentropy", "accuracy"));
    ck_shape in = shape_of(&x);
    const float *xs[1] = {x.data}, *ys[1] = {y.data};
    ck_history *h = NULL;
    CHECK_OK(ck_model_evaluate_shaped(m, &in, xs, ys, x.dim[0], 2, &h));
    double loss = h ? ck_history_value(h, "loss", 0) : NAN, acc = h ? ck_history_value(h, "accuracy", 0) : NAN;
    CHECK(close_to(loss, json_num(e, "loss")), "evaluate loss %.8g, Keras %.8g", loss, json_num(e, "loss"));
    CHECK(close_to(acc, json_num(e, "accuracy")), "evaluate accuracy %.8g", acc);
    ck_history_free(h);
    h = NULL;
    ck_status st = ck_model_evaluate(m, x.data, y.data, x.dim[0], 2, &h);
    CHECK(st != CK_OK && strstr(ck_errmsg(), "ck_model_evaluate_shaped"), "plain evaluate: %s",
          st ? ck_errmsg() : "ran");
    ck_history_free(h);
    test_free_array(&x);
    test_free_array(&y);
}

/* model.fit on length-6 data: Keras's loss per epoch and weights after. */
static void lstm_fit(ck_model *m)
{
    char p[1024], f[1024];
    test_array x, y;
    int rx = test_load_npy(test_path(p, sizeof p, "tests/golden/varlen/lstm/fit_x.npy"), &x);
    int ry = test_load_npy(test_path(p, sizeof p, "tests/golden/varlen/lstm/fit_y.npy"), &y);
    CHECK(rx == 0 && ry == 0, "lstm: fit_x.npy/fit_y.npy missing");
    if (rx || ry) {
        if (!rx) test_free_array(&x);
        if (!ry) test_free_array(&y);
        return;
    }
    CHECK_OK(ck_model_compile(m, "SGD(learning_rate=0.1)", "mse", NULL));
    ck_fit_opts o = ck_fit_defaults();
    o.epochs = 2, o.batch_size = 2, o.shuffle = false, o.verbose = 0;
    ck_shape in = shape_of(&x);
    const float *xs[1] = {x.data}, *ys[1] = {y.data};
    ck_history *h = NULL;
    CHECK_OK(ck_model_fit_shaped(m, &in, xs, ys, x.dim[0], &o, &h));
    test_path(f, sizeof f, "tests/golden/varlen/lstm/fit.json");
    json_error_t je;
    json_t *j = json_load_file(f, 0, &je), *losses = json_object_get(json_object_get(j, "history"), "loss");
    CHECK(json_array_size(losses) == 2, "fit.json: %s", j ? "no history.loss" : je.text);
    for (int e = 0; h && e < 2; e++) {
        double got = ck_history_value(h, "loss", e), want = json_number_value(json_array_get(losses, (size_t)e));
        CHECK(close_to(got, want), "fit epoch %d loss %.8g, Keras %.8g", e, got, want);
    }
    json_decref(j);
    ck_history_free(h);
    for (int i = 0; i < ck_model_weight_count(m); i++) {
        test_array w;
        ck_weight_info info;
        if (test_load_npy(test_path(p, sizeof p, "tests/golden/varlen/lstm/fit_weights/%d.npy", i), &w)) {
            CHECK(0, "lstm: fit_weights/%d.npy missing", i);
            continue;
        }
        CHECK_OK(ck_model_weight(m, i, &info));
        double err = info.size == w.size ? test_max_error(info.data, w.data, w.size, 1e-5) : 1.0;
        CHECK(err <= 1e-5, "weight %d after fit: max error %g", i, err);
        test_free_array(&w);
    }
    /* the plain fit has no length to go by */
    h = NULL;
    ck_status st = ck_model_fit(m, x.data, y.data, x.dim[0], &o, &h);
    CHECK(st != CK_OK && strstr(ck_errmsg(), "ck_model_fit_shaped"), "plain fit: %s", st ? ck_errmsg() : "ran");
    ck_history_free(h);
    test_free_array(&x);
    test_free_array(&y);
}

static void sentiment(void)
{
    char p[1024];
    ck_model *m = ck_model_load(test_path(p, sizeof p, "tests/data/models/sentiment_embedding_h5_named_dot_keras.keras"));
    CHECK(m != NULL, "sentiment: %s", ck_errmsg());
    if (!m) return;
    char *before = NULL;
    CHECK_OK(ck_model_summary(m, NULL, &before));
    check_length(m, "sentiment", 7);
    check_length(m, "sentiment", 13);
    check_length(m, "sentiment", 7); /* a shorter length after a longer one */
    if (before) check_unchanged(m, before, "sentiment");
    free(before);

    /* the plain call has no length to go by: a clear refusal */
    float x[7] = {1, 2, 3, 4, 5, 6, 7}, y[1];
    ck_status st = ck_model_predict1(m, x, 1, y);
    CHECK(st != CK_OK && strstr(ck_errmsg(), "unknown dimension") && strstr(ck_errmsg(), "ck_model_predict_shaped"),
          "plain predict: %s", st ? ck_errmsg() : "ran");

    /* rank contradicting the model's input (None, None) */
    ck_shape bad = {.rank = 3, .dim = {1, 7, 2}};
    const float *xs[1] = {x};
    float *ys[1] = {y};
    st = ck_model_predict_shaped(m, &bad, xs, ys, 0);
    CHECK(st != CK_OK && strstr(ck_errmsg(), "does not fit"), "rank 3 input: %s", st ? ck_errmsg() : "ran");
    sentiment_evaluate(m);
    ck_model_free(m);
}

/* A model from a golden case's Keras JSON config with its weights/<i>.npy. */
static ck_model *load_json_case(const char *dir)
{
    char p[1024];
    char *json = test_read_file(test_path(p, sizeof p, "tests/golden/varlen/%s/config.json", dir), NULL);
    CHECK(json != NULL, "%s: config.json missing", dir);
    if (!json) return NULL;
    ck_model *m = ck_model_from_json(json, "config.json");
    free(json);
    CHECK(m != NULL, "%s: %s", dir, ck_errmsg());
    if (!m) return NULL;
    CHECK_OK(ck_model_build(m));
    for (int i = 0; i < ck_model_weight_count(m); i++) {
        test_array w;
        if (test_load_npy(test_path(p, sizeof p, "tests/golden/varlen/%s/weights/%d.npy", dir, i), &w)) {
            CHECK(0, "%s: weights/%d.npy missing", dir, i);
            continue;
        }
        ck_shape s = shape_of(&w);
        CHECK_OK(ck_model_set_weight(m, i, &s, w.data));
        test_free_array(&w);
    }
    return m;
}

/* Every length the case lists (case.json) against Keras's predictions. */
static void json_case(const char *dir)
{
    char p[1024];
    json_error_t e;
    json_t *c = json_load_file(test_path(p, sizeof p, "tests/golden/varlen/%s/case.json", dir), 0, &e);
    CHECK(c != NULL, "%s: case.json: %s", dir, e.text);
    ck_model *m = c ? load_json_case(dir) : NULL;
    if (m) {
        char *before = NULL;
        CHECK_OK(ck_model_summary(m, NULL, &before));
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(c, "lengths"), i, t) check_length(m, dir, (int)json_integer_value(t));
        CHECK(json_array_size(json_object_get(c, "lengths")) >= 2, "%s: lengths", dir);
        if (before) check_unchanged(m, before, dir);
        free(before);
    }
    json_decref(c);
    ck_model_free(m);
}

/* A predictor planned once for length 9 runs the rows of x9 in two calls. */
static void predictor(ck_model *m)
{
    char p[1024];
    test_array x, y;
    int rx = test_load_npy(test_path(p, sizeof p, "tests/golden/varlen/lstm/x9.npy"), &x);
    int ry = test_load_npy(test_path(p, sizeof p, "tests/golden/varlen/lstm/y9.npy"), &y);
    bool ok = rx == 0 && ry == 0 && x.dim[0] == 2 && y.size == 4;
    CHECK(ok, "lstm: x9/y9 missing");
    if (ok) {
        ck_shape in = shape_of(&x);
        ck_predictor *pr = NULL;
        CHECK_OK(ck_predictor_new_shaped(m, 1, &in, &pr));
        float out[4] = {0};
        for (int r = 0; pr && r < 2; r++) {
            const float *xs[1] = {x.data + r * 9 * 3};
            float *ys[1] = {out + r * 2};
            CHECK_OK(ck_predictor_run(pr, xs, 1, ys));
        }
        double err = test_max_error(out, y.data, 4, 1e-5);
        CHECK(err <= 1e-5, "predictor: max error %g", err);
        ck_predictor_free(pr);
    }
    if (!rx) test_free_array(&x);
    if (!ry) test_free_array(&y);
}

static void lstm(void)
{
    ck_model *m = load_json_case("lstm");
    if (!m) return;
    char *before = NULL;
    CHECK_OK(ck_model_summary(m, NULL, &before));
    check_length(m, "lstm", 5);
    check_length(m, "lstm", 9);
    predictor(m);
    if (before) check_unchanged(m, before, "lstm");
    free(before);

    /* features 4 where the model says 3: named, not run */
    float x[2 * 4 * 4] = {0}, y[2 * 2];
    ck_shape bad = {.rank = 3, .dim = {2, 4, 4}}, out;
    const float *xs[1] = {x};
    float *ys[1] = {y};
    ck_status st = ck_model_predict_shaped(m, &bad, xs, ys, 0);
    CHECK(st != CK_OK && strstr(ck_errmsg(), "(2, 4, 4)") && strstr(ck_errmsg(), "does not fit"), "features 4: %s",
          st ? ck_errmsg() : "ran");
    st = ck_model_output_shapes_for(m, &bad, &out);
    CHECK(st != CK_OK && strstr(ck_errmsg(), "does not fit"), "shapes for features 4: %s", st ? ck_errmsg() : "ran");
    lstm_fit(m);
    ck_model_free(m);
}

int main(void)
{
    sentiment();
    lstm();
    json_case("masked");
    json_case("conv");
    json_case("windows");
    json_case("bidi");
    json_case("nested");
    return test_report("test_varlen");
}
