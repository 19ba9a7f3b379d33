/* Sequence benchmarks of ckeras (never run by the tests): LSTM(128) over 100 steps
 * of 32 features at batch 32, inference (a ck_predictor, no allocation per call)
 * and one training step (Adam, MSE, through ck_model_fit over 4 batches); and an
 * Embedding(10000, 64) + Bidirectional(LSTM(64)) + Dense(1, sigmoid) text
 * classifier on 100 ids at batch 32, inference and training step. Threads: argv[1]
 * (default: ckeras's default). Prints "name value unit" lines for
 * bench/run_seq.sh. */
#include "ckeras.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "bench_clock.h"

#define BATCH 32
#define STEPS 100
#define FEAT 32
#define TRAIN_BATCHES 4


static int die(const char *what)
{
    fprintf(stderr, "bench_seq: %s: %s\n", what, ck_errmsg());
    return 1;
}

static ck_model *build(const char *input, const char *const *layers)
{
    ck_model *m = ck_sequential(NULL);
    ck_sequential_add(m, ck_layer_new("InputLayer", input));
    ck_status st = CK_OK;
    for (int i = 0; !st && layers[i]; i += 2) st = ck_sequential_add(m, ck_layer_new(layers[i], layers[i + 1]));
    if (!st) st = ck_model_build(m);
    if (st) {
        ck_model_free(m);
        return NULL;
    }
    return m;
}

/* Milliseconds of one predict call (best of 3 after a warm-up call) and of one
 * training step (best of 3 fits after the first). */
static int bench(const char *name, ck_model *m, const float *x, int64_t x_row, const float *y, int64_t y_row)
{
    ck_predictor *p;
    if (ck_predictor_new(m, BATCH, &p)) return die("predictor");
    float *out = malloc((size_t)(BATCH * y_row) * sizeof *out);
    const float *in[1] = {x};
    float *outs[1] = {out};
    double best = 1e30;
    for (int r = 0; r < 4; r++) {
        double t0 = now();
        if (ck_predictor_run(p, in, BATCH, outs)) return die("predict");
        double dt = now() - t0;
        if (r > 0 && dt < best) best = dt; /* the first call warms caches */
    }
    printf("%s_inference %.3f ms\n", name, best * 1e3);
    ck_predictor_free(p);
    free(out);
    if (ck_model_compile(m, "adam", y_row == 1 && x_row == STEPS ? "binary_crossentropy" : "mse", NULL))
        return die("compile");
    ck_fit_opts o = ck_fit_defaults();
    o.batch_size = BATCH;
    o.shuffle = false;
    o.verbose = 0;
    best = 1e30;
    for (int r = 0; r < 4; r++) {
        double t0 = now();
        if (ck_model_fit(m, x, y, BATCH * TRAIN_BATCHES, &o, NULL)) return die("fit");
        double dt = (now() - t0) / TRAIN_BATCHES;
        if (r > 0 && dt < best) best = dt;
    }
    printf("%s_train_step %.3f ms\n", name, best * 1e3);
    (void)x_row;
    return 0;
}

int main(int argc, char **argv)
{
    if (argc > 1) ck_set_num_threads(atoi(argv[1]));
    int64_t n = BATCH * TRAIN_BATCHES;
    float *x = malloc((size_t)(n * STEPS * FEAT) * sizeof *x), *y = malloc((size_t)n * sizeof *y);
    float *ids = malloc((size_t)(n * STEPS) * sizeof *ids);
    for (int64_t i = 0; i < n * STEPS * FEAT; i++) x[i] = (float)((i * 7919) % 1000) / 1000.0f - 0.5f;
    for (int64_t i = 0; i < n * STEPS; i++) ids[i] = (float)((i * 104729) % 10000);
    for (int64_t i = 0; i < n; i++) y[i] = (float)(i % 2);

    const char *lstm[] = {"LSTM", "units=128", "Dense", "units=1", NULL};
    ck_model *m = build("input_shape=(100, 32)", lstm);
    if (!m) return die("lstm model");
    if (bench("lstm128", m, x, STEPS * FEAT, y, 1)) return 1;
    ck_model_free(m);

    const char *text[] = {"Embedding", "input_dim=10000, output_dim=64", "Bidirectional", "layer={'class_name': 'LSTM', 'config': {'units': 64}}",
                          "Dense", "units=1, activation='sigmoid'", NULL};
    m = build("input_shape=(100,)", text);
    if (!m) return die("text model");
    if (bench("bilstm_text", m, ids, STEPS, y, 1)) return 1;
    ck_model_free(m);
    free(x), free(y), free(ids);
    return 0;
}
