/* Packed-B GEMM (see gemm_packed.h). Loop order as in GotoBLAS, minus the
 * packing of A: for each KC-deep slice of K, blocks of MC rows of A (kept in L2)
 * meet every NR-wide panel of Bp; the micro-kernel holds an MR x NR tile of C
 * in registers (12 vector accumulators) and broadcasts one A value per row and
 * k. Each (row block, panel) task owns its tile of C, so tasks run on threads
 * without synchronisation within a slice. */
#include "kernels/gemm_packed.h"
#include "kernels/activations.h"

#include "core/core.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define MR 6
#define MC 144 /* rows of A per block: 144 x KC floats is 288 KB            */
#define KC 512 /* depth per slice: a panel slice is KC x NR floats, <= 64 KB  */
#define PAR_MIN (1 << 22) /* multiply-adds per slice below which one thread does it */
#define ROWS_MIN_C 8      /* runs of fewer floats: at most KC / 8 runs per row in all */

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_KERNELS 1

/* A tile's rows, spelled out: accumulators in named variables stay in
 * registers across the taps loop, where an array of them was spilled. Tiles of
 * 6 rows do the work; 4, 2 and 1 take a block's last rows, which a 6-row tile
 * would compute in vain (49 rows of a 7x7 layer: 5 of 54). */
#define ROWS1(X) X(0)
#define ROWS2(X) X(0) X(1)
#define ROWS4(X) X(0) X(1) X(2) X(3)
#define ROWS6(X) X(0) X(1) X(2) X(3) X(4) X(5)
#define DECLARE_ROW(r) V c##r##0 = s0, c##r##1 = s1; const float *a##r;
#define RUN_OF_ROW(r) a##r = a[r * taps + t];
#define FMA_ROW(r) v = SET1(a##r + k), c##r##0 = FMADD(v, b0, c##r##0), c##r##1 = FMADD(v, b1, c##r##1);
#define OUT_ROW(r) out[r][0] = c##r##0, out[r][1] = c##r##1;
/* c = start, then for each tap t and k < kc: c[r] += A(r, t, k) * panel row. */
#define TILE_BODY(W, ROWS, RN)                                                  \
    ROWS(DECLARE_ROW)                                                           \
    for (int64_t t = 0; t < taps; t++) {                                        \
        ROWS(RUN_OF_ROW)                                                        \
        for (int64_t k = 0; k < kc; k++, bp += W) {                             \
            V b0 = LOAD(bp), b1 = LOAD(bp + W / 2), v;                          \
            ROWS(FMA_ROW)                                                       \
        }                                                                       \
    }                                                                           \
    V out[RN][2];                                                               \
    ROWS(OUT_ROW)

/* C tile [RN, nw] (+)= A x panel [taps * kc, 32], where A's row r is the runs
 * a[r * taps + t] (kc floats each, t < taps) one after the other. Without
 * accumulate, the sums start from bias (or 0) instead of C. */
#define V __m512
#define SET1(p) _mm512_set1_ps(*(p))
#define FMADD _mm512_fmadd_ps
#define LOAD _mm512_loadu_ps
#define TILE_AVX512(name, ROWS, RN)                                                                              \
    __attribute__((target("avx512f"))) static void name(int64_t taps, int64_t kc, const float *const *a,          \
                                                        const float *bp, float *C, int64_t ldc, int64_t nw,      \
                                                        bool accumulate, const float *bias, bool relu)          \
    {                                                                                                            \
        __mmask16 m0 = nw >= 16 ? 0xffff : (__mmask16)((1u << nw) - 1);                                          \
        __mmask16 m1 = nw >= 32 ? 0xffff : nw > 16 ? (__mmask16)((1u << (nw - 16)) - 1) : 0;                     \
        V s0 = _mm512_setzero_ps(), s1 = s0;                                                                     \
        if (bias) s0 = _mm512_maskz_loadu_ps(m0, bias), s1 = _mm512_maskz_loadu_ps(m1, bias + 16);               \
        TILE_BODY(32, ROWS, RN)                                                                                  \
        for (int r = 0; r < RN; r++) {                                                                           \
            float *cr = C + r * ldc;                                                                             \
            V o0 = out[r][0], o1 = out[r][1];                                                                    \
            if (accumulate) {                                                                                    \
                o0 = _mm512_add_ps(o0, _mm512_maskz_loadu_ps(m0, cr));                                           \
                o1 = _mm512_add_ps(o1, _mm512_maskz_loadu_ps(m1, cr + 16));                                      \
            }                                                                                                    \
            if (relu) /* max returns its second operand for a NaN: NaN stays, as ck_relu */                      \
                o0 = _mm512_max_ps(_mm512_setzero_ps(), o0), o1 = _mm512_max_ps(_mm512_setzero_ps(), o1);        \
            _mm512_mask_storeu_ps(cr, m0, o0);                                                                   \
            _mm512_mask_storeu_ps(cr + 16, m1, o1);                                                              \
        }                                                                                                        \
    }
