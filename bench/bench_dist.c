/* Data-parallel fit timings for bench/run_dist.sh, run under mpirun:
 *   bench_dist mlp|cnn BUCKET_MB ordered|mpi [STEPS]
 * trains the MLP (784-512-256-10) or the small MNIST CNN of bench_cnn.c on random
 * data at a global batch of 64, one warm-up epoch then one measured epoch, and
 * prints on rank 0 "key value unit" lines: the step time, the time blocked on the
 * gradient reductions after backward, the gradient bytes per step. With
 * `allreduce` as the model it times blocking MPI_Allreduce of 4 B to 4 MB
 * instead (the latency and bandwidth of the scaling model in bench/README.md). */
#include "ckeras.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static ck_model *make(const char *kind, int64_t *in_size)
{
    ck_model *m = ck_sequential(kind);
    if (!strcmp(kind, "mlp")) {
        ck_sequential_add(m, ck_dense(512, "input_shape=(784,), activation='relu'"));
        ck_sequential_add(m, ck_dense(256, "activation='relu'"));
        ck_sequential_add(m, ck_dense(10, "activation='softmax'"));
    } else {
        ck_sequential_add(m, ck_layer_new("InputLayer", "input_shape=(28, 28, 1)"));
        ck_sequential_add(m, ck_layer_new("Conv2D", "filters=32, kernel_size=3, activation='relu'"));
        ck_sequential_add(m, ck_layer_new("MaxPooling2D", ""));
        ck_sequential_add(m, ck_layer_new("Conv2D", "filters=64, kernel_size=3, activation='relu'"));
        ck_sequential_add(m, ck_layer_new("MaxPooling2D", ""));
        ck_sequential_add(m, ck_layer_new("Flatten", ""));
        ck_sequential_add(m, ck_dense(128, "activation='relu'"));
        ck_sequential_add(m, ck_dense(10, "activation='softmax'"));
    }
    *in_size = 784;
    ck_model_set_seed(m, 1);
    return m;
}

static void allreduce_sizes(int rank)
{
    for (int bytes = 4; bytes <= 4 << 20; bytes *= 16) {
        int n = bytes / 4, reps = bytes < 65536 ? 200 : 20;
        float *v = calloc((size_t)n, sizeof *v);
        MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD); /* warm-up */
        MPI_Barrier(MPI_COMM_WORLD);
        double t0 = now();
        for (int r = 0; r < reps; r++)
            MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
        if (rank == 0)
            printf("allreduce_%d %.4f ms\n", bytes, 1e3 * (now() - t0) / reps);
        free(v);
    }
}

int main(int argc, char **argv)
{
    ck_data_parallel *dp;
    if (argc < 4 || ck_distribute_init(&argc, &argv, &dp) != CK_OK) {
        fprintf(stderr, "usage: mpirun -np N bench_dist mlp|cnn|allreduce BUCKET_MB ordered|mpi [STEPS] (%s)\n",
                ck_errmsg());
        return 2;
    }
    int rank = ck_distribute_rank(dp), steps = argc > 4 ? atoi(argv[4]) : 40;
    if (!strcmp(argv[1], "allreduce")) {
        allreduce_sizes(rank);
        ck_distribute_finalize(dp);
        return 0;
    }
    ck_distribute_set_bucket_bytes(dp, (int64_t)(atof(argv[2]) * 1048576.0));
    ck_distribute_set_reduction(dp, strcmp(argv[3], "mpi") ? CK_REDUCE_ORDERED : CK_REDUCE_MPI);
    int64_t in_size, n = 64 * (int64_t)steps;
    ck_model *m = make(argv[1], &in_size);
    float *x = malloc((size_t)(n * in_size) * sizeof *x), *y = malloc((size_t)n * sizeof *y);
    uint64_t s = 12345;
    for (int64_t i = 0; i < n * in_size; i++)
        s = s * 6364136223846793005ull + 1442695040888963407ull, x[i] = (float)(s >> 40) / (float)(1 << 24);
    for (int64_t i = 0; i < n; i++)
        y[i] = (float)(i % 10);
    ck_fit_opts o = ck_fit_defaults();
    o.batch_size = 64, o.verbose = 0, o.seed = 1;
    if (ck_model_compile(m, "adam", "sparse_categorical_crossentropy", NULL) != CK_OK ||
        ck_model_set_distribution(m, dp) != CK_OK || ck_model_fit(m, x, y, n, &o, NULL) != CK_OK) {
        fprintf(stderr, "bench_dist: %s\n", ck_errmsg());
        ck_distribute_abort(dp, 1);
    }
    ck_distribute_stats a, b;
    ck_distribute_get_stats(dp, &a);
    MPI_Barrier(MPI_COMM_WORLD);
    double t0 = now();
    if (ck_model_fit(m, x, y, n, &o, NULL) != CK_OK) {
        fprintf(stderr, "bench_dist: %s\n", ck_errmsg());
        ck_distribute_abort(dp, 1);
    }
    double t = now() - t0;
    ck_distribute_get_stats(dp, &b);
    if (rank == 0) {
        double k = (double)(b.steps - a.steps);
        printf("step %.4f ms\nwait %.4f ms\nsum %.4f ms\nbuckets %.2f per_step\nbytes %.0f per_step\n",
               1e3 * t / k, 1e3 * (b.wait_s - a.wait_s) / k, 1e3 * (b.sum_s - a.sum_s) / k,
               (double)(b.buckets - a.buckets) / k, (b.bytes - a.bytes) / k);
    }
    free(x), free(y);
    ck_model_free(m);
    ck_distribute_finalize(dp);
    return 0;
}
