/* The C API builds the same models the oracle built in Keras and must print the
 * same summaries; bad arguments must give clear errors, never crashes. */
#include "testutil.h"
#include "graph/graph.h"

#include <jansson.h>

static char *golden(const char *rel)
{
    char path[1024];
    return test_read_file(test_path(path, sizeof path, "tests/golden/core/%s", rel), NULL);
}

static void expect_summary(ck_model *m, const char *rel)
{
    char *want = golden(rel), *got = NULL;
    ck_status st = ck_model_summary(m, NULL, &got);
    CHECK(st == CK_OK && want && got && !strcmp(got, want), "%s differs:\n%s\nvs Keras:\n%s", rel,
          got ? got : ck_errmsg(), want ? want : "(missing)");
    free(want);
    free(got);
}

static void test_classic(void)
{
    ck_model *m = ck_sequential(NULL);
    CHECK_OK(ck_sequential_add(m, ck_dense(3, "input_shape=(2,), activation='relu'")));
    CHECK_OK(ck_sequential_add(m, ck_dense(2, "activation='softmax'")));
    CHECK_OK(ck_model_build(m));
    expect_summary(m, "classic/summary.txt");
    ck_param_counts c;
    CHECK_OK(ck_model_count_params(m, &c));
    CHECK(c.total == 17 && c.trainable == 17 && c.non_trainable == 0, "counts %lld", (long long)c.total);
    CHECK(ck_model_weight_count(m) == 4, "4 weights");
    ck_weight_info w;
    CHECK_OK(ck_model_weight(m, 0, &w));
    CHECK(w.shape.rank == 2 && w.shape.dim[0] == 2 && w.shape.dim[1] == 3, "kernel (2, 3)");
    double limit = sqrt(6.0 / 5.0);
    bool in_range = true, varied = false;
    for (int i = 0; i < 6; i++) {
        in_range = in_range && fabs(w.data[i]) <= limit;
        varied = varied || w.data[i] != w.data[0];
    }
    CHECK(in_range && varied, "glorot_uniform kernel within +-%g", limit);
    CHECK_OK(ck_model_weight(m, 1, &w));
    CHECK(w.shape.rank == 1 && w.shape.dim[0] == 3 && w.data[0] == 0 && w.data[2] == 0, "bias (3,) zeros");
    /* Freezing moves all of a layer's weights to non-trainable. */
    ck_layer_set_trainable(ck_model_layer(m, 0), false);
    CHECK_OK(ck_model_count_params(m, &c));
    CHECK(c.trainable == 8 && c.non_trainable == 9, "frozen: %lld / %lld", (long long)c.trainable, (long long)c.non_trainable);
    /* set_weights with the wrong shape is refused, with the layer named. */
    float data[6] = {0};
    ck_shape wrong = {.rank = 2, .dim = {3, 2}};
    CHECK(ck_model_set_weight(m, 0, &wrong, data) == CK_ERR_SHAPE && strstr(ck_errmsg(), "dense"), "%s", ck_errmsg());
    ck_shape right = {.rank = 2, .dim = {2, 3}};
    CHECK_OK(ck_model_set_weight(m, 0, &right, data));
    CHECK_OK(ck_model_weight(m, 0, &w));
    CHECK(w.data[5] == 0.0f, "set_weights took effect");
    ck_model_free(m);
}

static void test_seed(void)
{
    float first[6], second[6];
    for (int run = 0; run < 2; run++) {
        ck_model *m = ck_sequential(NULL);
        ck_model_set_seed(m, 42);
        ck_sequential_add(m, ck_dense(3, "input_shape=(2,)"));
        CHECK_OK(ck_model_build(m));
        ck_weight_info w;
        CHECK_OK(ck_model_weight(m, 0, &w));
        memcpy(run ? second : first, w.data, sizeof first);
        ck_model_free(m);
    }
    CHECK(!memcmp(first, second, sizeof first), "same seed, same weights");
}

