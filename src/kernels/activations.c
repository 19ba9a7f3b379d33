/* Keras 3's activations, with its exact formulas and default parameters: gelu is
 * the erf form (approximate=False), hard_sigmoid is relu6(x + 3) / 6, leaky_relu's
 * slope is 0.2, selu uses Keras's alpha and scale, celu alpha 1, the shrinks 0.5,
 * squareplus b 4. glu is not offered: it halves the last axis while Keras's
 * Activation layer reports an unchanged shape. */
#include "activations.h"

#include <float.h>
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

/* ---- half precision, operation by operation ----------------------------------- */
/* Keras 3 on JAX computes an activation of a float16 / bfloat16 tensor with the
 * jnp operations of keras/src/backend/jax/nn.py (and keras/src/activations/
 * activations.py for the few written there); XLA on CPU performs each one in
 * float32 and rounds its result to the half type (compiled HLO: an f32
 * operation, then a convert to bf16 / f16), constants included. So here each
 * step is rounded with ck_round_half. Where XLA leaves the float32 value
 * unrounded (a convert pair its simplifier dropped, a reduction's float32
 * accumulator, the float32 polynomial of its erfc) so do we; those places
 * differ between bfloat16 (computed in float32 with explicit converts) and
 * float16 (XLA's native f16 operations), and are marked. exp and tanh are
 * XLA's own float32 functions (xla_expf, xla_tanhf), bit for bit; libm's
 * log1pf and logf stand for XLA's: rounded to 8 or 11 bits they give the same
 * values on every half input (all 65536 tried). */

typedef struct half_ops {
    ck_half half;
    bool bf16;  /* bfloat16: XLA computes in float32 with converts; float16: native f16 ops */
    bool open;  /* bfloat16 read as float32: the last operation's result stays unrounded */
} half_ops;

/* XLA's CPU code runs with denormals flushed to zero (MXCSR's FTZ and DAZ):
 * a float32 operation reads a subnormal as a zero of its sign and writes one
 * as a zero. A float16 value is a normal float32; bfloat16 has float32's
 * range, so its subnormals meet this: relu(1e-40) is 0 in Keras. */
static inline float flush(const half_ops *h, float v)
{
    return h->bf16 && fabsf(v) < FLT_MIN ? copysignf(0.0f, v) : v;
}

/* One operation's float32 result as XLA stores it: flushed (the operation's
 * own result), rounded to the half type, flushed again (the convert pair). */
static inline float rh(const half_ops *h, float v)
{
    v = flush(h, v);
    ck_round_half(h->half, &v, &v, 1);
    return flush(h, v);
}

/* The last operation's result: rounded, or only flushed where a float32
 * reader follows a bfloat16 activation (XLA drops that convert pair). */
static inline float last(const half_ops *h, float v) { return h->open ? flush(h, v) : rh(h, v); }

/* XLA's maximum and minimum: NaN wins either way round. */
static inline float max_x(float a, float b) { return a != a ? a : (b != b ? b : (a > b ? a : b)); }
static inline float min_x(float a, float b) { return a != a ? a : (b != b ? b : (a < b ? a : b)); }

static inline float f32_of_bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

/* XLA's float32 exp on CPU (the LLVM IR it compiles, jaxlib 0.10.2): clamp to
 * [-87.8, 88.8], n = floor(x log2(e) + 1/2) in [-127, 127], x - n ln(2) in two
 * parts, a degree-7 polynomial, times 2^n. LLVM fuses each multiply into the
 * add that follows it on a CPU with FMA (XLA's tanh clamp is the one chosen
 * for FMA), hence fmaf: the goldens come from such a CPU (AVX2 + FMA). */
static float xla_expf(float x)
{
    float v = x < -87.8f ? -87.8f : x;
    v = v > 88.8f ? 88.8f : v;
    float n = floorf(fmaf(v, f32_of_bits(0x3FB8AA3Bu), 0.5f));
    n = n < -127.0f ? -127.0f : n;
    n = n > 127.0f ? 127.0f : n;
    float r = fmaf(-n, f32_of_bits(0x3F318000u), v);
    r = fmaf(-n, f32_of_bits(0xB95E8083u), r);
    float p = fmaf(r, f32_of_bits(0x39506967u), f32_of_bits(0x3AB743CEu));
    p = fmaf(p, r, f32_of_bits(0x3C088908u));
    p = fmaf(p, r, f32_of_bits(0x3D2AA9C1u));
    p = fmaf(p, r, f32_of_bits(0x3E2AAAAAu));
    p = fmaf(p, r, 0.5f);
    float y = fmaf(p, r * r, r) + 1.0f;
    if (n != n) return y; /* NaN in, NaN out */
    return y * f32_of_bits((uint32_t)((int32_t)n * (1 << 23) + 0x3F800000));
}

