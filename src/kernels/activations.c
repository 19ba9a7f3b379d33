/* Keras 3's activations, with its exact formulas and default parameters: gelu is
 * the erf form (approximate=False), hard_sigmoid is relu6(x + 3) / 6, leaky_relu's
 * slope is 0.2, selu uses Keras's alpha and scale, celu alpha 1, the shrinks 0.5,
 * squareplus b 4. glu is not offered: it halves the last axis while Keras's
 * Activation layer reports an unchanged shape. */
#include "activations.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct {
    const char *name;
    ck_act_kind kind;
} act_names[] = {
    {"linear", CK_ACT_LINEAR},     {"relu", CK_ACT_RELU},
    {"sigmoid", CK_ACT_SIGMOID},   {"softmax", CK_ACT_SOFTMAX},
    {"tanh", CK_ACT_TANH},         {"elu", CK_ACT_ELU},
    {"selu", CK_ACT_SELU},         {"gelu", CK_ACT_GELU},
    {"silu", CK_ACT_SILU},         {"swish", CK_ACT_SILU},
    {"softplus", CK_ACT_SOFTPLUS}, {"softsign", CK_ACT_SOFTSIGN},
    {"relu6", CK_ACT_RELU6},       {"leaky_relu", CK_ACT_LEAKY_RELU},
    {"hard_sigmoid", CK_ACT_HARD_SIGMOID}, {"hard_silu", CK_ACT_HARD_SILU},
    {"hard_swish", CK_ACT_HARD_SILU}, {"mish", CK_ACT_MISH},
    {"log_softmax", CK_ACT_LOG_SOFTMAX}, {"exponential", CK_ACT_EXPONENTIAL},
    {"celu", CK_ACT_CELU},         {"hard_tanh", CK_ACT_HARD_TANH},
    {"hard_shrink", CK_ACT_HARD_SHRINK}, {"soft_shrink", CK_ACT_SOFT_SHRINK},
    {"tanh_shrink", CK_ACT_TANH_SHRINK}, {"log_sigmoid", CK_ACT_LOG_SIGMOID},
    {"sparse_plus", CK_ACT_SPARSE_PLUS}, {"squareplus", CK_ACT_SQUAREPLUS},
    {"sparse_sigmoid", CK_ACT_SPARSE_SIGMOID}, {"sparsemax", CK_ACT_SPARSEMAX},
};

/* The table lists each kind's function name before its aliases. */
const char *ck_act_function_name(ck_act_kind kind)
{
    for (int i = 0; i < CK_N_OF(act_names); i++)
        if (act_names[i].kind == kind) return act_names[i].name;
    return "linear";
}

ck_status ck_activation_parse(const char *name, ck_act *out)
{
    if (!name || !*name) name = "linear";
    for (int i = 0; i < CK_N_OF(act_names); i++) {
        if (strcmp(act_names[i].name, name) == 0) {
            out->kind = act_names[i].kind;
            snprintf(out->name, sizeof out->name, "%s", name);
            return CK_OK;
        }
    }
    return ck_fail(CK_ERR_CONFIG, "unknown activation '%s'", name);
}

#define SELU_ALPHA 1.67326324235437728481
#define SELU_SCALE 1.05070098735548049342
#define LEAKY_SLOPE 0.2f

static inline float sigmoidf(float x) { return 1.0f / (1.0f + expf(-x)); }
static inline float softplusf(float x) { return x > 20.0f ? x : log1pf(expf(x)); }

static void softmax_rows(const float *x, float *y, int64_t rows, int64_t cols, bool log_form)
{
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        float m = xr[0];
        for (int64_t c = 1; c < cols; c++) m = xr[c] > m ? xr[c] : m;
        double sum = 0.0;
        for (int64_t c = 0; c < cols; c++) sum += exp((double)(xr[c] - m));
        if (log_form) {
            float ls = (float)log(sum);
            for (int64_t c = 0; c < cols; c++) yr[c] = xr[c] - m - ls;
        } else {
            float inv = (float)(1.0 / sum);
            for (int64_t c = 0; c < cols; c++) yr[c] = expf(xr[c] - m) * inv;
        }
    }
}

