/* Activation layers with their own configs: ReLU (max_value, negative_slope,
 * threshold), LeakyReLU, PReLU (a trainable alpha over the input's non-batch
 * shape, 1 along shared_axes), ELU and Softmax (axis). Forward for the
 * element-wise ones follows Keras's formulas. */
#include "layers/conv_exec.h"
#include "layers/conv_layers.h"
#include "layers/engine_util.h"
#include "layers/layers.h"
#include "engine/run.h"
#include "kernels/activations.h"

#include <math.h>

#define AF(member, type, def, ...) CK_FIELD(ck_act_layer_config, member, type, def, __VA_ARGS__)

static const ck_field relu_fields[] = {
    AF(max_value, CK_FT_FLOAT, "null", 0, CK_FF_NULLABLE), AF(negative_slope, CK_FT_FLOAT, "0.0"),
    AF(threshold, CK_FT_FLOAT, "0.0"),
};
static const ck_field leaky_fields[] = {AF(negative_slope, CK_FT_FLOAT, "0.3")};
static const ck_field prelu_fields[] = {
    AF(alpha_initializer, CK_FT_INIT, "\"zeros\""), AF(alpha_regularizer, CK_FT_JSON, "null", 0, CK_FF_NULLABLE),
    AF(alpha_constraint, CK_FT_JSON, "null", 0, CK_FF_NULLABLE), AF(shared_axes, CK_FT_INTS, "null", 0, CK_FF_NULLABLE),
};
static const ck_field elu_fields[] = {AF(alpha, CK_FT_FLOAT, "1.0")};
static const ck_field softmax_fields[] = {AF(axis, CK_FT_INTS, "-1", 0, CK_FF_SERIALIZE_INT)};

static ck_status same_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)l, (void)n_in;
    out[0] = in[0];
    *n_out = 1;
    return CK_OK;
}

static ck_status relu_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    const ck_act_layer_config *c = CK_CFG(l, ck_act_layer_config);
    if (!isnan(c->max_value) && c->max_value < 0)
        return ck_layer_error(l, CK_ERR_CONFIG, "field 'max_value' must be >= 0, got %g", c->max_value);
    if (c->negative_slope < 0)
        return ck_layer_error(l, CK_ERR_CONFIG, "field 'negative_slope' must be >= 0, got %g", c->negative_slope);
    return same_build(l, in, n_in, out, n_out);
}

static ck_status prelu_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    ck_act_layer_config *c = CK_CFG(l, ck_act_layer_config);
    ck_shape ws = {.rank = in[0].rank - 1};
    for (int i = 1; i < in[0].rank; i++) ws.dim[i - 1] = in[0].dim[i];
    for (int i = 0; !c->shared_axes.is_null && i < c->shared_axes.n; i++) {
        int64_t a = c->shared_axes.v[i];
        if (a < 1 || a >= in[0].rank)
            return ck_layer_error(l, CK_ERR_CONFIG, "field 'shared_axes' entry %lld is out of range for rank %d",
                                  (long long)a, in[0].rank);
        ws.dim[a - 1] = 1;
    }
    for (int i = 0; i < ws.rank; i++)
        if (ws.dim[i] == CK_NONE)
            return ck_layer_error(l, CK_ERR_SHAPE, "input dimension %d must be known (or listed in 'shared_axes')", i + 1);
    ck_status st = ck_layer_add_weight(l, "alpha", ws, &c->alpha_initializer, true, CK_FLOAT32);
    if (st) return st;
    return same_build(l, in, n_in, out, n_out);
}

static int64_t count(const ck_tensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->shape.rank; i++) n *= t->shape.dim[i];
    return n;
}

/* ---- half precision: under a float16 / bfloat16 compute dtype Keras on JAX
 * rounds each operation's result to the half type (see ck_act_forward_half);
 * these follow the same jnp operations, each rounded. ---- */
static inline float rnd(ck_half h, float v)
{
    ck_round_half(h, &v, &v, 1);
    return v;
}
static inline float max0(float v) { return v != v ? v : (v > 0.0f ? v : 0.0f); } /* jnp.maximum(v, 0) */

/* ReLU.static_call term for term, each operation rounded: the slope,
 * threshold and max_value are cast to the half type first. */
