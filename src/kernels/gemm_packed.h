/*
 * C = A B + beta C with B packed ahead of time, for the inference products
 * whose B is a weight matrix that does not change between calls (convolution
 * and Dense kernels, an LSTM's recurrent kernel). cblas_sgemm repacks both
 * operands on every call; at batch 1 a deep convolution's weights are larger
 * than its activations and that packing was a quarter of ResNet50's time.
 * Packing B once into column panels (every k of NR columns contiguous) lets the
 * micro-kernel stream them, and A is read in place, row by row.
 *
 * Built for AVX-512 (NR = 32) and AVX2+FMA (NR = 16) and picked at run time;
 * on other CPUs ck_packed_nr() is 0 and callers keep cblas_sgemm. Products use
 * FMA, so they round like OpenBLAS's, not bit for bit as it does.
 */
#ifndef CK_GEMM_PACKED_H
#define CK_GEMM_PACKED_H

#include <stdbool.h>
#include <stdint.h>

/* Panel width of the widest kernel this CPU runs (32 or 16); 0: none. Every
 * call below takes the width `nr`: this value, or (tests) a narrower one the
 * CPU also runs. */
int ck_packed_nr(void);
/* Floats of a packed [K, N] matrix (N rounded up to whole panels). */
int64_t ck_packed_floats(int64_t K, int64_t N, int nr);
/* Bp = B [K, N] (row stride ldb) as panels [N / nr][K][nr], zero-padded; with
 * col_scale [N] (or NULL), column j multiplied by col_scale[j]. */
void ck_pack_b(const float *B, int64_t ldb, int64_t K, int64_t N, const float *col_scale, int nr, float *Bp);
/* The same for the transpose of Bt [N, K] (row stride ldbt): Bp packs the
 * [K, N] matrix whose (k, j) is Bt[j * ldbt + k] (a Dense layer's input
 * gradient dY W^T, with W [K_in, N_units] read as Bt). */
void ck_pack_bt(const float *Bt, int64_t ldbt, int64_t K, int64_t N, int nr, float *Bp);
/* C [M, N] (row stride ldc) = A [M, K] (row stride lda) Bp + beta C, beta 0 or
 * 1; with beta 0, bias [N] (if not NULL) is added, as the accumulators' start
 * (no pass of its own). Threads over blocks of C when the product is large
 * enough. */
void ck_gemm_packed(int nr, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const float *Bp,
                    float beta, const float *bias, float *C, int64_t ldc);
/* The same with A never built: row m of A [M, taps * C] is the taps rows
 * rows[m * taps + t], C floats each, one after the other (a convolution's
 * im2col row: one input pixel's channels per kernel tap, or a row of zeros
 * where the tap falls in the padding). C >= 8, or at most 64 taps (shorter
 * runs: a convolution's kernel rows on few channels). With relu, each result
 * is stored as max(0, result) (NaN as 0), so a relu convolution's output
 * needs no pass of its own. */
void ck_gemm_packed_rows(int nr, int64_t M, int64_t N, int64_t taps, int64_t C, const float *const *rows,
                         const float *Bp, float beta, const float *bias, bool relu, float *out, int64_t ldc);

#endif