static float act_scalar(ck_act_kind kind, float v)
{
    switch (kind) {
    case CK_ACT_RELU: return ck_relu(v);
    case CK_ACT_SIGMOID: return sigmoidf(v);
    case CK_ACT_TANH: return tanhf(v);
    case CK_ACT_ELU: return v > 0.0f ? v : expm1f(v);
    case CK_ACT_SELU: return (float)(v > 0.0f ? SELU_SCALE * v : SELU_SCALE * SELU_ALPHA * expm1(v));
    case CK_ACT_GELU: return 0.5f * v * (1.0f + erff(v * 0.70710678118654752f));
    case CK_ACT_SILU: return v * sigmoidf(v);
    case CK_ACT_SOFTPLUS: return softplusf(v);
    case CK_ACT_SOFTSIGN: return v / (1.0f + fabsf(v));
    case CK_ACT_RELU6: return v < 0.0f ? 0.0f : (v > 6.0f ? 6.0f : v);
    case CK_ACT_LEAKY_RELU: return v > 0.0f ? v : LEAKY_SLOPE * v;
    case CK_ACT_HARD_SIGMOID: return act_scalar(CK_ACT_RELU6, v + 3.0f) / 6.0f;
    case CK_ACT_HARD_SILU: return v * act_scalar(CK_ACT_RELU6, v + 3.0f) / 6.0f;
    case CK_ACT_MISH: return v * tanhf(softplusf(v));
    case CK_ACT_EXPONENTIAL: return expf(v);
    case CK_ACT_CELU: return v > 0.0f ? v : expm1f(v);
    case CK_ACT_HARD_TANH: return v < -1.0f ? -1.0f : (v > 1.0f ? 1.0f : v);
    case CK_ACT_HARD_SHRINK: return fabsf(v) > 0.5f ? v : 0.0f;
    case CK_ACT_SOFT_SHRINK: return v > 0.5f ? v - 0.5f : (v < -0.5f ? v + 0.5f : 0.0f);
    case CK_ACT_TANH_SHRINK: return v - tanhf(v);
    case CK_ACT_LOG_SIGMOID: return -softplusf(-v);
    case CK_ACT_SPARSE_PLUS: return v <= -1.0f ? 0.0f : (v >= 1.0f ? v : 0.25f * (v + 1.0f) * (v + 1.0f));
    case CK_ACT_SQUAREPLUS: return 0.5f * (v + sqrtf(v * v + 4.0f));
    case CK_ACT_SPARSE_SIGMOID: return v <= -1.0f ? 0.0f : (v >= 1.0f ? 1.0f : 0.5f * (v + 1.0f));
    default: return v;
    }
}

/* Sparsemax as Keras 3 computes it: x_j is in the support when 1 + k_j x_j > s_j,
 * with k_j and s_j the count and sum of the values >= x_j (the sorted cumulative
 * sum), and tau = (sum over the support of s_j - 1) / |support| -- Keras sums the
 * cumulative sums, not the values, so its result differs from Martins &
 * Astudillo's projection; we match Keras. O(cols^2) without allocation. */
/* Descending, NaN last: the order of Keras's -sort(-x) on JAX. */
static int descending_nan_last(const void *pa, const void *pb)
{
    float a = *(const float *)pa, b = *(const float *)pb;
    if (isnan(a) || isnan(b)) return isnan(a) - isnan(b);
    return (a < b) - (a > b);
}

/* Keras's sparsemax (keras/src/backend/jax/nn.py), step for step in float32 so
 * that NaN and infinities come out as there: sort descending, cumulative sums,
 * the support where sorted - (cumsum - 1) / r > 0, tau from the support's sums,
 * max(x - tau, 0). `sorted` is [cols] scratch. */
static void sparsemax_rows(const float *x, float *y, int64_t rows, int64_t cols, float *sorted)
{
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        memcpy(sorted, xr, (size_t)cols * sizeof *sorted);
        qsort(sorted, (size_t)cols, sizeof *sorted, descending_nan_last);
        float cumsum = 0.0f, support_sum = 0.0f, k = 0.0f;
        for (int64_t j = 0; j < cols; j++) {
            cumsum += sorted[j];
            if (sorted[j] - (cumsum - 1.0f) / (float)(j + 1) > 0.0f) support_sum += cumsum, k += 1.0f;
        }
        float tau = (support_sum - 1.0f) / k;
        for (int64_t c = 0; c < cols; c++) yr[c] = ck_relu(xr[c] - tau);
    }
}

/* A value, where it came from, and whether the support holds it (the
 * backward pass's sort). */
typedef struct ranked {
    float v;
    int64_t at;
    bool support;
} ranked;