static void test_functional_spec(void)
{
    ck_model *g = ck_functional(NULL);
    ck_ktensor *a = ck_input(g, "shape=(4,), name='in_a'");
    ck_ktensor *b = ck_input(g, "shape=(4,)");
    ck_ktensor *d1 = ck_call1(g, ck_dense(8, "name='d1'"), a);
    ck_ktensor *d2 = ck_call1(g, ck_dense(8, NULL), b);
    ck_ktensor *sum = ck_call(g, ck_layer_new("Add", NULL), (ck_ktensor *[]){d1, d2}, 2);
    ck_ktensor *cat = ck_call(g, ck_layer_new("Concatenate", NULL), (ck_ktensor *[]){d1, sum}, 2);
    ck_ktensor *out = ck_call1(g, ck_dense(1, NULL), cat);
    CHECK_OK(ck_functional_finish(g, (ck_ktensor *[]){a, b}, 2, &out, 1));
    expect_summary(g, "functional_spec/summary.txt");
    ck_model_free(g);
}

static void test_shared_layer(void)
{
    ck_model *g = ck_functional(NULL);
    ck_ktensor *a = ck_input(g, "shape=(4,)");
    ck_ktensor *b = ck_input(g, "shape=(4,)");
    ck_layer *shared = ck_dense(3, NULL);
    ck_ktensor *x = ck_call1(g, shared, a);
    ck_ktensor *y = ck_call1(g, shared, b);
    ck_ktensor *out = ck_call(g, ck_layer_new("Concatenate", NULL), (ck_ktensor *[]){x, y}, 2);
    CHECK_OK(ck_functional_finish(g, (ck_ktensor *[]){a, b}, 2, &out, 1));
    ck_param_counts c;
    CHECK_OK(ck_model_count_params(g, &c));
    CHECK(c.total == 15, "a shared layer's weights count once: %lld", (long long)c.total);
    char *text = NULL;
    CHECK_OK(ck_model_summary(g, NULL, &text));
    CHECK(text && strstr(text, "input_layer_1[0]") && strstr(text, "dense[1][0]"), "connections:\n%s", text);
    free(text);
    ck_model_free(g);
}

static void test_nested(void)
{
    ck_model *inner = ck_sequential("inner");
    ck_sequential_add(inner, ck_dense(4, "input_shape=(3,)"));
    ck_model *outer = ck_sequential(NULL);
    ck_sequential_add(outer, ck_model_as_layer(inner));
    ck_sequential_add(outer, ck_dense(2, NULL));
    CHECK_OK(ck_model_build(outer));
    ck_param_counts c;
    CHECK_OK(ck_model_count_params(outer, &c));
    CHECK(c.total == 16 + 10, "nested total %lld", (long long)c.total);
    ck_summary_opts o = {.expand_nested = true};
    char *text = NULL;
    CHECK_OK(ck_model_summary(outer, &o, &text));
    CHECK(text && strstr(text, "└ dense (Dense)") && strstr(text, "dense_1 (Dense)"), "nested rows:\n%s", text);
    free(text);
    ck_model_free(outer);
}

static void expect_summary_opts(ck_model *m, const char *rel, bool expand_nested)
{
    char *want = golden(rel), *got = NULL;
    ck_summary_opts o = {.expand_nested = expand_nested};
    ck_status st = ck_model_summary(m, &o, &got);
    CHECK(st == CK_OK && want && got && !strcmp(got, want), "%s differs:\n%s\nvs Keras:\n%s", rel,
          got ? got : ck_errmsg(), want ? want : "(missing)");
    free(want);
    free(got);
}