/* XLA's float32 tanh on CPU (the same IR): x itself for |x| < 0.0004, +-1 from
 * |x| >= 20, else a rational function of x clamped to +-7.99881172. */
static float xla_tanhf(float x)
{
    float ax = fabsf(x), c = f32_of_bits(0x40FFF644u);
    float v = x < -c ? -c : x;
    v = v > c ? c : v;
    float x2 = v * v;
    float p = fmaf(x2, f32_of_bits(0xA59F25C0u), f32_of_bits(0x2A61337Eu));
    p = fmaf(x2, p, f32_of_bits(0xAEBD37FFu));
    p = fmaf(x2, p, f32_of_bits(0x335C0041u));
    p = fmaf(x2, p, f32_of_bits(0x3779434Au));
    p = fmaf(x2, p, f32_of_bits(0x3A270DEDu));
    p = fmaf(x2, p, f32_of_bits(0x3BA059DCu));
    float q = fmaf(x2, f32_of_bits(0x35A0D3D8u), f32_of_bits(0x38F895D6u));
    q = fmaf(x2, q, f32_of_bits(0x3B14AA05u));
    q = fmaf(x2, q, f32_of_bits(0x3BA059DDu));
    float t = ax < 4e-4f ? x : (v * p) / q;
    return ax >= 20.0f ? copysignf(1.0f, x) : t;
}

/* XLA's erfc expansion for float32 (xla/client/lib/math.cc, ErfcImpl32; read
 * off the compiled HLO of jax.lax.erfc): 1 - z P(z^2) for |z| < 1, else
 * exp(-z^2) / |z| Q(1/z^2) with one of two polynomials, 0 below exp's range,
 * 2 - that for z < 0. All in float32, nothing rounded to the half type inside. */
static float erfc_xla(float z)
{
    float az = fabsf(z), z2 = z * z;
    if (az < 1.0f) {
        float p = z2 * 7.85386146e-05f - 0.000801019371f;
        p = p * z2 + 0.00518832775f;
        p = p * z2 - 0.0268538129f;
        p = p * z2 + 0.112835854f;
        p = p * z2 - 0.37612626f;
        p = p * z2 + 1.12837911f;
        return 1.0f - z * p;
    }
    float q = 1.0f / z2, e = xla_expf(-z2) * (1.0f / az), p;
    if (az < 2.0f) {
        p = q * 0.0232682f - 0.138703942f;
        p = p * q + 0.368742466f;
        p = p * q - 0.582473278f;
        p = p * q + 0.621000469f;
        p = p * q - 0.494451523f;
        p = p * q + 0.340488f;
        p = p * q - 0.274112701f;
        p = p * q + 0.563825965f;
    } else {
        p = q * -10.477664f + 12.9772f;
        p = p * q - 7.49551868f;
        p = p * q + 2.92101908f;
        p = p * q - 1.01526523f;
        p = p * q + 0.42184633f;
        p = p * q - 0.282076746f;
        p = p * q + 0.564189494f;
    }
    float r = -z2 < -88.7228394f ? 0.0f : e * p;
    return z < 0.0f ? 2.0f - r : r;
}

/* XLA's expm1 (its elemental IR emitter, read off the LLVM IR it writes for
 * exponential-minus-one): exp(x) - 1 for |x| > 0.5, else tanh(x / 2) *
 * (exp(x) + 1), x itself where x / 2 is 0. For float16 each of those
 * operations is an f16 one (rounded); for bfloat16 the chain is float32. */
static float expm1_half(const half_ops *h, float x)
{
    if (h->bf16) {
        float e = xla_expf(x), hx = x * 0.5f;
        float y = fabsf(x) > 0.5f ? e - 1.0f : xla_tanhf(hx) * (e + 1.0f);
        return rh(h, hx == 0.0f ? x : y);
    }
    float e = rh(h, xla_expf(x)), hx = rh(h, x * 0.5f);
    float y = fabsf(x) > 0.5f ? rh(h, e - 1.0f) : rh(h, rh(h, xla_tanhf(hx)) * rh(h, e + 1.0f));
    return hx == 0.0f ? x : y;
}

