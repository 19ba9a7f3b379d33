/* Sequence-family behaviour that needs no golden files: Keras's deterministic
 * initial biases (LSTM unit_forget_bias), masks reaching only the layers Keras
 * hands them to, and bad input (stateful without a fixed batch, initial states of
 * the wrong shape or number, ids out of range, unknown options) failing with a
 * one-line message that names the layer and the field. */
#include "testutil.h"

#include "engine/exec.h"

/* Max |training - inference| of one forward pass of a fresh model. */
static double train_vs_infer(const char *cls, const char *kwargs)
{
    ck_model *m = ck_sequential(NULL);
    ck_sequential_add(m, ck_layer_new("InputLayer", "input_shape=(5, 4)"));
    ck_sequential_add(m, ck_layer_new(cls, kwargs));
    ck_exec *ex = NULL;
    double diff = -1.0;
    if (ck_model_build(m) == CK_OK && ck_exec_create(m, 2, &ex) == CK_OK) {
        float x[40], a[64], b[64];
        for (int i = 0; i < 40; i++) x[i] = (float)((i * 7) % 11) / 11.0f - 0.5f;
        const float *in[1] = {x};
        int64_t n = 2 * ck_exec_output_size(ex, 0);
        CHECK_OK(ck_exec_forward(ex, in, 2, true));
        memcpy(a, ck_exec_output(ex, 0), (size_t)n * sizeof *a);
        CHECK_OK(ck_exec_forward(ex, in, 2, false));
        memcpy(b, ck_exec_output(ex, 0), (size_t)n * sizeof *b);
        diff = 0.0;
        for (int64_t i = 0; i < n; i++) diff = fmax(diff, fabs((double)a[i] - b[i]));
    }
    ck_exec_free(ex);
    ck_model_free(m);
    return diff;
}

static ck_model *one_layer(const char *input_kwargs, const char *cls, const char *kwargs)
{
    ck_model *m = ck_sequential(NULL);
    ck_sequential_add(m, ck_layer_new("InputLayer", input_kwargs));
    ck_sequential_add(m, ck_layer_new(cls, kwargs));
    return m;
}

/* InputLayer(input_shape) -> cls(kwargs) -> Flatten -> Dense(1). */
static ck_model *seq2(const char *input_shape, const char *cls, const char *kwargs)
{
    char kw[64];
    snprintf(kw, sizeof kw, "input_shape=%s", input_shape);
    ck_model *m = ck_sequential(NULL);
    ck_sequential_add(m, ck_layer_new("InputLayer", kw));
    ck_sequential_add(m, ck_layer_new(cls, kwargs));
    ck_sequential_add(m, ck_layer_new("Flatten", ""));
    ck_sequential_add(m, ck_layer_new("Dense", "units=1"));
    return m;
}

/* The bias (weight `index`) of a freshly built model. */
static void check_bias(const char *label, ck_model *m, int index, int64_t ones_from, int64_t ones_to)
{
    CHECK_OK(ck_model_build(m));
    ck_weight_info w;
    CHECK_OK(ck_model_weight(m, index, &w));
    bool ok = w.data != NULL;
    for (int64_t i = 0; ok && i < w.size; i++) ok = w.data[i] == (i >= ones_from && i < ones_to ? 1.0f : 0.0f);
    CHECK(ok, "%s: bias is not zeros with ones in [%lld, %lld)", label, (long long)ones_from, (long long)ones_to);
    ck_model_free(m);
}

static void expect_error(const char *label, ck_status st, const char *frag1, const char *frag2)
{
    const char *msg = ck_errmsg();
    CHECK(st != CK_OK, "%s: accepted", label);
    CHECK(strstr(msg, frag1) && strstr(msg, frag2) && !strchr(msg, '\n'), "%s: message '%s' lacks '%s'/'%s'",
          label, msg, frag1, frag2);
}

static ck_status call_with_states(const char *cls, const char *kwargs, const char *const *state_shapes, int n)
{
    ck_model *g = ck_functional(NULL);
    ck_ktensor *in[4] = {ck_input(g, "shape=(4, 3)")};
    for (int i = 0; i < n; i++) {
        char kw[64];
        snprintf(kw, sizeof kw, "shape=%s", state_shapes[i]);
        in[1 + i] = ck_input(g, kw);
    }
    ck_ktensor *y = ck_call(g, ck_layer_new(cls, kwargs), in, 1 + n);
    ck_status st = ck_functional_finish(g, in, 1 + n, &y, 1);
    ck_model_free(g);
    return st;
}