TILE_AVX512(tile_avx512_6, ROWS6, 6)
TILE_AVX512(tile_avx512_4, ROWS4, 4)
TILE_AVX512(tile_avx512_2, ROWS2, 2)
TILE_AVX512(tile_avx512_1, ROWS1, 1)
#undef V
#undef SET1
#undef FMADD
#undef LOAD

/* The same with 16-wide panels in AVX2 registers; a partial panel goes
 * through a scratch tile, AVX2 having no masked float stores this cheap. */
#define V __m256
#define SET1 _mm256_broadcast_ss
#define FMADD _mm256_fmadd_ps
#define LOAD _mm256_loadu_ps
#define TILE_AVX2(name, ROWS, RN)                                                                                \
    __attribute__((target("avx2,fma"))) static void name(int64_t taps, int64_t kc, const float *const *a,         \
                                                         const float *bp, float *C, int64_t ldc, int64_t nw,     \
                                                         bool accumulate, const float *bias, bool relu)         \
    {                                                                                                            \
        float start[16] = {0};                                                                                   \
        for (int64_t j = 0; bias && j < nw; j++) start[j] = bias[j];                                             \
        V s0 = _mm256_loadu_ps(start), s1 = _mm256_loadu_ps(start + 8);                                          \
        TILE_BODY(16, ROWS, RN)                                                                                  \
        for (int r = 0; r < RN; r++) {                                                                           \
            float *cr = C + r * ldc, t[16];                                                                      \
            _mm256_storeu_ps(t, out[r][0]);                                                                      \
            _mm256_storeu_ps(t + 8, out[r][1]);                                                                  \
            for (int64_t j = 0; j < nw; j++) {                                                                   \
                float v = accumulate ? cr[j] + t[j] : t[j];                                                      \
                cr[j] = relu ? ck_relu(v) : v;                                                                   \
            }                                                                                                    \
        }                                                                                                        \
    }
TILE_AVX2(tile_avx2_6, ROWS6, 6)
TILE_AVX2(tile_avx2_4, ROWS4, 4)
TILE_AVX2(tile_avx2_2, ROWS2, 2)
TILE_AVX2(tile_avx2_1, ROWS1, 1)
#undef V
#undef SET1
#undef FMADD
#undef LOAD
#else
#define HAVE_KERNELS 0
#endif

/* The widest kernel this CPU runs, narrowed by CKERAS_ISA ("avx512": the
 * default where the CPU has it; "avx2": the AVX2 kernels on an AVX-512 CPU;
 * "none": OpenBLAS alone), so that benchmarks can measure every path on one
 * machine. AVX-512 is the default: its tiles do the same work in half the
 * instructions, and on this project's AVX-512 machine (bench/README.md) it was
 * never slower than AVX2. */
