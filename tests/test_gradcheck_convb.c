/* Finite-difference gradient checks of the backward passes added on branch convb:
 * LayerNormalization (axes, no center/scale, Keras's rms_scaling), GroupNormalization
 * (channels last, axis 1, instance-like, groups=-1), UnitNormalization,
 * RMSNormalization, Rescaling,
 * Normalization, Resizing (every interpolation, crop/pad to the aspect ratio),
 * CenterCrop (crop and smart_resize), LayerScale and the numpy operations with a
 * constant operand. The harness is test_gradcheck.c's (same loss, step and
 * tolerances), copied so the two branches merge without touching each other. */
#include "testutil.h"

#include "train/exec.h"

#define ROWS 3
#define EPS 5e-3
#define ATOL 2e-3
#define RTOL 1e-2

typedef struct check {
    ck_model *m;
    ck_exec *ex;
    float *x[8], *r[8];
    int64_t xn[8], yn[8];
    bool training;
} check;

static uint64_t lcg = 12345;
static int n_models;
static float rnd(void)
{
    /* Uniform in [-1, 1), plenty for test data; fixed sequence. */
    lcg = lcg * 6364136223846793005ull + 1442695040888963407ull;
    return (float)((double)(lcg >> 11) / 9007199254740992.0 * 2.0 - 1.0);
}

static double loss(check *c)
{
    if (c->training) ck_rng_seed(&c->ex->rng, 7); /* the same dropout mask every pass */
    ck_status st = ck_exec_forward(c->ex, (const float *const *)c->x, ROWS, c->training);
    CHECK(st == CK_OK, "forward: %s", ck_errmsg());
    double L = 0.0;
    for (int i = 0; i < c->m->n_outputs; i++) {
        const float *y = ck_exec_output(c->ex, i);
        for (int64_t k = 0; k < c->yn[i]; k++) L += (double)y[k] * c->r[i][k];
    }
    return L;
}

/* A mismatch is forgiven only at a kink (relu at 0, Maximum at a tie...), seen as
 * a second difference lp - 2 l0 + lm far above the smooth O(f'' eps^2); at most a
 * few per model may be forgiven, so a broken backward cannot hide behind it. */
#define KINK 2e-4
static int n_kinks;

static int compare(const char *label, const char *what, int64_t k, double a, double lp, double l0, double lm)
{
    double n = (lp - lm) / (2 * EPS), tol = ATOL + RTOL * fmax(fabs(a), fabs(n));
    if (fabs(a - n) > tol && fabs(lp - 2 * l0 + lm) > KINK) {
        n_kinks++;
        return 1;
    }
    CHECK(fabs(a - n) <= tol, "%s: d/d%s[%lld]: analytic %.6f, numeric %.6f", label, what, (long long)k, a, n);
    return fabs(a - n) <= tol;
}

