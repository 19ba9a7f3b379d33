/*
 * Keras 3 activation functions by name, applied row-wise to [rows, cols] data
 * (softmax and log_softmax normalise over the last axis, cols). Nothing here
 * knows what a layer is.
 */
#ifndef CK_ACTIVATIONS_H
#define CK_ACTIVATIONS_H

#include "core/core.h"

typedef enum ck_act_kind {
    CK_ACT_LINEAR, CK_ACT_RELU, CK_ACT_SIGMOID, CK_ACT_SOFTMAX, CK_ACT_TANH, CK_ACT_ELU,
    CK_ACT_SELU, CK_ACT_GELU, CK_ACT_SILU, CK_ACT_SOFTPLUS, CK_ACT_SOFTSIGN, CK_ACT_RELU6,
    CK_ACT_LEAKY_RELU, CK_ACT_HARD_SIGMOID, CK_ACT_HARD_SILU, CK_ACT_MISH, CK_ACT_LOG_SOFTMAX,
    CK_ACT_EXPONENTIAL, CK_ACT_CELU, CK_ACT_HARD_TANH, CK_ACT_HARD_SHRINK, CK_ACT_SOFT_SHRINK,
    CK_ACT_TANH_SHRINK, CK_ACT_LOG_SIGMOID, CK_ACT_SPARSE_PLUS, CK_ACT_SQUAREPLUS,
    CK_ACT_SPARSE_SIGMOID, CK_ACT_SPARSEMAX, CK_ACT_COUNT
} ck_act_kind;

typedef struct ck_act {
    ck_act_kind kind;
    char name[24];   /* as written in the config ("swish" and "silu" both kept) */
} ck_act;

/* relu as JAX computes it (jnp.maximum(x, 0)): NaN stays NaN, -inf gives 0.
 * Every relu of the library, fused or not, rounds and propagates alike. */
static inline float ck_relu(float v) { return v > 0.0f ? v : (v == v ? 0.0f : v); }
/* Max as XLA takes it: NaN wins. */
static inline float ck_max_nan(float a, float b) { return a > b || a != a ? a : b; }

/* Accepts every Keras 3 name and alias ("swish", "hard_swish", None -> linear). */
ck_status ck_activation_parse(const char *name, ck_act *out);
/* The __name__ of the function keras.activations.get() returns: "silu" for
 * "swish", "hard_silu" for "hard_swish". */
const char *ck_act_function_name(ck_act_kind kind);
/* y = f(x), in place allowed; [rows, cols]. */
void ck_act_forward(ck_act_kind kind, const float *x, float *y, int64_t rows, int64_t cols);
/* y = f(x) as Keras 3 on JAX computes it for a float16 / bfloat16 tensor: x
 * holds half values (float32 storage) and each operation's result is rounded
 * to `half` (ck_round_half), as XLA on CPU does; CK_HALF_NONE is
 * ck_act_forward. In place allowed; [rows, cols]. */
void ck_act_forward_half(ck_act_kind kind, ck_half half, const float *x, float *y, int64_t rows, int64_t cols);
/* The same read as float32 (a float32 layer next, or .astype(float32)): XLA
 * drops the bfloat16 convert pair of the last operation, so for bfloat16 its
 * result stays unrounded (flushed below float32's normal range); float16's
 * f16 operations round anyway, as ck_act_forward_half. Not Keras's bit for bit
 * for a bfloat16 softmax / log_softmax of 4096 rows or more (YNNPACK's own
 * exp, log and order of summation show once nothing rounds them). */
void ck_act_forward_half_to_f32(ck_act_kind kind, ck_half half, const float *x, float *y, int64_t rows,
                                int64_t cols);
/* expm1(x) of a half value as XLA computes it for that half type (rounded). */
float ck_expm1_half(ck_half half, float x);
/* dx += f'(x) * dy using x (pre-activation) and y (output); [rows, cols]. */
void ck_act_backward(ck_act_kind kind, const float *x, const float *y, const float *dy,
                     float *dx, int64_t rows, int64_t cols);

#endif