/* jax.nn.softplus: jnp.logaddexp(x, 0) = max(x, 0) + log1p(exp(-|x - 0|)),
 * NaN passed through (jax's where(isnan)). x a half value. */
static float softplus_half(const half_ops *h, float x)
{
    float m = max_x(x, 0.0f), e = rh(h, xla_expf(-fabsf(x)));
    float s = rh(h, m + rh(h, log1pf(e)));
    return x != x ? x : s;
}

/* jax.nn.sigmoid as XLA expands logistic: 1 / (1 + exp(-x)), the division
 * left to the caller to round. */
static float sigmoid_half(const half_ops *h, float x)
{
    return 1.0f / rh(h, rh(h, xla_expf(-x)) + 1.0f);
}

/* jax.nn.relu6(x + 3) / 6: for bfloat16 XLA divides by 6 as a float32
 * multiplication by 1/6; for float16 by 1/6 rounded to float16. */
static float hard_sigmoid_half(const half_ops *h, float x)
{
    float t = min_x(max_x(rh(h, x + 3.0f), 0.0f), 6.0f);
    return t * (h->bf16 ? 1.0f / 6.0f : rh(h, 1.0f / 6.0f)); /* the caller rounds */
}

/* raw: the input as stored; x: as an arithmetic operation or a comparison
 * reads it (flushed). A select that passes the input through keeps it raw. */
static float act_scalar_half(const half_ops *h, ck_act_kind kind, float raw)
{
    float x = flush(h, raw);
    switch (kind) {
    case CK_ACT_RELU: return max_x(x, 0.0f);
    case CK_ACT_SIGMOID: return last(h, sigmoid_half(h, x));
    /* XLA's tanh returns its input for |x| < 0.0004, subnormal or not */
    case CK_ACT_TANH: return fabsf(raw) < FLT_MIN ? raw : last(h, xla_tanhf(x));
    /* jax.nn.elu: where(x > 0, x, alpha * expm1(where(x > 0, 0, x))), alpha 1 */
    case CK_ACT_ELU: return x > 0.0f ? x : expm1_half(h, x);
    case CK_ACT_SELU: {
        float t = x > 0.0f ? x : rh(h, rh(h, (float)SELU_ALPHA) * expm1_half(h, x));
        return last(h, t * rh(h, (float)SELU_SCALE));
    }
    /* jax.nn.gelu(approximate=False): (x * 0.5) * erfc(-x * sqrt(1/2)); for
     * bfloat16 XLA keeps -x * sqrt(1/2) in float32 */
    case CK_ACT_GELU: {
        float z = rh(h, -x) * rh(h, 0.70710678118654752f);
        if (!h->bf16) z = rh(h, z);
        return last(h, rh(h, x * 0.5f) * rh(h, erfc_xla(z)));
    }
    case CK_ACT_SILU: return last(h, x * rh(h, sigmoid_half(h, x)));
    case CK_ACT_SOFTPLUS: return softplus_half(h, x);
    case CK_ACT_SOFTSIGN: return last(h, x / rh(h, fabsf(x) + 1.0f));
    case CK_ACT_RELU6: return min_x(max_x(x, 0.0f), 6.0f);
    /* jax.nn.leaky_relu: where(x >= 0, x, slope * x) */
    case CK_ACT_LEAKY_RELU: return x >= 0.0f ? raw : rh(h, rh(h, LEAKY_SLOPE) * x);
    case CK_ACT_HARD_SIGMOID: return last(h, hard_sigmoid_half(h, x));
    case CK_ACT_HARD_SILU: return last(h, x * rh(h, hard_sigmoid_half(h, x)));
    /* keras/src/activations/activations.py Mish: x * tanh(softplus(x)) */
    case CK_ACT_MISH: return last(h, x * rh(h, xla_tanhf(softplus_half(h, x))));
    case CK_ACT_EXPONENTIAL: return last(h, xla_expf(x));
    /* jax.nn.celu: max(x, 0) + alpha * expm1(min(x, 0) / alpha), alpha 1 */
    case CK_ACT_CELU: return last(h, max_x(x, 0.0f) + expm1_half(h, min_x(x, 0.0f)));
    case CK_ACT_HARD_TANH: return x > 1.0f ? 1.0f : (x < -1.0f ? -1.0f : x);
    /* keras/src/backend/jax/nn.py hard_shrink: where(|x| > t, x, 0) */
    case CK_ACT_HARD_SHRINK: return fabsf(x) > 0.5f ? x : 0.0f;
    case CK_ACT_SOFT_SHRINK:
        return x > 0.5f ? rh(h, x - 0.5f) : (x < -0.5f ? rh(h, x + 0.5f) : 0.0f);
    case CK_ACT_TANH_SHRINK: return last(h, x - rh(h, xla_tanhf(x)));
    case CK_ACT_LOG_SIGMOID: return -softplus_half(h, -x);
    /* jax.nn.sparse_plus: where(x <= -1, 0, where(x >= 1, x, (x + 1)^2 / 4)) */
    case CK_ACT_SPARSE_PLUS: {
        float a = rh(h, x + 1.0f);
        return x <= -1.0f ? 0.0f : (x >= 1.0f ? x : rh(h, rh(h, a * a) * 0.25f));
    }
    /* jax.nn.squareplus: (x + sqrt(x^2 + b)) / 2, b 4 */
    case CK_ACT_SQUAREPLUS: {
        float s = rh(h, sqrtf(rh(h, rh(h, x * x) + 4.0f)));
        return last(h, rh(h, x + s) * 0.5f);
    }
    /* jax.nn.sparse_sigmoid: 0.5 * clip(x + 1, 0, 2) */
    case CK_ACT_SPARSE_SIGMOID: return last(h, min_x(max_x(rh(h, x + 1.0f), 0.0f), 2.0f) * 0.5f);
    default: return x;
    }
}

