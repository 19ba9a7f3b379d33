/* Layers that Keras Applications put in their saved configs beyond keras.layers:
 * LayerScale (keras.src.applications.convnext: y = x * gamma, gamma one value per
 * channel, constant-initialised to init_values) and the keras.src.ops.numpy
 * operations called with a Python number as one operand (MobileNetV3's hard
 * sigmoid saves `x + 3.0` and `x * (1 / 6)` as Add and Multiply nodes whose args
 * hold the number next to the tensor). The scalar classes keep Keras's class
 * names so summaries read the same; the JSON reader picks them through
 * ck_find_scalar_op_class when a node has a numeric argument. */
#include "layers/engine_util.h"
#include "layers/layers.h"

#include <math.h>
#include <string.h>

/* ---- LayerScale ------------------------------------------------------------------- */
typedef struct layer_scale_config {
    double init_values;
    int64_t projection_dim;
} layer_scale_config;

static const ck_field layer_scale_fields[] = {
    CK_FIELD(layer_scale_config, init_values, CK_FT_FLOAT, NULL, 0, CK_FF_REQUIRED),
    CK_FIELD(layer_scale_config, projection_dim, CK_FT_INT, NULL, 0, CK_FF_REQUIRED),
};

static ck_status layer_scale_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)n_in;
    const layer_scale_config *c = CK_CFG(l, layer_scale_config);
    if (c->projection_dim <= 0)
        return ck_layer_error(l, CK_ERR_CONFIG, "field 'projection_dim' must be positive, got %lld",
                              (long long)c->projection_dim);
    int64_t last = in[0].rank ? in[0].dim[in[0].rank - 1] : CK_NONE;
    if (last != CK_NONE && last != c->projection_dim && c->projection_dim != 1)
        return ck_layer_error(l, CK_ERR_SHAPE, "field 'projection_dim' (%lld) does not match the input's last dimension (%lld)",
                              (long long)c->projection_dim, (long long)last);
    ck_init init = {.kind = CK_INIT_CONSTANT, .a = c->init_values};
    out[0] = in[0];
    *n_out = 1;
    /* Keras's add_weight() without a name: the variable is called "variable". */
    return ck_layer_add_weight(l, "variable", ck_shape_1(c->projection_dim), &init, true, CK_FLOAT32);
}

static ck_status layer_scale_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out, (void)ex;
    const float *gamma = l->weights[0].value;
    int64_t d = l->weights[0].size, n = ck_numel(&in[0]);
    for (int64_t i = 0; i < n; i++) out[0].data[i] = in[0].data[i] * gamma[d == 1 ? 0 : i % d];
    return CK_OK;
}

static ck_status layer_scale_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)out, (void)n_out, (void)ex;
    const float *gamma = l->weights[0].value;
    float *dgamma = l->weights[0].grad;
    int64_t d = l->weights[0].size, n = ck_numel(&in[0]);
    for (int64_t i = 0; i < n; i++) {
        int64_t k = d == 1 ? 0 : i % d;
        if (din[0].data) din[0].data[i] += dout[0].data[i] * gamma[k];
        if (dgamma) dgamma[k] += dout[0].data[i] * in[0].data[i];
    }
    return CK_OK;
}

static int64_t layer_scale_flops(const ck_layer *l)
{
    int64_t n = 1;
    for (int i = 1; i < l->in_shapes[0].rank; i++) n *= l->in_shapes[0].dim[i] == CK_NONE ? 1 : l->in_shapes[0].dim[i];
    return n;
}

static const ck_layer_class ck_class_layer_scale = {
    .class_name = "LayerScale", .module = "keras.src.applications.convnext",
    CK_CONFIG(layer_scale_config, layer_scale_fields), CK_ONE_INPUT, .build = layer_scale_build,
    .forward = layer_scale_forward, .backward = layer_scale_backward, .flops = layer_scale_flops,
};

/* ---- numpy operations with a constant operand -------------------------------------- */
typedef enum { OP_ADD, OP_SUB, OP_MUL, OP_DIV, OP_MAX, OP_MIN } scalar_op;

typedef struct scalar_op_config {
    double scalar;      /* the number from the node's args              */
    bool scalar_first;  /* `3.0 - x` rather than `x - 3.0`               */
} scalar_op_config;