/* Checks one model; scale multiplies the random inputs (negative: distinct values). */
static void gradcheck(const char *label, ck_model *m, float scale, bool training)
{
    if (m) ck_model_set_seed(m, 1000 + (uint64_t)n_models); /* different weights per model */
    CHECK(m != NULL && ck_model_build(m) == CK_OK && ck_model_built(m), "%s: build: %s", label, ck_errmsg());
    if (!m || !ck_model_built(m)) {
        ck_model_free(m);
        return;
    }
    check c = {.m = m, .training = training};
    CHECK_OK(ck_exec_create(m, ROWS, &c.ex));
    if (!c.ex) {
        ck_model_free(m);
        return;
    }
    ck_exec_want_input_grads(c.ex, true);
    for (int i = 0; i < m->n_inputs; i++) {
        int64_t s;
        ck_shape_size_from(ck_model_input_shape(m, i), 1, &s);
        c.xn[i] = ROWS * s;
        c.x[i] = malloc((size_t)c.xn[i] * sizeof(float));
        for (int64_t k = 0; k < c.xn[i]; k++) c.x[i][k] = scale * rnd();
    }
    if (scale < 0) {
        /* Maximum/Minimum: distinct values 0.05 apart, so no pair is within EPS of
         * a tie, where the function has no derivative. */
        int64_t j = 0;
        for (int i = 0; i < m->n_inputs; i++)
            for (int64_t k = 0; k < c.xn[i]; k++, j++) c.x[i][k] = (float)((j * 37) % 211) * 0.05f - 5.0f;
    }
    for (int i = 0; i < m->n_outputs; i++) {
        c.yn[i] = ROWS * ck_exec_output_size(c.ex, i);
        c.r[i] = malloc((size_t)c.yn[i] * sizeof(float));
        for (int64_t k = 0; k < c.yn[i]; k++) c.r[i][k] = rnd();
    }
    double l0 = loss(&c);
    n_kinks = 0;
    CHECK_OK(ck_exec_backward(c.ex, (const float *const *)c.r));
    int good = 0, total = 0;
    /* Every analytic gradient is copied before the numeric passes overwrite them. */
    float *gin[8] = {0};
    for (int i = 0; i < m->n_inputs; i++) {
        const float *g = ck_exec_input_grad(c.ex, i);
        CHECK(g != NULL, "%s: no input gradient %d", label, i);
        if (!g) continue;
        gin[i] = malloc((size_t)c.xn[i] * sizeof(float));
        memcpy(gin[i], g, (size_t)c.xn[i] * sizeof(float));
    }
    float *gw = malloc((size_t)(m->weight_block_size + 1) * sizeof(float));
    memcpy(gw, m->grad_block, (size_t)m->weight_block_size * sizeof(float));
    for (int i = 0; i < m->n_inputs; i++) {
        float *gi = gin[i];
        if (!gi) continue;
        for (int64_t k = 0; k < c.xn[i]; k++) {
            float keep = c.x[i][k];
            c.x[i][k] = keep + (float)EPS;
            double lp = loss(&c);
            c.x[i][k] = keep - (float)EPS;
            double lm = loss(&c);
            c.x[i][k] = keep;
            good += compare(label, "input", k, gi[k], lp, l0, lm);
            total++;
        }
    }
    int nw = ck_model_weight_count(m);
    for (int wi = 0; wi < nw; wi++) {
        ck_weight_info info;
        ck_model_weight(m, wi, &info);
        /* The grad pointer lives beside the value in the model's blocks. */
        int64_t off = info.data - m->weight_block;
        float *v = m->weight_block + off, *ga = gw + off;
        for (int64_t k = 0; k < info.size; k++) {
            float keep = v[k];
            v[k] = keep + (float)EPS;
            double lp = loss(&c);
            v[k] = keep - (float)EPS;
            double lm = loss(&c);
            v[k] = keep;
            good += compare(label, info.path, k, ga[k], lp, l0, lm);
            total++;
        }
    }
    free(gw);
    CHECK(total > 0, "%s: nothing checked", label);
    CHECK(n_kinks * 10 <= total, "%s: %d of %d partials sit on kinks; choose other data", label, n_kinks, total);
    if (n_kinks) printf("  %s: %d partial(s) at a kink not compared\n", label, n_kinks);
    if (good != total) printf("  %s: %d of %d partials agree\n", label, good, total);
    n_models++;
    for (int i = 0; i < 8; i++) {
        free(gin[i]);
        free(c.x[i]);
        free(c.r[i]);
    }
    ck_exec_free(c.ex);
    ck_model_free(m);
}

static ck_model *seq(const char *input_shape, const char *cls, const char *kwargs)
{
    ck_model *m = ck_sequential(NULL);
    char buf[128];
    /* ck_layer_new("InputLayer") takes input_shape= (Keras's shape= is ck_input's). */
    snprintf(buf, sizeof buf, "input_shape=%s", input_shape);
    ck_sequential_add(m, ck_layer_new("InputLayer", buf));
    ck_sequential_add(m, ck_layer_new(cls, kwargs));
    return m;
}

/* keras.src.ops numpy operations with a constant operand, as Keras saves them
 * (MobileNetV3's hard sigmoid): x -> 2 - ((x + 3) * 0.5) / 4 -> max(., -0.2) ->
 * min(., 1.1) -> 1.5 / . */
#define KT(src) "{\"class_name\": \"__keras_tensor__\", \"config\": {\"shape\": [null, 4], \"keras_history\": [\"" src "\", 0, 0]}}"
#define OP(cls, name, args) \
    "{\"module\": \"keras.src.ops.numpy\", \"class_name\": \"" cls "\", \"config\": {\"name\": \"" name "\"}, " \
    "\"name\": \"" name "\", \"inbound_nodes\": [{\"args\": " args ", \"kwargs\": {}}]}"
static const char scalar_ops_json[] =
    "{\"class_name\": \"Functional\", \"config\": {\"name\": \"ops\", \"layers\": ["
    "{\"class_name\": \"InputLayer\", \"config\": {\"batch_shape\": [null, 4], \"name\": \"x\"}, \"name\": \"x\", \"inbound_nodes\": []},"
    OP("Add", "add", "[" KT("x") ", 3.0]") ","
    OP("Multiply", "mul", "[" KT("add") ", 0.5]") ","
    OP("Divide", "div", "[" KT("mul") ", 4.0]") ","
    OP("Subtract", "sub", "[2.0, " KT("div") "]") ","
    OP("Maximum", "max", "[" KT("sub") ", -0.2]") ","
    OP("Minimum", "min", "[" KT("max") ", 1.1]") ","
    OP("TrueDivide", "tdiv", "[1.5, " KT("min") "]")
    "], \"input_layers\": [[\"x\", 0, 0]], \"output_layers\": [[\"tdiv\", 0, 0]]}}";

