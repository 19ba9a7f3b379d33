/* Convolution layers: Conv1D/2D/3D, Conv1D/2D/3DTranspose, DepthwiseConv1D/2D and
 * SeparableConv1D/2D. One config struct serves them all; each class's field
 * table lists exactly the keys of Keras 3's get_config() in order. Builds check
 * the config, infer output shapes by Keras's rules and add weights in Keras's
 * order: kernel (*k, in/groups, filters), transpose kernel (*k, filters, in),
 * depthwise kernel (*k, in, multiplier), pointwise kernel (1.., in*m, filters),
 * then bias. Forward and backward live in conv_exec.c. */
#include "layers/conv_layers.h"
#include "layers/conv_exec.h"
#include "layers/layers.h"
#include "engine/run.h"

#include <string.h>

#define CF(member, type, def, ...) CK_FIELD(ck_conv_config, member, type, def, __VA_ARGS__)
#define JNULL(member) CF(member, CK_FT_JSON, "null", 0, CK_FF_NULLABLE)

static const char *const pad_1d[] = {"valid", "same", "causal", NULL};
static const char *const pad_nd[] = {"valid", "same", NULL};
static const char *const formats[] = {"channels_last", "channels_first", NULL};

#define GEOMETRY(R, PADS)                                                  \
    CF(kernel_size, CK_FT_INTS, NULL, R, CK_FF_REQUIRED),                  \
    CF(strides, CK_FT_INTS, "1", R),                                       \
    CF(padding, CK_FT_STR, "\"valid\"", 0, 0, PADS)
#define FORMAT_DILATION(R)                                                 \
    CF(data_format, CK_FT_STR, "\"channels_last\"", 0, 0, formats),        \
    CF(dilation_rate, CK_FT_INTS, "1", R)
#define ACT_BIAS                                                           \
    CF(activation, CK_FT_ACT, "\"linear\"", 0, CK_FF_NULLABLE),            \
    CF(use_bias, CK_FT_BOOL, "true")

#define CONV_FIELDS(R, PADS)                                               \
    CF(filters, CK_FT_INT, NULL, 0, CK_FF_REQUIRED), GEOMETRY(R, PADS),    \
    FORMAT_DILATION(R), CF(groups, CK_FT_INT, "1"), ACT_BIAS,              \
    CF(kernel_initializer, CK_FT_INIT, "\"glorot_uniform\""),              \
    CF(bias_initializer, CK_FT_INIT, "\"zeros\""),                         \
    JNULL(kernel_regularizer), JNULL(bias_regularizer), JNULL(activity_regularizer), \
    JNULL(kernel_constraint), JNULL(bias_constraint)

#define TRANSPOSE_FIELDS(R)                                                \
    CF(filters, CK_FT_INT, NULL, 0, CK_FF_REQUIRED), GEOMETRY(R, pad_nd),  \
    CF(output_padding, CK_FT_INTS, "null", R, CK_FF_NULLABLE),             \
    FORMAT_DILATION(R), ACT_BIAS,                                          \
    CF(kernel_initializer, CK_FT_INIT, "\"glorot_uniform\""),              \
    CF(bias_initializer, CK_FT_INIT, "\"zeros\""),                         \
    JNULL(kernel_regularizer), JNULL(bias_regularizer), JNULL(activity_regularizer), \
    JNULL(kernel_constraint), JNULL(bias_constraint)

#define DEPTHWISE_FIELDS(R, PADS)                                          \
    CF(depth_multiplier, CK_FT_INT, "1"), GEOMETRY(R, PADS),               \
    FORMAT_DILATION(R), ACT_BIAS,                                          \
    CF(depthwise_initializer, CK_FT_INIT, "\"glorot_uniform\""),           \
    CF(bias_initializer, CK_FT_INIT, "\"zeros\""),                         \
    JNULL(depthwise_regularizer), JNULL(bias_regularizer), JNULL(activity_regularizer), \
    JNULL(depthwise_constraint), JNULL(bias_constraint)