static const ck_field scalar_op_fields[] = {
    CK_FIELD(scalar_op_config, scalar, CK_FT_FLOAT, "0.0"),
    CK_FIELD(scalar_op_config, scalar_first, CK_FT_BOOL, "false"),
};

static ck_status scalar_op_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)l, (void)n_in;
    out[0] = in[0];
    *n_out = 1;
    return CK_OK;
}

static scalar_op op_of(const ck_layer *l)
{
    static const char *const names[] = {"Add", "Subtract", "Multiply", "Divide", "Maximum", "Minimum"};
    for (int i = 0; i < 6; i++)
        if (!strcmp(l->cls->class_name, names[i])) return (scalar_op)i;
    return OP_DIV; /* TrueDivide */
}

static float apply(scalar_op op, float a, float b)
{
    switch (op) {
    case OP_ADD: return a + b;
    case OP_SUB: return a - b;
    case OP_MUL: return a * b;
    case OP_DIV: return a / b;
    case OP_MAX: return a > b || a != a ? a : b;
    default: return a < b || a != a ? a : b;
    }
}

bool ck_scalar_op_of(const ck_layer *l, int *op, double *scalar, bool *scalar_first)
{
    if (l->cls != ck_find_scalar_op_class(l->cls->class_name)) return false;
    const scalar_op_config *c = CK_CFG(l, scalar_op_config);
    *op = (int)op_of(l), *scalar = c->scalar, *scalar_first = c->scalar_first;
    return true;
}

static ck_status scalar_op_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out, (void)ex;
    const scalar_op_config *c = CK_CFG(l, scalar_op_config);
    scalar_op op = op_of(l);
    float s = (float)c->scalar;
    int64_t n = ck_numel(&in[0]);
    for (int64_t i = 0; i < n; i++)
        out[0].data[i] = c->scalar_first ? apply(op, s, in[0].data[i]) : apply(op, in[0].data[i], s);
    return CK_OK;
}

/* d/dx of (x op s) or (s op x); max/min send the gradient to x where x wins (ties to x). */
static ck_status scalar_op_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)out, (void)n_out, (void)ex;
    if (!din[0].data) return CK_OK;
    const scalar_op_config *c = CK_CFG(l, scalar_op_config);
    scalar_op op = op_of(l);
    float s = (float)c->scalar;
    int64_t n = ck_numel(&in[0]);
    for (int64_t i = 0; i < n; i++) {
        float x = in[0].data[i], g;
        switch (op) {
        case OP_ADD: g = 1.0f; break;
        case OP_SUB: g = c->scalar_first ? -1.0f : 1.0f; break;
        case OP_MUL: g = s; break;
        case OP_DIV: g = c->scalar_first ? -s / (x * x) : 1.0f / s; break;
        case OP_MAX: g = x >= s ? 1.0f : 0.0f; break;
        default: g = x <= s ? 1.0f : 0.0f; break;
        }
        din[0].data[i] += dout[0].data[i] * g;
    }
    return CK_OK;
}

static int64_t scalar_op_flops(const ck_layer *l) { return layer_scale_flops(l); }

/* keras.src.ops.numpy's binary operations, one class each, with the same hooks. */
#define SCALAR_OP(name)                                                                                   \
    {.class_name = name, .module = "keras.src.ops.numpy", CK_CONFIG(scalar_op_config, scalar_op_fields), \
     CK_ONE_INPUT, .build = scalar_op_build, .forward = scalar_op_forward, .backward = scalar_op_backward, \
     .flops = scalar_op_flops}

const ck_layer_class *ck_find_scalar_op_class(const char *class_name)
{
    static const ck_layer_class all[] = {SCALAR_OP("Add"),        SCALAR_OP("Subtract"), SCALAR_OP("Multiply"),
                                         SCALAR_OP("Divide"),     SCALAR_OP("TrueDivide"), SCALAR_OP("Maximum"),
                                         SCALAR_OP("Minimum")};
    for (int i = 0; i < CK_N_OF(all); i++)
        if (!strcmp(all[i].class_name, class_name)) return &all[i];
    return NULL;
}

CK_FAMILY(ck_app_layers, &ck_class_layer_scale);
