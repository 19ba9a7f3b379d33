/* Tests for the model-file formats (src/io/): every published Keras file under
 * tests/data/models/ opens with the counts its README gives (or is refused with a
 * message naming what is missing); files real Keras 3 wrote for the oracle cases
 * (tests/golden/files/, from tests/oracle/files_cases.py) load with get_weights()
 * equal to Keras's own, bit for bit, in every format; what ckeras writes reads
 * back identically in every format; and the malformed corpus gets its one-line
 * errors. Runs from the repository root. */
#include "testutil.h"

#include <jansson.h>
#include <unistd.h>

/* ---- helpers ----------------------------------------------------------------------- */
static int64_t total_params(const ck_model *m, int64_t *non_trainable)
{
    ck_param_counts c;
    if (ck_model_count_params(m, &c)) return -1;
    *non_trainable = c.non_trainable;
    /* model.count_params(): a compiled .keras also counts its optimizer in c.total */
    return c.trainable + c.non_trainable;
}

/* get_weights() of a model against weights/<i>.npy dumped by Keras: exact. */
static void check_weights_npy(const ck_model *m, const char *dir, const char *what)
{
    char p[1024];
    int n = ck_model_weight_count(m);
    for (int i = 0;; i++) {
        test_array a;
        test_path(p, sizeof p, "%s/weights/%d.npy", dir, i);
        if (access(p, R_OK)) {
            CHECK(i == n, "%s: Keras has %d weights, ckeras %d", what, i, n);
            return;
        }
        if (test_load_npy(p, &a)) {
            CHECK(0, "%s: cannot read %s", what, p);
            return;
        }
        ck_weight_info w;
        CHECK(i < n && ck_model_weight(m, i, &w) == CK_OK, "%s: weight %d missing", what, i);
        if (i < n && ck_model_weight(m, i, &w) == CK_OK) {
            CHECK(w.size == a.size, "%s: weight %d has %lld values, Keras %lld", what, i, (long long)w.size, (long long)a.size);
            if (w.size == a.size)
                CHECK(test_max_error(w.data, a.data, a.size, 0) == 0, "%s: weight %d (%s) differs from Keras", what, i, w.path);
        }
        test_free_array(&a);
    }
}

static bool same_weights(const ck_model *a, const ck_model *b)
{
    int n = ck_model_weight_count(a);
    if (n != ck_model_weight_count(b)) return false;
    for (int i = 0; i < n; i++) {
        ck_weight_info x, y;
        if (ck_model_weight(a, i, &x) || ck_model_weight(b, i, &y)) return false;
        if (x.size != y.size || memcmp(x.data, y.data, (size_t)x.size * sizeof(float))) return false;
    }
    return true;
}

/* ---- published files ------------------------------------------------------------------ */
typedef struct published {
    const char *file;
    int64_t total, non_trainable;
} published;

static const published published_files[] = {
    {"churn_tanishk_model.h5", 2945, 0},
    {"houseprice_model.h5", 13185, 0},
    {"alphabets_keras36_model.h5", 111674, 0},
    {"hls4ml_keras_1layer.h5", 385, 0},
    {"hls4ml_keras_3layer.h5", 4389, 0},
    {"hls4ml_keras_3layer_batch_norm.h5", 4921, 266},
    {"hls4ml_keras_conv1d_small.h5", 171, 0},
    {"hls4ml_keras_conv2d_model.h5", 1310, 0},
    {"fdeep_temp_stateless.h5", 6, 0},
    {"flownet_final_model.keras", 10786, 0},
    {"flownet_25-06_model.keras", 17026, 0},
    {"mnist_cnn_akshatv25_k3151.keras", 225034, 0},
    {"stock_lstm_adjoapanyin_k341.keras", 85105, 0},
    {"sentiment_embedding_h5_named_dot_keras.keras", 160017, 0},
    {"creditcard_fraud_model.json", 1711, 0},
    {"hls4ml_json_KERAS_3layer.json", 4389, 0},
    {"tfjs_abalone/model.json", 3051, 0},
    {"tfjs_ml5_balance_model1/model.json", 99, 0},
};

