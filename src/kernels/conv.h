/* Convolution kernels on channels-last tensors, any spatial rank 1..3 (lower
 * ranks are the 3-D case with leading extents of 1), forward and backward:
 * im2col + one GEMM per chunk of samples for dense and grouped convolution
 * (weight gradients as col^T @ dy, or from im2col transposed when the kernel
 * has few taps x channels; input gradients as dy @ W^T scattered back by
 * col2im), the same with the roles of gather and scatter exchanged for the
 * transposed convolution, and direct loops for depthwise. With a packed kernel
 * (gemm_packed.h) the forward pass builds no im2col rows: the micro-kernel
 * reads each tap's pixel, or each kernel row on few channels, in place. 3x3
 * stride-1 layers are run by kernels/winograd.c instead (its callers choose).
 * The caller owns the scratch (`col`), so a training step allocates nothing.
 * Threads: the GEMMs, which are nearly all the work, split over the OpenMP
 * threads (ck_sgemm, ck_gemm_packed); the gathers and scatters between them
 * stay serial. The depthwise loops, with no GEMM, thread over samples. Knows
 * nothing about layers. */
#ifndef CK_KERNELS_CONV_H
#define CK_KERNELS_CONV_H

#include "kernels/activations.h"

#include <stdbool.h>
#include <stdint.h>

/* Floats of im2col scratch (and of output rows per pointwise GEMM) per chunk:
 * 1 MB, this CPU's L2, so a chunk's gathered rows are still in cache when the
 * product reads them, and its output rows when the epilogue runs. */
#define CK_CONV_CHUNK_FLOATS ((int64_t)1 << 18)

typedef struct ck_conv_geom {
    int64_t batch;
    int64_t in[3], out[3];      /* spatial extents, padded to 3 with leading 1s */
    int64_t k[3], s[3], d[3];   /* kernel, stride, dilation                     */
    int64_t pad[3];             /* padding before (TensorFlow split)            */
    int64_t cin, cout;          /* channels                                     */
    int64_t groups;             /* dense conv; cin/groups channels per group    */
    int64_t mult;               /* depthwise multiplier                         */
    /* The input holds NaN or an infinity: no Winograd, whose transforms would
     * spread it over whole tiles where Keras's direct convolution keeps it to
     * the outputs that read it (inf - inf, 0 * inf). */
    bool nonfinite_input;
} ck_conv_geom;

/* Floats of `col` scratch per sample for ck_conv_fwd/bwd (0 for a 1x1 stride-1
 * convolution, which needs none) and for ck_conv_t_fwd/bwd. */
int64_t ck_conv_col_floats(const ck_conv_geom *g);
int64_t ck_conv_t_col_floats(const ck_conv_geom *g);

/* What ck_conv_fwd does to each chunk's output rows right after its GEMM, while
 * they are in cache: z = product + bias (the bias is the GEMM's starting C, so
 * no separate zeroing pass), then out = act(z). */
typedef struct ck_conv_epilogue {
    const float *bias; /* [cout], or NULL */
    ck_act_kind act;
    float *out;        /* [b, out..., cout]; may be the z buffer itself */
    /* A half layer (mixed_float16, bfloat16, ...): bias is NULL, the product
     * keeps no bias or relu, and ck_conv_finish_rows adds half_bias and applies
     * act with every result rounded to `half` (ck_bias_act_half), as Keras's
     * convolution, add and activation each round. */
    ck_half half;
    const float *half_bias; /* [cout], or NULL */
    /* Called, if set, once samples [b0, b0 + n) of out are final, in order; a
     * non-zero status stops the convolution and is returned. */
    int (*samples_done)(void *ctx, int64_t b0, int64_t n);
    void *ctx;
} ck_conv_epilogue;

/* Whether the product itself can apply the epilogue's relu (it writes the
 * output directly: out is z). */
bool ck_conv_relu_in_product(const ck_conv_epilogue *ep, const float *z);
/* Rows [r0, r0 + n) of z (npos rows per sample, cout floats each) after their
 * product: the activation unless act_done, then samples_done for their
 * samples. Returns samples_done's status; ep may be NULL. */
int ck_conv_finish_rows(const ck_conv_epilogue *ep, float *z, int64_t r0, int64_t n, int64_t cout, int64_t npos,
                        bool act_done);

/* z[b, out..., cout] = conv(x[b, in..., cin], w[k..., cin/groups, cout]), then the
 * epilogue if not NULL. col: chunk * ck_conv_col_floats floats; chunk >= 1
 * samples per GEMM. w_packed: w as [K, cout] packed for ck_gemm_packed (one
 * group only), or NULL for cblas_sgemm on w. Returns 0, or the status
 * samples_done returned. */
int ck_conv_fwd(const ck_conv_geom *g, const float *x, const float *w, const float *w_packed, float *z, float *col,
                int64_t chunk, const ck_conv_epilogue *ep);
/* Called, if set, before ck_conv_bwd first reads dy's samples [b0, b0 + n), in
 * order, so the caller can produce them just then, into cache; a non-zero
 * status stops the pass and is returned. */
typedef struct ck_conv_prologue {
    int (*samples_needed)(void *ctx, int64_t b0, int64_t n);
    void *ctx;
} ck_conv_prologue;

/* pro's samples_needed for samples [b0, b0 + n) (nothing for n < 1 or no
 * prologue). */
int ck_conv_need(const ck_conv_prologue *pro, int64_t b0, int64_t n);

/* dw += d/dw, dx += d/dx (dx may be NULL) for dy [b, out..., cout]. Returns 0,
 * or the status of pro->samples_needed (pro may be NULL). */
int ck_conv_bwd(const ck_conv_geom *g, const float *x, const float *w, const float *dy, float *dx, float *dw,
                float *col, int64_t chunk, const ck_conv_prologue *pro);

/* Transposed: y[b, out..., cout] from x[b, in..., cin], w[k..., cout, cin]; the
 * geometry's in/out are the transposed layer's input and output. No bias. */
void ck_conv_t_fwd(const ck_conv_geom *g, const float *x, const float *w, float *y, float *col, int64_t chunk);
void ck_conv_t_bwd(const ck_conv_geom *g, const float *x, const float *w, const float *dy, float *dx, float *dw,
                   float *col, int64_t chunk);

/* Depthwise: y[..., c*mult + m] from w[k..., cin, mult], no bias. */
void ck_depthwise_fwd(const ck_conv_geom *g, const float *x, const float *w, float *y);
/* dw += d/dw, dx += d/dx (dx may be NULL). */
void ck_depthwise_bwd(const ck_conv_geom *g, const float *x, const float *w, const float *dy, float *dx, float *dw);

#endif
