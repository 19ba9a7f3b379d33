/* The engine runs a pooling layer that is a convolution's only reader chunk by
 * chunk behind it, forward and backward (plan_fuse in engine/exec.c). This
 * checks that the fused plan gives exactly what the unfused one gives: the same
 * model with the convolution's output also a model output (a second reader, so
 * nothing is fused), same weights, at a batch that spans several chunks and
 * ends on a partial one; forward at inference and in training, and the weight
 * gradients of a backward pass. Also that a failing pooling layer's error comes
 * out of the fused run, naming that layer.
 * Then folding at inference (ck_exec_fold): a BatchNormalization (and an
 * activation after it) that only a convolution feeds is computed inside the
 * convolution by an inference-only engine; its predictions must equal the
 * unfolded ones (the convolution's output also a model output) within float
 * rounding, the folds must happen, training engines must not fold, and an
 * inference-only engine must refuse backward. */
#include "testutil.h"
#include "engine/exec.h"
#include "kernels/gemm_packed.h"

#define ROWS 70

typedef struct fusion_case {
    const char *input, *conv_cls, *conv, *pool_cls, *pool;
} fusion_case;

static ck_model *build(const fusion_case *c, bool conv_is_output)
{
    ck_model *g = ck_functional(NULL);
    ck_ktensor *x = ck_input(g, c->input);
    ck_ktensor *z = ck_call1(g, ck_layer_new(c->conv_cls, c->conv), x);
    ck_ktensor *y = ck_call1(g, ck_layer_new(c->pool_cls, c->pool), z);
    ck_ktensor *outs[2] = {y, z};
    ck_status st = ck_functional_finish(g, &x, 1, outs, conv_is_output ? 2 : 1);
    CHECK(st == CK_OK, "%s -> %s: %s", c->conv_cls, c->pool_cls, ck_errmsg());
    if (st) {
        ck_model_free(g);
        return NULL;
    }
    return g;
}

static void copy_weights(const ck_model *from, ck_model *to)
{
    for (int i = 0; i < ck_model_weight_count(from); i++) {
        ck_weight_info w;
        CHECK_OK(ck_model_weight(from, i, &w));
        CHECK_OK(ck_model_set_weight(to, i, &w.shape, w.data));
    }
}

static int64_t input_row(const ck_model *m)
{
    const ck_shape *s = ck_model_input_shape(m, 0);
    int64_t n = 1;
    for (int d = 1; d < s->rank; d++) n *= s->dim[d];
    return n;
}

static bool same_floats(const float *a, const float *b, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (a[i] != b[i]) return false;
    return true;
}

/* Forward (and, in training, backward with d y = 1) on both plans. */
static void compare(const fusion_case *c, ck_exec *fused, ck_exec *plain, const float *x, bool training)
{
    const char *mode = training ? "training" : "inference";
    CHECK_OK(ck_exec_forward(fused, &x, ROWS, training));
    CHECK_OK(ck_exec_forward(plain, &x, ROWS, training));
    int64_t ny = ROWS * ck_exec_output_size(fused, 0);
    CHECK(same_floats(ck_exec_output(fused, 0), ck_exec_output(plain, 0), ny), "%s -> %s, %s: outputs differ",
          c->conv_cls, c->pool_cls, mode);
    if (!training) return;
    int64_t nz = ROWS * ck_exec_output_size(plain, 1);
    float *dy = malloc((size_t)ny * sizeof *dy), *dz = calloc((size_t)nz, sizeof *dz);
    for (int64_t i = 0; i < ny; i++) dy[i] = 1.0f + (float)(i % 7) / 8.0f;
    /* twice: the second pass finds the first one's leftovers in every scratch buffer */
    for (int pass = 0; pass < 2; pass++) {
        if (pass) {
            CHECK_OK(ck_exec_forward(fused, &x, ROWS, training));
            CHECK_OK(ck_exec_forward(plain, &x, ROWS, training));
        }
        CHECK_OK(ck_exec_backward(fused, (const float *const[]){dy}));
        CHECK_OK(ck_exec_backward(plain, (const float *const[]){dy, dz}));
    }
    ck_model *mf = ck_exec_model(fused), *mp = ck_exec_model(plain);
    for (int i = 0; i < ck_model_weight_count(mf); i++) {
        ck_weight_info wf, wp;
        CHECK_OK(ck_model_weight(mf, i, &wf));
        CHECK_OK(ck_model_weight(mp, i, &wp));
        /* gradients sit at the same offsets of each model's grad block */
        const float *gf = mf->grad_block + (wf.data - mf->weight_block), *gp = mp->grad_block + (wp.data - mp->weight_block);
        CHECK(same_floats(gf, gp, wf.size), "%s -> %s: gradient of weight %d differs", c->conv_cls, c->pool_cls, i);
    }
    free(dy), free(dz);
}