/* jax.nn.softmax / log_softmax: shifted = x - max (rounded); exp; sum in
 * float32 (jnp.sum's accumulator), rounded; softmax multiplies exp by the
 * reciprocal of the sum (XLA's rewrite of the division), log_softmax subtracts
 * log(sum). bfloat16: exp and the reciprocal stay float32 where XLA dropped
 * their converts; float16: every f16 operation rounds. */
/* From 4096 rows on (measured with jax/jaxlib 0.10.2: [4096, 2], [4096, 16],
 * [4096, 1000] do; [4095, 32], [64, 1024], [16, 4096] do not), XLA on CPU
 * runs a bfloat16 softmax / log_softmax through YNNPACK, which computes the
 * whole of it in float32 and rounds once: exp(x - max) / sum, (x - max) -
 * log(sum). float16 keeps its f16 operations there. YNNPACK adds up a row in
 * its own SIMD order, which log(sum) near 1 can show (0.6 % of log_softmax's
 * values in [4096, 4]); here the sum is in order. */
#define YNN_MIN_ROWS 4096

static void softmax_rows_f32_once(const half_ops *h, const float *x, float *y, int64_t rows, int64_t cols,
                                  bool log_form)
{
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        float m = -INFINITY, sum = 0.0f;
        for (int64_t c = 0; c < cols; c++) m = max_x(m, flush(h, xr[c]));
        /* YNNPACK's own exp: libm's gives its results on the goldens */
        for (int64_t c = 0; c < cols; c++) sum += flush(h, expf(flush(h, xr[c]) - m));
        float ls = logf(sum);
        for (int64_t c = 0; c < cols; c++) {
            float d = flush(h, xr[c]) - m;
            yr[c] = last(h, log_form ? d - ls : flush(h, expf(d)) / sum);
        }
    }
}

static void softmax_rows_half(const half_ops *h, const float *x, float *y, int64_t rows, int64_t cols,
                              bool log_form)
{
    if (h->bf16 && rows >= YNN_MIN_ROWS) {
        softmax_rows_f32_once(h, x, y, rows, cols, log_form);
        return;
    }
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        float m = -INFINITY;
        for (int64_t c = 0; c < cols; c++) m = max_x(m, flush(h, xr[c]));
        float sum = 0.0f;
        for (int64_t c = 0; c < cols; c++) {
            float e = xla_expf(rh(h, flush(h, xr[c]) - m));
            sum += h->bf16 ? e : rh(h, e);
        }
        sum = rh(h, sum);
        if (log_form) {
            float ls = rh(h, logf(sum));
            for (int64_t c = 0; c < cols; c++) yr[c] = last(h, rh(h, flush(h, xr[c]) - m) - ls);
        } else {
            float inv = h->bf16 ? 1.0f / sum : rh(h, 1.0f / sum);
            for (int64_t c = 0; c < cols; c++) {
                float e = rh(h, xla_expf(rh(h, flush(h, xr[c]) - m)));
                yr[c] = last(h, e * inv);
            }
        }
    }
}