static void test_published(void)
{
    char p[1024];
    for (size_t i = 0; i < sizeof published_files / sizeof *published_files; i++) {
        const published *f = &published_files[i];
        test_path(p, sizeof p, "tests/data/models/%s", f->file);
        ck_model *m = ck_model_load(p);
        CHECK(m != NULL, "%s: %s", f->file, ck_errmsg());
        if (!m) continue;
        int64_t nt = -1, total = total_params(m, &nt);
        CHECK(total == f->total && nt == f->non_trainable, "%s: params %lld (%lld NT), README says %lld (%lld)", f->file,
              (long long)total, (long long)nt, (long long)f->total, (long long)f->non_trainable);
        ck_model_free(m);
        /* Architecture only gives the same counts without reading weights. */
        m = ck_model_load_config(p);
        CHECK(m && total_params(m, &nt) == f->total, "%s: load_config: %s", f->file, m ? "counts differ" : ck_errmsg());
        ck_model_free(m);
    }
}

static void test_qkeras_refused(void)
{
    char p[1024];
    test_path(p, sizeof p, "tests/data/models/hls4ml_qkeras-v3_3layer.keras");
    ck_model *m = ck_model_load(p);
    CHECK(!m, "QKeras file must be refused");
    const char *e = ck_errmsg();
    CHECK(strstr(e, "hls4ml_qkeras-v3_3layer.keras") && strstr(e, "'fc1' (qkeras>QDense)") &&
              strstr(e, "'output' (qkeras>QDense)") && strstr(e, "'relu1' (qkeras>QActivation)") && !strchr(e, '\n'),
          "QKeras message: %s", e);
    ck_model_free(m);
}

/* Weights from legacy .h5 and .keras equal Keras's own get_weights() of the same file. */
static void test_published_weights(void)
{
    static const char *const names[][2] = {
        {"churn_tanishk_model.h5", "churn_tanishk_model_h5"},
        {"houseprice_model.h5", "houseprice_model_h5"},
        {"hls4ml_keras_1layer.h5", "hls4ml_keras_1layer_h5"},
        {"hls4ml_keras_3layer.h5", "hls4ml_keras_3layer_h5"},
        {"flownet_25-06_model.keras", "flownet_25-06_model_keras"},
    };
    char p[1024], d[1024];
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        test_path(p, sizeof p, "tests/data/models/%s", names[i][0]);
        snprintf(d, sizeof d, "tests/golden/files/published/%s", names[i][1]);
        ck_model *m = ck_model_load(p);
        CHECK(m, "%s: %s", names[i][0], ck_errmsg());
        if (m) check_weights_npy(m, d, names[i][0]);
        ck_model_free(m);
    }
}

/* Weights-only files paired with their JSON configs (Keras 2.0). */
static void test_weights_only(void)
{
    static const char *const pairs[][2] = {
        {"creditcard_fraud_model.json", "creditcard_fraud_weights.h5"},
        {"hls4ml_json_KERAS_3layer.json", "hls4ml_json_KERAS_3layer_weights.h5"},
    };
    char c[1024], w[1024];
    for (size_t i = 0; i < 2; i++) {
        test_path(c, sizeof c, "tests/data/models/%s", pairs[i][0]);
        test_path(w, sizeof w, "tests/data/models/%s", pairs[i][1]);
        ck_model *m = ck_model_load(c);
        CHECK(m, "%s: %s", c, ck_errmsg());
        if (!m) continue;
        CHECK_OK(ck_model_load_weights(m, w));
        ck_weight_info wi;
        CHECK(ck_model_weight(m, 0, &wi) == CK_OK && wi.data[0] != 0, "%s: weights not loaded", w);
        ck_model_free(m);
        m = ck_model_load(w);
        CHECK(!m && strstr(ck_errmsg(), "weights-only"), "%s alone: %s", w, ck_errmsg());
    }
}

/* Drops the " Total params" and " Optimizer params" lines (in place). */
static void drop_optimizer_lines(char *s)
{
    char *out = s;
    for (char *line = s; line && *line;) {
        char *nl = strchr(line, '\n');
        size_t n = nl ? (size_t)(nl - line + 1) : strlen(line);
        if (strncmp(line, " Total params", 13) && strncmp(line, " Optimizer params", 17)) {
            memmove(out, line, n);
            out += n;
        }
        line += n;
    }
    *out = '\0';
}

