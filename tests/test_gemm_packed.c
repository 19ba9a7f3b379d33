/* The packed-B GEMM (kernels/gemm_packed.c) against cblas_sgemm, for every
 * kernel width this CPU runs: shapes with partial row tiles, partial panels,
 * several K slices and row blocks, strided A and C, beta 0 (C's old contents,
 * NaN here, must not leak) and 1, at 1 and 2 threads. On a CPU without a
 * kernel the test says so and checks that none is offered. */
#include "testutil.h"
#include "kernels/gemm_packed.h"

#include <cblas.h>

static float *filled(int64_t n, int seed)
{
    float *p = malloc((size_t)n * sizeof *p);
    for (int64_t i = 0; i < n; i++) p[i] = (float)((i * 7919 + seed * 104729) % 2001) / 1000.0f - 1.0f;
    return p;
}

static void check_shape(int nr, int64_t M, int64_t N, int64_t K, float beta)
{
    int64_t lda = K + 3, ldc = N + 5;
    float *A = filled(M * lda, 1), *B = filled(K * N, 2), *C = filled(M * ldc, 3), *ref = malloc((size_t)(M * ldc) * sizeof *ref);
    float *Bp = malloc((size_t)ck_packed_floats(K, N, nr) * sizeof *Bp);
    if (beta == 0.0f)
        for (int64_t i = 0; i < M * ldc; i++) C[i] = NAN;
    memcpy(ref, C, (size_t)(M * ldc) * sizeof *ref);
    ck_pack_b(B, N, K, N, nr, Bp);
    ck_gemm_packed(nr, M, N, K, A, lda, Bp, beta, C, ldc);
    if (beta == 0.0f)
        for (int64_t i = 0; i < M * ldc; i++) ref[i] = 0.0f;
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)M, (int)N, (int)K, 1.0f, A, (int)lda, B, (int)N, 1.0f,
                ref, (int)ldc);
    double worst = 0;
    bool pad_kept = true;
    for (int64_t i = 0; i < M; i++) {
        for (int64_t j = 0; j < N; j++) {
            double e = fabs((double)C[i * ldc + j] - ref[i * ldc + j]) / (1.0 + fabs((double)ref[i * ldc + j]));
            worst = e > worst || e != e ? (e != e ? INFINITY : e) : worst;
        }
        for (int64_t j = N; j < ldc; j++) /* columns past N belong to the caller */
            pad_kept = pad_kept && (beta == 0.0f ? C[i * ldc + j] != C[i * ldc + j] : C[i * ldc + j] == ref[i * ldc + j]);
    }
    CHECK(worst <= 1e-5, "nr %d, %lldx%lldx%lld beta %g: max relative error %g", nr, (long long)M, (long long)N,
          (long long)K, beta, worst);
    CHECK(pad_kept, "nr %d, %lldx%lldx%lld: wrote past column N", nr, (long long)M, (long long)N, (long long)K);
    free(A), free(B), free(C), free(ref), free(Bp);
}

int main(void)
{
    int widest = ck_packed_nr();
    if (!widest) {
        printf("test_gemm_packed: no packed kernel on this CPU; callers use cblas_sgemm\n");
        CHECK(ck_packed_floats(8, 8, widest) == 0, "no kernel, yet packed storage is offered");
        return test_report("test_gemm_packed");
    }
    static const int64_t shapes[][3] = {{1, 1, 1},   {5, 7, 3},     {6, 32, 16},  {7, 33, 17},   {49, 512, 600},
                                        {150, 70, 1100}, {300, 16, 9}, {13, 100, 513}, {2, 1000, 64}};
    for (int nr = widest; nr >= 16; nr /= 2)
        for (int threads = 1; threads <= 2; threads++) {
            ck_set_num_threads(threads);
            for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
                for (int b = 0; b < 2; b++) check_shape(nr, shapes[s][0], shapes[s][1], shapes[s][2], (float)b);
        }
    ck_set_num_threads(0);
    return test_report("test_gemm_packed");
}
