/* Training and MLP-inference benchmarks of ckeras (never run by the tests). For
 * each MLP (784-512-256-10 and the 784-128-64-10, relu, softmax) it times
 * one epoch of model.fit (verbose 0, no shuffle) over a fixed synthetic set with
 * SGD and Adam at two batch sizes, and next to it the raw cblas_sgemm calls one
 * training step needs (forward, weight gradients, input gradients except for the
 * first layer) on the same shapes, so the engine's overhead shows as a fraction
 * of the BLAS rate. Inference: batch-1 latency through a ck_predictor and batch
 * 256/4096 throughput. Prints "name value unit" lines for bench/run_train.sh.
 * Usage: bench_train THREADS [quick|full] [FILTER]: FILTER keeps the workloads whose
 * name ("mlp128_adam_b32", "mlp512_infer") contains it (for profiling one). */
#include "ckeras.h"

#include <cblas.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "bench_clock.h"

#define N_SAMPLES 8192


static int die(const char *what)
{
    fprintf(stderr, "bench_train: %s: %s\n", what, ck_errmsg());
    return 1;
}

typedef struct mlp {
    const char *name;
    int dims[4]; /* input, hidden 1, hidden 2, classes */
} mlp;

static ck_model *mlp_model(const mlp *a)
{
    char shape[64], kw[64];
    snprintf(shape, sizeof shape, "input_shape=(%d,)", a->dims[0]);
    ck_model *m = ck_sequential(NULL);
    ck_sequential_add(m, ck_layer_new("InputLayer", shape));
    for (int i = 1; i < 4; i++) {
        snprintf(kw, sizeof kw, "activation='%s'", i == 3 ? "softmax" : "relu");
        ck_sequential_add(m, ck_dense(a->dims[i], kw));
    }
    if (ck_model_build(m)) {
        ck_model_free(m);
        return NULL;
    }
    return m;
}

/* Deterministic data: inputs in [0, 1) like scaled pixels, one-hot labels. */
static void make_data(const mlp *a, float *x, float *y)
{
    uint32_t s = 12345u;
    for (long i = 0; i < (long)N_SAMPLES * a->dims[0]; i++) {
        s = s * 1664525u + 1013904223u;
        x[i] = (float)(s >> 8) / 16777216.0f;
    }
    memset(y, 0, (size_t)N_SAMPLES * (size_t)a->dims[3] * sizeof *y);
    for (long i = 0; i < N_SAMPLES; i++) y[i * a->dims[3] + (i * 7) % a->dims[3]] = 1.0f;
}

/* Seconds of one training step's GEMMs through raw cblas_sgemm, best of 5. */
static double sgemm_step_seconds(const mlp *a, int batch, float *buf)
{
    const int *d = a->dims;
    double best = 1e30;
    for (int r = 0; r < 5; r++) {
        double t0 = now();
        int steps = N_SAMPLES / batch;
        for (int s = 0; s < steps; s++)
            for (int l = 0; l < 3; l++) {
                int K = d[l], N = d[l + 1];
                float *A = buf, *W = buf + (1 << 20), *C = buf + (2 << 20), *G = buf + (3 << 20);
                cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, batch, N, K, 1, A, K, W, N, 0, C, N);
                cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, K, N, batch, 1, A, K, C, N, 0, G, N);
                if (l > 0)
                    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, batch, K, N, 1, C, N, W, N, 0, A, K);
            }
        double dt = (now() - t0) / steps;
        best = dt < best ? dt : best;
    }
    return best;
}

static double step_flops(const mlp *a, int batch)
{
    double f = 0;
    for (int l = 0; l < 3; l++) f += 2.0 * batch * a->dims[l] * a->dims[l + 1] * (l > 0 ? 3 : 2);
    return f;
}

static const char *filter;

static bool wanted(const char *name, const char *what, int batch)
{
    char key[64];
    snprintf(key, sizeof key, "%s_%s_b%d", name, what, batch);
    return !filter || strstr(key, filter);
}