#define SEPARABLE_FIELDS(R, PADS)                                          \
    CF(depth_multiplier, CK_FT_INT, "1"),                                  \
    CF(filters, CK_FT_INT, NULL, 0, CK_FF_REQUIRED), GEOMETRY(R, PADS),    \
    FORMAT_DILATION(R), ACT_BIAS,                                          \
    CF(depthwise_initializer, CK_FT_INIT, "\"glorot_uniform\""),           \
    CF(pointwise_initializer, CK_FT_INIT, "\"glorot_uniform\""),           \
    CF(bias_initializer, CK_FT_INIT, "\"zeros\""),                         \
    JNULL(depthwise_regularizer), JNULL(pointwise_regularizer), JNULL(bias_regularizer), \
    JNULL(activity_regularizer), JNULL(depthwise_constraint), JNULL(pointwise_constraint), \
    JNULL(bias_constraint)

static const ck_field conv1d_fields[] = {CONV_FIELDS(1, pad_1d)};
static const ck_field conv2d_fields[] = {CONV_FIELDS(2, pad_nd)};
static const ck_field conv3d_fields[] = {CONV_FIELDS(3, pad_nd)};
static const ck_field conv1dt_fields[] = {TRANSPOSE_FIELDS(1)};
static const ck_field conv2dt_fields[] = {TRANSPOSE_FIELDS(2)};
static const ck_field conv3dt_fields[] = {TRANSPOSE_FIELDS(3)};
static const ck_field dw1d_fields[] = {DEPTHWISE_FIELDS(1, pad_1d)};
static const ck_field dw2d_fields[] = {DEPTHWISE_FIELDS(2, pad_nd)};
static const ck_field sep1d_fields[] = {SEPARABLE_FIELDS(1, pad_1d)};
static const ck_field sep2d_fields[] = {SEPARABLE_FIELDS(2, pad_nd)};

/* ---- checks shared by every convolution ---------------------------------------- */
static ck_status check_positive(const ck_layer *l, const char *field, const ck_ints *v)
{
    for (int i = 0; i < v->n; i++)
        if (v->v[i] <= 0)
            return ck_layer_error(l, CK_ERR_CONFIG, "field '%s' must be positive, got %lld", field,
                                  (long long)v->v[i]);
    return CK_OK;
}

/* A positive count field (filters, depth_multiplier). */
static ck_status check_count(const ck_layer *l, const char *field, int64_t v)
{
    ck_ints one = {.n = 1, .v = {v}};
    return check_positive(l, field, &one);
}

/* Common checks, ending with the class's output count field (filters, or
 * depth_multiplier) positive; sets the spatial axes and the known input
 * channel count. */
static ck_status conv_prepare(const ck_layer *l, const ck_shape *in, const char *count_field, int64_t count,
                              ck_spatial *sp, int64_t *channels)
{
    const ck_conv_config *c = CK_CFG(l, ck_conv_config);
    ck_status st = ck_spatial_of(l, in, c->kernel_size.n, c->data_format, sp);
    if (!st) st = check_positive(l, "kernel_size", &c->kernel_size);
    if (!st) st = check_positive(l, "strides", &c->strides);
    if (!st) st = check_positive(l, "dilation_rate", &c->dilation_rate);
    if (st) return st;
    bool strided = false, dilated = false;
    for (int i = 0; i < c->strides.n; i++) strided |= c->strides.v[i] > 1, dilated |= c->dilation_rate.v[i] > 1;
    if (strided && dilated)
        return ck_layer_error(l, CK_ERR_CONFIG, "field 'strides' > 1 is not supported together with 'dilation_rate' > 1");
    *channels = in->dim[sp->channel];
    if (*channels == CK_NONE || *channels <= 0)
        return ck_layer_error(l, CK_ERR_SHAPE, "the channel dimension of the input must be known and positive");
    return check_count(l, count_field, count);
}

/* Output shape of a (non-transposed) convolution with `out_channels`. */
static ck_status conv_out_shape(const ck_layer *l, const ck_shape *in, const ck_spatial *sp,
                                int64_t out_channels, ck_shape *out)
{
    const ck_conv_config *c = CK_CFG(l, ck_conv_config);
    *out = *in;
    for (int i = 0; i < sp->rank; i++) {
        ck_status st = ck_conv_out_len(l, in->dim[sp->first + i], c->kernel_size.v[i], c->strides.v[i],
                                       c->dilation_rate.v[i], c->padding, false, &out->dim[sp->first + i]);
        if (st) return st;
    }
    out->dim[sp->channel] = out_channels;
    return CK_OK;
}

