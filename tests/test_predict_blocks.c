/* Inference over a large batch runs as cache-sized sub-batches (train/predict.c,
 * block_rows): every row must come out as it does when predicted on its own
 * (a batch of one, never split), through ck_predictor, ck_model_predict and
 * ck_model_predict_shaped, for a CNN, an MLP and an LSTM, with row counts that
 * split on an L2 of 512 KB (the MLP's sub-batches come from its weights: ~280
 * rows) and are no multiple of a sub-batch; and a stateful layer (built for a fixed
 * batch, its states kept per row of it) must get its whole batch in one call.
 * The reference is ckeras's own batch-of-one output, not a golden: what is
 * checked is that splitting the batch changes nothing (the Keras goldens of
 * each layer are test_predict_core's, test_conv_golden's, test_seq_*'s). */
#include "testutil.h"


static float *filled(int64_t n, int mod)
{
    float *p = malloc((size_t)n * sizeof *p);
    for (int64_t i = 0; p && i < n; i++) p[i] = (float)((i * 7919) % mod) / (float)mod - 0.5f;
    return p;
}

static ck_model *cnn(void)
{
    ck_model *m = ck_sequential("blocks_cnn");
    ck_sequential_add(m, ck_layer_new("InputLayer", "input_shape=(28, 28, 1)"));
    ck_sequential_add(m, ck_layer_new("Conv2D", "filters=32, kernel_size=3, activation='relu'"));
    ck_sequential_add(m, ck_layer_new("MaxPooling2D", ""));
    ck_sequential_add(m, ck_layer_new("Conv2D", "filters=64, kernel_size=3, activation='relu'"));
    ck_sequential_add(m, ck_layer_new("BatchNormalization", ""));
    ck_sequential_add(m, ck_layer_new("MaxPooling2D", ""));
    ck_sequential_add(m, ck_layer_new("Flatten", ""));
    ck_sequential_add(m, ck_dense(128, "activation='relu'"));
    ck_sequential_add(m, ck_dense(10, "activation='softmax'"));
    return m;
}

static ck_model *mlp(void)
{
    ck_model *m = ck_sequential("blocks_mlp");
    ck_sequential_add(m, ck_layer_new("InputLayer", "input_shape=(784,)"));
    ck_sequential_add(m, ck_dense(512, "activation='relu'"));
    ck_sequential_add(m, ck_dense(256, "activation='relu'"));
    ck_sequential_add(m, ck_dense(10, ""));
    return m;
}

static ck_model *lstm(void)
{
    ck_model *m = ck_sequential("blocks_lstm");
    ck_sequential_add(m, ck_layer_new("InputLayer", "input_shape=(None, 6)"));
    ck_sequential_add(m, ck_layer_new("LSTM", "units=32, return_sequences=True"));
    ck_sequential_add(m, ck_layer_new("GRU", "units=8"));
    ck_sequential_add(m, ck_dense(3, ""));
    return m;
}

static double max_diff(const float *a, const float *b, int64_t n)
{
    double e = 0.0;
    for (int64_t i = 0; i < n; i++) e = fmax(e, fabs((double)a[i] - b[i]));
    return e;
}

/* Each row alone through a one-row predictor: the unsplit reference. */
static float *one_by_one(ck_model *m, const ck_shape *in_shape, const float *x, int64_t rows, int64_t in_size,
                         int64_t out_size)
{
    float *y = calloc((size_t)(rows * out_size), sizeof *y);
    ck_predictor *p = NULL;
    CHECK_OK(ck_predictor_new_shaped(m, 1, in_shape, &p));
    for (int64_t r = 0; p && r < rows; r++) {
        const float *in = x + r * in_size;
        float *out = y + r * out_size;
        CHECK_OK(ck_predictor_run(p, &in, 1, &out));
    }
    ck_predictor_free(p);
    return y;
}

static void check_model(ck_model *m, const ck_shape *in_shape, int64_t rows, int64_t in_size, int64_t out_size)
{
    ck_model_set_seed(m, 3);
    CHECK_OK(ck_model_build(m));
    float *x = filled(rows * in_size, 251), *ref = one_by_one(m, in_shape, x, rows, in_size, out_size);
    float *y = calloc((size_t)(rows * out_size), sizeof *y);
    const float *in[1] = {x};
    float *out[1] = {y};
    ck_shape shaped = in_shape ? *in_shape : (ck_shape){0};
    shaped.dim[0] = rows;

    ck_predictor *p = NULL;
    CHECK_OK(ck_predictor_new_shaped(m, rows, in_shape, &p));
    if (p) {
        CHECK_OK(ck_predictor_run(p, in, rows, out));
        CHECK(max_diff(y, ref, rows * out_size) < 1e-5, "%s: a predictor of %lld rows differs from rows one by one by %g",
              ck_model_name(m), (long long)rows, max_diff(y, ref, rows * out_size));
        memset(y, 0, (size_t)(rows * out_size) * sizeof *y);
        CHECK_OK(ck_predictor_run(p, in, rows - 40, out)); /* fewer rows than planned */
        CHECK(max_diff(y, ref, (rows - 40) * out_size) < 1e-5, "%s: %lld rows of a %lld-row predictor differ by %g",
              ck_model_name(m), (long long)rows - 40, (long long)rows, max_diff(y, ref, (rows - 40) * out_size));
        CHECK(ck_predictor_run(p, in, rows + 1, out) == CK_ERR_ARG, "%s: more rows than planned accepted", ck_model_name(m));
        ck_predictor_free(p);
    }
    memset(y, 0, (size_t)(rows * out_size) * sizeof *y);
    if (in_shape)
        CHECK_OK(ck_model_predict_shaped(m, &shaped, in, out, rows));
    else
        CHECK_OK(ck_model_predict(m, in, rows, out, rows));
    CHECK(max_diff(y, ref, rows * out_size) < 1e-5, "%s: model predict of %lld rows differs from rows one by one by %g",
          ck_model_name(m), (long long)rows, max_diff(y, ref, rows * out_size));
    free(x), free(y), free(ref);
    ck_model_free(m);
}

/* A stateful LSTM built for batches of 24: 24 rows in one call must reach it
 * as one batch (split, it would refuse them: "built for batches of 24"). The
 * wide Dense after it (240 KB a row) makes the rows worth splitting on any L2
 * below 1.9 MB. */
static void check_stateful(void)
{
    ck_model *m = ck_sequential("blocks_stateful");
    ck_sequential_add(m, ck_layer_new("InputLayer", "batch_input_shape=(24, 3, 2)"));
    ck_sequential_add(m, ck_layer_new("LSTM", "units=4, stateful=True"));
    ck_sequential_add(m, ck_dense(60000, ""));
    CHECK_OK(ck_model_build(m));
    float *x = filled(24 * 6, 17), *y = malloc(24 * 60000 * sizeof *y);
    const float *in[1] = {x};
    float *out[1] = {y};
    ck_predictor *p = NULL;
    CHECK_OK(ck_predictor_new(m, 24, &p));
    if (p) CHECK_OK(ck_predictor_run(p, in, 24, out));
    ck_predictor_free(p);
    CHECK_OK(ck_model_predict(m, in, 24, out, 24));
    free(x), free(y);
    ck_model_free(m);
}

int main(void)
{
    check_model(cnn(), NULL, 301, 784, 10);
    check_model(mlp(), NULL, 1201, 784, 10);
    ck_shape seq = {.rank = 3, .dim = {1, 50, 6}};
    check_model(lstm(), &seq, 301, 50 * 6, 3);
    check_stateful();
    return test_report("test_predict_blocks");
}