/* keras/src/backend/jax/nn.py sparsemax in half: sorted descending; cumsum
 * by XLA's reduce-window, each partial sum rounded; support where
 * sorted - (cumsum - 1) * (1 / r) > 0 (XLA's reciprocal: float32 for
 * bfloat16, rounded for float16); tau = (sum of the support's cumsums in
 * float32, rounded, - 1) / k; max(x - tau, 0). From YNN_MIN_ROWS rows on, a
 * bfloat16 tau and output are YNNPACK's: float32, rounded once. `sorted` is
 * [cols] scratch. */
static void sparsemax_rows_half(const half_ops *h, const float *x, float *y, int64_t rows, int64_t cols,
                                float *sorted)
{
    bool once = h->bf16 && rows >= YNN_MIN_ROWS; /* the fusion after the support goes to YNNPACK */
    for (int64_t r = 0; r < rows; r++) {
        const float *xr = x + r * cols;
        float *yr = y + r * cols;
        for (int64_t c = 0; c < cols; c++) sorted[c] = flush(h, xr[c]);
        qsort(sorted, (size_t)cols, sizeof *sorted, descending_nan_last);
        float cumsum = 0.0f, support_sum = 0.0f, k = 0.0f;
        for (int64_t j = 0; j < cols; j++) {
            cumsum = rh(h, cumsum + sorted[j]);
            float inv = 1.0f / rh(h, (float)(j + 1));
            if (!h->bf16) inv = rh(h, inv);
            float d = rh(h, sorted[j] - rh(h, rh(h, cumsum - 1.0f) * inv));
            if (d > 0.0f) support_sum += cumsum, k += 1.0f;
        }
        if (once) { /* YNNPACK: tau and the output in float32, rounded once; its max(NaN, 0) is 0 */
            float tau = flush(h, (support_sum - 1.0f) / k);
            for (int64_t c = 0; c < cols; c++) {
                float v = flush(h, xr[c]) - tau;
                yr[c] = v > 0.0f ? last(h, v) : 0.0f;
            }
            continue;
        }
        float tau = rh(h, rh(h, rh(h, support_sum) - 1.0f) / rh(h, k));
        for (int64_t c = 0; c < cols; c++) yr[c] = max_x(rh(h, flush(h, xr[c]) - tau), 0.0f);
    }
}

float ck_expm1_half(ck_half half, float x)
{
    half_ops h = {half, half == CK_HALF_BFLOAT16, false};
    return expm1_half(&h, flush(&h, x));
}

static void act_forward_half(ck_act_kind kind, ck_half half, bool open, const float *x, float *y, int64_t rows,
                             int64_t cols)
{
    if (half == CK_HALF_NONE) {
        ck_act_forward(kind, x, y, rows, cols);
        return;
    }
    half_ops h = {half, half == CK_HALF_BFLOAT16, open && half == CK_HALF_BFLOAT16};
    int64_t n = rows * cols;
    switch (kind) {
    case CK_ACT_SOFTMAX: softmax_rows_half(&h, x, y, rows, cols, false); return;
    case CK_ACT_LOG_SOFTMAX: softmax_rows_half(&h, x, y, rows, cols, true); return;
    case CK_ACT_SPARSEMAX: {
        float stack[4096], *sorted = cols <= 4096 ? stack : ck_malloc((size_t)cols * sizeof *sorted);
        if (!sorted) {
            for (int64_t i = 0; i < n; i++) y[i] = NAN; /* no memory: no answer rather than a wrong one */
            return;
        }
        sparsemax_rows_half(&h, x, y, rows, cols, sorted);
        if (sorted != stack) ck_free(sorted);
        return;
    }
    case CK_ACT_LINEAR:
        if (x != y) memcpy(y, x, (size_t)n * sizeof *y);
        return;
    default:
        for (int64_t i = 0; i < n; i++) y[i] = act_scalar_half(&h, kind, x[i]);
        return;
    }
}

void ck_act_forward_half(ck_act_kind kind, ck_half half, const float *x, float *y, int64_t rows, int64_t cols)
{
    act_forward_half(kind, half, false, x, y, rows, cols);
}

void ck_act_forward_half_to_f32(ck_act_kind kind, ck_half half, const float *x, float *y, int64_t rows,
                                int64_t cols)
{
    act_forward_half(kind, half, true, x, y, rows, cols);
}