static float keras_relu_half(ck_half h, float x, float slope, float top, float thr)
{
    float hs = rnd(h, slope), ht = rnd(h, thr);
    if (slope != 0.0f && isnan(top) && thr == 0.0f) return x >= 0.0f ? x : rnd(h, hs * x);
    float neg = thr != 0.0f ? max0(rnd(h, -x + ht)) : max0(-x);
    float y = thr != 0.0f ? (x > ht ? x : 0.0f) : max0(x);
    if (!isnan(top)) {
        float hi = rnd(h, top);
        y = y != y ? y : (y < 0.0f ? 0.0f : (y > hi ? hi : y));
    }
    if (slope != 0.0f) y = rnd(h, y - rnd(h, hs * neg));
    return y;
}

/* Keras's ReLU.static_call (keras/src/activations/activations.py) term for
 * term, so that NaN and infinities come out as there: leaky_relu when only a
 * slope is set; else where(x > threshold, x, 0) or relu, clipped to [0, max],
 * minus slope * relu(threshold - x). top is NaN for max_value=None. */
static float keras_relu(float x, float slope, float top, float thr)
{
    if (slope != 0.0f && isnan(top) && thr == 0.0f) return x >= 0.0f ? x : slope * x;
    float y = thr != 0.0f ? (x > thr ? x : 0.0f) : ck_relu(x);
    if (!isnan(top)) y = y < 0.0f ? 0.0f : (y > top ? top : y); /* jnp.clip keeps NaN */
    if (slope != 0.0f) y -= slope * ck_relu(-x + thr);
    return y;
}

static ck_status relu_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out, (void)ex;
    const ck_act_layer_config *c = CK_CFG(l, ck_act_layer_config);
    float thr = (float)c->threshold, slope = (float)c->negative_slope, top = (float)c->max_value;
    ck_half h = ck_half_of_dtype(l->dtype);
    for (int64_t i = 0, n = count(&in[0]); i < n; i++) {
        float x = in[0].data[i];
        out[0].data[i] = h ? keras_relu_half(h, x, slope, top, thr) : keras_relu(x, slope, top, thr);
    }
    return CK_OK;
}

static ck_status leaky_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out, (void)ex;
    float slope = (float)CK_CFG(l, ck_act_layer_config)->negative_slope;
    ck_half h = ck_half_of_dtype(l->dtype);
    if (h) slope = rnd(h, slope); /* jax.nn.leaky_relu: where(x >= 0, x, slope * x), slope in x's dtype */
    for (int64_t i = 0, n = count(&in[0]); i < n; i++) {
        float x = in[0].data[i];
        out[0].data[i] = x >= 0 ? x : (h ? rnd(h, slope * x) : slope * x);
    }
    return CK_OK;
}

static ck_status elu_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out, (void)ex;
    float alpha = (float)CK_CFG(l, ck_act_layer_config)->alpha;
    ck_half h = ck_half_of_dtype(l->dtype);
    /* jax.nn.elu: where(x > 0, x, alpha * expm1(where(x > 0, 0, x))) */
    for (int64_t i = 0, n = count(&in[0]); i < n; i++) {
        float x = in[0].data[i];
        out[0].data[i] = x > 0 ? x : (h ? rnd(h, rnd(h, alpha) * ck_expm1_half(h, x)) : alpha * expm1f(x));
    }
    return CK_OK;
}

/* alpha broadcasts over the non-batch shape with 1s on the shared axes: the
 * index into alpha [in dims 1..] of element `rem` of one sample. */
static int64_t alpha_index(const ck_shape *in, const ck_shape *alpha, int64_t rem)
{
    int64_t ai = 0, stride = 1;
    for (int d = in->rank - 1; d >= 1; d--) {
        int64_t idx = rem % in->dim[d];
        rem /= in->dim[d];
        ai += (alpha->dim[d - 1] == 1 ? 0 : idx) * stride;
        stride *= alpha->dim[d - 1];
    }
    return ai;
}

static ck_status prelu_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out, (void)ex;
    const ck_weight *w = &l->weights[0];
    ck_half h = ck_half_of_dtype(l->dtype);
    int64_t per = count(&in[0]) / in[0].shape.dim[0];
    for (int64_t i = 0, n = count(&in[0]); i < n; i++) {
        int64_t ai = alpha_index(&in[0].shape, &w->shape, i % per);
        float x = in[0].data[i];
        /* keras/src/layers/activations/prelu.py: relu(x) + -alpha * relu(-x) */
        out[0].data[i] = h ? rnd(h, max0(x) + rnd(h, -rnd(h, w->value[ai]) * max0(-x)))
                           : (x >= 0 ? x : w->value[ai] * x);
    }
    return CK_OK;
}