static void test_expected_summaries(void)
{
    char p[1024], e[1024];
    test_path(p, sizeof p, "tests/data/models/churn_tanishk_model.h5");
    test_path(e, sizeof e, "tests/data/models/expected/churn_tanishk_model.summary.txt");
    ck_model *m = ck_model_load_config(p);
    char *text = NULL, *want = test_read_file(e, NULL);
    CHECK(m && ck_model_summary(m, NULL, &text) == CK_OK, "churn summary: %s", ck_errmsg());
    /* Keras 3.8 printed the model before saving it; loaded (compiled from its
     * training_config) it also counts its optimizer, which
     * tests/golden/core_loaded/churn_tanishk_model.txt checks byte for byte. */
    if (text) drop_optimizer_lines(text);
    if (want) drop_optimizer_lines(want);
    CHECK(text && want && !strcmp(text, want), "churn summary differs from Keras 3.8's:\n%s", text ? text : "");
    free(text);
    free(want);
    ck_model_free(m);
    /* Keras 2 era summaries: every layer row's name, shape and count agree. */
    static const char *const older[][2] = {
        {"houseprice_model.h5", "houseprice_model.summary.txt"},
        {"creditcard_fraud_model.json", "creditcard_fraud.summary.txt"},
    };
    for (int k = 0; k < 2; k++) {
        test_path(p, sizeof p, "tests/data/models/%s", older[k][0]);
        test_path(e, sizeof e, "tests/data/models/expected/%s", older[k][1]);
        m = ck_model_load_config(p);
        want = test_read_file(e, NULL);
        CHECK(m && want, "%s: %s", older[k][0], ck_errmsg());
        for (int i = 0; m && want && i < ck_model_layer_count(m); i++) {
            ck_layer *l = ck_model_layer(m, i);
            char row[256], shape[128];
            snprintf(row, sizeof row, "%s (%s)", ck_layer_name(l), ck_layer_class_name(l));
            CHECK(strstr(want, row), "%s: row '%s' not in Keras's summary", older[k][0], row);
            snprintf(shape, sizeof shape, "%lld ", (long long)ck_layer_count_params(l));
            const char *at = strstr(want, row);
            CHECK(at && strstr(at, shape), "%s: count %s of '%s' not in Keras's summary", older[k][0], shape, row);
        }
        free(want);
        ck_model_free(m);
    }
}

/* ---- oracle cases: Keras wrote them, C reads them ------------------------------------ */
static const char *const oracle_cases[] = {"seq_mlp", "seq_activation", "func_merge", "nested_func", "nested_seq"};

static void test_oracle_reads(void)
{
    char d[512], p[1024], what[600];
    for (size_t i = 0; i < sizeof oracle_cases / sizeof *oracle_cases; i++) {
        snprintf(d, sizeof d, "tests/golden/files/%s", oracle_cases[i]);
        static const char *const files[] = {"model.keras", "model.h5"};
        for (int k = 0; k < 2; k++) {
            test_path(p, sizeof p, "%s/%s", d, files[k]);
            snprintf(what, sizeof what, "%s/%s", oracle_cases[i], files[k]);
            ck_model *m = ck_model_load(p);
            CHECK(m, "%s: %s", what, ck_errmsg());
            if (m) check_weights_npy(m, d, what);
            ck_model_free(m);
        }
        test_path(p, sizeof p, "%s/config.json", d);
        ck_model *m = ck_model_load(p);
        CHECK(m, "%s config: %s", oracle_cases[i], ck_errmsg());
        if (!m) continue;
        test_path(p, sizeof p, "%s/model.weights.h5", d);
        CHECK_OK(ck_model_load_weights(m, p));
        snprintf(what, sizeof what, "%s/model.weights.h5", oracle_cases[i]);
        check_weights_npy(m, d, what);
        ck_model_free(m);
    }
}

/* ---- C writes, C reads: every format keeps config and weights -------------------------- */
static void test_round_trips(void)
{
    char d[512], p[1024], out[1024], tmpdir[] = "/tmp/ckeras-files-XXXXXX";
    CHECK(mkdtemp(tmpdir) != NULL, "mkdtemp");
    static const char *const outs[] = {"m.keras", "m.h5", "model.json", "m.weights.h5"};
    for (size_t i = 0; i < sizeof oracle_cases / sizeof *oracle_cases; i++) {
        snprintf(d, sizeof d, "tests/golden/files/%s", oracle_cases[i]);
        test_path(p, sizeof p, "%s/model.keras", d);
        ck_model *m = ck_model_load(p);
        if (!m) continue;
        char *json = NULL;
        CHECK_OK(ck_model_to_json(m, &json));
        for (int k = 0; k < 4; k++) {
            snprintf(out, sizeof out, "%s/%s", tmpdir, outs[k]);
            CHECK(ck_model_save(m, out) == CK_OK, "%s -> %s: %s", oracle_cases[i], outs[k], ck_errmsg());
            ck_model *back;
            if (k == 3) {
                back = ck_model_load(p);
                ck_model_reinitialize(back);
                CHECK(back && ck_model_load_weights(back, out) == CK_OK, "%s: %s", outs[k], ck_errmsg());
            } else {
                back = ck_model_load(out);
            }
            CHECK(back, "%s reading back %s: %s", oracle_cases[i], outs[k], ck_errmsg());
            if (!back) continue;
            CHECK(same_weights(m, back), "%s: weights differ after %s", oracle_cases[i], outs[k]);
            char *json2 = NULL;
            CHECK(ck_model_to_json(back, &json2) == CK_OK && json && !strcmp(json, json2), "%s: config differs after %s",
                  oracle_cases[i], outs[k]);
            free(json2);
            ck_model_free(back);
            remove(out);
        }
        /* TF.js shard next to model.json. */
        snprintf(out, sizeof out, "%s/model.weights.bin", tmpdir);
        remove(out);
        free(json);
        ck_model_free(m);
    }
    rmdir(tmpdir);
}