int main(void)
{
    /* normalization: x2 keeps the variances well away from epsilon */
    gradcheck("LayerNormalization", seq("(2, 5)", "LayerNormalization", ""), 2.0f, false);
    gradcheck("LayerNormalization axes", seq("(3, 2, 4)", "LayerNormalization", "axis=[1, 2]"), 2.0f, false);
    gradcheck("LayerNormalization middle", seq("(3, 2, 4)", "LayerNormalization", "axis=1"), 2.0f, false);
    gradcheck("LayerNormalization plain", seq("(6,)", "LayerNormalization", "center=False, scale=False"), 2.0f,
              false);
    gradcheck("LayerNormalization rms", seq("(2, 5)", "LayerNormalization", "rms_scaling=True"), 2.0f, false);
    gradcheck("GroupNormalization", seq("(2, 2, 6)", "GroupNormalization", "groups=3"), 2.0f, false);
    gradcheck("GroupNormalization axis1", seq("(4, 3, 2)", "GroupNormalization", "groups=2, axis=1"), 2.0f, false);
    gradcheck("GroupNormalization instance", seq("(3, 4)", "GroupNormalization", "groups=4, scale=False"), 2.0f,
              false);
    gradcheck("GroupNormalization groups=-1", seq("(2, 3)", "GroupNormalization", "groups=-1"), 2.0f, false);
    gradcheck("RMSNormalization", seq("(2, 5)", "RMSNormalization", ""), 2.0f, false);
    gradcheck("RMSNormalization axes", seq("(3, 2, 4)", "RMSNormalization", "axis=[1, 2], epsilon=0.01"), 2.0f, false);
    gradcheck("UnitNormalization", seq("(2, 5)", "UnitNormalization", ""), 2.0f, false);
    gradcheck("UnitNormalization axes", seq("(2, 3, 2)", "UnitNormalization", "axis=[1, 2]"), 2.0f, false);
    /* preprocessing */
    gradcheck("Rescaling", seq("(2, 3)", "Rescaling", "scale=[1.0, -2.0, 0.5], offset=0.3"), 1.0f, false);
    gradcheck("Normalization given", seq("(2, 3)", "Normalization", "mean=[0.5, 1.0, -1.0], variance=[1.0, 4.0, 0.25]"),
              1.0f, false);
    gradcheck("Normalization invert", seq("(2, 3)", "Normalization", "axis=None, mean=2.0, variance=9.0, invert=True"),
              1.0f, false);
    static const char *const interps[] = {"bilinear", "nearest", "bicubic", "lanczos3", "lanczos5"};
    for (int i = 0; i < 5; i++) {
        char kw[128], label[128];
        snprintf(kw, sizeof kw, "height=5, width=3, interpolation='%s'", interps[i]);
        snprintf(label, sizeof label, "Resizing %s", interps[i]);
        gradcheck(label, seq("(3, 4, 2)", "Resizing", kw), 1.0f, false);
        snprintf(kw, sizeof kw, "size=(2, 3), interpolation='%s'", interps[i]);
        snprintf(label, sizeof label, "UpSampling2D %s", interps[i]);
        gradcheck(label, seq("(3, 2, 2)", "UpSampling2D", kw), 1.0f, false);
    }
    gradcheck("Resizing antialias", seq("(6, 5, 1)", "Resizing", "height=2, width=3, antialias=True"), 1.0f, false);
    gradcheck("Resizing crop", seq("(4, 6, 1)", "Resizing", "height=3, width=3, crop_to_aspect_ratio=True"), 1.0f,
              false);
    gradcheck("Resizing pad", seq("(4, 6, 1)", "Resizing", "height=3, width=3, pad_to_aspect_ratio=True"), 1.0f,
              false);
    gradcheck("CenterCrop", seq("(5, 4, 2)", "CenterCrop", "height=3, width=2"), 1.0f, false);
    gradcheck("Resizing channels_first",
              seq("(2, 3, 4)", "Resizing", "height=5, width=3, interpolation='bicubic', data_format='channels_first'"),
              1.0f, false);
    gradcheck("CenterCrop channels_first", seq("(2, 3, 5)", "CenterCrop", "height=4, width=4, data_format='channels_first'"),
              1.0f, false);
    gradcheck("CenterCrop smart_resize", seq("(3, 5, 1)", "CenterCrop", "height=4, width=4"), 1.0f, false);
    gradcheck("LayerScale", seq("(2, 3)", "LayerScale", "init_values=0.5, projection_dim=3"), 1.0f, false);
    ck_model *ops = ck_model_from_json(scalar_ops_json, "scalar ops");
    CHECK(ops != NULL, "scalar ops: %s", ck_errmsg());
    if (ops) gradcheck("numpy ops with a constant", ops, 1.0f, false);
    return test_report("test_gradcheck_convb");
}
