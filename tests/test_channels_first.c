/* data_format='channels_first' agrees with Keras 3 (tests/oracle/channels_first_cases.py):
 * every class of the class table with a data_format field has a golden case
 * (a class without one fails here; TimeDistributed(Conv2D) has one too: the
 * wrapper's tensors move with its layer's); each case's model, loaded from Keras's
 * config with Keras's weights, prints Keras's summary and predicts Keras's y
 * within 1e-5; its backward passes the finite-difference gradient check; and
 * the small channels-first models trained by fit(epochs=2, SGD, shuffle=False)
 * give Keras's loss per epoch, weights and predictions within 1e-4. */
#include "gradcheck.h"

#include "engine/exec.h"

#include <jansson.h>

#define DIR "tests/golden/channels_first"

static bool has_data_format(const ck_layer_class *cls)
{
    for (int i = 0; i < cls->n_fields; i++)
        if (!strcmp(cls->fields[i].name, "data_format")) return true;
    return false;
}

static float *load(const char *dir, const char *file, test_array *a)
{
    char path[600];
    test_path(path, sizeof path, DIR "/%s/%s", dir, file);
    CHECK(test_load_npy(path, a) == 0, "%s: %s", dir, file);
    return a->data;
}

static ck_model *load_model(const char *dir, const char *weights)
{
    char path[600];
    ck_model *m = ck_model_load_json_file(test_path(path, sizeof path, DIR "/%s/config.json", dir));
    CHECK(m != NULL, "%s: %s", dir, ck_errmsg());
    for (int i = 0; m && i < ck_model_weight_count(m); i++) {
        char file[64];
        test_array a;
        snprintf(file, sizeof file, "%s/%d.npy", weights, i);
        if (!load(dir, file, &a)) continue;
        ck_shape s = {.rank = a.rank};
        for (int r = 0; r < a.rank; r++) s.dim[r] = a.dim[r];
        CHECK_OK(ck_model_set_weight(m, i, &s, a.data));
        test_free_array(&a);
    }
    return m;
}

static void check_predict(ck_model *m, const char *dir, const char *x_file, const char *y_file, double tol)
{
    test_array x, y;
    if (!load(dir, x_file, &x) || !load(dir, y_file, &y)) return;
    float *got = calloc((size_t)y.size, sizeof *got);
    CHECK_OK(ck_model_predict1(m, x.data, x.dim[0], got));
    double err = test_max_error(got, y.data, y.size, 1e-6);
    CHECK(err <= tol, "%s: predict: error %g", dir, err);
    free(got);
    test_free_array(&x);
    test_free_array(&y);
}

static void check_summary(ck_model *m, const char *dir)
{
    char path[600], *text = NULL;
    size_t len;
    char *want = test_read_file(test_path(path, sizeof path, DIR "/%s/summary.txt", dir), &len);
    CHECK_OK(ck_model_summary(m, NULL, &text));
    CHECK(want && text && !strcmp(text, want), "%s: summary differs from Keras's:\n%s\nKeras:\n%s", dir,
          text ? text : "", want ? want : "");
    free(text);
    free(want);
}

/* The gradient check of a case's model; scale as gradcheck's (-1: distinct
 * inputs, so a max pooling right on them has no window ties). */
static void gradcheck_case(const char *dir, float scale)
{
    char path[600], label[128];
    ck_model *g = ck_model_load_json_file(test_path(path, sizeof path, DIR "/%s/config.json", dir));
    snprintf(label, sizeof label, "%s channels_first", dir);
    gradcheck(label, g, scale, false);
}

/* One layer in channels_first: Keras's summary and predictions, and the
 * gradient check of its backward. */
static void predict_case(const char *dir)
{
    ck_model *m = load_model(dir, "weights");
    if (!m) return;
    check_summary(m, dir);
    check_predict(m, dir, "x.npy", "y.npy", 1e-5);
    ck_model_free(m);
    gradcheck_case(dir, strstr(dir, "Max") ? -1.0f : 1.0f);
}

static void train_case(const char *dir, json_t *c)
{
    ck_model *m = load_model(dir, "weights");
    test_array x, y;
    if (!m || !load(dir, "x.npy", &x) || !load(dir, "y.npy", &y)) {
        ck_model_free(m);
        return;
    }
    CHECK_OK(ck_model_compile(m, json_string_value(json_object_get(c, "optimizer")),
                              json_string_value(json_object_get(c, "loss")), NULL));
    ck_fit_opts o = ck_fit_defaults();
    o.epochs = (int)json_integer_value(json_object_get(c, "epochs"));
    o.batch_size = json_integer_value(json_object_get(c, "batch_size"));
    o.shuffle = false;
    o.verbose = 0;
    ck_history *h = NULL;
    CHECK_OK(ck_model_fit(m, x.data, y.data, x.dim[0], &o, &h));
    json_t *loss = json_object_get(json_object_get(c, "history"), "loss");
    size_t e;
    json_t *v;
    json_array_foreach(loss, e, v) {
        double got = h ? ck_history_value(h, "loss", (int)e) : NAN, want = json_number_value(v);
        CHECK(fabs(got - want) <= 1e-4 * fmax(fabs(want), 1e-3), "%s: loss of epoch %zu = %.8g, Keras %.8g", dir,
              e + 1, got, want);
    }
    CHECK(json_array_size(loss) > 0, "%s: no history", dir);
    for (int i = 0; i < ck_model_weight_count(m); i++) {
        char file[64];
        test_array a;
        ck_weight_info w;
        snprintf(file, sizeof file, "after/%d.npy", i);
        if (!load(dir, file, &a)) continue;
        CHECK_OK(ck_model_weight(m, i, &w));
        double err = w.size == a.size ? test_max_error(w.data, a.data, a.size, 1e-6) : INFINITY;
        CHECK(err <= 1e-4, "%s: %s after training: error %g", dir, w.path, err);
        test_free_array(&a);
    }
    check_predict(m, dir, "x.npy", "predict.npy", 1e-4);
    ck_history_free(h);
    test_free_array(&x);
    test_free_array(&y);
    ck_model_free(m);
}

