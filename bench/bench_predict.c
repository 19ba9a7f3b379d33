/* Predict benchmarks of ckeras (never run by the tests): the classic 2-3-2 model's
 * single-sample latency through a ck_predictor (no allocation per call) and its
 * batch-1024 throughput, and a 4096x4096 Dense forward at batch 256 against a raw
 * cblas_sgemm of the same product in the same process. Prints one line per
 * measurement, "name value unit", for bench/run_predict.sh to tabulate. */
#include "ckeras.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "bench_clock.h"


static int die(const char *what)
{
    fprintf(stderr, "bench_predict: %s: %s\n", what, ck_errmsg());
    return 1;
}

/* Best of `reps` timings of `iters` calls, in seconds per call. */
#define TIME_BEST(reps, iters, body)                                   \
    ({                                                                 \
        double best_ = 1e30;                                           \
        for (int r_ = 0; r_ < (reps); r_++) {                          \
            double t0_ = now();                                        \
            for (long i_ = 0; i_ < (iters); i_++) { body; }            \
            double dt_ = (now() - t0_) / (double)(iters);              \
            best_ = dt_ < best_ ? dt_ : best_;                         \
        }                                                              \
        best_;                                                         \
    })

static int bench_classic(const char *config)
{
    ck_model *m = ck_model_load(config);
    if (!m) return die(config);
    ck_predictor *p1, *pb;
    if (ck_predictor_new(m, 1, &p1) || ck_predictor_new(m, 1024, &pb)) return die("predictor");
    float x[2 * 1024], y[2 * 1024];
    for (int i = 0; i < 2 * 1024; i++) x[i] = (float)(i % 7) * 0.1f - 0.3f;
    const float *in[1] = {x};
    float *out[1] = {y};
    int bad = 0;
    double t1 = TIME_BEST(5, 2000000, bad |= ck_predictor_run(p1, in, 1, out));
    double tb = TIME_BEST(5, 2000, bad |= ck_predictor_run(pb, in, 1024, out));
    if (bad) return die("run");
    printf("classic_single_latency %.4f us\n", t1 * 1e6);
    printf("classic_batch1024_throughput %.1f Msamples/s\n", 1024.0 / tb / 1e6);
    ck_predictor_free(p1);
    ck_predictor_free(pb);
    ck_model_free(m);
    return 0;
}

static int bench_dense(void)
{
    enum { N = 4096, B = 256 };
    ck_model *m = ck_sequential(NULL);
    ck_sequential_add(m, ck_layer_new("InputLayer", "input_shape=(4096,)"));
    ck_sequential_add(m, ck_dense(N, ""));
    ck_predictor *p;
    if (ck_model_build(m) || ck_predictor_new(m, B, &p)) return die("dense model");
    float *x = malloc((size_t)B * N * sizeof *x), *y = malloc((size_t)B * N * sizeof *y);
    for (long i = 0; i < (long)B * N; i++) x[i] = (float)(i % 13) * 0.01f;
    ck_weight_info w;
    ck_model_weight(m, 0, &w);
    const float *in[1] = {x};
    float *out[1] = {y};
    int bad = 0;
    ck_predictor_run(p, in, B, out); /* warm up threads and caches */
    double tc = TIME_BEST(7, 5, bad |= ck_predictor_run(p, in, B, out));
    double tr = TIME_BEST(7, 5, cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, N, N, 1.0f, x, N, w.data,
                                            N, 0.0f, y, N));
    if (bad) return die("dense run");
    double flop = 2.0 * B * N * (double)N;
    printf("dense4096_ckeras %.2f GFLOP/s\n", flop / tc / 1e9);
    printf("dense4096_sgemm %.2f GFLOP/s\n", flop / tr / 1e9);
    printf("dense4096_ratio %.1f %%\n", 100.0 * tr / tc);
    free(x);
    free(y);
    ck_predictor_free(p);
    ck_model_free(m);
    return 0;
}

int main(int argc, char **argv)
{
    const char *config = argc > 1 ? argv[1] : "tests/golden/core/classic/config.json";
    if (bench_classic(config)) return 1;
    return bench_dense();
}
