/* Keras Applications' predictions (tests/golden/apps_predict, written by
 * tests/oracle/convb_cases.py): each app, built small by real Keras (32x32 input,
 * 10 classes, no softmax), is loaded from its config.json, given Keras's weights
 * (stored as 8-bit codes: value = (q - 128) * scale, exactly the float32 values
 * Keras predicted with), and must predict Keras's logits on the fixed batch
 * within 1e-4 relative. The counts of the small builds are checked too. */
#include "testutil.h"

#include <jansson.h>

/* Sets every weight from the concatenated codes; returns the codes consumed. */
static int64_t set_weights(ck_model *m, const char *app, json_t *meta, const test_array *q)
{
    int64_t off = 0;
    size_t i;
    json_t *w;
    CHECK((int)json_array_size(meta) == ck_model_weight_count(m), "%s: %zu stored weights, model has %d", app,
          json_array_size(meta), ck_model_weight_count(m));
    json_array_foreach(meta, i, w) {
        json_t *dims = json_object_get(w, "shape");
        ck_shape s = {.rank = (int)json_array_size(dims)};
        int64_t n = 1;
        for (int d = 0; d < s.rank; d++) n *= s.dim[d] = json_integer_value(json_array_get(dims, (size_t)d));
        if (off + n > q->size) {
            CHECK(0, "%s: weights_q.npy too short at weight %zu", app, i);
            return off;
        }
        float scale = (float)json_number_value(json_object_get(w, "scale"));
        float *v = malloc(sizeof *v * (size_t)(n ? n : 1));
        for (int64_t k = 0; k < n; k++) v[k] = (q->data[off + k] - 128.0f) * scale;
        CHECK_OK(ck_model_set_weight(m, (int)i, &s, v));
        free(v);
        off += n;
    }
    return off;
}

/* The model written back as JSON loads again and, given the same weights,
 * predicts the same (numpy ops with constants keep their numbers). */
static void check_round_trip(const char *app, ck_model *m, const float *x, int64_t rows, const float *want,
                             int64_t n)
{
    char *json = NULL;
    CHECK_OK(ck_model_to_json(m, &json));
    ck_model *back = json ? ck_model_from_json(json, app) : NULL;
    CHECK(back != NULL, "%s: written JSON does not load: %s", app, ck_errmsg());
    int nw = back ? ck_model_weight_count(back) : 0;
    CHECK(!back || nw == ck_model_weight_count(m), "%s: %d weights after the round trip", app, nw);
    for (int i = 0; back && i < nw && i < ck_model_weight_count(m); i++) {
        ck_weight_info info;
        CHECK_OK(ck_model_weight(m, i, &info));
        CHECK_OK(ck_model_set_weight(back, i, &info.shape, info.data));
    }
    float *out = back ? calloc((size_t)n, sizeof *out) : NULL;
    if (out) {
        CHECK_OK(ck_model_predict1(back, x, rows, out));
        CHECK(!memcmp(out, want, (size_t)n * sizeof *out), "%s: predictions differ after the JSON round trip", app);
    }
    free(out);
    ck_model_free(back);
    free(json);
}

static void check_app(const char *root, const char *app)
{
    char dir[512], p[1024];
    snprintf(dir, sizeof dir, "%s/%s", root, app);
    /* a relative root is under the repository, an absolute one (CKERAS_APPS_FULL) as is */
#define GOLDEN(fmt, ...) (root[0] == '/' ? (snprintf(p, sizeof p, fmt, __VA_ARGS__), p) : test_path(p, sizeof p, fmt, __VA_ARGS__))
    ck_model *m = ck_model_load_json_file(GOLDEN("%s/config.json", dir));
    CHECK(m != NULL, "%s: %s", app, ck_errmsg());
    if (!m) return;
    json_error_t e;
    json_t *meta = json_load_file(GOLDEN("%s/weights.json", dir), 0, &e);
    json_t *counts = json_load_file(GOLDEN("%s/counts.json", dir), 0, &e);
    test_array q = {0}, x = {0}, y = {0};
    int bad = test_load_npy(GOLDEN("%s/weights_q.npy", dir), &q);
    bad |= test_load_npy(GOLDEN("%s/x.npy", dir), &x);
    bad |= test_load_npy(GOLDEN("%s/y.npy", dir), &y);
    CHECK(meta && counts && !bad, "%s: golden files missing", app);
    if (meta && counts && !bad) {
        ck_param_counts pc;
        CHECK_OK(ck_model_count_params(m, &pc));
        CHECK(pc.total == json_integer_value(json_object_get(counts, "total")), "%s: total %lld", app,
              (long long)pc.total);
        CHECK(set_weights(m, app, meta, &q) == q.size, "%s: not every stored code was used", app);
        float *out = calloc((size_t)y.size, sizeof *out);
        CHECK_OK(ck_model_predict1(m, x.data, x.dim[0], out));
        /* Relative to the largest logit: the logits are small (|y| < 1), where
         * test_max_error's floor of 1 would make the check absolute. */
        double diff = 0.0, peak = 0.0;
        for (int64_t k = 0; k < y.size; k++) {
            double d = fabs((double)out[k] - y.data[k]);
            diff = d > diff || d != d ? d : diff;
            peak = fabs(y.data[k]) > peak ? fabs(y.data[k]) : peak;
        }
        CHECK(diff <= 1e-4 * peak, "%s: max error %g, %g relative to the largest logit %g", app, diff,
              diff / peak, peak);
        fprintf(stderr, "%s: max error %.3g relative to the largest logit\n", app, diff / peak);
        check_round_trip(app, m, x.data, x.dim[0], out, y.size);
        free(out);
    }
    test_free_array(&q);
    test_free_array(&x);
    test_free_array(&y);
    json_decref(meta);
    json_decref(counts);
    ck_model_free(m);
}

int main(void)
{
    static const char *const apps[] = {"MobileNet", "MobileNetV2", "MobileNetV3Small", "ConvNeXt_mini",
                                       "EfficientNet_mini", "NASNet_mini", "DenseNet_mini"};
    for (size_t a = 0; a < sizeof apps / sizeof apps[0]; a++) check_app("tests/golden/apps_predict", apps[a]);
    /* Optional: the 13 full-width Applications, too large to commit, written by
     * `tests/oracle/convb_cases.py --full-apps DIR`; checked when CKERAS_APPS_FULL=DIR. */
    const char *full = getenv("CKERAS_APPS_FULL");
    static const char *const full_apps[] = {"VGG16", "VGG19", "ResNet50", "ResNet50V2", "MobileNet", "MobileNetV2",
                                            "DenseNet121", "InceptionV3", "Xception", "EfficientNetB0",
                                            "NASNetMobile", "ConvNeXtTiny", "MobileNetV3Small"};
    for (size_t a = 0; full && a < sizeof full_apps / sizeof full_apps[0]; a++) {
        char root[600], p[1200];
        snprintf(root, sizeof root, "%s", full);
        snprintf(p, sizeof p, "%s/%s/config.json", root, full_apps[a]);
        FILE *f = fopen(p, "r");
        if (!f) {
            fprintf(stderr, "note: %s not generated in %s\n", full_apps[a], root);
            continue;
        }
        fclose(f);
        check_app(root, full_apps[a]);
    }
    return test_report("test_apps_predict");
}