/* ck_model_to_json equals Keras's own config.json, value for value. */
static void test_to_json_matches_keras(void)
{
    char p[1024], diff[1024];
    for (size_t i = 0; i < sizeof oracle_cases / sizeof *oracle_cases; i++) {
        test_path(p, sizeof p, "tests/golden/files/%s/config.json", oracle_cases[i]);
        ck_model *m = ck_model_load(p);
        CHECK(m, "%s: %s", oracle_cases[i], ck_errmsg());
        if (m) CHECK(test_to_json_diff(m, p, diff, sizeof diff) == 0, "%s: to_json differs from Keras at %s",
                     oracle_cases[i], diff);
        ck_model_free(m);
    }
}

/* ---- masks a functional model recorded (tests/oracle/files_cases.py, MASKED) -----------
 * Keras 3 writes the mask it handed a layer's call as keras.src.ops layers
 * (NotEqual, Any, LogicalOr) feeding mask=; ckeras derives the masks itself and
 * must predict from model.keras and model.h5 what the saved model did (Keras's
 * own load_model refuses the .h5: keras_h5.json), also after writing the model
 * back, and print the summary Keras prints after load_model of the .keras (the
 * ops listed); a recorded mask its layers would not give is refused. */
static void predict_like(ck_model *m, const char *d, const char *what, double *worst)
{
    char p[1024];
    test_array x[2], y;
    int nx = 0;
    while (nx < 2 && !test_load_npy(test_path(p, sizeof p, "%s/x%d.npy", d, nx), &x[nx])) nx++;
    CHECK(nx > 0 && !test_load_npy(test_path(p, sizeof p, "%s/y.npy", d), &y), "%s: goldens", what);
    if (!nx) return;
    const float *ins[2] = {x[0].data, nx > 1 ? x[1].data : NULL};
    float *out = calloc((size_t)y.size, sizeof(float));
    ck_status st = ck_model_predict(m, ins, x[0].dim[0], &out, 0);
    CHECK(st == CK_OK, "%s: predict: %s", what, ck_errmsg());
    double err = st == CK_OK ? test_max_error(out, y.data, y.size, 1e-5) : 1.0;
    CHECK(err <= 1e-5, "%s: predictions differ from Keras's by %g", what, err);
    if (err > *worst) *worst = err;
    free(out);
    for (int i = 0; i < nx; i++) test_free_array(&x[i]);
    test_free_array(&y);
}

