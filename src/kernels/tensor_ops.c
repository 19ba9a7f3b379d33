/* The engine's loops over float arrays: GEMM glue, bias/activation, reductions,
 * permutations and broadcasting. OpenMP only where a loop is large enough to pay
 * for the threads; results do not depend on the thread count (no reductions are
 * split across threads). */
#include "kernels/tensor_ops.h"

#include "kernels/gemm_packed.h"

#include <cblas.h>
#include <math.h>
#include <string.h>
#include <strings.h>

/* Below this many multiply-adds a plain loop beats the BLAS call overhead. */
#define SMALL_GEMM 2048
/* From this many multiply-adds a product is split over the OpenMP threads. */
#define SPLIT_GEMM (1 << 22)

static void gemm_small(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                       const float *B, int64_t ldb, float beta, float *C, int64_t ldc)
{
    for (int64_t i = 0; i < M; i++)
        for (int64_t j = 0; j < N; j++) {
            float s = 0.0f;
            for (int64_t k = 0; k < K; k++)
                s += (ta ? A[k * lda + i] : A[i * lda + k]) * (tb ? B[j * ldb + k] : B[k * ldb + j]);
            C[i * ldc + j] = alpha * s + (beta == 0.0f ? 0.0f : beta * C[i * ldc + j]);
        }
}

/* OpenBLAS maps a 128 MiB buffer (BUFFER_SIZE, 32 << 22 on x86-64) for a
 * product and, when that mmap fails, tries again for ever (blas_memory_alloc
 * in its driver/others/memory.c): under an address-space limit with no room
 * for one buffer per thread of the product, the loops below do it instead,
 * slower but ending. (OpenBLAS keeps the buffers it mapped, so this errs on
 * the side of the loops.) */
#define BLAS_BUFFER ((size_t)136 << 20)

static bool blas_has_room(int threads)
{
    return ck_address_room((size_t)threads * BLAS_BUFFER);
}

/* C = alpha op(A) op(B) + beta C row by row: a row of C gathers rows of B
 * (B not transposed) or dot products with them (B transposed). */
static void gemm_rows(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                      const float *B, int64_t ldb, float beta, float *C, int64_t ldc)
{
    for (int64_t i = 0; i < M; i++) {
        float *c = C + i * ldc;
        for (int64_t j = 0; j < N; j++) c[j] = beta == 0.0f ? 0.0f : beta * c[j];
        for (int64_t k = 0; k < K; k++) {
            float a = alpha * (ta ? A[k * lda + i] : A[i * lda + k]);
            if (tb)
                for (int64_t j = 0; j < N; j++) c[j] += a * B[j * ldb + k];
            else
                for (int64_t j = 0; j < N; j++) c[j] += a * B[k * ldb + j];
        }
    }
}

/* ck_sgemm split into parts of C, `part` rows (by_rows) or columns each. */
typedef struct sgemm_job {
    bool ta, tb, by_rows;
    int64_t M, N, K, part;
    float alpha;
    const float *A;
    int64_t lda;
    const float *B;
    int64_t ldb;
    float beta;
    float *C;
    int64_t ldc;
} sgemm_job;

static void sgemm_part(void *ctx, int64_t p0, int64_t p1)
{
    const sgemm_job *j = ctx;
    int64_t len = j->by_rows ? j->M : j->N;
    for (int64_t p = p0; p < p1; p++) {
        int64_t a = p * j->part, n = len - a < j->part ? len - a : j->part;
        if (n <= 0) continue;
        const float *At = j->by_rows ? (j->ta ? j->A + a : j->A + a * j->lda) : j->A;
        const float *Bt = j->by_rows ? j->B : (j->tb ? j->B + a * j->ldb : j->B + a);
        float *Ct = j->by_rows ? j->C + a * j->ldc : j->C + a;
        cblas_sgemm(CblasRowMajor, j->ta ? CblasTrans : CblasNoTrans, j->tb ? CblasTrans : CblasNoTrans,
                    (int)(j->by_rows ? n : j->M), (int)(j->by_rows ? j->N : n), (int)j->K, j->alpha, At, (int)j->lda,
                    Bt, (int)j->ldb, j->beta, Ct, (int)j->ldc);
    }
}