/* Weight paths (Keras's variable.path) in get_weights() order, as in counts.json. */
static void expect_paths(ck_model *m, const char *rel)
{
    char path[1024];
    json_error_t err;
    json_t *counts = json_load_file(test_path(path, sizeof path, "tests/golden/core/%s", rel), 0, &err);
    json_t *ws = json_object_get(counts, "weights");
    CHECK(counts && (size_t)ck_model_weight_count(m) == json_array_size(ws), "%s: %d weights", rel,
          ck_model_weight_count(m));
    for (size_t i = 0; i < json_array_size(ws); i++) {
        ck_weight_info w;
        const char *want = json_string_value(json_object_get(json_array_get(ws, i), "path"));
        CHECK(ck_model_weight(m, (int)i, &w) == CK_OK && want && !strcmp(w.path, want), "%s: weight %zu is '%s', Keras '%s'",
              rel, i, w.path, want ? want : "?");
    }
    json_decref(counts);
}

/* Keras's hidden Functional: building a Sequential makes an internal Functional
 * that takes a 'functional' name, so the outer keras.Model is 'functional_1'
 * (tests/golden/core/nested_seq_in_func, made by the same steps in Keras). */
static void test_hidden_functional_name(void)
{
    ck_model *inner = ck_sequential(NULL);
    CHECK_OK(ck_sequential_add(inner, ck_layer_new("InputLayer", "shape=(4,)")));
    CHECK_OK(ck_sequential_add(inner, ck_dense(3, "activation='relu'")));
    CHECK_OK(ck_sequential_add(inner, ck_dense(2, NULL)));
    ck_model *g = ck_functional(NULL);
    ck_ktensor *in = ck_input(g, "shape=(4,)");
    ck_ktensor *x = ck_call1(g, ck_dense(4, NULL), in);
    x = ck_call1(g, ck_model_as_layer(inner), x);
    ck_ktensor *out = ck_call1(g, ck_dense(1, NULL), x);
    CHECK_OK(ck_functional_finish(g, &in, 1, &out, 1));
    CHECK(!strcmp(ck_model_name(g), "functional_1"), "model name '%s', Keras 'functional_1'", ck_model_name(g));
    expect_summary_opts(g, "nested_seq_in_func/summary.txt", false);
    expect_summary_opts(g, "nested_seq_in_func/summary_nested.txt", true);
    ck_model_free(g);

    /* Two levels: the innermost Sequential is built first ('functional'), then
     * 'outer_seq' ('functional_1'), so the model is 'functional_2'. */
    ck_model *in_seq = ck_sequential("inner_seq");
    CHECK_OK(ck_sequential_add(in_seq, ck_dense(4, "activation='relu'")));
    CHECK_OK(ck_sequential_add(in_seq, ck_dense(3, NULL)));
    ck_model *out_seq = ck_sequential("outer_seq");
    CHECK_OK(ck_sequential_add(out_seq, ck_dense(5, NULL)));
    CHECK_OK(ck_sequential_add(out_seq, ck_model_as_layer(in_seq)));
    g = ck_functional(NULL);
    ck_ktensor *a = ck_input(g, "shape=(6,), name='a'");
    ck_ktensor *b = ck_input(g, "shape=(3,), name='b'");
    x = ck_call1(g, ck_model_as_layer(out_seq), a);
    x = ck_call(g, ck_layer_new("Add", NULL), (ck_ktensor *[]){x, b}, 2);
    out = ck_call1(g, ck_dense(2, NULL), x);
    CHECK_OK(ck_functional_finish(g, (ck_ktensor *[]){a, b}, 2, &out, 1));
    CHECK(!strcmp(ck_model_name(g), "functional_2"), "model name '%s', Keras 'functional_2'", ck_model_name(g));
    expect_summary_opts(g, "nested_deep/summary.txt", false);
    expect_summary_opts(g, "nested_deep/summary_nested.txt", true);
    expect_paths(g, "nested_deep/counts.json");
    ck_model_free(g);

    /* input_shape= on the first layer: Keras's add() makes the InputLayer at once
     * ('input_layer'), so the outer Input is 'input_layer_1'. Python evaluates
     * Dense(1)(inner(Dense(4)(inp))) callee first: Dense(1) is made before Dense(4). */
    inner = ck_sequential(NULL);
    CHECK_OK(ck_sequential_add(inner, ck_dense(3, "input_shape=(4,), activation='relu'")));
    CHECK_OK(ck_sequential_add(inner, ck_dense(2, NULL)));
    g = ck_functional(NULL);
    in = ck_input(g, "shape=(4,)");
    ck_layer *last = ck_dense(1, NULL);
    x = ck_call1(g, ck_dense(4, NULL), in);
    x = ck_call1(g, ck_model_as_layer(inner), x);
    out = ck_call1(g, last, x);
    CHECK_OK(ck_functional_finish(g, &in, 1, &out, 1));
    expect_summary_opts(g, "nested_seq_input_shape/summary.txt", false);
    expect_summary_opts(g, "nested_seq_input_shape/summary_nested.txt", true);
    expect_paths(g, "nested_seq_input_shape/counts.json");
    ck_model_free(g);
}