/* Softmax.call(inputs, mask) (keras/src/layers/activations/softmax.py): the
 * mask, of the input's dims but the last, must broadcast to the input aligned
 * from the right (each mask dim 1 or the input dim it meets), else Keras raises;
 * a timestep mask [rows, steps] meets [rows, steps, features] so only when those
 * dims coincide. Where it holds, inputs = where(mask, inputs, -1e9) and the
 * softmax's output is zeroed where masked. */
static ck_status softmax_mask_check(const ck_layer *l, const ck_shape *s)
{
    int r = s->rank;
    for (int i = 0; i + 1 < r; i++) {
        int64_t m = s->dim[r - 2 - i], d = s->dim[r - 1 - i];
        if (m != 1 && m != d) {
            char x[96];
            ck_shape_format(s, x, sizeof x);
            return ck_layer_error(l, CK_ERR_SHAPE, "its Keras mask (the input's dims but the last) does not "
                                  "broadcast to inputs of shape %s, which Keras's Softmax.call refuses", x);
        }
    }
    return CK_OK;
}

/* The mask element that input element i meets (numpy broadcasting from the
 * right): mask axis k sits under input axis k + 1. */
static int64_t softmax_mask_at(const ck_shape *s, int64_t i)
{
    int r = s->rank;
    int64_t c[CK_MAX_RANK], at = 0;
    for (int a = r - 1; a >= 0; a--) c[a] = i % s->dim[a], i /= s->dim[a];
    for (int k = 0; k + 1 < r; k++) at = at * s->dim[k] + (s->dim[k] == 1 ? 0 : c[k + 1]);
    return at;
}

static ck_status softmax_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out;
    const float *mask = ex && ex->in_masks ? ex->in_masks[0] : NULL;
    const ck_ints *a = &CK_CFG(l, ck_act_layer_config)->axis;
    int ax;
    if (a->n != 1 || !ck_normalize_axis(a->v[0], in[0].shape.rank, &ax))
        return ck_layer_error(l, CK_ERR_UNSUPPORTED, "field 'axis' must be one valid axis");
    int64_t outer = 1, inner = 1, dim = in[0].shape.dim[ax];
    for (int i = 0; i < ax; i++) outer *= in[0].shape.dim[i];
    for (int i = ax + 1; i < in[0].shape.rank; i++) inner *= in[0].shape.dim[i];
    const float *src = in[0].data;
    int64_t n = ck_numel(&in[0]);
    ck_half h = ck_half_of_dtype(l->dtype);
    if (mask) {
        ck_status st = softmax_mask_check(l, &in[0].shape);
        if (st) return st;
        /* inputs + (1 - mask) * _large_negative_number(dtype): -3e4 for float16, else -1e9 */
        float big = h == CK_HALF_FLOAT16 ? -3e4f : -1e9f;
        ck_round_half(h, &big, &big, 1);
        for (int64_t i = 0; i < n; i++) {
            out[0].data[i] = src[i] + (mask[softmax_mask_at(&in[0].shape, i)] != 0.0f ? 0.0f : big);
            ck_round_half(h, &out[0].data[i], &out[0].data[i], 1);
        }
        src = out[0].data; /* softmax in place: each element is read before it is written */
    }
    float row[1024];
    if (h && inner == 1) { /* jax.nn.softmax in half, operation by operation */
        ck_act_forward_half(CK_ACT_SOFTMAX, h, src, out[0].data, outer, dim);
    } else if (h && dim <= 1024) { /* along an inner axis: one gathered row at a time */
        for (int64_t o = 0; o < outer; o++)
            for (int64_t j = 0; j < inner; j++) {
                int64_t at = o * dim * inner + j;
                for (int64_t d = 0; d < dim; d++) row[d] = src[at + d * inner];
                ck_act_forward_half(CK_ACT_SOFTMAX, h, row, row, 1, dim);
                for (int64_t d = 0; d < dim; d++) out[0].data[at + d * inner] = row[d];
            }
    } else {
        for (int64_t o = 0; o < outer; o++)
            for (int64_t j = 0; j < inner; j++) {
                const float *x = src + o * dim * inner + j;
                float *y = out[0].data + o * dim * inner + j;
                float m = x[0], sum = 0;
                for (int64_t d = 1; d < dim; d++) m = x[d * inner] > m ? x[d * inner] : m;
                for (int64_t d = 0; d < dim; d++) sum += y[d * inner] = expf(x[d * inner] - m);
                for (int64_t d = 0; d < dim; d++) y[d * inner] /= sum;
            }
    }
    for (int64_t i = 0; mask && i < n; i++)
        if (mask[softmax_mask_at(&in[0].shape, i)] == 0.0f) out[0].data[i] = 0.0f;
    return CK_OK;
}