void ck_sgemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
              const float *B, int64_t ldb, float beta, float *C, int64_t ldc)
{
    if (M <= 0 || N <= 0) return;
    if (K <= 0) {
        for (int64_t i = 0; i < M; i++)
            for (int64_t j = 0; j < N; j++) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
        return;
    }
    if (M * N * K <= SMALL_GEMM) {
        gemm_small(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    /* OpenBLAS's gemv takes its buffer from the stack up to 512 floats (rows
     * + columns + 32, MAX_STACK_ALLOC 2048 bytes): only a larger one maps */
    bool gemv_on_stack = M == 1 && N + K + 32 <= 512;
    /* Called from a team (a convolution's blocks), every member may be about
     * to map a buffer at once: room for all of them, or one checks room for
     * one, its partner takes it, and OpenBLAS retries its mmap for ever. */
    if (!gemv_on_stack && !blas_has_room(ck_team_threads_now())) {
        gemm_rows(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return;
    }
    if (M == 1) { /* one row (batch-1 predict): GEMV, which OpenBLAS's sgemm does not forward to */
        cblas_sgemv(CblasRowMajor, tb ? CblasNoTrans : CblasTrans, tb ? (int)N : (int)K, tb ? (int)K : (int)N,
                    alpha, B, (int)ldb, A, ta ? (int)lda : 1, beta, C, 1);
        return;
    }
    /* OpenBLAS runs single-threaded (ck_set_num_threads): the threads split C,
     * one call each, along the dimension whose other operand is smaller, since
     * every call packs that other operand again (by rows: all of B). */
    bool by_rows = N < M;
    int threads = ck_team_size(M * N * K, SPLIT_GEMM);
    if (threads > 1 && !blas_has_room(threads)) threads = 1;
    if (threads < 2 || (by_rows ? M : N) < 16 * threads) {
        cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, (int)M, (int)N,
                    (int)K, alpha, A, (int)lda, B, (int)ldb, beta, C, (int)ldc);
        return;
    }
    sgemm_job job = {ta, tb, by_rows, M, N, K, ((by_rows ? M : N) + threads - 1) / threads, alpha, A, lda, B, ldb,
                     beta, C, ldc};
    ck_parallel_for(threads, threads, sgemm_part, &job);
}

bool ck_weight_gemm_packs(int64_t M, int64_t N, int64_t K)
{
    return M >= 4 && M * N * K > SMALL_GEMM && ck_packed_nr() > 0;
}

void ck_weight_gemm(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const float *B, int64_t ldb,
                    const float *Bp, float beta, const float *bias, float *C, int64_t ldc)
{
    if (Bp) {
        ck_gemm_packed(ck_packed_nr(), M, N, K, A, lda, Bp, beta, bias, C, ldc);
        return;
    }
    ck_sgemm(false, false, M, N, K, 1.0f, A, lda, B, ldb, beta, C, ldc);
    for (int64_t r = 0; bias && r < M; r++) ck_vec_add(C + r * ldc, bias, N);
}

/* Whether OpenBLAS runs AVX-512 kernels of its own on this CPU (its Intel
 * cores; on AMD's AVX-512 cores 0.3.21 picks its Zen or Haswell kernels). */
static bool blas_runs_avx512(void)
{
    static const char *const cores[] = {"SkylakeX", "Cooperlake", "SapphireRapids"};
    const char *core = openblas_get_corename();
    for (size_t i = 0; core && i < sizeof cores / sizeof cores[0]; i++)
        if (!strcasecmp(core, cores[i])) return true;
    return false;
}

bool ck_sgemm_packs(bool ta, bool tb, int64_t M, int64_t N, int64_t K)
{
    int nr = ck_packed_nr();
    if (nr == 0 || (ta && tb) || M < 4 || M * N * K <= SMALL_GEMM) return false;
    /* AVX2 tiles (16 wide) against OpenBLAS's Haswell kernels on an AVX2-only
     * Zen (bench/README.md): ties or losses at 0.65-0.95x for every MLP shape
     * but the products into few columns (a 10-unit output layer's forward:
     * 1.1-1.3x from 64 rows; 0.92x at 32), where OpenBLAS's 24-column
     * blocking is mostly padding. The weight gradient pays a transpose of X
     * besides and lost at every shape. */
    if (nr < 32) return !ta && !tb && N < 2 * nr && M >= 64;
    /* AVX-512 tiles do twice the AVX2 tiles' work per instruction (inference
     * on the Zen 5 of bench/README.md: 2x at the same shapes) while OpenBLAS
     * stays on its AVX2 kernels there, so the products the AVX2 tiles ran at
     * 0.7-0.95x of OpenBLAS should gain; not measured on AVX-512 yet. Left to
     * cblas: shallow products (a 10-unit layer's input gradient: depth 10),
     * which spend more on loading C than multiplying, and weight gradients
     * into fewer than 4 panels, whose transpose of X (M K moves) is then too
     * large a share (AVX2: half of the packed time at 10 units). Where
     * OpenBLAS has AVX-512 kernels of its own, it keeps every product (not
     * measured either: no such CPU here). */
    return K >= 32 && (!ta || N >= 4 * nr) && !blas_runs_avx512();
}

int64_t ck_sgemm_packed_floats(bool ta, bool tb, int64_t M, int64_t N, int64_t K)
{
    (void)tb;
    int nr = ck_packed_nr();
    return nr ? ck_packed_floats(K, N, nr) + (ta ? M * K : 0) : 0;
}

/* at [M, K] = the transpose of a [K, M] (row stride lda), 16 rows of a at a
 * time: they are read along (16 streams) while each row of at gets one whole
 * cache line. Square tiles read down columns instead, and with a
 * power-of-two lda (512 units) those rows all fall in the same L1 sets: 5x
 * slower. */
static void transpose_into(const float *a, int64_t lda, int64_t K, int64_t M, float *at)
{
    enum { R = 16 };
    for (int64_t k0 = 0; k0 < K; k0 += R) {
        int64_t r = K - k0 < R ? K - k0 : R;
        const float *src = a + k0 * lda;
        for (int64_t m = 0; m < M; m++) {
            float *dst = at + m * K + k0;
            for (int64_t j = 0; j < r; j++) dst[j] = src[j * lda + m];
        }
    }
}

void ck_sgemm_packed(bool ta, bool tb, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                     const float *B, int64_t ldb, float beta, float *C, int64_t ldc, float *work)
{
    int nr = ck_packed_nr();
    float *bp = work;
    if (tb) ck_pack_bt(B, ldb, K, N, nr, bp);
    else ck_pack_b(B, ldb, K, N, NULL, nr, bp);
    if (ta) {
        float *at = work + ck_packed_floats(K, N, nr);
        transpose_into(A, lda, K, M, at);
        A = at, lda = K;
    }
    ck_gemm_packed(nr, M, N, K, A, lda, bp, beta, NULL, C, ldc);
}

void ck_bias_act(float *z, const float *bias, float *y, int64_t rows, int64_t cols, ck_act_kind act)
{
    if (bias)
        for (int64_t r = 0; r < rows; r++) {
            float *zr = z + r * cols;
            for (int64_t c = 0; c < cols; c++) zr[c] += bias[c];
        }
    if (act != CK_ACT_LINEAR || z != y) ck_act_forward(act, z, y, rows, cols);
}

void ck_bias_act_half(ck_half half, float *z, const float *bias, float *y, int64_t rows, int64_t cols,
                      ck_act_kind act)
{
    int64_t n = rows * cols;
    /* the last operation's result stays unrounded: the engine rounds the
     * step's output, keeping it so for float32 readers (engine/exec.c) */
    if (bias || act != CK_ACT_LINEAR) ck_round_half(half, z, z, n);
    if (bias) {
        for (int64_t r = 0; r < rows; r++) {
            float *zr = z + r * cols;
            for (int64_t c = 0; c < cols; c++) zr[c] += bias[c];
        }
        if (act != CK_ACT_LINEAR) ck_round_half(half, z, z, n);
    }
    if (act != CK_ACT_LINEAR || z != y) ck_act_forward_half_to_f32(act, half, z, y, rows, cols);
}

/* Four rows per pass over dst: one load and store of dst per four rows, where
 * a row at a time made every add wait on the previous row's store. Static
 * behind ck_sum_rows_acc: GCC gives a global target_clones function's resolver
 * default visibility whatever -fvisibility says, so libckeras.so would export it. */
CK_SIMD_CLONES static void sum_rows_acc(float *restrict dst, const float *restrict src, int64_t rows, int64_t cols)
{
    int64_t r = 0;
    for (; r + 4 <= rows; r += 4) {
        const float *s = src + r * cols;
        for (int64_t c = 0; c < cols; c++) dst[c] += (s[c] + s[cols + c]) + (s[2 * cols + c] + s[3 * cols + c]);
    }
    for (; r < rows; r++)
        for (int64_t c = 0; c < cols; c++) dst[c] += src[r * cols + c];
}

void ck_sum_rows_acc(float *restrict dst, const float *restrict src, int64_t rows, int64_t cols)
{
    sum_rows_acc(dst, src, rows, cols);
}

void ck_vec_add(float *dst, const float *src, int64_t n)
{
    for (int64_t i = 0; i < n; i++) dst[i] += src[i];
}

void ck_vec_axpy(float *dst, float a, const float *src, int64_t n)
{
    for (int64_t i = 0; i < n; i++) dst[i] += a * src[i];
}

double ck_l1l2_penalty(const float *v, int64_t n, float l1, float l2)
{
    double a = 0, s = 0;
    for (int64_t i = 0; i < n; i++) a += fabsf(v[i]), s += (double)v[i] * v[i];
    return (double)l1 * a + (double)l2 * s;
}

/* d|v|/dv is +1 at v == 0, as JAX differentiates abs (zero-initialised biases
 * under an L1 penalty move on the first step, exactly as in Keras on JAX). */
void ck_l1l2_penalty_grad(const float *v, float *g, int64_t n, float l1, float l2, float scale)
{
    const float a = l1 * scale, b = 2.0f * l2 * scale;
    for (int64_t i = 0; i < n; i++) g[i] += (v[i] >= 0 ? a : -a) + b * v[i];
}

void ck_permute(float *in, const int64_t *dims, int rank, const int *perm, float *out, bool inverse)
{
    int64_t in_strides[CK_MAX_RANK], out_dims[CK_MAX_RANK], st[CK_MAX_RANK], n = 1;
    for (int a = rank - 1; a >= 0; a--) {
        in_strides[a] = n;
        n *= dims[a];
    }
    for (int a = 0; a < rank; a++) {
        out_dims[a] = dims[perm[a]];
        st[a] = in_strides[perm[a]];
    }
    int64_t idx[CK_MAX_RANK] = {0}, off = 0;
    for (int64_t j = 0; j < n; j++) {
        if (inverse) in[off] += out[j];
        else out[j] = in[off];
        /* Odometer over the output's axes, tracking the input offset. */
        for (int a = rank - 1; a >= 0; a--) {
            off += st[a];
            if (++idx[a] < out_dims[a]) break;
            off -= st[a] * out_dims[a];
            idx[a] = 0;
        }
    }
}

#define TRANSPOSE_TILE 32

void ck_transpose_batched(const float *in, int64_t count, int64_t rows, int64_t cols, float *out, bool add)
{
    int64_t row_tiles = (rows + TRANSPOSE_TILE - 1) / TRANSPOSE_TILE;
    int threads = ck_team_size(count * rows * cols, 1 << 16);
#pragma omp parallel for schedule(static) num_threads(threads) if (threads > 1)
    for (int64_t t = 0; t < count * row_tiles; t++) {
        int64_t m = t / row_tiles, r0 = t % row_tiles * TRANSPOSE_TILE;
        int64_t r1 = r0 + TRANSPOSE_TILE < rows ? r0 + TRANSPOSE_TILE : rows;
        const float *a = in + m * rows * cols;
        float *b = out + m * rows * cols;
        for (int64_t c0 = 0; c0 < cols; c0 += TRANSPOSE_TILE) {
            int64_t c1 = c0 + TRANSPOSE_TILE < cols ? c0 + TRANSPOSE_TILE : cols;
            for (int64_t c = c0; c < c1; c++)
                for (int64_t r = r0; r < r1; r++) {
                    if (add) b[c * rows + r] += a[r * cols + c];
                    else b[c * rows + r] = a[r * cols + c];
                }
        }
    }
}

void ck_bcast_strides(const int64_t *in_dims, int r_in, const int64_t *out_dims, int r_out, int64_t *strides)
{
    int64_t s = 1;
    for (int a = r_out - 1; a >= 0; a--) {
        int ai = a - (r_out - r_in);
        int64_t d = ai >= 0 ? in_dims[ai] : 1;
        strides[a] = (d == 1 && out_dims[a] != 1) ? 0 : s;
        s *= d;
    }
}