/* compile() alone shows no optimizer (Keras builds it at the first train step);
 * a model compiled without a loss (a loaded legacy .h5) refuses to fit. */
static void test_optimizer_states(void)
{
    ck_model *m = ck_sequential(NULL);
    CHECK_OK(ck_sequential_add(m, ck_dense(3, "input_shape=(2,), activation='relu'")));
    CHECK_OK(ck_sequential_add(m, ck_dense(2, "activation='softmax'")));
    CHECK(ck_model_build_optimizer(m) == CK_ERR_STATE && strstr(ck_errmsg(), "compile"), "%s", ck_errmsg());
    CHECK_OK(ck_model_compile(m, "Adam()", "categorical_crossentropy", NULL));
    ck_param_counts c;
    CHECK_OK(ck_model_count_params(m, &c));
    CHECK(c.optimizer == 0 && c.total == 17, "compiled, not built: optimizer %lld", (long long)c.optimizer);
    CHECK_OK(ck_model_build_optimizer(m));
    CHECK_OK(ck_model_count_params(m, &c));
    CHECK(c.optimizer == 36 && c.total == 53, "built: optimizer %lld", (long long)c.optimizer);
    ck_model_free(m);

    char path[1024];
    m = ck_model_load(test_path(path, sizeof path, "tests/golden/core_loaded/adam_trained_legacy.h5"));
    CHECK(m != NULL, "%s", ck_errmsg());
    float x[2] = {0, 0}, y[2] = {0.5f, 0.5f};
    ck_fit_opts o = ck_fit_defaults();
    o.verbose = 0;
    /* compiled from its training_config as Keras's load_model does: it trains */
    CHECK(m && ck_model_fit(m, x, y, 1, &o, NULL) == CK_OK, "%s",
          ck_errmsg());
    ck_model_free(m);
}

/* LeakyReLU's Keras 2 keyword alpha (tf.keras 2.x and TF.js configs): Keras 3
 * takes it for negative_slope, over negative_slope when both are given. */
static float leaky_slope(const char *kwargs)
{
    ck_model *m = ck_sequential(NULL);
    ck_sequential_add(m, ck_layer_new("InputLayer", "shape=(1,)"));
    ck_layer *l = ck_layer_new("LeakyReLU", kwargs);
    CHECK(l != NULL, "LeakyReLU(%s): %s", kwargs, ck_errmsg());
    float in = -1.0f, out = 0.0f;
    if (l) ck_sequential_add(m, l);
    CHECK(l && ck_model_predict1(m, &in, 1, &out) == CK_OK, "LeakyReLU(%s): %s", kwargs, ck_errmsg());
    ck_model_free(m);
    return -out;
}