static void test_recorded_masks(void)
{
    static const char *const cases[] = {"masked_embedding_lstm", "masked_masking_gru", "masked_add_pooling",
                                        "masked_concat_steps"};
    char d[512], p[1024], what[600], tmp[] = "/tmp/ckeras-masks-XXXXXX";
    double worst = 0.0;
    CHECK(mkdtemp(tmp) != NULL, "mkdtemp");
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        snprintf(d, sizeof d, "tests/golden/files/%s", cases[i]);
        static const char *const files[] = {"model.keras", "model.h5"};
        for (int k = 0; k < 2; k++) {
            snprintf(what, sizeof what, "%s/%s", cases[i], files[k]);
            ck_model *m = ck_model_load(test_path(p, sizeof p, "%s/%s", d, files[k]));
            CHECK(m, "%s: %s", what, ck_errmsg());
            if (!m) continue;
            check_weights_npy(m, d, what);
            predict_like(m, d, what, &worst);
            /* summary() as Keras's of the loaded .keras: the ops' rows too */
            json_t *sums = test_load_json("%s/summaries.json", d);
            test_check_summaries(m, sums, d, CK_SUMMARY_KERAS3);
            json_decref(sums);
            char out[1024];
            snprintf(out, sizeof out, "%s/back.keras", tmp);
            CHECK(ck_model_save(m, out) == CK_OK, "%s: save: %s", what, ck_errmsg());
            ck_model *back = ck_model_load(out);
            CHECK(back, "%s read back: %s", what, ck_errmsg());
            strncat(what, " written back", sizeof what - strlen(what) - 1);
            if (back) predict_like(back, d, what, &worst);
            ck_model_free(back);
            remove(out);
            ck_model_free(m);
        }
    }
    rmdir(tmp);
    printf("recorded masks: worst prediction error %.3g\n", worst);
    /* Embedding(mask_zero=False) under the recorded not_equal: no mask to derive */
    json_error_t e;
    json_t *c = json_load_file(test_path(p, sizeof p, "tests/golden/files/masked_embedding_lstm/config.json"), 0, &e);
    CHECK(c != NULL, "config.json: %s", e.text);
    if (!c) return;
    size_t i;
    json_t *l;
    json_array_foreach(json_object_get(json_object_get(c, "config"), "layers"), i, l)
        if (!strcmp(json_string_value(json_object_get(l, "class_name")), "Embedding"))
            json_object_set_new(json_object_get(l, "config"), "mask_zero", json_false());
    char *text = json_dumps(c, 0);
    ck_model *m = ck_model_from_json(text, "unmasked.json");
    CHECK(!m && strstr(ck_errmsg(), "unmasked.json: LSTM 'lstm', field 'inbound_nodes': call 0's mask= is computed by "
                                    "keras.src.ops layers"),
          "a recorded mask= no layer gives: %s", m ? "loaded" : ck_errmsg());
    ck_model_free(m);
    free(text);
    json_decref(c);
}

/* ---- malformed corpus ---------------------------------------------------------------------- */
typedef struct bad_case {
    const char *file;
    const char *fragment;
} bad_case;

static void test_malformed(void)
{
    static const bad_case cases[] = {
        {"truncated.keras", "not a readable .keras zip archive"},
        {"missing_weights.keras", "archive member 'model.weights.h5' is missing"},
        {"missing_config.keras", "archive member 'config.json' is missing"},
        {"syntax_error.keras", "config.json: JSON syntax error at line 1"},
        {"absurd_units.keras", "Dense 'dense', weight 'kernel'"},
        {"shape_mismatch.keras", "model.weights.h5: layer 'dense' weight 'kernel': expected shape (4, 6), got (4, 5)"},
        {"no_model_config.h5", "HDF5 file without a model_config attribute"},
        {"wrong_dtype.h5", "layer 'dense' weight 'kernel': dataset 'mlp/dense/kernel' holds text, not numbers"},
        {"shape_mismatch.h5", "layer 'dense' weight 'kernel': expected shape (4, 5), got (5, 4)"},
        {"not_a_model.keras", "not a Keras model file"},
        {"does_not_exist.keras", "cannot open"},
        {"tfjs_short_shard/model.json", "the shard files hold 1000 bytes, the manifest 12204"},
        {"tfjs_missing_shard/model.json", "weights.bin: cannot open"},
    };
    char p[1024];
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        test_path(p, sizeof p, "tests/data/malformed/%s", cases[i].file);
        ck_model *m = ck_model_load(p);
        const char *e = ck_errmsg();
        CHECK(!m && strstr(e, cases[i].fragment) && strstr(e, cases[i].file) && !strchr(e, '\n'),
              "%s: expected '%s', got '%s'", cases[i].file, cases[i].fragment, m ? "a model" : e);
        ck_model_free(m);
    }
    /* A weights file that disagrees with its config. */
    char c[1024];
    test_path(c, sizeof c, "tests/golden/files/seq_mlp/config.json");
    test_path(p, sizeof p, "tests/data/malformed/shape_mismatch.weights.h5");
    ck_model *m = ck_model_load(c);
    CHECK(m && ck_model_load_weights(m, p) == CK_ERR_SHAPE &&
              strstr(ck_errmsg(), "shape_mismatch.weights.h5: layer 'dense' weight 'kernel': expected shape (4, 5), got (3, 5)"),
          "weights mismatch: %s", ck_errmsg());
    ck_model_free(m);
}