/* descending_nan_last, ties in their original order (jnp.sort is stable) */
static int ranked_order(const void *pa, const void *pb)
{
    const ranked *a = pa, *b = pb;
    int by_value = descending_nan_last(&a->v, &b->v);
    return by_value ? by_value : (a->at > b->at) - (a->at < b->at);
}

/* jax.grad of sparsemax_rows's steps: max(a, 0) passes dy where a = x - tau
 * > 0 (half at a tie with 0, none at NaN); tau = (S - 1) / k sends -sum/k
 * to each cumulative sum the support adds up, and each cumulative sum to the
 * sorted values up to it, so the sorted value at j gets -sum/k for every
 * support member from j on; the sort's permutation takes it back. */
static void sparsemax_row_backward(const float *x, const float *dy, float *dx, int64_t cols, ranked *order)
{
    for (int64_t c = 0; c < cols; c++) order[c] = (ranked){x[c], c, false};
    qsort(order, (size_t)cols, sizeof *order, ranked_order);
    float cumsum = 0.0f, support_sum = 0.0f, k = 0.0f;
    for (int64_t j = 0; j < cols; j++) {
        cumsum += order[j].v;
        order[j].support = order[j].v - (cumsum - 1.0f) / (float)(j + 1) > 0.0f;
        if (order[j].support) support_sum += cumsum, k += 1.0f;
    }
    float tau = (support_sum - 1.0f) / k, through = 0.0f;
    for (int64_t c = 0; c < cols; c++) {
        float a = x[c] - tau, g = dy[c] * (a > 0.0f ? 1.0f : a == 0.0f ? 0.5f : 0.0f);
        dx[c] += g;
        through += g;
    }
    float each = -through / k, later = 0.0f;
    for (int64_t j = cols - 1; j >= 0; j--) {
        if (order[j].support) later += each;
        dx[order[j].at] += later;
    }
}

static void sparsemax_backward(const float *x, const float *dy, float *dx, int64_t rows, int64_t cols)
{
    ranked stack[512], *order = cols <= 512 ? stack : ck_malloc((size_t)cols * sizeof *order);
    if (!order) {
        for (int64_t i = 0; i < rows * cols; i++) dx[i] = NAN; /* no memory: no answer rather than a wrong one */
        return;
    }
    for (int64_t r = 0; r < rows; r++) sparsemax_row_backward(x + r * cols, dy + r * cols, dx + r * cols, cols, order);
    if (order != stack) ck_free(order);
}

void ck_act_forward(ck_act_kind kind, const float *x, float *y, int64_t rows, int64_t cols)
{
    int64_t n = rows * cols;
    switch (kind) {
    case CK_ACT_SOFTMAX: softmax_rows(x, y, rows, cols, false); return;
    case CK_ACT_LOG_SOFTMAX: softmax_rows(x, y, rows, cols, true); return;
    case CK_ACT_SPARSEMAX: {
        /* a row on the stack up to 4096 columns, else one allocation per call */
        float stack[4096], *sorted = cols <= 4096 ? stack : ck_malloc((size_t)cols * sizeof *sorted);
        if (!sorted) {
            for (int64_t i = 0; i < n; i++) y[i] = NAN; /* no memory: no answer rather than a wrong one */
            return;
        }
        sparsemax_rows(x, y, rows, cols, sorted);
        if (sorted != stack) ck_free(sorted);
        return;
    }
    case CK_ACT_LINEAR:
        if (x != y) memcpy(y, x, (size_t)n * sizeof *y);
        return;
    case CK_ACT_RELU:
        for (int64_t i = 0; i < n; i++) y[i] = ck_relu(x[i]);
        return;
    default:
        for (int64_t i = 0; i < n; i++) y[i] = act_scalar(kind, x[i]);
        return;
    }
}