static ck_shape kernel_shape(const ck_ints *k, int64_t a, int64_t b)
{
    ck_shape s = {.rank = k->n + 2};
    for (int i = 0; i < k->n; i++) s.dim[i] = k->v[i];
    s.dim[k->n] = a;
    s.dim[k->n + 1] = b;
    return s;
}

static ck_status add_bias(ck_layer *l, int64_t n)
{
    ck_conv_config *c = CK_CFG(l, ck_conv_config);
    if (!c->use_bias) return CK_OK;
    return ck_layer_add_weight(l, "bias", ck_shape_1(n), &c->bias_initializer, true, CK_FLOAT32);
}

/* The weights of a one-kernel convolution, in Keras's order, and its one output. */
static ck_status add_kernel_bias(ck_layer *l, ck_shape kernel, const ck_init *init, int64_t n_bias, int *n_out)
{
    ck_status st = ck_layer_add_weight(l, "kernel", kernel, init, true, CK_FLOAT32);
    if (!st) st = add_bias(l, n_bias);
    *n_out = 1;
    return st;
}

/* ---- Conv1D/2D/3D ------------------------------------------------------------------- */
static ck_status conv_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)n_in;
    ck_conv_config *c = CK_CFG(l, ck_conv_config);
    ck_spatial sp;
    int64_t ch;
    ck_status st = conv_prepare(l, &in[0], "filters", c->filters, &sp, &ch);
    if (st) return st;
    if (c->groups <= 0 || c->filters % c->groups)
        return ck_layer_error(l, CK_ERR_CONFIG, "field 'groups' (%lld) must divide field 'filters' (%lld)",
                              (long long)c->groups, (long long)c->filters);
    if (ch % c->groups)
        return ck_layer_error(l, CK_ERR_CONFIG, "field 'groups' (%lld) must divide the input channels (%lld)",
                              (long long)c->groups, (long long)ch);
    if ((st = conv_out_shape(l, &in[0], &sp, c->filters, &out[0]))) return st;
    return add_kernel_bias(l, kernel_shape(&c->kernel_size, ch / c->groups, c->filters), &c->kernel_initializer,
                           c->filters, n_out);
}

/* Output positions per sample (product of the spatial output dims). */
static int64_t spatial_size(const ck_shape *s, const ck_spatial *sp)
{
    int64_t n = 1;
    for (int i = 0; i < sp->rank; i++) n *= s->dim[sp->first + i] == CK_NONE ? 1 : s->dim[sp->first + i];
    return n;
}

static int64_t kernel_volume(const ck_conv_config *c)
{
    int64_t n = 1;
    for (int i = 0; i < c->kernel_size.n; i++) n *= c->kernel_size.v[i];
    return n;
}

static void spatial_of_built(const ck_layer *l, ck_spatial *sp)
{
    const ck_conv_config *c = CK_CFG(l, ck_conv_config);
    bool first = !strcmp(c->data_format, "channels_first");
    *sp = (ck_spatial){.rank = c->kernel_size.n, .first = first ? 2 : 1,
                       .channel = first ? 1 : c->kernel_size.n + 1};
}

static int64_t conv_flops(const ck_layer *l)
{
    const ck_conv_config *c = CK_CFG(l, ck_conv_config);
    ck_spatial sp;
    spatial_of_built(l, &sp);
    int64_t ch = l->in_shapes[0].dim[sp.channel];
    int64_t pos = spatial_size(&l->out_shapes[0], &sp);
    return pos * c->filters * (2 * kernel_volume(c) * (ch / c->groups) + (c->use_bias ? 1 : 0));
}