/* ---- inspect and raw listing ------------------------------------------------------------------ */
static int count_weights(void *ctx, const char *path, const ck_shape *s)
{
    (void)path;
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++) n *= s->dim[i];
    *(int64_t *)ctx += n;
    return 0;
}

static void test_inspect(void)
{
    char p[1024];
    ck_file_info info;
    test_path(p, sizeof p, "tests/data/models/sentiment_embedding_h5_named_dot_keras.keras");
    CHECK_OK(ck_file_inspect(p, &info));
    CHECK(!strcmp(info.format, "hdf5-model") && !strcmp(info.keras_version, "2.11.0") && info.n_values == 160017,
          "sentiment: %s %s %lld", info.format, info.keras_version, (long long)info.n_values);
    test_path(p, sizeof p, "tests/data/models/hls4ml_qkeras-v3_3layer.keras");
    CHECK_OK(ck_file_inspect(p, &info));
    CHECK(!strcmp(info.format, "keras-zip") && !strcmp(info.keras_version, "3.14.1") && info.n_values == 4389,
          "qkeras: %s %s %lld", info.format, info.keras_version, (long long)info.n_values);
    int64_t total = 0;
    CHECK_OK(ck_file_list_weights(p, count_weights, &total));
    CHECK(total == 4389, "qkeras raw weights: %lld", (long long)total);
    test_path(p, sizeof p, "tests/data/models/tfjs_abalone/model.json");
    CHECK_OK(ck_file_inspect(p, &info));
    CHECK(!strcmp(info.format, "tfjs") && info.n_values == 3051, "tfjs: %s %lld", info.format, (long long)info.n_values);
    test_path(p, sizeof p, "tests/data/models/churn_tanishk_model.h5");
    CHECK_OK(ck_file_inspect(p, &info));
    CHECK(!strcmp(info.keras_version, "3.8.0") && info.has_optimizer && !strcmp(info.model_class, "Sequential"),
          "churn: %s optimizer=%d class=%s", info.keras_version, info.has_optimizer, info.model_class);
}

/* ---- subclassed model: architecture refused, weights still listed ------------------------ */
typedef struct listing {
    json_t *want;   /* [{"path", "shape"}] from h5py, storage order */
    size_t at;
    int64_t total;
    int mismatches;
} listing;

static int check_listed(void *ctx, const char *path, const ck_shape *s)
{
    listing *l = ctx;
    json_t *e = json_array_get(l->want, l->at++), *shape = json_object_get(e, "shape");
    bool same = e && !strcmp(path, json_string_value(json_object_get(e, "path"))) && (int)json_array_size(shape) == s->rank;
    int64_t n = 1;
    for (int i = 0; i < s->rank; i++) {
        n *= s->dim[i];
        same = same && json_integer_value(json_array_get(shape, (size_t)i)) == s->dim[i];
    }
    l->total += n;
    l->mismatches += !same;
    return 0;
}

static void test_subclassed(void)
{
    char p[1024], w[1024];
    test_path(p, sizeof p, "tests/golden/files/subclassed/model.keras");
    ck_model *m = ck_model_load(p);
    CHECK(!m && strstr(ck_errmsg(), "'TwoTower'") && strstr(ck_errmsg(), "subclassed/model.keras"),
          "subclassed model: expected a refusal naming TwoTower and the file, got: %s", m ? "a model" : ck_errmsg());
    ck_model_free(m);
    json_error_t err;
    json_t *want = json_load_file(test_path(w, sizeof w, "tests/golden/files/subclassed/weights.json"), 0, &err);
    CHECK(want, "weights.json: %s", err.text);
    if (!want) return;
    listing l = {json_object_get(want, "weights"), 0, 0, 0};
    CHECK_OK(ck_file_list_weights(p, check_listed, &l));
    CHECK(l.at == json_array_size(l.want) && !l.mismatches && l.total == json_integer_value(json_object_get(want, "total")),
          "subclassed listing: %zu weights (%d differ), total %lld; h5py lists %zu, total %lld", l.at, l.mismatches,
          (long long)l.total, json_array_size(l.want), (long long)json_integer_value(json_object_get(want, "total")));
    json_decref(want);
}

int main(void)
{
    test_published();
    test_qkeras_refused();
    test_published_weights();
    test_weights_only();
    test_expected_summaries();
    test_oracle_reads();
    test_round_trips();
    test_to_json_matches_keras();
    test_malformed();
    test_inspect();
    test_subclassed();
    test_recorded_masks();
    return test_report("test_files");
}