/* ---- backward: each accumulates dy times the local derivative into dx ---------- */
/* d/dx of min(max(v, 0), hi) as JAX differentiates jnp.clip: lax.max and
 * lax.min give a tie half of the gradient each, and NaN none. */
static float clip_derivative(float v, float hi)
{
    float low = v > 0.0f ? 1.0f : v == 0.0f ? 0.5f : 0.0f, m = v > 0.0f ? v : 0.0f;
    return low * (m < hi ? 1.0f : m == hi ? 0.5f : 0.0f);
}

/* The derivative of ReLU.static_call term for term as jax.grad takes it:
 * leaky_relu (where(x >= 0)) when only a slope is set; else the positive part
 * (x * (x > threshold), relu6, or relu: 0 at the kink and at NaN), clipped
 * to max_value, less slope times relu(threshold - x)'s derivative. */
static float relu_layer_derivative(float x, float thr, float slope, double max_value)
{
    bool clip = !isnan(max_value);
    if (slope != 0.0f && !clip && thr == 0.0f) return x >= 0.0f ? 1.0f : slope;
    float pos;
    if (thr != 0.0f) {
        pos = x > thr ? 1.0f : 0.0f;
    } else if (clip && max_value == 6.0) {
        pos = x > 0.0f && x < 6.0f ? 1.0f : 0.0f;
        clip = false;
    } else {
        pos = x > 0.0f ? 1.0f : 0.0f;
    }
    if (clip) pos *= clip_derivative(thr != 0.0f ? x * (x > thr ? 1.0f : 0.0f) : (x > 0.0f ? x : 0.0f), (float)max_value);
    float neg = slope != 0.0f && thr - x > 0.0f ? -1.0f : 0.0f;
    return pos - slope * neg;
}

static ck_status relu_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)n_out, (void)ex, (void)out;
    if (!din[0].data) return CK_OK;
    const ck_act_layer_config *c = CK_CFG(l, ck_act_layer_config);
    float thr = (float)c->threshold, slope = (float)c->negative_slope;
    for (int64_t i = 0, n = count(&in[0]); i < n; i++)
        din[0].data[i] += relu_layer_derivative(in[0].data[i], thr, slope, c->max_value) * dout[0].data[i];
    return CK_OK;
}

static ck_status leaky_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)n_out, (void)ex, (void)out;
    if (!din[0].data) return CK_OK;
    float slope = (float)CK_CFG(l, ck_act_layer_config)->negative_slope;
    for (int64_t i = 0, n = count(&in[0]); i < n; i++)
        din[0].data[i] += (in[0].data[i] >= 0 ? 1.0f : slope) * dout[0].data[i];
    return CK_OK;
}

static ck_status elu_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)n_out, (void)ex;
    if (!din[0].data) return CK_OK;
    float alpha = (float)CK_CFG(l, ck_act_layer_config)->alpha;
    for (int64_t i = 0, n = count(&in[0]); i < n; i++) /* alpha * e^x = y + alpha below 0 */
        din[0].data[i] += (in[0].data[i] > 0 ? 1.0f : out[0].data[i] + alpha) * dout[0].data[i];
    return CK_OK;
}

static ck_status prelu_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)n_out, (void)ex, (void)out;
    const ck_weight *w = &l->weights[0];
    int64_t per = count(&in[0]) / in[0].shape.dim[0];
    for (int64_t i = 0, n = count(&in[0]); i < n; i++) {
        int64_t ai = alpha_index(&in[0].shape, &w->shape, i % per);
        float x = in[0].data[i], dy = dout[0].data[i];
        if (x < 0) w->grad[ai] += dy * x;
        if (din[0].data) din[0].data[i] += (x >= 0 ? 1.0f : w->value[ai]) * dy;
    }
    return CK_OK;
}