static int widest_nr(void)
{
    const char *isa = getenv("CKERAS_ISA");
    int cap = !isa || !strcmp(isa, "avx512") ? 32 : !strcmp(isa, "avx2") ? 16 : !strcmp(isa, "none") ? 0 : 32;
#if HAVE_KERNELS
    if (cap >= 32 && __builtin_cpu_supports("avx512f")) return 32;
    if (cap >= 16 && __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return 16;
#endif
    return 0;
}

int ck_packed_nr(void)
{
    /* looked up once: the CPU and the environment's choice stay put, and
     * every product asks */
    static _Atomic int nr = -1;
    int v = atomic_load_explicit(&nr, memory_order_relaxed);
    if (v < 0) atomic_store_explicit(&nr, v = widest_nr(), memory_order_relaxed);
    return v;
}

int64_t ck_packed_floats(int64_t K, int64_t N, int nr)
{
    return nr > 0 ? K * ((N + nr - 1) / nr) * nr : 0;
}

void ck_pack_b(const float *B, int64_t ldb, int64_t K, int64_t N, const float *col_scale, int nr, float *Bp)
{
    if (nr <= 0) return;
    for (int64_t j0 = 0; j0 < N; j0 += nr) {
        int64_t w = N - j0 < nr ? N - j0 : nr;
        for (int64_t k = 0; k < K; k++, Bp += nr) {
            if (col_scale)
                for (int64_t j = 0; j < w; j++) Bp[j] = B[k * ldb + j0 + j] * col_scale[j0 + j];
            else memcpy(Bp, B + k * ldb + j0, (size_t)w * sizeof *Bp);
            if (w < nr) memset(Bp + w, 0, (size_t)(nr - w) * sizeof *Bp);
        }
    }
}

void ck_pack_bt(const float *Bt, int64_t ldbt, int64_t K, int64_t N, int nr, float *Bp)
{
    if (nr <= 0) return;
    enum { KB = 64 }; /* depth per pass: a panel's rows of Bt stay in L1 while their columns scatter */
    for (int64_t j0 = 0; j0 < N; j0 += nr, Bp += K * nr) {
        int64_t w = N - j0 < nr ? N - j0 : nr;
        for (int64_t k0 = 0; k0 < K; k0 += KB) {
            int64_t k1 = K - k0 < KB ? K : k0 + KB;
            for (int64_t j = 0; j < w; j++) {
                const float *src = Bt + (j0 + j) * ldbt;
                for (int64_t k = k0; k < k1; k++) Bp[k * nr + j] = src[k];
            }
            for (int64_t k = k0; w < nr && k < k1; k++) memset(Bp + k * nr + w, 0, (size_t)(nr - w) * sizeof *Bp);
        }
    }
}

#if HAVE_KERNELS
typedef void tile_fn(int64_t, int64_t, const float *const *, const float *, float *, int64_t, int64_t, bool,
                     const float *, bool);
/* The tile of each row count up to MR (index: rows), for each width. */
static tile_fn *const tiles512[MR + 1] = {NULL, tile_avx512_1, tile_avx512_2, NULL, tile_avx512_4, NULL, tile_avx512_6};
static tile_fn *const tiles256[MR + 1] = {NULL, tile_avx2_1, tile_avx2_2, NULL, tile_avx2_4, NULL, tile_avx2_6};

/* A as rows with a stride, or (rows != NULL) as taps runs of C floats per row
 * (ck_gemm_packed_rows). */
typedef struct a_rows {
    const float *A;
    int64_t lda;
    const float *const *rows;
    int64_t taps, C;
} a_rows;

/* Where row m's values for depth k0 start (k0 inside one run). */
static const float *row_at(const a_rows *a, int64_t m, int64_t k0)
{
    return a->rows ? a->rows[m * a->taps + k0 / a->C] + k0 % a->C : a->A + m * a->lda + k0;
}

/* The depth slice starting at k0: `taps` runs of kc floats, at most KC in all:
 * whole taps when a tap's C fits in KC, else one tap cut in KC pieces. */
static void slice_at(const a_rows *a, int64_t K, int64_t k0, int64_t *taps, int64_t *kc)
{
    if (!a->rows) *taps = 1, *kc = K - k0 < KC ? K - k0 : KC;
    else if (a->C > KC) *taps = 1, *kc = a->C - k0 % a->C < KC ? a->C - k0 % a->C : KC;
    else *kc = a->C, *taps = KC / a->C < a->taps - k0 / a->C ? KC / a->C : a->taps - k0 / a->C;
}

/* One depth slice [k0, k0 + taps * kc) of C's tiles, MC rows by one panel of
 * nr columns each, numbered block by block (ck_parallel_for over them). */
typedef struct slice_job {
    int nr;
    int64_t M, N, K, k0, taps, kc;
    const a_rows *a;
    const float *Bp, *start; /* start: bias to begin from (the first slice, beta 0) */
    bool accumulate, relu;   /* relu: the last slice, and relu wanted */
    float *C;
    int64_t ldc;
} slice_job;

static void slice_tiles(void *ctx, int64_t t0, int64_t t1)
{
    const slice_job *s = ctx;
    tile_fn *const *tiles = s->nr == 32 ? tiles512 : tiles256;
    int64_t nr = s->nr, panels = (s->N + nr - 1) / nr, taps = s->taps, kc = s->kc;
    for (int64_t t = t0; t < t1; t++) {
        int64_t m_end = (t / panels + 1) * MC < s->M ? (t / panels + 1) * MC : s->M, j = t % panels;
        int64_t nw = s->N - j * nr < nr ? s->N - j * nr : nr;
        const float *panel = s->Bp + (j * s->K + s->k0) * nr;
        for (int64_t m0 = t / panels * MC; m0 < m_end; m0 += MR) {
            int64_t mr = m_end - m0 < MR ? m_end - m0 : MR;
            const float *runs[MR * (KC / ROWS_MIN_C)];
            for (int r = 0; r < mr; r++)
                for (int64_t u = 0; u < taps; u++) runs[r * taps + u] = row_at(s->a, m0 + r, s->k0 + u * kc);
            for (int64_t r0 = 0, rows; r0 < mr; r0 += rows) { /* 6, or the last rows as 4 + 2 + 1 */
                rows = mr - r0 >= 6 ? 6 : mr - r0 >= 4 ? 4 : mr - r0 >= 2 ? 2 : 1;
                tiles[rows](taps, kc, runs + r0 * taps, panel, s->C + (m0 + r0) * s->ldc + j * nr, s->ldc, nw,
                            s->accumulate, s->start ? s->start + j * nr : NULL, s->relu);
            }
        }
    }
}

static void run(int nr, int64_t M, int64_t N, int64_t K, const a_rows *a, const float *Bp, float beta,
                const float *bias, bool relu, float *C, int64_t ldc)
{
    int64_t panels = (N + nr - 1) / nr, blocks = (M + MC - 1) / MC;
    for (int64_t k0 = 0; k0 < K;) {
        int64_t taps, kc;
        slice_at(a, K, k0, &taps, &kc);
        bool accumulate = k0 > 0 || beta != 0.0f, last = k0 + taps * kc >= K;
        slice_job job = {nr, M, N, K, k0, taps, kc, a, Bp, accumulate ? NULL : bias, accumulate, relu && last, C, ldc};
        int threads = blocks * panels > 1 ? ck_team_size(M * N * taps * kc, PAR_MIN) : 1;
        ck_parallel_for(threads, blocks * panels, slice_tiles, &job);
        k0 += taps * kc;
    }
    if (K <= 0) /* no slices ran: C = beta C (+ bias), relu'd */
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) {
                float v = (beta == 0.0f ? 0.0f : C[i * ldc + j]) + (bias && beta == 0.0f ? bias[j] : 0.0f);
                C[i * ldc + j] = relu ? ck_relu(v) : v;
            }
}
#endif

