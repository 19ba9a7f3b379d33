/* CNN benchmarks of ckeras (never run by the tests): the CNN,
 * Conv2D(32, 3x3, relu) -> MaxPooling2D -> Conv2D(64, 3x3, relu) ->
 * MaxPooling2D -> Flatten -> Dense(128, relu) -> Dense(10) on 28x28x1, timed
 * per training step at batch 64 (Adam, sparse categorical crossentropy from
 * logits, through ck_model_fit) and per inference call at batch 1 and 256
 * (ck_predictor); then ResNet50 (Keras Applications config, weights=None, so
 * random weights) inference at batch 1 and 32. Prints "name value unit" lines
 * for bench/run_cnn.sh. Usage: bench_cnn RESNET50_CONFIG.json|- [--quick] (-: no
 * ResNet50)
 * `bench_cnn --predict ROWS CALLS` makes CALLS inference calls of the CNN at
 * ROWS and prints nothing else timed (bench/run_futex.sh counts their system
 * calls). */
#include "ckeras.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench_clock.h"


static int die(const char *what)
{
    fprintf(stderr, "bench_cnn: %s: %s\n", what, ck_errmsg());
    return 1;
}

static ck_model *cnn(void)
{
    ck_model *m = ck_sequential("bench_cnn");
    ck_sequential_add(m, ck_layer_new("InputLayer", "input_shape=(28, 28, 1)"));
    ck_sequential_add(m, ck_layer_new("Conv2D", "filters=32, kernel_size=3, activation='relu'"));
    ck_sequential_add(m, ck_layer_new("MaxPooling2D", ""));
    ck_sequential_add(m, ck_layer_new("Conv2D", "filters=64, kernel_size=3, activation='relu'"));
    ck_sequential_add(m, ck_layer_new("MaxPooling2D", ""));
    ck_sequential_add(m, ck_layer_new("Flatten", ""));
    ck_sequential_add(m, ck_dense(128, "activation='relu'"));
    ck_sequential_add(m, ck_dense(10, ""));
    ck_model_set_seed(m, 1);
    return m;
}

static float *filled(int64_t n, int mod)
{
    float *p = malloc((size_t)n * sizeof *p);
    for (int64_t i = 0; p && i < n; i++) p[i] = (float)((i * 7919) % mod) / (float)mod;
    return p;
}

/* Best of `reps` runs of `iters` predictor calls at `rows`, in ms per call. */
static double time_predict(ck_model *m, int64_t rows, int64_t in_size, int64_t out_size, int reps, int iters)
{
    ck_predictor *p;
    if (ck_predictor_new(m, rows, &p)) return -1;
    float *x = filled(rows * in_size, 255), *y = malloc((size_t)(rows * out_size) * sizeof *y);
    const float *in[1] = {x};
    float *out[1] = {y};
    double best = 1e30;
    ck_predictor_run(p, in, rows, out); /* warm: first-touch of buffers */
    for (int r = 0; r < reps; r++) {
        double t0 = now();
        for (int i = 0; i < iters; i++)
            if (ck_predictor_run(p, in, rows, out)) best = -1e30;
        double dt = (now() - t0) / iters * 1e3;
        best = dt < best ? dt : best;
    }
    free(x), free(y);
    ck_predictor_free(p);
    return best;
}

static int bench_cnn_train(bool quick)
{
    ck_model *m = cnn();
    if (ck_model_compile(m, "adam", "SparseCategoricalCrossentropy(from_logits=True)", "")) return die("compile");
    int64_t steps = quick ? 5 : 30, n = 64 * steps;
    float *x = filled(n * 784, 255), *y = malloc((size_t)n * sizeof *y);
    for (int64_t i = 0; i < n; i++) y[i] = (float)(i % 10);
    ck_fit_opts o = ck_fit_defaults();
    o.batch_size = 64, o.verbose = 0, o.shuffle = false;
    double best = 1e30;
    for (int r = 0; r < 3; r++) { /* the first fit also builds the engine */
        double t0 = now();
        if (ck_model_fit(m, x, y, n, &o, NULL)) return die("fit");
        double dt = (now() - t0) / (double)steps * 1e3;
        best = r && dt < best ? dt : best;
    }
    printf("cnn_train_step_b64 %.3f ms\n", best);
    printf("cnn_infer_b1 %.4f ms\n", time_predict(m, 1, 784, 10, 3, quick ? 50 : 500));
    printf("cnn_infer_b256 %.3f ms\n", time_predict(m, 256, 784, 10, 3, quick ? 3 : 20));
    free(x), free(y);
    ck_model_free(m);
    return 0;
}

static int bench_resnet(const char *config, bool quick)
{
    ck_model *m = ck_model_load(config);
    if (!m) return die(config);
    if (ck_model_build(m)) return die("build");
    int64_t in = 224 * 224 * 3, out = 1000;
    printf("resnet50_infer_b1 %.2f ms\n", time_predict(m, 1, in, out, quick ? 1 : 3, quick ? 2 : 5));
    printf("resnet50_infer_b32 %.1f ms\n", time_predict(m, 32, in, out, quick ? 1 : 2, quick ? 1 : 2));
    ck_model_free(m);
    return 0;
}

/* CALLS predictor calls at ROWS, after one to warm up. */
static int predict_calls(int64_t rows, int calls)
{
    ck_model *m = cnn();
    ck_predictor *p;
    if (ck_model_build(m) || ck_predictor_new(m, rows, &p)) return die("predictor");
    float *x = filled(rows * 784, 255), *y = malloc((size_t)(rows * 10) * sizeof *y);
    const float *in[1] = {x};
    float *out[1] = {y};
    int st = ck_predictor_run(p, in, rows, out);
    double t0 = now();
    for (int i = 0; !st && i < calls; i++) st = ck_predictor_run(p, in, rows, out);
    if (calls) printf("cnn_infer_b%lld %.4f ms\n", (long long)rows, (now() - t0) / calls * 1e3);
    free(x), free(y);
    ck_predictor_free(p);
    ck_model_free(m);
    return st ? die("predict") : 0;
}

int main(int argc, char **argv)
{
    if (argc > 3 && !strcmp(argv[1], "--predict")) return predict_calls(atoll(argv[2]), atoi(argv[3]));
    bool quick = argc > 2 && !strcmp(argv[2], "--quick");
    if (bench_cnn_train(quick)) return 1;
    if (argc > 1 && strcmp(argv[1], "-") && bench_resnet(argv[1], quick)) return 1;
    return 0;
}
