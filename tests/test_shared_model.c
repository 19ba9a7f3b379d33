/* One model, many threads: 4 threads each make 1,000 predict calls on one shared
 * CNN (im2col and Winograd convolutions, a folded BatchNormalization, pooling
 * behind a convolution), one shared MLP and one shared LSTM + GRU on sequences
 * of varying length (whose calls lend shapes to the layers and take turns), each
 * call's output equal to what a single thread computed for the same input. The model is
 * built but its weights are still pending when the threads start, so the first
 * calls race to draw the initial values too. `make sanitize` runs it under
 * ThreadSanitizer (build-tsan/), where any data race is a failure. */
#include "testutil.h"

#include <pthread.h>

#define THREADS 4
#define CALLS 1000
#define INPUTS 8 /* distinct inputs, cycled: each thread starts at another */

typedef struct shared_case {
    ck_model *model;
    int64_t in_size, out_size;  /* per row; for a sequence model, per time step */
    bool sequence;              /* input i has steps_of(i) steps (None in the model) */
    float *x;        /* [INPUTS, in_size]  */
    float *expect;   /* [INPUTS, out_size] */
} shared_case;

static int64_t steps_of(int i) { return 2 + i % 4; }

/* One call on input i (rows copies of it) into y. */
static ck_status predict_one(const shared_case *c, int i, const float *x, int rows, float *y)
{
    if (!c->sequence) return ck_model_predict1(c->model, x, rows, y);
    ck_shape s = {.rank = 3, .dim = {rows, steps_of(i), c->in_size}};
    return ck_model_predict_shaped(c->model, &s, &x, &y, 0);
}

static const float *input_of(const shared_case *c, int i)
{
    return c->x + (size_t)i * (size_t)c->in_size * (c->sequence ? 8 : 1);
}

typedef struct worker {
    const shared_case *c;
    int id;
    int wrong, failed;
    double worst;
} worker;

static void *run_worker(void *arg)
{
    worker *w = arg;
    const shared_case *c = w->c;
    float *y = malloc((size_t)c->out_size * 2 * sizeof *y);
    for (int k = 0; y && k < CALLS; k++) {
        int i = (k + w->id * 3) % INPUTS;
        /* Every other call a batch of two rows (the same input twice). */
        int rows = 1 + (k & 1);
        const float *x = input_of(c, i);
        size_t row = (size_t)c->in_size * (size_t)(c->sequence ? steps_of(i) : 1);
        float *two = NULL;
        if (rows == 2) {
            two = malloc(row * 2 * sizeof *two);
            if (!two) break;
            memcpy(two, x, row * sizeof *two);
            memcpy(two + row, x, row * sizeof *two);
            x = two;
        }
        if (predict_one(c, i, x, rows, y)) {
            w->failed++;
        } else {
            for (int r = 0; r < rows; r++) {
                double e = test_max_error(y + (size_t)r * (size_t)c->out_size,
                                          c->expect + (size_t)i * (size_t)c->out_size, c->out_size, 1e-6);
                if (e > 1e-5) w->wrong++;
                if (e > w->worst) w->worst = e;
            }
        }
        free(two);
    }
    free(y);
    return NULL;
}

static void run_shared(const char *what, ck_model *m, int64_t in_size, int64_t out_size, bool sequence,
                       ck_model *twin)
{
    int64_t per_input = in_size * (sequence ? 8 : 1);
    shared_case c = {m, in_size, out_size, sequence, malloc((size_t)(INPUTS * per_input) * sizeof(float)),
                     malloc((size_t)(INPUTS * out_size) * sizeof(float))};
    if (!c.x || !c.expect) abort();
    for (int64_t i = 0; i < INPUTS * per_input; i++) c.x[i] = (float)sin(0.37 * (double)i) * 2.0f;
    /* The expected outputs come from a twin (same seed, same weights) on one thread,
     * so that the shared model starts with its weights pending. */
    shared_case one = c;
    one.model = twin;
    for (int i = 0; i < INPUTS; i++) CHECK_OK(predict_one(&one, i, input_of(&c, i), 1, c.expect + i * out_size));
    pthread_t t[THREADS];
    worker w[THREADS];
    for (int k = 0; k < THREADS; k++) {
        w[k] = (worker){.c = &c, .id = k};
        CHECK(pthread_create(&t[k], NULL, run_worker, &w[k]) == 0, "%s: thread %d", what, k);
    }
    for (int k = 0; k < THREADS; k++) pthread_join(t[k], NULL);
    for (int k = 0; k < THREADS; k++) {
        CHECK(w[k].failed == 0, "%s: thread %d: %d of %d calls failed", what, k, w[k].failed, CALLS);
        CHECK(w[k].wrong == 0, "%s: thread %d: %d wrong outputs (worst error %g)", what, k, w[k].wrong, w[k].worst);
    }
    free(c.x);
    free(c.expect);
}

static ck_model *cnn(void)
{
    ck_model *m = ck_sequential("name='cnn'");
    ck_sequential_add(m, ck_layer_new("Conv2D", "filters=16, kernel_size=3, activation='relu', input_shape=(12, 12, 3)"));
    ck_sequential_add(m, ck_layer_new("Conv2D", "filters=16, kernel_size=3, padding='same'"));
    ck_sequential_add(m, ck_layer_new("BatchNormalization", "momentum=0.9"));
    ck_sequential_add(m, ck_layer_new("ReLU", NULL));
    ck_sequential_add(m, ck_layer_new("MaxPooling2D", NULL));
    ck_sequential_add(m, ck_layer_new("Conv2D", "filters=16, kernel_size=3, activation='relu', padding='same'"));
    ck_sequential_add(m, ck_layer_new("GlobalAveragePooling2D", NULL));
    ck_sequential_add(m, ck_dense(10, "activation='softmax'"));
    ck_model_set_seed(m, 7);
    CHECK_OK(ck_model_build(m));
    return m;
}

/* Variable-length sequences: the engine lends each call's shapes to the layers. */
static ck_model *seq(void)
{
    ck_model *m = ck_sequential("name='seq'");
    ck_sequential_add(m, ck_layer_new("LSTM", "units=6, return_sequences=True, input_shape=(None, 3)"));
    ck_sequential_add(m, ck_layer_new("GRU", "units=4"));
    ck_sequential_add(m, ck_dense(2, NULL));
    ck_model_set_seed(m, 5);
    CHECK_OK(ck_model_build(m));
    return m;
}

static ck_model *mlp(void)
{
    ck_model *m = ck_sequential("name='mlp'");
    ck_sequential_add(m, ck_dense(32, "input_shape=(20,), activation='gelu'"));
    ck_sequential_add(m, ck_layer_new("LayerNormalization", NULL));
    ck_sequential_add(m, ck_dense(5, "activation='softmax'"));
    ck_model_set_seed(m, 11);
    CHECK_OK(ck_model_build(m));
    return m;
}

int main(void)
{
    ck_model *a = cnn(), *a_twin = cnn();
    run_shared("cnn", a, 12 * 12 * 3, 10, false, a_twin);
    ck_model *b = mlp(), *b_twin = mlp();
    run_shared("mlp", b, 20, 5, false, b_twin);
    ck_model *s = seq(), *s_twin = seq();
    run_shared("variable-length rnn", s, 3, 2, true, s_twin);
    ck_model_free(s);
    ck_model_free(s_twin);
    ck_model_free(a);
    ck_model_free(a_twin);
    ck_model_free(b);
    ck_model_free(b_twin);
    return test_report("test_shared_model");
}