static void test_keras2_keyword(void)
{
    float a = leaky_slope("alpha=0.2"), both = leaky_slope("negative_slope=0.5, alpha=0.2");
    float slope = leaky_slope("negative_slope=0.5");
    CHECK(a == 0.2f && both == 0.2f && slope == 0.5f, "slopes %g, %g, %g; expected 0.2, 0.2, 0.5", a, both, slope);
    CHECK(ck_layer_new("ReLU", "alpha=0.2") == NULL && strstr(ck_errmsg(), "alpha"), "ReLU(alpha): %s", ck_errmsg());
}

static void test_errors(void)
{
    CHECK(ck_layer_new("NoSuchLayer", NULL) == NULL && strstr(ck_errmsg(), "NoSuchLayer"), "%s", ck_errmsg());
    CHECK(ck_dense(3, "activation='nope'") == NULL && strstr(ck_errmsg(), "activation"), "%s", ck_errmsg());
    CHECK(ck_dense(3, "unitz=4") == NULL && strstr(ck_errmsg(), "unitz"), "%s", ck_errmsg());
    CHECK(ck_dense(3, "use_bias=(") == NULL && strstr(ck_errmsg(), "kwargs"), "%s", ck_errmsg());
    CHECK(ck_layer_new("Dense", NULL) == NULL && strstr(ck_errmsg(), "units"), "%s", ck_errmsg());

    ck_model *m = ck_sequential(NULL);
    ck_sequential_add(m, ck_dense(-2, "input_shape=(2,)"));
    CHECK(ck_model_build(m) == CK_ERR_CONFIG && strstr(ck_errmsg(), "units"), "%s", ck_errmsg());
    ck_model_free(m);

    m = ck_sequential(NULL);
    ck_sequential_add(m, ck_dense(3, "input_shape=(1099511627776,)"));
    ck_sequential_add(m, ck_dense(1099511627776LL, NULL));
    CHECK(ck_model_build(m) != CK_OK && (strstr(ck_errmsg(), "too") || strstr(ck_errmsg(), "overflow")), "%s", ck_errmsg());
    ck_model_free(m);

    m = ck_sequential(NULL);
    ck_sequential_add(m, ck_layer_new("Reshape", "target_shape=(5,), input_shape=(6,)"));
    CHECK(ck_model_build(m) == CK_ERR_SHAPE && strstr(ck_errmsg(), "reshape"), "%s", ck_errmsg());
    ck_model_free(m);

    /* A failure in a functional chain is kept and reported once at the end. */
    ck_model *g = ck_functional(NULL);
    ck_ktensor *a = ck_input(g, "shape=(4,)");
    ck_ktensor *b = ck_input(g, "shape=(5,)");
    ck_ktensor *s = ck_call(g, ck_layer_new("Add", NULL), (ck_ktensor *[]){a, b}, 2);
    ck_ktensor *o = ck_call1(g, ck_dense(1, NULL), s);
    CHECK(s == NULL && o == NULL, "chain stops at the first error");
    CHECK(ck_functional_finish(g, (ck_ktensor *[]){a, b}, 2, &o, 1) == CK_ERR_SHAPE &&
          strstr(ck_errmsg(), "broadcast"), "%s", ck_errmsg());
    ck_model_free(g);

    /* A failed layer's message survives into ck_sequential_add's. */
    m = ck_sequential(NULL);
    CHECK(ck_sequential_add(m, ck_dense(3, "activaton='relu'")) == CK_ERR_ARG &&
          !strcmp(ck_errmsg(), "ck_sequential_add: layer is NULL (Dense 'dense': unknown keyword argument 'activaton')"),
          "%s", ck_errmsg());
    ck_model_free(m);

    /* input_dim=3 is input_shape=(3,) (Keras's Layer.__init__): the batch stays None. */
    m = ck_sequential(NULL);
    ck_sequential_add(m, ck_dense(4, "input_dim=3"));
    CHECK_OK(ck_model_build(m));
    char *text = NULL;
    CHECK_OK(ck_model_summary(m, NULL, &text));
    CHECK(text && strstr(text, "(None, 4)"), "%s", text);
    free(text);
    ck_model_free(m);

    /* An unbuilt Sequential still summarises, as Keras 3 does. */
    m = ck_sequential(NULL);
    ck_sequential_add(m, ck_dense(3, NULL));
    text = NULL;
    CHECK_OK(ck_model_summary(m, NULL, &text));
    CHECK(text && strstr(text, "0 (unbuilt)") && strstr(text, "│ ?"), "%s", text);
    free(text);
    ck_model_free(m);
}