static float act_derivative(ck_act_kind kind, float v, float out)
{
    switch (kind) {
    case CK_ACT_RELU: return v > 0.0f ? 1.0f : 0.0f;
    case CK_ACT_SIGMOID: return out * (1.0f - out);
    case CK_ACT_TANH: return 1.0f - out * out;
    case CK_ACT_ELU: return v > 0.0f ? 1.0f : out + 1.0f;
    case CK_ACT_SELU: return (float)(v > 0.0f ? SELU_SCALE : out + SELU_SCALE * SELU_ALPHA);
    case CK_ACT_GELU: {
        float cdf = 0.5f * (1.0f + erff(v * 0.70710678118654752f));
        float pdf = expf(-0.5f * v * v) * 0.39894228040143268f;
        return cdf + v * pdf;
    }
    case CK_ACT_SILU: {
        float s = sigmoidf(v);
        return s * (1.0f + v * (1.0f - s));
    }
    case CK_ACT_SOFTPLUS: return sigmoidf(v);
    case CK_ACT_SOFTSIGN: {
        /* as JAX differentiates x / (|x| + 1): the quotient rule's two terms,
         * whose difference is NaN at +-inf (inf / inf) */
        float d = 1.0f + fabsf(v), sign = v > 0.0f ? 1.0f : v < 0.0f ? -1.0f : 0.0f;
        return 1.0f / d - v * sign / (d * d);
    }
    case CK_ACT_RELU6: return (v > 0.0f && v < 6.0f) ? 1.0f : 0.0f;
    case CK_ACT_LEAKY_RELU: return v >= 0.0f ? 1.0f : LEAKY_SLOPE; /* jax.nn.leaky_relu: where(x >= 0, ...) */
    case CK_ACT_HARD_SIGMOID: return (v > -3.0f && v < 3.0f) ? 1.0f / 6.0f : 0.0f;
    case CK_ACT_HARD_SILU:
        if (v <= -3.0f) return 0.0f;
        if (v >= 3.0f) return 1.0f;
        return (2.0f * v + 3.0f) / 6.0f;
    case CK_ACT_MISH: {
        float sp = softplusf(v), t = tanhf(sp);
        return t + v * (1.0f - t * t) * sigmoidf(v);
    }
    case CK_ACT_EXPONENTIAL: return out;
    case CK_ACT_CELU: return v > 0.0f ? 1.0f : expf(v);
    /* jax.nn.hard_tanh: where(x > 1, 1, where(x < -1, -1, x)); NaN takes x */
    case CK_ACT_HARD_TANH: return (v > 1.0f || v < -1.0f) ? 0.0f : 1.0f;
    case CK_ACT_HARD_SHRINK: return fabsf(v) > 0.5f ? 1.0f : 0.0f;
    case CK_ACT_SOFT_SHRINK: return fabsf(v) > 0.5f ? 1.0f : 0.0f;
    case CK_ACT_TANH_SHRINK: {
        float t = tanhf(v);
        return t * t;
    }
    case CK_ACT_LOG_SIGMOID: return sigmoidf(-v);
    /* jax.nn.sparse_plus is a where() of three branches; at +-inf the
     * quadratic's derivative is infinite, and JAX's zero cotangent for the
     * unselected branch times it is NaN */
    case CK_ACT_SPARSE_PLUS:
        return isinf(v) ? NAN : v <= -1.0f ? 0.0f : (v >= 1.0f ? 1.0f : 0.5f * (v + 1.0f));
    case CK_ACT_SQUAREPLUS: return 0.5f * (1.0f + v / sqrtf(v * v + 4.0f));
    case CK_ACT_SPARSE_SIGMOID: return (v > -1.0f && v < 1.0f) ? 0.5f : 0.0f;
    default: return 1.0f;
    }
}

void ck_act_backward(ck_act_kind kind, const float *x, const float *y, const float *dy,
                     float *dx, int64_t rows, int64_t cols)
{
    if (kind == CK_ACT_SPARSEMAX) {
        sparsemax_backward(x, dy, dx, rows, cols);
        return;
    }
    if (kind == CK_ACT_SOFTMAX || kind == CK_ACT_LOG_SOFTMAX) {
        for (int64_t r = 0; r < rows; r++) {
            const float *yr = y + r * cols, *gr = dy + r * cols;
            float *dr = dx + r * cols;
            double dot = 0.0;
            if (kind == CK_ACT_SOFTMAX) {
                for (int64_t c = 0; c < cols; c++) dot += (double)yr[c] * gr[c];
                for (int64_t c = 0; c < cols; c++) dr[c] += yr[c] * (gr[c] - (float)dot);
            } else {
                for (int64_t c = 0; c < cols; c++) dot += gr[c];
                for (int64_t c = 0; c < cols; c++) dr[c] += gr[c] - expf(yr[c]) * (float)dot;
            }
        }
        return;
    }
    int64_t n = rows * cols;
    for (int64_t i = 0; i < n; i++) dx[i] += dy[i] * act_derivative(kind, x[i], y[i]);
}