/* dx = y * (dy - sum(dy * y)) along the axis; under a mask too, since the
 * masked outputs are 0 (where() passes them no gradient, and their softmax
 * values were 0 unless all of the axis was masked, where every dx is 0). */
static ck_status softmax_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)n_out, (void)ex;
    if (!din[0].data) return CK_OK;
    int ax;
    ck_normalize_axis(CK_CFG(l, ck_act_layer_config)->axis.v[0], in[0].shape.rank, &ax);
    int64_t outer = 1, inner = 1, dim = in[0].shape.dim[ax];
    for (int i = 0; i < ax; i++) outer *= in[0].shape.dim[i];
    for (int i = ax + 1; i < in[0].shape.rank; i++) inner *= in[0].shape.dim[i];
    for (int64_t o = 0; o < outer; o++)
        for (int64_t j = 0; j < inner; j++) {
            int64_t base = o * dim * inner + j;
            const float *y = out[0].data + base, *dy = dout[0].data + base;
            double dot = 0;
            for (int64_t d = 0; d < dim; d++) dot += (double)dy[d * inner] * y[d * inner];
            for (int64_t d = 0; d < dim; d++) din[0].data[base + d * inner] += y[d * inner] * (dy[d * inner] - (float)dot);
        }
    return CK_OK;
}

static int64_t elementwise_flops(const ck_layer *l)
{
    int64_t n = 1;
    for (int i = 1; i < l->in_shapes[0].rank; i++) n *= l->in_shapes[0].dim[i] == CK_NONE ? 1 : l->in_shapes[0].dim[i];
    return n;
}

/* ReLU() with its defaults is the relu activation. */
static bool relu_as_activation(const ck_layer *l, ck_act_kind *kind)
{
    const ck_act_layer_config *c = CK_CFG(l, ck_act_layer_config);
    *kind = CK_ACT_RELU;
    return isnan(c->max_value) && c->negative_slope == 0.0 && c->threshold == 0.0;
}

/* keras_build: the Keras class has its own build() (so a build_config in JSON). */
#define ACT_HOOKS(build_, kind, keras_build, mask)                                                 \
    CK_ONE_INPUT, .build = build_, .forward = kind##_forward, .backward = kind##_backward,              \
        .flops = elementwise_flops, .keras.no_build_config = !(keras_build), .keras.call_mask = mask

static const ck_fusion relu_fusion = {.as_activation = relu_as_activation};

CK_CLASS(ck_class_relu, "ReLU", CK_CONFIG(ck_act_layer_config, relu_fields),
         ACT_HOOKS(relu_build, relu, false, false), .fusion = &relu_fusion, .mask = ck_mask_pass);
/* keras/src/layers/activations/leaky_relu.py: `if "alpha" in kwargs: negative_slope
 * = kwargs.pop("alpha")`, so tf.keras 2.x configs (and TF.js) load. */
CK_CLASS(ck_class_leaky, "LeakyReLU", CK_CONFIG(ck_act_layer_config, leaky_fields),
         ACT_HOOKS(same_build, leaky, false, false), .keras.keras2_name = "alpha",
         .keras.keras2_field = "negative_slope", .mask = ck_mask_pass);
CK_CLASS(ck_class_prelu, "PReLU", CK_CONFIG(ck_act_layer_config, prelu_fields),
         ACT_HOOKS(prelu_build, prelu, true, false), .mask = ck_mask_pass);
CK_CLASS(ck_class_elu, "ELU", CK_CONFIG(ck_act_layer_config, elu_fields),
         ACT_HOOKS(same_build, elu, false, false), .mask = ck_mask_pass);
CK_CLASS(ck_class_softmax, "Softmax", CK_CONFIG(ck_act_layer_config, softmax_fields),
         ACT_HOOKS(same_build, softmax, false, true), .mask = ck_mask_pass);

CK_FAMILY(ck_activation_layers, &ck_class_relu, &ck_class_leaky, &ck_class_prelu, &ck_class_elu, &ck_class_softmax);
