/*
 * Hot loops of the engine that know nothing about layers: GEMM through OpenBLAS
 * (with a plain loop for tiny products, where the BLAS call overhead would
 * dominate single-sample latency), bias and activation passes, reductions,
 * axis permutation and numpy-style broadcasting over row-major float arrays.
 */
#ifndef CK_TENSOR_OPS_H
#define CK_TENSOR_OPS_H

#include "kernels/activations.h"

/* The library builds for baseline x86-64 so that it runs on any such CPU; hot
 * element-wise loops marked CK_SIMD_CLONES are also built for AVX2+FMA and
 * AVX-512 and the loader picks the widest the CPU has (GCC's ifunc clones). The
 * build is ISO C, so no FMA contraction: every clone rounds as the baseline. */
/* ThreadSanitizer instruments the ifunc resolvers, which the loader runs before
 * TSan is set up: its builds go without clones. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_THREAD__)
#define CK_SIMD_CLONES __attribute__((target_clones("avx512f", "arch=x86-64-v3", "default")))
#else
#define CK_SIMD_CLONES
#endif

/* CK_IVDEP, before a loop whose iterations touch disjoint data through several
 * runs of one pointer at run-time offsets: GCC would otherwise want a run-time
 * overlap check per pair of runs, give up past ten pairs and leave the loop
 * scalar. CK_UNROLL, before a short constant loop inside such a loop: unrolled
 * first, so the outer loop can be vectorized (GCC leaves a 6 x 6 nest rolled
 * otherwise). */
#if defined(__GNUC__) && !defined(__clang__)
#define CK_IVDEP _Pragma("GCC ivdep")
#define CK_UNROLL _Pragma("GCC unroll 6")
#else
#define CK_IVDEP
#define CK_UNROLL
#endif

/* C = alpha * op(A) op(B) + beta * C, row-major; op(A) is [M, K], op(B) [K, N]. */
void ck_sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
              const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C, int64_t ldc);
/* Products with a weight B [K, N]: whether packing B (ck_exec_packed) pays: a
 * packed kernel on this CPU, rows enough to fill its 6-row tiles, and past the
 * plain loop's size. */
bool ck_weight_gemm_packs(int64_t M, int64_t N, int64_t K);
/* C = A B + beta C (beta 0 or 1) for a weight B (row stride ldb), through Bp,
 * B packed by ck_exec_packed, when not NULL, else ck_sgemm; then, if bias is
 * not NULL (beta 0 only), C += bias on every row (the packed kernel starts
 * from it). */
void ck_weight_gemm(int64_t M, int64_t N, int64_t K, const float *A, int64_t lda, const float *B, int64_t ldb,
                    const float *Bp, float beta, const float *bias, float *C, int64_t ldc);
/* Training products C = op(A) op(B) + beta C (alpha 1, beta 0 or 1; not both
 * transposed) through the packed tiles (gemm_packed.h) instead of cblas, with
 * op(B) packed and a transposed A copied into `work` on every call, since
 * training changes the weights every step. ck_sgemm_packs says whether that
 * is faster for this shape on this CPU (bench/README.md, "Dense training
 * through the packed tiles"); ck_sgemm_packed_floats how many floats `work`
 * must hold (0 when the CPU has no packed kernel). */
bool ck_sgemm_packs(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K);
int64_t ck_sgemm_packed_floats(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K);
void ck_sgemm_packed(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, const float *A, int64_t lda,
                     const float *B, int64_t ldb, float beta, float *C, int64_t ldc, float *work);
/* y = act(z + bias) over [rows, cols]; bias may be NULL; z may equal y (linear only
 * then needs no copy). z receives z + bias so backward can read the pre-activation. */
void ck_bias_act(float *z, const float *bias, float *y, int64_t rows, int64_t cols, ck_act_kind act);
/* The same as a half layer computes it (mixed_float16, bfloat16, ...): XLA
 * rounds the result of every operation to the half type, so the product z,
 * the sum z + bias and each operation of the activation are rounded in turn
 * (keras/src/layers/core/dense.py: matmul, then add, then activation), all
 * but the last: the engine rounds a half step's output itself, and float32
 * readers see it unrounded (engine/exec.c). */
void ck_bias_act_half(ck_half half, float *z, const float *bias, float *y, int64_t rows, int64_t cols,
                      ck_act_kind act);
/* dst[c] += sum over rows of src[r, c] (dst not inside src). */
void ck_sum_rows_acc(float *restrict dst, const float *restrict src, int64_t rows, int64_t cols);
/* dst += src; dst -= src; dst += a * src. */
void ck_vec_add(float *dst, const float *src, int64_t n);
void ck_vec_axpy(float *dst, float a, const float *src, int64_t n);
/* An L1/L2 penalty l1 * sum|v| + l2 * sum(v^2) (weight and activity
 * regularizers), and its gradient times scale added to g. */
double ck_l1l2_penalty(const float *v, int64_t n, float l1, float l2);
void ck_l1l2_penalty_grad(const float *v, float *g, int64_t n, float l1, float l2, float scale);

/* Permutation of the axes of one [dims...] array (rank <= CK_MAX_RANK):
 * out has dims[perm[i]] at axis i. With `inverse`, scatters back and accumulates:
 * in[...] += out[...] (the backward of the forward call with the same arguments). */
void ck_permute(float *in, const int64_t *dims, int rank, const int *perm, float *out, bool inverse);

/* `count` matrices [rows, cols] at in, each transposed to [cols, rows] at out
 * (with `add`: added to out), in tiles that stay in L1: what moving a
 * channel axis costs (channels_first layers, engine/exec.c). */
void ck_transpose_batched(const float *in, int64_t count, int64_t rows, int64_t cols, float *out, bool add);

/* Broadcasting of one input of shape in_dims (rank r_in) to out_dims (rank r_out,
 * right-aligned, as numpy): strides of the input per output axis, 0 where it
 * broadcasts. */
void ck_bcast_strides(const int64_t *in_dims, int r_in, const int64_t *out_dims, int r_out, int64_t *strides);
/* Offset into the input of output element `j` under those strides. */
static inline int64_t ck_bcast_offset(int64_t j, const int64_t *out_dims, int rank, const int64_t *strides)
{
    int64_t off = 0;
    for (int a = rank - 1; a >= 0; a--) {
        int64_t d = out_dims[a];
        off += (j % d) * strides[a];
        j /= d;
    }
    return off;
}

#endif
