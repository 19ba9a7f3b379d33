/* Normalization layers: BatchNormalization (gamma, beta trainable; moving_mean,
 * moving_variance non-trainable, in Keras's order), LayerNormalization (gamma when
 * scale or rms_scaling, beta when center and not rms_scaling), GroupNormalization
 * (groups must divide the channels) and UnitNormalization (no weights).
 * BatchNormalization's inference forward uses the moving statistics. */
#include "layers/conv_exec.h"
#include "engine/run.h"
#include "layers/conv_layers.h"
#include "layers/layers.h"
#include "layers/norm_exec.h"
#include "engine/run.h"

#include <math.h>
#include <string.h>

#define NF(member, type, def, ...) CK_FIELD(ck_norm_config, member, type, def, __VA_ARGS__)
#define JNULL(member) NF(member, CK_FT_JSON, "null", 0, CK_FF_NULLABLE)
#define GAMMA_BETA                                                   \
    NF(beta_initializer, CK_FT_INIT, "\"zeros\""),                   \
    NF(gamma_initializer, CK_FT_INIT, "\"ones\"")
#define REGS JNULL(beta_regularizer), JNULL(gamma_regularizer), JNULL(beta_constraint), JNULL(gamma_constraint)

static const ck_field bn_fields[] = {
    NF(axis, CK_FT_INTS, "-1", 1, CK_FF_SERIALIZE_INT), NF(momentum, CK_FT_FLOAT, "0.99"),
    NF(epsilon, CK_FT_FLOAT, "0.001"), NF(center, CK_FT_BOOL, "true"), NF(scale, CK_FT_BOOL, "true"),
    GAMMA_BETA, NF(moving_mean_initializer, CK_FT_INIT, "\"zeros\""),
    NF(moving_variance_initializer, CK_FT_INIT, "\"ones\""), REGS,
    NF(synchronized, CK_FT_BOOL, "false"), NF(renorm, CK_FT_BOOL, "false"), JNULL(renorm_clipping),
    NF(renorm_momentum, CK_FT_FLOAT, "0.99"),
};
static const ck_field ln_fields[] = {
    /* a built LayerNormalization holds its axis as a list, and that is what Keras saves */
    NF(axis, CK_FT_INTS, "-1", 0, 0), NF(epsilon, CK_FT_FLOAT, "0.001"),
    NF(center, CK_FT_BOOL, "true"), NF(scale, CK_FT_BOOL, "true"), NF(rms_scaling, CK_FT_BOOL, "false"),
    GAMMA_BETA, REGS,
};
static const ck_field gn_fields[] = {
    NF(groups, CK_FT_INT, "32"), NF(axis, CK_FT_INTS, "-1", 1, CK_FF_SERIALIZE_INT),
    NF(epsilon, CK_FT_FLOAT, "0.001"), NF(center, CK_FT_BOOL, "true"), NF(scale, CK_FT_BOOL, "true"),
    GAMMA_BETA, REGS,
};
static const ck_field rms_fields[] = {
    /* held as a list after build, like LayerNormalization's */
    NF(axis, CK_FT_INTS, "-1", 0, 0), NF(epsilon, CK_FT_FLOAT, "1e-06"),
};
static const ck_field un_fields[] = {
    NF(axis, CK_FT_INTS, "-1", 0, CK_FF_SERIALIZE_INT),
};

/* The normalized axes (sorted, distinct) and the weight shape over them. */
static ck_status axes_of(const ck_layer *l, const ck_shape *in, int *axes, int *n, ck_shape *wshape)
{
    const ck_ints *a = &CK_CFG(l, ck_norm_config)->axis;
    *n = 0;
    *wshape = (ck_shape){.rank = 0};
    bool seen[CK_MAX_RANK] = {0};
    for (int i = 0; i < a->n; i++) {
        int ax;
        if (!ck_normalize_axis(a->v[i], in->rank, &ax) || ax == 0 || seen[ax])
            return ck_layer_error(l, CK_ERR_CONFIG, "field 'axis' (%lld) is out of range for an input of rank %d",
                                  (long long)a->v[i], in->rank);
        seen[ax] = true;
    }
    for (int ax = 1; ax < in->rank; ax++) {
        if (!seen[ax]) continue;
        if (in->dim[ax] == CK_NONE)
            return ck_layer_error(l, CK_ERR_SHAPE, "the input dimension on field 'axis' %d must be known", ax);
        axes[(*n)++] = ax;
        wshape->dim[wshape->rank++] = in->dim[ax];
    }
    return CK_OK;
}

/* The trainable scale and offset of the normalization layers, as Keras names them. */
static ck_status add_gamma_beta(ck_layer *l, ck_shape ws, bool gamma, bool beta)
{
    ck_norm_config *c = CK_CFG(l, ck_norm_config);
    ck_status st = gamma ? ck_layer_add_weight(l, "gamma", ws, &c->gamma_initializer, true, CK_FLOAT32) : CK_OK;
    if (!st && beta) st = ck_layer_add_weight(l, "beta", ws, &c->beta_initializer, true, CK_FLOAT32);
    return st;
}