void ck_gemm_packed(int nr, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const float *Bp,
                    float beta, const float *bias, float *C, int64_t ldc)
{
#if HAVE_KERNELS
    if ((nr != 32 && nr != 16) || M <= 0 || N <= 0) return;
    a_rows a = {.A = A, .lda = lda};
    run(nr, M, N, K, &a, Bp, beta, bias, false, C, ldc);
#else
    (void)nr, (void)M, (void)N, (void)K, (void)A, (void)lda, (void)Bp, (void)beta, (void)bias, (void)C, (void)ldc;
#endif
}

void ck_gemm_packed_rows(int nr, int64_t M, int64_t N, int64_t taps, int64_t C, const float *const *rows,
                         const float *Bp, float beta, const float *bias, bool relu, float *out, int64_t ldc)
{
#if HAVE_KERNELS
    if ((nr != 32 && nr != 16) || M <= 0 || N <= 0 || C < 1 || (C < ROWS_MIN_C && taps > KC / ROWS_MIN_C)) return;
    a_rows a = {.rows = rows, .taps = taps, .C = C};
    run(nr, M, N, taps * C, &a, Bp, beta, bias, relu, out, ldc);
#else
    (void)nr, (void)M, (void)N, (void)taps, (void)C, (void)rows, (void)Bp, (void)beta, (void)bias, (void)relu,
        (void)out, (void)ldc;
#endif
}
