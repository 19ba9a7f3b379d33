/* Packed-B GEMM (see gemm_packed.h). Loop order as in GotoBLAS, minus the
 * packing of A: for each KC-deep slice of K, blocks of MC rows of A (kept in L2)
 * meet every NR-wide panel of Bp; the micro-kernel holds an MR x NR tile of C
 * in registers (12 vector accumulators) and broadcasts one A value per row and
 * k. Each (row block, panel) task owns its tile of C, so tasks run on threads
 * without synchronisation within a slice. */
#include "kernels/gemm_packed.h"

#include <string.h>

#define MR 6
#define MC 144 /* rows of A per block: 144 x KC floats is 288 KB            */
#define KC 512 /* depth per slice: a panel slice is KC x NR floats, <= 64 KB  */
#define PAR_MIN (1 << 21) /* multiply-adds per slice below which one thread does it */

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_KERNELS 1

/* C tile [mr, nw] (+)= A rows [mr, kc] x panel [kc, 32]. */
__attribute__((target("avx512f"))) static void tile_avx512(int64_t mr, int64_t kc, const float *A, int64_t lda,
                                                           const float *bp, float *C, int64_t ldc, int64_t nw,
                                                           bool accumulate)
{
    __m512 c[MR][2];
    const float *a[MR];
    for (int r = 0; r < MR; r++) {
        c[r][0] = c[r][1] = _mm512_setzero_ps();
        a[r] = A + (r < mr ? r : 0) * lda; /* spare rows recompute row 0, never stored */
    }
    for (int64_t k = 0; k < kc; k++, bp += 32) {
        __m512 b0 = _mm512_loadu_ps(bp), b1 = _mm512_loadu_ps(bp + 16);
#pragma GCC unroll 6
        for (int r = 0; r < MR; r++) {
            __m512 v = _mm512_set1_ps(a[r][k]);
            c[r][0] = _mm512_fmadd_ps(v, b0, c[r][0]);
            c[r][1] = _mm512_fmadd_ps(v, b1, c[r][1]);
        }
    }
    __mmask16 m0 = nw >= 16 ? 0xffff : (__mmask16)((1u << nw) - 1);
    __mmask16 m1 = nw >= 32 ? 0xffff : nw > 16 ? (__mmask16)((1u << (nw - 16)) - 1) : 0;
    for (int r = 0; r < mr; r++) {
        float *cr = C + r * ldc;
        __m512 o0 = c[r][0], o1 = c[r][1];
        if (accumulate) {
            o0 = _mm512_add_ps(o0, _mm512_maskz_loadu_ps(m0, cr));
            o1 = _mm512_add_ps(o1, _mm512_maskz_loadu_ps(m1, cr + 16));
        }
        _mm512_mask_storeu_ps(cr, m0, o0);
        _mm512_mask_storeu_ps(cr + 16, m1, o1);
    }
}

/* The same with 16-wide panels in AVX2 registers; a partial panel goes
 * through a scratch tile, AVX2 having no masked float stores this cheap. */
__attribute__((target("avx2,fma"))) static void tile_avx2(int64_t mr, int64_t kc, const float *A, int64_t lda,
                                                          const float *bp, float *C, int64_t ldc, int64_t nw,
                                                          bool accumulate)
{
    __m256 c[MR][2];
    const float *a[MR];
    for (int r = 0; r < MR; r++) {
        c[r][0] = c[r][1] = _mm256_setzero_ps();
        a[r] = A + (r < mr ? r : 0) * lda;
    }
    for (int64_t k = 0; k < kc; k++, bp += 16) {
        __m256 b0 = _mm256_loadu_ps(bp), b1 = _mm256_loadu_ps(bp + 8);
#pragma GCC unroll 6
        for (int r = 0; r < MR; r++) {
            __m256 v = _mm256_broadcast_ss(&a[r][k]);
            c[r][0] = _mm256_fmadd_ps(v, b0, c[r][0]);
            c[r][1] = _mm256_fmadd_ps(v, b1, c[r][1]);
        }
    }
    for (int r = 0; r < mr; r++) {
        float *cr = C + r * ldc, t[16];
        _mm256_storeu_ps(t, c[r][0]);
        _mm256_storeu_ps(t + 8, c[r][1]);
        for (int64_t j = 0; j < nw; j++) cr[j] = accumulate ? cr[j] + t[j] : t[j];
    }
}
#else
#define HAVE_KERNELS 0
#endif

int ck_packed_nr(void)
{
#if HAVE_KERNELS
    if (__builtin_cpu_supports("avx512f")) return 32;
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 16;
#endif
    return 0;
}

int64_t ck_packed_floats(int64_t K, int64_t N, int nr)
{
    return nr > 0 ? K * ((N + nr - 1) / nr) * nr : 0;
}

void ck_pack_b(const float *B, int64_t ldb, int64_t K, int64_t N, int nr, float *Bp)
{
    if (nr <= 0) return;
    for (int64_t j0 = 0; j0 < N; j0 += nr) {
        int64_t w = N - j0 < nr ? N - j0 : nr;
        for (int64_t k = 0; k < K; k++, Bp += nr) {
            memcpy(Bp, B + k * ldb + j0, (size_t)w * sizeof *Bp);
            if (w < nr) memset(Bp + w, 0, (size_t)(nr - w) * sizeof *Bp);
        }
    }
}

void ck_gemm_packed(int nr, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const float *Bp,
                    float beta, float *C, int64_t ldc)
{
#if HAVE_KERNELS
    if ((nr != 32 && nr != 16) || M <= 0 || N <= 0) return;
    void (*tile)(int64_t, int64_t, const float *, int64_t, const float *, float *, int64_t, int64_t, bool) =
        nr == 32 ? tile_avx512 : tile_avx2;
    int64_t panels = (N + nr - 1) / nr, blocks = (M + MC - 1) / MC;
    for (int64_t k0 = 0; k0 < K; k0 += KC) {
        int64_t kc = K - k0 < KC ? K - k0 : KC;
        bool accumulate = k0 > 0 || beta != 0.0f;
#pragma omp parallel for schedule(static) if (blocks * panels > 1 && M * N * kc >= PAR_MIN)
        for (int64_t t = 0; t < blocks * panels; t++) {
            int64_t m_end = (t / panels + 1) * MC < M ? (t / panels + 1) * MC : M, j = t % panels;
            int64_t nw = N - j * nr < nr ? N - j * nr : nr;
            const float *panel = Bp + (j * K + k0) * nr;
            for (int64_t m0 = t / panels * MC; m0 < m_end; m0 += MR)
                tile(m_end - m0 < MR ? m_end - m0 : MR, kc, A + m0 * lda + k0, lda, panel, C + m0 * ldc + j * nr, ldc,
                     nw, accumulate);
        }
    }
    if (K <= 0) /* no slices ran: C = beta C */
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) C[i * ldc + j] = beta == 0.0f ? 0.0f : C[i * ldc + j];
#else
    (void)nr, (void)M, (void)N, (void)K, (void)A, (void)lda, (void)Bp, (void)beta, (void)C, (void)ldc;
#endif
}