static int bench_fit(const mlp *a, const char *opt, int batch, int epochs, const float *x, const float *y,
                     float *scratch)
{
    if (!wanted(a->name, opt, batch)) return 0;
    ck_model *m = mlp_model(a);
    if (!m) return die("model");
    if (ck_model_compile(m, opt, "categorical_crossentropy", "accuracy")) return die("compile");
    ck_fit_opts o = ck_fit_defaults();
    o.batch_size = batch;
    o.shuffle = false;
    o.verbose = 0;
    o.epochs = 1;
    if (ck_model_fit(m, x, y, N_SAMPLES, &o, NULL)) return die("fit"); /* warm-up */
    double best = 1e30;
    for (int e = 0; e < epochs; e++) {
        double t0 = now();
        if (ck_model_fit(m, x, y, N_SAMPLES, &o, NULL)) return die("fit");
        double dt = now() - t0;
        best = dt < best ? dt : best;
    }
    int steps = N_SAMPLES / batch;
    double step = best / steps, raw = sgemm_step_seconds(a, batch, scratch);
    printf("train_%s_%s_b%d_epoch %.2f ms\n", a->name, opt, batch, best * 1e3);
    printf("train_%s_%s_b%d_step %.1f us\n", a->name, opt, batch, step * 1e6);
    printf("train_%s_%s_b%d_gflops %.2f GFLOP/s\n", a->name, opt, batch, step_flops(a, batch) / step / 1e9);
    printf("train_%s_%s_b%d_sgemm_frac %.1f %%\n", a->name, opt, batch, 100.0 * raw / step);
    ck_model_free(m);
    return 0;
}

static int bench_infer(const mlp *a, const float *x)
{
    if (!wanted(a->name, "infer", 0)) return 0;
    ck_model *m = mlp_model(a);
    if (!m) return die("model");
    float *out = malloc((size_t)4096 * a->dims[3] * sizeof *out);
    const float *in[1] = {x};
    float *o[1] = {out};
    int sizes[3] = {1, 256, 4096};
    for (int k = 0; k < 3; k++) {
        ck_predictor *p;
        if (ck_predictor_new(m, sizes[k], &p)) return die("predictor");
        long iters = sizes[k] == 1 ? 2000 : sizes[k] == 256 ? 100 : 10;
        double best = 1e30;
        int bad = ck_predictor_run(p, in, sizes[k], o);
        for (int r = 0; r < 5; r++) {
            double t0 = now();
            for (long i = 0; i < iters; i++) bad |= ck_predictor_run(p, in, sizes[k], o);
            double dt = (now() - t0) / (double)iters;
            best = dt < best ? dt : best;
        }
        if (bad) return die("predict");
        if (sizes[k] == 1)
            printf("infer_%s_b1_latency %.2f us\n", a->name, best * 1e6);
        else
            printf("infer_%s_b%d_throughput %.1f ksamples/s\n", a->name, sizes[k], sizes[k] / best / 1e3);
        ck_predictor_free(p);
    }
    free(out);
    ck_model_free(m);
    return 0;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 1;
    int quick = argc > 2 && strcmp(argv[2], "quick") == 0;
    filter = argc > 3 ? argv[3] : NULL;
    ck_set_num_threads(threads);
    const mlp nets[2] = {{"mlp512", {784, 512, 256, 10}}, {"mlp128", {784, 128, 64, 10}}};
    const int batches[2][2] = {{64, 256}, {32, 128}};
    const char *opts[2] = {"sgd", "adam"};
    float *x = malloc((size_t)N_SAMPLES * 784 * sizeof *x), *y = malloc((size_t)N_SAMPLES * 10 * sizeof *y);
    float *scratch = calloc((size_t)4 << 20, sizeof *scratch);
    if (!x || !y || !scratch) return die("memory");
    for (int n = 0; n < 2; n++) {
        make_data(&nets[n], x, y);
        for (int o = 0; o < 2; o++)
            for (int b = 0; b < 2; b++)
                if (bench_fit(&nets[n], opts[o], batches[n][b], quick ? 1 : 3, x, y, scratch)) return 1;
        if (bench_infer(&nets[n], x)) return 1;
    }
    free(x);
    free(y);
    free(scratch);
    return 0;
}