static ck_status bn_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)n_in;
    ck_norm_config *c = CK_CFG(l, ck_norm_config);
    int axes[CK_MAX_RANK], n;
    ck_shape ws;
    ck_status st = axes_of(l, &in[0], axes, &n, &ws);
    if (st) return st;
    st = add_gamma_beta(l, ws, c->scale, c->center);
    if (!st) st = ck_layer_add_weight(l, "moving_mean", ws, &c->moving_mean_initializer, false, CK_FLOAT32);
    if (!st) st = ck_layer_add_weight(l, "moving_variance", ws, &c->moving_variance_initializer, false, CK_FLOAT32);
    out[0] = in[0];
    *n_out = 1;
    return st;
}

static ck_status ln_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)n_in;
    ck_norm_config *c = CK_CFG(l, ck_norm_config);
    int axes[CK_MAX_RANK], n;
    ck_shape ws;
    ck_status st = axes_of(l, &in[0], axes, &n, &ws);
    if (st) return st;
    st = add_gamma_beta(l, ws, c->scale || c->rms_scaling, c->center && !c->rms_scaling);
    out[0] = in[0];
    *n_out = 1;
    return st;
}

static ck_status gn_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)n_in;
    ck_norm_config *c = CK_CFG(l, ck_norm_config);
    int axes[CK_MAX_RANK], n;
    ck_shape ws;
    ck_status st = axes_of(l, &in[0], axes, &n, &ws);
    if (st) return st;
    int64_t dim = ws.dim[0];
    if (c->groups == -1) c->groups = dim; /* Keras: -1 means one group per channel, and saves that */
    if (c->groups <= 0 || c->groups > dim || dim % c->groups)
        return ck_layer_error(l, CK_ERR_CONFIG, "field 'groups' (%lld) must divide the %lld channels",
                              (long long)c->groups, (long long)dim);
    st = add_gamma_beta(l, ws, c->scale, c->center);
    out[0] = in[0];
    *n_out = 1;
    return st;
}

/* RMSNormalization: one "scale" weight (ones) over the normalized axes. */
static ck_status rms_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)n_in;
    int axes[CK_MAX_RANK], n;
    ck_shape ws;
    ck_status st = axes_of(l, &in[0], axes, &n, &ws);
    if (st) return st;
    ck_init ones = {.kind = CK_INIT_ONES};
    out[0] = in[0];
    *n_out = 1;
    return ck_layer_add_weight(l, "scale", ws, &ones, true, CK_FLOAT32);
}

static ck_status un_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)n_in;
    int axes[CK_MAX_RANK], n;
    ck_shape ws;
    ck_status st = axes_of(l, &in[0], axes, &n, &ws);
    out[0] = in[0];
    *n_out = 1;
    return st;
}

static int64_t elems(const ck_shape *s)
{
    int64_t n = 1;
    for (int i = 1; i < s->rank; i++) n *= s->dim[i] == CK_NONE ? 1 : s->dim[i];
    return n;
}
static int64_t norm_flops(const ck_layer *l) { return 4 * elems(&l->in_shapes[0]); }

/* Inference: y = (x - moving_mean) / sqrt(moving_variance + eps) * gamma + beta,
 * with the statistics over one axis (the usual case; others are unsupported). */
/* Inference's y = x * a + b per feature, as Keras computes it: rsqrt of the
 * moving variance + epsilon, times gamma; b = beta - mean * a. */
void ck_bn_coefficients(const ck_layer *l, int64_t dim, float *a, float *b)
{
    const ck_norm_config *c = CK_CFG(l, ck_norm_config);
    int w = 0;
    const float *gamma = c->scale ? l->weights[w++].value : NULL;
    const float *beta = c->center ? l->weights[w++].value : NULL;
    const float *mean = l->weights[w].value, *var = l->weights[w + 1].value;
    for (int64_t d = 0; d < dim; d++) {
        a[d] = 1.0f / sqrtf(var[d] + (float)c->epsilon) * (gamma ? gamma[d] : 1.0f);
        b[d] = (beta ? beta[d] : 0.0f) - mean[d] * a[d];
    }
}

/* At inference, over the last axis, BatchNormalization is that affine map. */
static bool bn_affine(const ck_layer *l, const ck_run *ex, int64_t channels, float *scale, float *shift)
{
    const ck_norm_config *c = CK_CFG(l, ck_norm_config);
    int rank = l->in_shapes[0].rank, ax;
    if (ck_bn_batch_mode(l, ex) || c->axis.n != 1 || !ck_normalize_axis(c->axis.v[0], rank, &ax) || ax != rank - 1 ||
        l->in_shapes[0].dim[ax] != channels)
        return false;
    ck_bn_coefficients(l, channels, scale, shift);
    return true;
}