static const ck_layer *conv_of(const ck_model *m)
{
    for (int i = 0; i < ck_model_layer_count(m); i++)
        if (strstr(ck_layer_class_name(ck_model_layer(m, i)), "Conv")) return ck_model_layer(m, i);
    return NULL;
}

static void run_case(const fusion_case *c)
{
    ck_model *mf = build(c, false), *mp = build(c, true);
    ck_exec *fused = NULL, *plain = NULL;
    if (!mf || !mp) goto done;
    copy_weights(mf, mp);
    CHECK_OK(ck_exec_create(mf, ROWS, &fused));
    CHECK_OK(ck_exec_create(mp, ROWS, &plain));
    if (!fused || !plain) goto done;
    CHECK(ck_exec_fused_steps(fused) == 1, "%s -> %s: %d steps fused, expected 1", c->conv_cls, c->pool_cls,
          ck_exec_fused_steps(fused));
    CHECK(ck_exec_fused_steps(plain) == 0, "%s -> %s: a convolution read twice was fused", c->conv_cls, c->pool_cls);
    int64_t nx = ROWS * input_row(mf);
    float *x = malloc((size_t)nx * sizeof *x);
    for (int64_t i = 0; i < nx; i++) x[i] = (float)((i * 7919) % 1000) / 500.0f - 1.0f;
    compare(c, fused, plain, x, false);
    compare(c, fused, plain, x, true);
    /* an activity penalty on the convolution's output (fit sets these): its
     * gradient joins the pooling's before the convolution's backward */
    ck_act_reg reg_f = {conv_of(mf), 0.01f, 0.02f}, reg_p = {conv_of(mp), 0.01f, 0.02f};
    ck_exec_set_act_regs(fused, &reg_f, 1);
    ck_exec_set_act_regs(plain, &reg_p, 1);
    compare(c, fused, plain, x, true);
    free(x);
done:
    ck_exec_free(fused);
    ck_exec_free(plain);
    ck_model_free(mf);
    ck_model_free(mp);
}

/* A channels_first pooling behind a convolution is not run chunk by chunk:
 * the engine moves its channel axis (ck_layer_class.channels_first) over the
 * whole batch, so it runs as its own step, and the pass succeeds. (It was the
 * one pooling that failed at run time, which this test used to check that a
 * fused reader's error names it; no pooling fails at run time any more.) */
static void test_channels_first_reader(void)
{
    fusion_case c = {"shape=(12, 12, 3)", "Conv2D", "filters=4, kernel_size=3", "MaxPooling2D",
                     "data_format='channels_first', name='cf_pool'"};
    ck_model *m = build(&c, false);
    ck_exec *ex = NULL;
    if (m) CHECK_OK(ck_exec_create(m, 4, &ex));
    if (ex) {
        CHECK(ck_exec_fused_steps(ex) == 0, "a channels_first pooling must not be fused behind the conv");
        float x[4 * 12 * 12 * 3] = {0};
        const float *in = x;
        CHECK_OK(ck_exec_forward(ex, &in, 4, false));
    }
    ck_exec_free(ex);
    ck_model_free(m);
}

typedef struct fold_case {
    const char *input, *conv, *after; /* after: the class following BatchNormalization, or NULL */
    const char *after_kwargs;
    int readers;                      /* expected folded readers */
} fold_case;

static ck_model *fold_model(const fold_case *c, bool conv_is_output)
{
    ck_model *g = ck_functional(NULL);
    ck_ktensor *x = ck_input(g, c->input);
    ck_ktensor *z = ck_call1(g, ck_layer_new("Conv2D", c->conv), x);
    ck_ktensor *y = ck_call1(g, ck_layer_new("BatchNormalization", "epsilon=0.01"), z);
    if (c->after) y = ck_call1(g, ck_layer_new(c->after, c->after_kwargs), y);
    ck_ktensor *outs[2] = {y, z};
    ck_status st = ck_functional_finish(g, &x, 1, outs, conv_is_output ? 2 : 1);
    CHECK(st == CK_OK, "fold model %s: %s", c->conv, ck_errmsg());
    if (st) {
        ck_model_free(g);
        return NULL;
    }
    /* moving statistics and affine weights that are not the identity */
    for (int i = 0; i < ck_model_weight_count(g); i++) {
        ck_weight_info w;
        CHECK_OK(ck_model_weight(g, i, &w));
        float *v = malloc((size_t)w.size * sizeof *v);
        for (int64_t k = 0; k < w.size; k++) v[k] = 0.5f + (float)((k * 37 + i * 11) % 17) / 16.0f;
        if (strstr(w.name, "kernel") || strstr(w.name, "bias"))
            for (int64_t k = 0; k < w.size; k++) v[k] -= 1.0f;
        CHECK_OK(ck_model_set_weight(g, i, &w.shape, v));
        free(v);
    }
    return g;
}

