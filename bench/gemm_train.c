/* The three products of a Dense layer's training step, at the MLP benchmarks'
 * shapes (bench_train.c), through cblas_sgemm and through ckeras's packed
 * tiles as Dense runs them in training (ck_sgemm_packed: op(B) packed and a
 * transposed A copied on every call), in GFLOP/s of CPU time, best of 5; the
 * last column is what ck_sgemm_packs picks on this CPU. It reads internal
 * headers (src/), so it is built by hand, against a Release build:
 *   cc -O2 -std=gnu11 -Iinclude -Isrc bench/gemm_train.c build/libckeras.a \
 *      $(pkg-config --libs jansson libzip) -lhdf5_serial -lz -lopenblas -fopenmp -lm \
 *      $(pkg-config --libs ompi-c 2>/dev/null) $(pkg-config --libs libgvc 2>/dev/null) -o gemm_train
 *   (bench/peers.sh's bench_cc line plus -Isrc)
 *   taskset -c 1 ./gemm_train     (CKERAS_ISA=avx2: the AVX2 tiles on an AVX-512 CPU) */
#include "ckeras.h"
#include "kernels/gemm_packed.h"
#include "kernels/tensor_ops.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double cpu_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static float *filled(int64_t n)
{
    float *p = malloc((size_t)n * sizeof *p);
    for (int64_t i = 0; p && i < n; i++) p[i] = (float)(i * 7919 % 2001) / 1000.0f - 1.0f;
    return p;
}

/* One product C [M, N] += op(A) op(B), timed both ways; GFLOP/s into g[2]. */
static void product(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double g[2])
{
    int64_t lda = ta ? M : K, ldb = tb ? K : N;
    float *A = filled(M * K), *B = filled(K * N), *C = filled(M * N);
    float *work = malloc((size_t)(ck_sgemm_packed_floats(ta, tb, M, N, K) + 1) * sizeof *work);
    int reps = (int)(4e8 / (double)(M * N * K)) + 1;
    for (int way = 0; way < 2; way++) {
        double best = 1e30;
        for (int r = 0; r < 5; r++) {
            double t0 = cpu_now();
            for (int i = 0; i < reps; i++)
                if (way == 0)
                    cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M,
                                (int)N, (int)K, 1.0f, A, (int)lda, B, (int)ldb, 1.0f, C, (int)N);
                else ck_sgemm_packed(ta, tb, M, N, K, A, lda, B, ldb, 1.0f, C, N, work);
            double t = (cpu_now() - t0) / reps;
            best = t < best ? t : best;
        }
        g[way] = 2.0 * (double)(M * N * K) / best / 1e9;
    }
    free(A), free(B), free(C), free(work);
}

int main(void)
{
    ck_set_num_threads(1);
    if (!ck_packed_nr()) {
        printf("no packed kernel on this CPU (or CKERAS_ISA=none): Dense trains through cblas alone\n");
        return 0;
    }
    /* batch, inputs, units: mlp512 at batch 64 and 256, mlp128 at 32 and 128 */
    static const int nets[2][3] = {{784, 512, 256}, {784, 128, 64}};
    static const int batches[2][2] = {{64, 256}, {32, 128}};
    printf("kernels %s; GFLOP/s, cblas / packed (picked)\n", ck_kernel_isa());
    printf("%-5s %4s %4s %4s  %-22s %-22s %-22s\n", "net", "b", "in", "out", "forward X W", "weight grad X^T dY",
           "input grad dY W^T");
    for (int n = 0; n < 2; n++)
        for (int b = 0; b < 2; b++)
            for (int l = 0; l < 3; l++) {
                int64_t M = batches[n][b], K = nets[n][l], U = l < 2 ? nets[n][l + 1] : 10;
                double f[2], w[2], x[2];
                product(false, false, M, U, K, f);
                product(true, false, K, U, M, w);
                product(false, true, M, K, U, x);
                printf("%-5s %4lld %4lld %4lld  %6.1f / %6.1f (%-6s) %6.1f / %6.1f (%-6s) %6.1f / %6.1f (%-6s)\n",
                       n ? "mlp128" : "mlp512", (long long)M, (long long)K, (long long)U, f[0], f[1],
                       ck_sgemm_packs(false, false, M, U, K) ? "packed" : "cblas", w[0], w[1],
                       ck_sgemm_packs(true, false, K, U, M) ? "packed" : "cblas", x[0], x[1],
                       ck_sgemm_packs(false, true, M, K, U) ? "packed" : "cblas");
            }
    return 0;
}