static ck_status bn_forward(CK_FWD_ARGS)
{
    /* keras/src/layers/normalization/batch_normalization.py: a mask weights the
     * batch moments (_moments with mask), which ckeras does not compute */
    if (ck_bn_batch_mode(l, ex) && ex && ex->in_masks && ex->in_masks[0])
        return ck_layer_error(l, CK_ERR_UNSUPPORTED, "training with a Keras mask (masked batch moments) is not supported");
    if (ck_bn_batch_mode(l, ex)) return ck_bn_train_forward(l, in, n_in, out, n_out, ex);
    const ck_norm_config *c = CK_CFG(l, ck_norm_config);
    const ck_shape *s = &in[0].shape;
    int ax;
    if (c->axis.n != 1 || !ck_normalize_axis(c->axis.v[0], s->rank, &ax))
        return ck_layer_error(l, CK_ERR_UNSUPPORTED, "field 'axis' must be one axis");
    int64_t outer = 1, inner = 1, dim = s->dim[ax];
    for (int i = 0; i < ax; i++) outer *= s->dim[i];
    for (int i = ax + 1; i < s->rank; i++) inner *= s->dim[i];
    /* y = x * a + b per feature, a and b computed once (not once per element) */
    float *a = ck_exec_scratch(ex, l, 2 * dim), *b = a ? a + dim : NULL;
    if (!a) return ck_layer_error(l, CK_ERR_NOMEM, "out of memory");
    ck_bn_coefficients(l, dim, a, b);
    if (inner == 1) { /* channels-last: one vectorizable pass per row */
        for (int64_t o = 0; o < outer; o++) {
            const float *x = in[0].data + o * dim;
            float *y = out[0].data + o * dim;
            for (int64_t d = 0; d < dim; d++) y[d] = x[d] * a[d] + b[d];
        }
        return CK_OK;
    }
    for (int64_t o = 0; o < outer; o++)
        for (int64_t d = 0; d < dim; d++) {
            const float *x = in[0].data + (o * dim + d) * inner;
            float *y = out[0].data + (o * dim + d) * inner;
            for (int64_t i = 0; i < inner; i++) y[i] = x[i] * a[d] + b[d];
        }
    return CK_OK;
}

#define NORM_HOOKS(build_, fwd)                                                                   \
    CK_ONE_INPUT, .build = build_, .flops = norm_flops, .forward = fwd, .backward = ck_norm_backward,   \
        .workspace = ck_norm_workspace

/* At inference BatchNormalization is affine: a producer may fold it in. */
static const ck_fusion bn_fusion = {.affine = bn_affine};
/* BatchNormalization.call takes a mask, so Keras's nodes record {"mask": null}. */
CK_CLASS(ck_class_bn, "BatchNormalization", CK_CONFIG(ck_norm_config, bn_fields),
         NORM_HOOKS(bn_build, bn_forward), .keras.call_mask = true, .fusion = &bn_fusion,
         .float32_variables = true, .casts_output = true, .mask = ck_mask_pass);
/* Layer/Group/Unit/RMSNormalization: forward, backward and workspace in norm_exec.c. */
#define NORM_FB_HOOKS(build_, kind)                                                               \
    CK_ONE_INPUT, .build = build_, .flops = norm_flops, .forward = ck_##kind##_forward,                 \
        .backward = ck_##kind##_backward, .workspace = ck_##kind##_workspace
CK_CLASS(ck_class_ln, "LayerNormalization", CK_CONFIG(ck_norm_config, ln_fields),
         NORM_FB_HOOKS(ln_build, layernorm), .float32_variables = true, .casts_output = true,
         .no_autocast = true, .mask = ck_mask_pass);
CK_CLASS(ck_class_gn, "GroupNormalization", CK_CONFIG(ck_norm_config, gn_fields),
         NORM_FB_HOOKS(gn_build, groupnorm), .float32_variables = true, .casts_output = true,
         .no_autocast = true, .mask = ck_mask_pass);
/* Keras's UnitNormalization has no build() of its own, hence no build_config. */
CK_CLASS(ck_class_un, "UnitNormalization", CK_CONFIG(ck_norm_config, un_fields),
         NORM_FB_HOOKS(un_build, unitnorm), .keras.no_build_config = true, .mask = ck_mask_pass);
CK_CLASS(ck_class_rms, "RMSNormalization", CK_CONFIG(ck_norm_config, rms_fields),
         NORM_FB_HOOKS(rms_build, rmsnorm));

CK_FAMILY(ck_normalization_layers, &ck_class_bn, &ck_class_ln, &ck_class_gn, &ck_class_un, &ck_class_rms);