static void run_fold_case(const fold_case *c)
{
    ck_model *mf = fold_model(c, false), *mp = fold_model(c, true);
    ck_exec *folded = NULL, *plain = NULL, *train = NULL;
    if (!mf || !mp) goto done;
    CHECK_OK(ck_exec_create(mf, ROWS, &folded));
    CHECK_OK(ck_exec_create(mp, ROWS, &plain));
    CHECK_OK(ck_exec_create(mf, ROWS, &train));
    if (!folded || !plain || !train) goto done;
    ck_exec_set_inference_only(folded);
    ck_exec_set_inference_only(plain);
    int64_t nx = ROWS * input_row(mf), ny = ROWS * ck_exec_output_size(folded, 0);
    float *x = malloc((size_t)nx * sizeof *x);
    for (int64_t i = 0; i < nx; i++) x[i] = (float)((i * 7919) % 1000) / 500.0f - 1.0f;
    for (int pass = 0; pass < 2; pass++) { /* the second pass reuses the packed, scaled kernel */
        CHECK_OK(ck_exec_forward(folded, (const float *const[]){x}, ROWS, false));
        CHECK_OK(ck_exec_forward(plain, (const float *const[]){x}, ROWS, false));
        /* folding rides on the packed kernels: a CPU without them folds nothing */
        int expected = ck_packed_nr() ? c->readers : 0;
        CHECK(ck_exec_folded_readers(folded) == expected, "%s: %d readers folded, expected %d", c->conv,
              ck_exec_folded_readers(folded), expected);
        CHECK(ck_exec_folded_readers(plain) == 0, "%s: folded a BatchNormalization whose input is a model output",
              c->conv);
        double err = test_max_error(ck_exec_output(folded, 0), ck_exec_output(plain, 0), ny, 1e-5);
        CHECK(err <= 1e-5, "%s -> BatchNormalization -> %s: folded differs by %g", c->conv, c->after ? c->after : "-",
              err);
    }
    /* a training engine runs BatchNormalization as itself: inference forward, no fold, then backward */
    CHECK_OK(ck_exec_forward(train, (const float *const[]){x}, ROWS, false));
    CHECK(ck_exec_folded_readers(train) == 0, "%s: an engine made for training folded", c->conv);
    float *dy = calloc((size_t)ny, sizeof *dy);
    CHECK(ck_exec_backward(folded, (const float *const[]){dy}) != CK_OK, "an inference-only engine ran backward");
    free(dy);
    free(x);
done:
    ck_exec_free(folded);
    ck_exec_free(plain);
    ck_exec_free(train);
    ck_model_free(mf);
    ck_model_free(mp);
}

int main(void)
{
    static const fusion_case cases[] = {
        {"shape=(28, 28, 3)", "Conv2D", "filters=8, kernel_size=3, activation='relu'", "MaxPooling2D", ""},
        /* relu into 2x2 max pooling on odd extents: the pooling writes dz itself (backward_relu) */
        {"shape=(27, 27, 3)", "Conv2D", "filters=8, kernel_size=3, activation='relu'", "MaxPooling2D", ""},
        {"shape=(28, 28, 3)", "Conv2D", "filters=8, kernel_size=3, padding='same', strides=2", "AveragePooling2D", "pool_size=2"},
        {"shape=(20, 20, 6)", "Conv2D", "filters=16, kernel_size=1, activation='tanh'", "MaxPooling2D", "pool_size=3"},
        {"shape=(20, 20, 6)", "Conv2D", "filters=6, kernel_size=3, groups=2", "GlobalAveragePooling2D", ""},
        {"shape=(50, 5)", "Conv1D", "filters=12, kernel_size=5, activation='sigmoid'", "MaxPooling1D", ""},
        {"shape=(8, 8, 8, 2)", "Conv3D", "filters=4, kernel_size=3, use_bias=False", "GlobalMaxPooling3D", ""},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) run_case(&cases[i]);
    test_channels_first_reader();
    static const fold_case folds[] = {
        {"shape=(12, 12, 8)", "filters=16, kernel_size=3, padding='same'", "Activation", "activation='relu'", 2},
        {"shape=(12, 12, 8)", "filters=16, kernel_size=1, use_bias=False", NULL, NULL, 1},
        {"shape=(9, 9, 3)", "filters=40, kernel_size=3, strides=2", "ReLU", "", 2},
        {"shape=(9, 9, 3)", "filters=8, kernel_size=3", "ReLU", "max_value=6.0", 1}, /* ReLU6: not a plain relu */
        {"shape=(9, 9, 3)", "filters=8, kernel_size=3, activation='relu'", NULL, NULL, 0}, /* relu before the BN */
    };
    for (size_t i = 0; i < sizeof folds / sizeof folds[0]; i++) run_fold_case(&folds[i]);
    return test_report("test_conv_fusion");
}
