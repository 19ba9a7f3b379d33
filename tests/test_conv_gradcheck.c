/* Finite-difference gradient checks of the convolutional family's backward
 * passes: every convolution class (strides, dilation, groups, same/valid/causal,
 * output_padding, depth multipliers, fused activations with and without a kept
 * pre-activation), pooling, global pooling, padding/cropping/upsampling,
 * BatchNormalization in training and inference, the activation layers and the
 * noise layers in training, and a small CNN end to end. The harness is
 * test_gradcheck.c's: L = sum <output, R> for fixed random R, central
 * differences of the float32 forward, the same tolerances and kink rule. */
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

int main(void)
{
    /* Convolutions */
    gradcheck("Conv1D valid", seq("(5, 2)", "Conv1D", "filters=3, kernel_size=3"), 1.0f, false);
    gradcheck("Conv1D same s2 tanh", seq("(6, 2)", "Conv1D", "filters=2, kernel_size=3, strides=2, padding='same', activation='tanh'"), 1.0f, false);
    gradcheck("Conv1D causal d2", seq("(6, 2)", "Conv1D", "filters=2, kernel_size=2, dilation_rate=2, padding='causal'"), 1.0f, false);
    gradcheck("Conv1D groups", seq("(4, 4)", "Conv1D", "filters=4, kernel_size=2, groups=2, use_bias=False"), 1.0f, false);
    gradcheck("Conv2D valid relu", seq("(4, 4, 2)", "Conv2D", "filters=3, kernel_size=3, activation='relu'"), 1.0f, false);
    gradcheck("Conv2D same s2 sigmoid", seq("(5, 5, 2)", "Conv2D", "filters=2, kernel_size=3, strides=2, padding='same', activation='sigmoid'"), 1.0f, false);
    gradcheck("Conv2D dilated", seq("(5, 5, 1)", "Conv2D", "filters=2, kernel_size=2, dilation_rate=2, padding='same'"), 1.0f, false);
    gradcheck("Conv2D groups", seq("(3, 3, 4)", "Conv2D", "filters=2, kernel_size=(2, 1), groups=2"), 1.0f, false);
    gradcheck("Conv2D 1x1", seq("(2, 3, 3)", "Conv2D", "filters=2, kernel_size=1, activation='relu6'"), 1.0f, false);
    gradcheck("Conv2D 1x1 s2", seq("(3, 3, 2)", "Conv2D", "filters=2, kernel_size=1, strides=2"), 1.0f, false);
    gradcheck("Conv3D same s2", seq("(3, 3, 2, 2)", "Conv3D", "filters=2, kernel_size=2, strides=2, padding='same'"), 1.0f, false);
    gradcheck("Conv1DTranspose same s2", seq("(3, 2)", "Conv1DTranspose", "filters=2, kernel_size=3, strides=2, padding='same'"), 1.0f, false);
    gradcheck("Conv1DTranspose output_padding", seq("(3, 2)", "Conv1DTranspose", "filters=2, kernel_size=3, strides=2, output_padding=1, activation='elu'"), 1.0f, false);
    gradcheck("Conv2DTranspose valid s2", seq("(2, 3, 2)", "Conv2DTranspose", "filters=2, kernel_size=3, strides=2"), 1.0f, false);
    gradcheck("Conv2DTranspose dilated", seq("(3, 3, 1)", "Conv2DTranspose", "filters=2, kernel_size=2, dilation_rate=2, padding='same'"), 1.0f, false);
    gradcheck("Conv3DTranspose", seq("(2, 2, 1, 2)", "Conv3DTranspose", "filters=1, kernel_size=2, strides=2, use_bias=False"), 1.0f, false);
    gradcheck("DepthwiseConv1D", seq("(5, 3)", "DepthwiseConv1D", "kernel_size=3, depth_multiplier=2, padding='same'"), 1.0f, false);
    gradcheck("DepthwiseConv2D s2 relu", seq("(4, 4, 2)", "DepthwiseConv2D", "kernel_size=3, depth_multiplier=2, strides=2, padding='same', activation='relu'"), 1.0f, false);
    gradcheck("SeparableConv1D", seq("(5, 3)", "SeparableConv1D", "filters=2, kernel_size=3, depth_multiplier=2"), 1.0f, false);
    gradcheck("SeparableConv2D elu", seq("(4, 4, 2)", "SeparableConv2D", "filters=3, kernel_size=3, padding='same', activation='elu'"), 1.0f, false);
    /* Pooling: distinct values (scale < 0), so no two in a window tie */
    gradcheck("MaxPooling1D", seq("(5, 2)", "MaxPooling1D", "pool_size=2"), -1.0f, false);
    gradcheck("MaxPooling2D same s1", seq("(3, 3, 2)", "MaxPooling2D", "pool_size=2, strides=1, padding='same'"), -1.0f, false);
    gradcheck("MaxPooling3D", seq("(2, 2, 2, 2)", "MaxPooling3D", "pool_size=2"), -1.0f, false);
    gradcheck("AveragePooling1D same", seq("(5, 2)", "AveragePooling1D", "pool_size=2, padding='same'"), 1.0f, false);
    gradcheck("AveragePooling2D s1", seq("(3, 3, 2)", "AveragePooling2D", "pool_size=2, strides=1, padding='same'"), 1.0f, false);
    gradcheck("AveragePooling3D", seq("(2, 3, 2, 1)", "AveragePooling3D", "pool_size=2, padding='same'"), 1.0f, false);
    gradcheck("GlobalMaxPooling1D", seq("(4, 2)", "GlobalMaxPooling1D", ""), -1.0f, false);
    gradcheck("GlobalMaxPooling2D keepdims", seq("(2, 3, 2)", "GlobalMaxPooling2D", "keepdims=True"), -1.0f, false);
    gradcheck("GlobalMaxPooling3D", seq("(2, 2, 2, 2)", "GlobalMaxPooling3D", ""), -1.0f, false);
    gradcheck("GlobalAveragePooling1D", seq("(4, 2)", "GlobalAveragePooling1D", ""), 1.0f, false);
    gradcheck("GlobalAveragePooling2D", seq("(2, 3, 2)", "GlobalAveragePooling2D", ""), 1.0f, false);
    gradcheck("GlobalAveragePooling3D keepdims", seq("(2, 2, 2, 2)", "GlobalAveragePooling3D", "keepdims=True"), 1.0f, false);
    /* Reshaping */
    gradcheck("ZeroPadding1D", seq("(3, 2)", "ZeroPadding1D", "padding=(1, 2)"), 1.0f, false);
    gradcheck("ZeroPadding2D", seq("(2, 3, 2)", "ZeroPadding2D", "padding=((1, 0), (0, 2))"), 1.0f, false);
    gradcheck("ZeroPadding3D", seq("(2, 2, 1, 1)", "ZeroPadding3D", "padding=1"), 1.0f, false);
    gradcheck("Cropping1D", seq("(5, 2)", "Cropping1D", "cropping=(1, 2)"), 1.0f, false);
    gradcheck("Cropping2D", seq("(4, 4, 1)", "Cropping2D", "cropping=((1, 0), (1, 2))"), 1.0f, false);
    gradcheck("Cropping3D", seq("(3, 3, 3, 1)", "Cropping3D", "cropping=1"), 1.0f, false);
    gradcheck("UpSampling1D", seq("(3, 2)", "UpSampling1D", "size=2"), 1.0f, false);
    gradcheck("UpSampling2D", seq("(2, 2, 2)", "UpSampling2D", "size=(2, 3)"), 1.0f, false);
    gradcheck("UpSampling2D bilinear", seq("(2, 3, 2)", "UpSampling2D", "size=2, interpolation='bilinear'"), 1.0f, false);
    gradcheck("UpSampling3D", seq("(2, 1, 2, 1)", "UpSampling3D", "size=2"), 1.0f, false);
    /* Normalization */
    gradcheck("BatchNormalization training", seq("(4, 3)", "BatchNormalization", "gamma_initializer='random_normal', beta_initializer='random_normal'"), 1.0f, true);
    gradcheck("BatchNormalization training 4d", seq("(2, 2, 3)", "BatchNormalization", "gamma_initializer='random_normal'"), 1.0f, true);
    gradcheck("BatchNormalization training axis=1 no affine", seq("(3, 2)", "BatchNormalization", "axis=1, center=False, scale=False"), 1.0f, true);
    gradcheck("BatchNormalization inference", seq("(4, 3)", "BatchNormalization", "moving_mean_initializer='random_normal', gamma_initializer='random_normal'"), 1.0f, false);
    /* Activation layers: x4 reaches the threshold, clip and negative regions */
    gradcheck("ReLU", seq("(2, 3)", "ReLU", ""), 4.0f, false);
    gradcheck("ReLU max/threshold/slope", seq("(2, 3)", "ReLU", "max_value=1.5, threshold=0.5, negative_slope=0.2"), 4.0f, false);
    gradcheck("LeakyReLU", seq("(2, 3)", "LeakyReLU", "negative_slope=0.2"), 4.0f, false);
    gradcheck("PReLU", seq("(2, 3)", "PReLU", "alpha_initializer='random_uniform'"), 4.0f, false);
    gradcheck("PReLU shared_axes", seq("(2, 2, 3)", "PReLU", "alpha_initializer='random_uniform', shared_axes=(1, 2)"), 4.0f, false);
    gradcheck("ELU", seq("(2, 3)", "ELU", "alpha=0.7"), 4.0f, false);
    gradcheck("Softmax", seq("(2, 3)", "Softmax", ""), 2.0f, false);
    gradcheck("Softmax axis=1", seq("(3, 2)", "Softmax", "axis=1"), 2.0f, false);
    /* Noise layers in training (the engine's RNG is reseeded every pass) */
    gradcheck("SpatialDropout1D", seq("(3, 4)", "SpatialDropout1D", "rate=0.5"), 1.0f, true);
    gradcheck("SpatialDropout2D", seq("(2, 2, 4)", "SpatialDropout2D", "rate=0.5"), 1.0f, true);
    gradcheck("SpatialDropout3D", seq("(2, 1, 2, 3)", "SpatialDropout3D", "rate=0.3"), 1.0f, true);
    gradcheck("GaussianNoise", seq("(2, 3)", "GaussianNoise", "stddev=0.5"), 1.0f, true);
    gradcheck("GaussianDropout", seq("(2, 3)", "GaussianDropout", "rate=0.3"), 1.0f, true);
    gradcheck("AlphaDropout", seq("(2, 3)", "AlphaDropout", "rate=0.4"), 1.0f, true);
    gradcheck("AlphaDropout noise_shape", seq("(2, 3)", "AlphaDropout", "rate=0.4, noise_shape=(None, 1, 3)"), 1.0f, true);
    gradcheck("ActivityRegularization inference", seq("(2, 3)", "ActivityRegularization", ""), 1.0f, false);
    /* A small CNN end to end: conv, BN in training, pooling, flatten, dense */
    {
        ck_model *m = ck_sequential(NULL);
        ck_sequential_add(m, ck_layer_new("InputLayer", "input_shape=(6, 6, 1)"));
        ck_sequential_add(m, ck_layer_new("Conv2D", "filters=3, kernel_size=3, activation='relu'"));
        ck_sequential_add(m, ck_layer_new("BatchNormalization", ""));
        ck_sequential_add(m, ck_layer_new("MaxPooling2D", ""));
        ck_sequential_add(m, ck_layer_new("Flatten", ""));
        ck_sequential_add(m, ck_dense(2, "activation='softmax'"));
        gradcheck("CNN training", m, 1.0f, true);
    }
    printf("conv gradcheck: %d models checked\n", n_models);
    CHECK(n_models == 63, "expected 63 models, checked %d", n_models);
    return test_report("test_conv_gradcheck");
}