/* ---- Conv1D/2D/3DTranspose ----------------------------------------------------------------- */
static ck_status conv_t_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)n_in;
    ck_conv_config *c = CK_CFG(l, ck_conv_config);
    ck_spatial sp;
    int64_t ch;
    ck_status st = conv_prepare(l, &in[0], "filters", c->filters, &sp, &ch);
    if (st) return st;
    *out = in[0];
    for (int i = 0; i < sp.rank; i++) {
        int64_t op = c->output_padding.is_null || c->output_padding.n == 0 ? -1 : c->output_padding.v[i];
        if (op >= c->strides.v[i] && op >= 0)
            return ck_layer_error(l, CK_ERR_CONFIG, "field 'output_padding' (%lld) must be smaller than field 'strides' (%lld)",
                                  (long long)op, (long long)c->strides.v[i]);
        int64_t d = ck_deconv_out_len(in[0].dim[sp.first + i], c->kernel_size.v[i], c->strides.v[i],
                                      c->dilation_rate.v[i], c->padding, op);
        if (d != CK_NONE && d <= 0)
            return ck_layer_error(l, CK_ERR_SHAPE, "the output size along spatial axis %d would be %lld", i, (long long)d);
        out[0].dim[sp.first + i] = d;
    }
    out[0].dim[sp.channel] = c->filters;
    return add_kernel_bias(l, kernel_shape(&c->kernel_size, c->filters, ch), &c->kernel_initializer, c->filters,
                           n_out);
}

static int64_t conv_t_flops(const ck_layer *l)
{
    const ck_conv_config *c = CK_CFG(l, ck_conv_config);
    ck_spatial sp;
    spatial_of_built(l, &sp);
    int64_t ch = l->in_shapes[0].dim[sp.channel];
    int64_t in_pos = spatial_size(&l->in_shapes[0], &sp), out_pos = spatial_size(&l->out_shapes[0], &sp);
    return in_pos * 2 * kernel_volume(c) * ch * c->filters + (c->use_bias ? out_pos * c->filters : 0);
}

/* ---- DepthwiseConv1D/2D ------------------------------------------------------------------- */
static ck_status dw_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)n_in;
    ck_conv_config *c = CK_CFG(l, ck_conv_config);
    ck_spatial sp;
    int64_t ch;
    ck_status st = conv_prepare(l, &in[0], "depth_multiplier", c->depth_multiplier, &sp, &ch);
    if (st) return st;
    if ((st = conv_out_shape(l, &in[0], &sp, ch * c->depth_multiplier, &out[0]))) return st;
    return add_kernel_bias(l, kernel_shape(&c->kernel_size, ch, c->depth_multiplier), &c->depthwise_initializer,
                           ch * c->depth_multiplier, n_out);
}

static int64_t dw_flops(const ck_layer *l)
{
    const ck_conv_config *c = CK_CFG(l, ck_conv_config);
    ck_spatial sp;
    spatial_of_built(l, &sp);
    int64_t och = l->out_shapes[0].dim[sp.channel];
    return spatial_size(&l->out_shapes[0], &sp) * och * (2 * kernel_volume(c) + (c->use_bias ? 1 : 0));
}

/* ---- SeparableConv1D/2D ----------------------------------------------------------------- */
static ck_status sep_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)n_in;
    ck_conv_config *c = CK_CFG(l, ck_conv_config);
    ck_spatial sp;
    int64_t ch;
    ck_status st = conv_prepare(l, &in[0], "filters", c->filters, &sp, &ch);
    if (st) return st;
    if ((st = check_count(l, "depth_multiplier", c->depth_multiplier))) return st;
    if ((st = conv_out_shape(l, &in[0], &sp, c->filters, &out[0]))) return st;
    ck_ints ones = {.n = c->kernel_size.n, .v = {1, 1, 1}};
    st = ck_layer_add_weight(l, "depthwise_kernel", kernel_shape(&c->kernel_size, ch, c->depth_multiplier),
                             &c->depthwise_initializer, true, CK_FLOAT32);
    if (!st)
        st = ck_layer_add_weight(l, "pointwise_kernel", kernel_shape(&ones, ch * c->depth_multiplier, c->filters),
                                 &c->pointwise_initializer, true, CK_FLOAT32);
    if (!st) st = add_bias(l, c->filters);
    *n_out = 1;
    return st;
}