int main(void)
{
    /* Keras: LSTM bias = concat(zeros(u), ones(u), zeros(2u)) with unit_forget_bias */
    check_bias("LSTM", one_layer("input_shape=(6, 3)", "LSTM", "units=4"), 2, 4, 8);
    check_bias("LSTM no forget bias", one_layer("input_shape=(6, 3)", "LSTM", "units=4, unit_forget_bias=False"), 2, 0, 0);
    check_bias("GRU", one_layer("input_shape=(6, 3)", "GRU", "units=4"), 2, 0, 0);
    check_bias("ConvLSTM1D", one_layer("input_shape=(3, 5, 2)", "ConvLSTM1D", "filters=2, kernel_size=3"), 2, 2, 4);
    {
        /* the golden LSTM's bias from Keras itself */
        test_array want;
        char p[512];
        CHECK(test_load_npy(test_path(p, sizeof p, "tests/golden/seq/lstm/weights/2.npy"), &want) == 0, "lstm bias");
        ck_model *m = one_layer("input_shape=(6, 3)", "LSTM", "units=4");
        CHECK_OK(ck_model_build(m));
        ck_weight_info w;
        CHECK_OK(ck_model_weight(m, 2, &w));
        CHECK(w.size == want.size && !memcmp(w.data, want.data, (size_t)want.size * sizeof(float)),
              "LSTM initial bias differs from Keras's");
        test_free_array(&want);
        ck_model_free(m);
    }

    ck_model *m = one_layer("input_shape=(6, 3)", "LSTM", "units=4, stateful=True");
    expect_error("stateful without batch", ck_model_build(m), "stateful", "lstm");
    ck_model_free(m);
    m = one_layer("batch_input_shape=(2, 6, 3)", "LSTM", "units=4, stateful=True");
    CHECK_OK(ck_model_build(m));
    ck_model_free(m);

    const char *bad[] = {"(3,)", "(2,)"}, *one[] = {"(2,)"}, *three[] = {"(2,)", "(2,)", "(2,)"};
    expect_error("LSTM initial_state shape", call_with_states("LSTM", "units=2", bad, 2), "initial_state", "lstm");
    expect_error("LSTM one state", call_with_states("LSTM", "units=2", one, 1), "initial_state", "needs 2");
    expect_error("GRU three states", call_with_states("GRU", "units=2", three, 3), "gru", "inputs");
    CHECK_OK(call_with_states("GRU", "units=2", one, 1));

    ck_layer *l = ck_layer_new("Dense", "units=2, return_state=True");
    expect_error("return_state on Dense", l ? CK_OK : CK_ERR_CONFIG, "return_state", "Dense");
    ck_layer_free(l);
    l = ck_layer_new("Bidirectional", "layer=Dense(units=2)");
    if (l) {
        ck_model *b = ck_sequential(NULL);
        ck_sequential_add(b, ck_layer_new("InputLayer", "input_shape=(6, 3)"));
        expect_error("Bidirectional(Dense)", ck_sequential_add(b, l), "Bidirectional", "go_backwards");
        ck_model_free(b);
    } else {
        expect_error("Bidirectional(Dense)", CK_ERR_CONFIG, "Bidirectional", "layer");
    }

    /* dropout and recurrent_dropout act in training only */
    CHECK(train_vs_infer("LSTM", "units=3, dropout=0.5") > 1e-3, "LSTM dropout has no effect in training");
    CHECK(train_vs_infer("GRU", "units=3, recurrent_dropout=0.5") > 1e-3, "GRU recurrent_dropout has no effect");
    CHECK(train_vs_infer("LSTM", "units=3") == 0.0, "LSTM without dropout differs in training");

    /* stateful: two calls of 3 steps carry the state like one call of 6 steps */
    {
        ck_model *whole = one_layer("batch_input_shape=(2, 6, 2)", "LSTM", "units=3");
        ck_model *half = one_layer("batch_input_shape=(2, 3, 2)", "LSTM", "units=3, stateful=True");
        CHECK_OK(ck_model_build(whole));
        CHECK_OK(ck_model_build(half));
        for (int i = 0; i < 3; i++) {
            ck_weight_info w;
            CHECK_OK(ck_model_weight(whole, i, &w));
            CHECK_OK(ck_model_set_weight(half, i, &w.shape, w.data));
        }
        float x[24], x1[12], x2[12], y[6], y1[6], y2[6], y3[6];
        for (int i = 0; i < 24; i++) x[i] = (float)((i * 5) % 13) / 13.0f - 0.4f;
        for (int b = 0; b < 2; b++) {
            memcpy(x1 + b * 6, x + b * 12, 6 * sizeof(float));
            memcpy(x2 + b * 6, x + b * 12 + 6, 6 * sizeof(float));
        }
        CHECK_OK(ck_model_predict1(whole, x, 2, y));
        CHECK_OK(ck_model_predict1(half, x1, 2, y1));
        CHECK_OK(ck_model_predict1(half, x2, 2, y2));
        double e = 0.0;
        for (int i = 0; i < 6; i++) e = fmax(e, fabs((double)y2[i] - y[i]));
        CHECK(e < 1e-6, "stateful LSTM: two halves differ from the whole by %g", e);
        CHECK_OK(ck_model_reset_states(half));
        CHECK_OK(ck_model_predict1(half, x1, 2, y3));
        CHECK(!memcmp(y1, y3, sizeof y1), "reset_states does not restart from zeros");
        expect_error("stateful batch mismatch", ck_model_predict1(half, x1, 1, y3), "stateful", "batches of 2");
        ck_model_free(whole);
        ck_model_free(half);
    }

    /* ids outside the table at predict time */
    m = one_layer("input_shape=(3,)", "Embedding", "input_dim=5, output_dim=2");
    CHECK_OK(ck_model_build(m));
    float x[3] = {1, 7, 2}, y[6];
    expect_error("Embedding id out of range", ck_model_predict1(m, x, 1, y), "embedding", "input id 7");
    ck_model_free(m);

    /* ConvLSTM dropout: the identity at inference, Keras's masks in training
     * (their gradients: test_seq_gradcheck.c), and fit runs */
    {
        float cx[2 * 3 * 4 * 2], cy[2] = {0, 1};
        for (int i = 0; i < (int)(sizeof cx / sizeof cx[0]); i++) cx[i] = (float)((i * 7) % 5) * 0.3f - 0.6f;
        ck_model *d = seq2("(3, 4, 2)", "ConvLSTM1D", "filters=2, kernel_size=2, dropout=0.5, recurrent_dropout=0.5");
        CHECK_OK(ck_model_build(d));
        ck_exec *ex = NULL;
        CHECK_OK(ck_exec_create(d, 2, &ex));
        const float *xs[1] = {cx};
        float infer[2], train[2];
        CHECK_OK(ck_exec_forward(ex, xs, 2, false));
        memcpy(infer, ck_exec_output(ex, 0), sizeof infer);
        CHECK_OK(ck_exec_forward(ex, xs, 2, true));
        memcpy(train, ck_exec_output(ex, 0), sizeof train);
        CHECK(memcmp(infer, train, sizeof infer) != 0, "ConvLSTM dropout changes nothing in training");
        CHECK_OK(ck_exec_forward(ex, xs, 2, false));
        CHECK(!memcmp(infer, ck_exec_output(ex, 0), sizeof infer), "ConvLSTM inference is not deterministic");
        ck_exec_free(ex);
        CHECK_OK(ck_model_compile(d, "sgd", "mse", ""));
        ck_fit_opts o = ck_fit_defaults();
        o.verbose = 0;
        ck_history *h = NULL;
        CHECK_OK(ck_model_fit(d, cx, cy, 2, &o, &h));
        CHECK(h && isfinite(ck_history_value(h, "loss", 0)), "ConvLSTM dropout fit: no finite loss");
        ck_history_free(h);
        ck_model_free(d);
    }
    /* a Keras mask reaching ConvLSTM is refused, naming the layer */
    {
        ck_model *mm = ck_sequential(NULL);
        ck_sequential_add(mm, ck_layer_new("InputLayer", "input_shape=(3, 4, 2)"));
        ck_sequential_add(mm, ck_layer_new("Masking", "mask_value=0.0"));
        ck_sequential_add(mm, ck_layer_new("ConvLSTM1D", "filters=2, kernel_size=2, name='clstm'"));
        CHECK_OK(ck_model_build(mm));
        float mx[24] = {0}, my[6];
        expect_error("masked ConvLSTM", ck_model_predict1(mm, mx, 1, my), "clstm", "mask");
        ck_model_free(mm);
    }
    return test_report("test_seq_units");
}