/* A model placed inside itself, or called on its own graph: refused, and the
 * refused model is not freed behind the caller's back (ASan checks the frees). */
static void test_model_in_itself(void)
{
    ck_model *inner = ck_sequential("inner");
    ck_sequential_add(inner, ck_dense(4, "input_shape=(3,)"));
    ck_model *outer = ck_sequential("outer");
    CHECK_OK(ck_sequential_add(outer, ck_model_as_layer(inner)));
    CHECK(ck_sequential_add(inner, ck_model_as_layer(outer)) == CK_ERR_ARG && strstr(ck_errmsg(), "itself"), "%s",
          ck_errmsg());
    CHECK(ck_sequential_add(outer, ck_model_as_layer(outer)) == CK_ERR_ARG, "outer into outer: %s", ck_errmsg());
    CHECK_OK(ck_model_build(outer));
    ck_model_free(outer);

    ck_model *g = ck_functional(NULL);
    ck_ktensor *x = ck_input(g, "shape=(3,)");
    ck_ktensor *y = ck_call1(g, ck_dense(2, NULL), x);
    CHECK_OK(ck_functional_finish(g, &x, 1, &y, 1));
    CHECK(ck_call1(g, ck_model_as_layer(g), x) == NULL && strstr(ck_errmsg(), "finished"), "%s", ck_errmsg());
    /* g keeps the first error of its chain; its finished graph still predicts */
    float in[3] = {1, 2, 3}, out[2];
    CHECK_OK(ck_model_predict1(g, in, 1, out));
    ck_model_free(g);

    /* a Sequential nested in a graph, then the graph into the Sequential */
    ck_model *seq = ck_sequential("seq");
    ck_sequential_add(seq, ck_dense(3, "input_shape=(3,)"));
    g = ck_functional(NULL);
    x = ck_input(g, "shape=(3,)");
    y = ck_call1(g, ck_model_as_layer(seq), x);
    CHECK_OK(ck_functional_finish(g, &x, 1, &y, 1));
    CHECK(ck_sequential_add(seq, ck_model_as_layer(g)) == CK_ERR_ARG && strstr(ck_errmsg(), "itself"), "%s", ck_errmsg());
    ck_model_free(g);
}

/* A weight constraint is refused in training (ckeras does not apply it after
 * each step, as Keras does) unless the weight is frozen; predicting is fine. */
static void test_constraint_refused(void)
{
    ck_model *m = ck_sequential(NULL);
    CHECK_OK(ck_sequential_add(m, ck_dense(2, "input_shape=(3,), kernel_constraint='max_norm'")));
    CHECK_OK(ck_model_compile(m, "SGD()", "mse", NULL));
    float x[3] = {1, 2, 3}, y[2] = {0, 1}, out[2];
    CHECK_OK(ck_model_predict1(m, x, 1, out));
    ck_fit_opts o = ck_fit_defaults();
    o.verbose = 0;
    CHECK(ck_model_fit(m, x, y, 1, &o, NULL) == CK_ERR_UNSUPPORTED && strstr(ck_errmsg(), "kernel_constraint max_norm"),
          "%s", ck_errmsg());
    ck_layer_set_trainable(ck_model_as_layer(m), false);
    CHECK_OK(ck_model_compile(m, "SGD()", "mse", NULL));
    CHECK(ck_model_fit(m, x, y, 1, &o, NULL) == CK_OK, "frozen: %s", ck_errmsg());
    ck_model_free(m);
}