/* SpatialDropout2D(channels_first) in training drops whole channels: each
 * [h, w] plane of a sample is either zero or x / (1 - rate), as in Keras
 * (its noise shape is [batch, channels, 1, 1]). */
static void spatial_dropout_planes(void)
{
    ck_model *m = gc_seq("(4, 3, 5)", "SpatialDropout2D", "rate=0.5, data_format='channels_first'");
    ck_exec *ex = NULL;
    CHECK_OK(ck_model_build(m));
    CHECK_OK(ck_exec_create(m, 8, &ex));
    float x[8 * 4 * 15];
    for (int i = 0; i < 8 * 4 * 15; i++) x[i] = 1.0f + (float)(i % 7);
    const float *in = x;
    if (ex) CHECK_OK(ck_exec_forward(ex, &in, 8, true));
    const float *y = ex ? ck_exec_output(ex, 0) : NULL;
    int dropped = 0, bad = 0;
    for (int plane = 0; y && plane < 8 * 4; plane++) {
        bool zero = y[plane * 15] == 0.0f;
        dropped += zero;
        for (int k = 0; k < 15; k++) {
            float want = zero ? 0.0f : 2.0f * x[plane * 15 + k];
            bad += fabsf(y[plane * 15 + k] - want) > 1e-6f;
        }
    }
    CHECK(y && bad == 0, "SpatialDropout2D(channels_first): %d elements not of a whole kept or dropped channel", bad);
    CHECK(dropped > 0 && dropped < 32, "SpatialDropout2D(channels_first): %d of 32 channels dropped", dropped);
    ck_exec_free(ex);
    ck_model_free(m);
}

/* Chains of channels_first layers hold the values between them channels-last
 * (the engine's plan_share_moves): their backward, checked whole on models
 * small enough for float32 differences. */
static ck_model *chain(const char *input_shape, const char *const *layers)
{
    ck_model *m = ck_sequential(NULL);
    char buf[256];
    snprintf(buf, sizeof buf, "input_shape=%s", input_shape);
    ck_sequential_add(m, ck_layer_new("InputLayer", buf));
    for (; *layers; layers += 2) {
        snprintf(buf, sizeof buf, "%s%sdata_format='channels_first'", layers[1], layers[1][0] ? ", " : "");
        CHECK_OK(ck_sequential_add(m, ck_layer_new(layers[0], buf)));
    }
    return m;
}

static void chains_gradcheck(void)
{
    gradcheck("channels_first chain 2D",
              chain("(2, 4, 4)", (const char *const[]){"Conv2D", "filters=2, kernel_size=2, activation='tanh'",
                                                       "AveragePooling2D", "pool_size=2, padding='same'",
                                                       "UpSampling2D", "", "ZeroPadding2D", "padding=1",
                                                       "Cropping2D", "cropping=((1, 0), (0, 1))", "Flatten", "",
                                                       NULL}),
              1.0f, false);
    gradcheck("channels_first chain 1D",
              chain("(3, 5)", (const char *const[]){"Conv1D", "filters=2, kernel_size=2, padding='same'",
                                                    "DepthwiseConv1D", "kernel_size=2, depth_multiplier=2",
                                                    "ZeroPadding1D", "padding=1", "SeparableConv1D",
                                                    "filters=2, kernel_size=2", "GlobalAveragePooling1D", "",
                                                    NULL}),
              1.0f, false);
    gradcheck("channels_first chain 3D",
              chain("(2, 2, 2, 3)", (const char *const[]){"Conv3D", "filters=2, kernel_size=1, activation='tanh'",
                                                          "Conv3DTranspose", "filters=1, kernel_size=2, strides=2",
                                                          "AveragePooling3D", "pool_size=2", "GlobalAveragePooling3D",
                                                          "keepdims=True", NULL}),
              1.0f, false);
}

int main(void)
{
    spatial_dropout_planes();
    char path[512];
    size_t len;
    char *list = test_read_file(test_path(path, sizeof path, DIR "/CASES"), &len);
    CHECK(list != NULL, "missing %s", path);
    /* which classes the cases cover */
    char covered[256][64];
    int n_covered = 0;
    for (char *line = list ? strtok(list, "\n") : NULL; line; line = strtok(NULL, "\n")) {
        json_t *c = test_load_json(DIR "/%s/case.json", line);
        const char *cls = json_string_value(json_object_get(c, "class"));
        if (cls && n_covered < 256) snprintf(covered[n_covered++], sizeof covered[0], "%s", cls);
        if (cls) predict_case(line);
        else if (c) train_case(line, c);
        json_decref(c);
    }
    chains_gradcheck();
    for (int i = 0; i < ck_layer_class_count(); i++) {
        const char *name = ck_layer_class_at(i);
        const ck_layer_class *cls = ck_find_layer_class(name);
        if (!cls || !has_data_format(cls)) continue;
        bool found = false;
        for (int k = 0; k < n_covered && !found; k++) found = !strcmp(covered[k], name);
        CHECK(found, "%s has a data_format field but no channels_first case in tests/oracle/channels_first_cases.py",
              name);
    }
    free(list);
    return test_report("test_channels_first");
}