static int64_t sep_flops(const ck_layer *l)
{
    const ck_conv_config *c = CK_CFG(l, ck_conv_config);
    ck_spatial sp;
    spatial_of_built(l, &sp);
    int64_t mid = l->in_shapes[0].dim[sp.channel] * c->depth_multiplier;
    int64_t pos = spatial_size(&l->out_shapes[0], &sp);
    return pos * (mid * 2 * kernel_volume(c) + 2 * mid * c->filters + (c->use_bias ? c->filters : 0));
}

/* Convolutions compute a chunk of samples per GEMM: they stream those rows to a
 * per-sample reader and fold an affine reader into their product. */
static const ck_fusion conv_streams = {.streams_rows = true, .folds_readers = true};
#define CONV_HOOKS(build_, flops_, fwd, bwd, ws, fusion_)                                          \
    CK_ONE_INPUT, .build = build_, .flops = flops_, .forward = fwd, .backward = bwd, .workspace = ws,   \
        .fusion = fusion_, .channels_first = ck_channels_first_rank

CK_CLASS(ck_class_conv1d, "Conv1D", CK_CONFIG(ck_conv_config, conv1d_fields),
         CONV_HOOKS(conv_build, conv_flops, ck_conv_forward, ck_conv_backward, ck_conv_workspace, &conv_streams));
CK_CLASS(ck_class_conv2d, "Conv2D", CK_CONFIG(ck_conv_config, conv2d_fields),
         CONV_HOOKS(conv_build, conv_flops, ck_conv_forward, ck_conv_backward, ck_conv_workspace, &conv_streams));
CK_CLASS(ck_class_conv3d, "Conv3D", CK_CONFIG(ck_conv_config, conv3d_fields),
         CONV_HOOKS(conv_build, conv_flops, ck_conv_forward, ck_conv_backward, ck_conv_workspace, &conv_streams));
CK_CLASS(ck_class_conv1dt, "Conv1DTranspose", CK_CONFIG(ck_conv_config, conv1dt_fields),
         CONV_HOOKS(conv_t_build, conv_t_flops, ck_conv_transpose_forward, ck_conv_transpose_backward, ck_conv_workspace, NULL));
CK_CLASS(ck_class_conv2dt, "Conv2DTranspose", CK_CONFIG(ck_conv_config, conv2dt_fields),
         CONV_HOOKS(conv_t_build, conv_t_flops, ck_conv_transpose_forward, ck_conv_transpose_backward, ck_conv_workspace, NULL));
CK_CLASS(ck_class_conv3dt, "Conv3DTranspose", CK_CONFIG(ck_conv_config, conv3dt_fields),
         CONV_HOOKS(conv_t_build, conv_t_flops, ck_conv_transpose_forward, ck_conv_transpose_backward, ck_conv_workspace, NULL));
CK_CLASS(ck_class_dw1d, "DepthwiseConv1D", CK_CONFIG(ck_conv_config, dw1d_fields),
         CONV_HOOKS(dw_build, dw_flops, ck_depthwise_forward, ck_depthwise_backward, ck_conv_workspace, NULL));
CK_CLASS(ck_class_dw2d, "DepthwiseConv2D", CK_CONFIG(ck_conv_config, dw2d_fields),
         CONV_HOOKS(dw_build, dw_flops, ck_depthwise_forward, ck_depthwise_backward, ck_conv_workspace, NULL));
CK_CLASS(ck_class_sep1d, "SeparableConv1D", CK_CONFIG(ck_conv_config, sep1d_fields),
         CONV_HOOKS(sep_build, sep_flops, ck_separable_forward, ck_separable_backward, ck_separable_workspace, NULL));
CK_CLASS(ck_class_sep2d, "SeparableConv2D", CK_CONFIG(ck_conv_config, sep2d_fields),
         CONV_HOOKS(sep_build, sep_flops, ck_separable_forward, ck_separable_backward, ck_separable_workspace, NULL));

CK_FAMILY(ck_conv_layers, &ck_class_conv1d, &ck_class_conv2d, &ck_class_conv3d, &ck_class_conv1dt,
          &ck_class_conv2dt, &ck_class_conv3dt, &ck_class_dw1d, &ck_class_dw2d, &ck_class_sep1d,
          &ck_class_sep2d);