/* Keras files compiled with what ckeras cannot train as Keras does (an SGD with
 * use_ema=True, an Ftrl optimizer): fit says why instead of training otherwise;
 * compiling again trains. */
static void test_file_compile_gap(void)
{
    static const char *const files[] = {"tests/golden/core_loaded/sgd_ema_trained.keras",
                                        "tests/golden/core_loaded/ftrl_trained.keras"};
    static const char *const causes[] = {"use_ema", "Ftrl"};
    for (int i = 0; i < 2; i++) {
        char path[1024];
        ck_model *m = ck_model_load(test_path(path, sizeof path, files[i]));
        CHECK(m != NULL, "%s", ck_errmsg());
        if (!m) continue;
        float x[2] = {0, 0}, y[2] = {0.5f, 0.5f};
        ck_fit_opts o = ck_fit_defaults();
        o.verbose = 0;
        CHECK(ck_model_fit(m, x, y, 1, &o, NULL) == CK_ERR_UNSUPPORTED && strstr(ck_errmsg(), "compile config") &&
              strstr(ck_errmsg(), causes[i]), "%s: %s", files[i], ck_errmsg());
        CHECK_OK(ck_model_compile(m, "SGD(learning_rate=0.05)", "categorical_crossentropy", NULL));
        CHECK(ck_model_fit(m, x, y, 1, &o, NULL) == CK_OK, "%s compiled again: %s", files[i], ck_errmsg());
        ck_model_free(m);
    }
}

static ck_model *seeded_mlp(uint64_t seed)
{
    ck_model *m = ck_sequential(NULL);
    ck_sequential_add(m, ck_dense(64, "input_shape=(32,), activation='relu'"));
    ck_sequential_add(m, ck_dense(8, "kernel_initializer='orthogonal', bias_initializer='random_normal'"));
    ck_model_set_seed(m, seed);
    return m;
}

/* Initial values are drawn on first use: a summary, counts or to_json draw
 * none, and what get_weights, set_weights or predict see is the same as if they
 * had been drawn at build. */
static void test_lazy_initial_values(void)
{
    ck_model *a = seeded_mlp(7), *b = seeded_mlp(7);
    CHECK_OK(ck_model_build(a));
    CHECK_OK(ck_model_build(b));
    char *text = NULL, *json = NULL;
    ck_param_counts c;
    CHECK_OK(ck_model_summary(a, NULL, &text));
    CHECK_OK(ck_model_count_params(a, &c));
    CHECK_OK(ck_model_to_json(a, &json));
    free(text), free(json);
    CHECK(a->init_pending, "summary, counts and to_json drew the initial values");
    ck_model_set_seed(a, 99); /* after build: the build's seed still decides */
    /* b: one weight overwritten first; the others must keep a's values */
    float ones[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    ck_shape bias = {.rank = 1, .dim = {8}};
    CHECK_OK(ck_model_set_weight(b, 3, &bias, ones));
    for (int i = 0; i < ck_model_weight_count(a); i++) {
        ck_weight_info wa, wb;
        CHECK_OK(ck_model_weight(a, i, &wa));
        CHECK_OK(ck_model_weight(b, i, &wb));
        bool same = wa.size == wb.size && !memcmp(wa.data, wb.data, (size_t)wa.size * sizeof(float));
        CHECK(i == 3 ? !same && wb.data[0] == 1.0f : same, "weight %d after a lazy draw", i);
    }
    CHECK(!a->init_pending && !b->init_pending, "get/set_weights left values pending");
    ck_model_free(a);
    ck_model_free(b);
}

int main(void)
{
    test_classic();
    test_seed();
    test_lazy_initial_values();
    test_functional_spec();
    test_shared_layer();
    test_nested();
    test_hidden_functional_name();
    test_optimizer_states();
    test_errors();
    test_keras2_keyword();
    test_model_in_itself();
    test_constraint_refused();
    test_file_compile_gap();
    return test_report("test_core_api");
}
