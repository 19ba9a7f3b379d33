/* Core layers: InputLayer, Dense, Activation, Dropout, Flatten, Reshape, Permute,
 * RepeatVector and Identity. Each is one class-table entry: its config fields with
 * Keras 3's defaults, and a build that checks shapes and creates weights in
 * Keras's order. Forward and backward sit next to each build; their hot loops are in kernels/. */
#include "layers/layers.h"
#include "layers/core_layers.h"
#include "layers/engine_util.h"
#include "kernels/gemm_packed.h"

#include <string.h>

#define JSON_NULL_FIELD(type, member) CK_FIELD(type, member, CK_FT_JSON, "null", 0, CK_FF_NULLABLE)

/* ---- InputLayer ----------------------------------------------------------------- */
static const ck_field input_fields[] = {
    CK_FIELD(ck_input_config, sparse, CK_FT_BOOL, "false"),
    CK_FIELD(ck_input_config, ragged, CK_FT_BOOL, "false"),
    CK_FIELD(ck_input_config, optional, CK_FT_BOOL, "false"),
};

/* Shape-keeping layers (InputLayer, Identity, Flatten, Reshape): row-major data
 * is unchanged, so forward copies and backward passes the gradient through. */
static ck_status copy_forward(CK_FWD_ARGS)
{
    (void)l, (void)n_in, (void)n_out, (void)ex;
    if (out[0].data != in[0].data) memcpy(out[0].data, in[0].data, (size_t)ck_numel(&in[0]) * sizeof(float));
    return CK_OK;
}

static ck_status copy_backward(CK_BWD_ARGS)
{
    (void)l, (void)n_in, (void)out, (void)n_out, (void)ex;
    if (din[0].data) ck_vec_add(din[0].data, dout[0].data, ck_numel(&in[0]));
    return CK_OK;
}

static ck_status input_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)in, (void)n_in;
    if (!l->has_input_shape) return ck_layer_error(l, CK_ERR_CONFIG, "needs a shape");
    out[0] = l->input_shape;
    *n_out = 1;
    return CK_OK;
}

CK_CLASS(ck_class_input_layer, "InputLayer", CK_CONFIG(ck_input_config, input_fields), .min_inputs = 0,
         .max_inputs = 0, .build = input_build, .forward = copy_forward, .backward = copy_backward);

/* ---- Dense ------------------------------------------------------------------------ */
static const ck_field dense_fields[] = {
    /* Keras's base Layer.get_config puts it right after dtype, and only when set. */
    CK_FIELD(ck_dense_config, activity_regularizer, CK_FT_JSON, "null", 0, CK_FF_NULLABLE | CK_FF_OMIT_NULL),
    CK_FIELD(ck_dense_config, units, CK_FT_INT, NULL, 0, CK_FF_REQUIRED),
    CK_FIELD(ck_dense_config, activation, CK_FT_ACT, "\"linear\"", 0, CK_FF_NULLABLE),
    CK_FIELD(ck_dense_config, use_bias, CK_FT_BOOL, "true"),
    CK_FIELD(ck_dense_config, kernel_initializer, CK_FT_INIT, "\"glorot_uniform\""),
    CK_FIELD(ck_dense_config, bias_initializer, CK_FT_INIT, "\"zeros\""),
    JSON_NULL_FIELD(ck_dense_config, kernel_regularizer),
    JSON_NULL_FIELD(ck_dense_config, bias_regularizer),
    JSON_NULL_FIELD(ck_dense_config, kernel_constraint),
    JSON_NULL_FIELD(ck_dense_config, bias_constraint),
    JSON_NULL_FIELD(ck_dense_config, quantization_config),
};

static ck_status dense_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)n_in;
    ck_dense_config *c = CK_CFG(l, ck_dense_config);
    if (c->units <= 0) return ck_layer_error(l, CK_ERR_CONFIG, "field 'units' must be positive, got %lld", (long long)c->units);
    if (in[0].rank < 2) return ck_layer_error(l, CK_ERR_SHAPE, "input must have rank >= 2 (batch and features)");
    int64_t in_dim = in[0].dim[in[0].rank - 1];
    if (in_dim == CK_NONE)
        return ck_layer_error(l, CK_ERR_SHAPE, "the last dimension of the input must be known");
    ck_status st = ck_layer_add_weight(l, "kernel", ck_shape_2(in_dim, c->units), &c->kernel_initializer, true, CK_FLOAT32);
    if (!st && c->use_bias) st = ck_layer_add_weight(l, "bias", ck_shape_1(c->units), &c->bias_initializer, true, CK_FLOAT32);
    if (st) return st;
    out[0] = in[0];
    out[0].dim[in[0].rank - 1] = c->units;
    *n_out = 1;
    return CK_OK;
}

static int64_t dense_flops(const ck_layer *l)
{
    const ck_dense_config *c = CK_CFG(l, ck_dense_config);
    int64_t rows = 1;
    for (int i = 1; i < l->in_shapes[0].rank - 1; i++)
        rows *= l->in_shapes[0].dim[i] == CK_NONE ? 1 : l->in_shapes[0].dim[i];
    int64_t in_dim = l->in_shapes[0].dim[l->in_shapes[0].rank - 1];
    return rows * (2 * in_dim * c->units + (c->use_bias ? c->units : 0));
}

/* Per batch row: the pre-activation z and room for dz, [prefix * units] each,
 * where prefix is the product of the input's middle dims (Dense on rank > 2). */
static int64_t dense_workspace(const ck_layer *l)
{
    if (CK_CFG(l, ck_dense_config)->activation.kind == CK_ACT_LINEAR) return 0;
    int64_t n;
    if (ck_shape_size_from(&l->out_shapes[0], 1, &n) || n == CK_NONE) return 0;
    return 2 * n;
}

/* y = act(x W + b): one GEMM over all rows (middle dims folded in), then one pass
 * for bias and activation. */
static ck_status dense_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out;
    const ck_dense_config *c = CK_CFG(l, ck_dense_config);
    int64_t units = c->units, K = in[0].shape.dim[in[0].shape.rank - 1], M = ck_numel(&in[0]) / K;
    ck_act_kind act = c->activation.kind;
    float *z = act == CK_ACT_LINEAR ? out[0].data : ex->workspace;
    if (!z) return ck_layer_error(l, CK_ERR_SHAPE, "the engine needs every input dimension known");
    const float *W = l->weights[0].value;
    const float *Wp = NULL;
    if (!ex->training) Wp = ck_weight_gemm_packs(M, units, K) ? ck_exec_packed(ex, W, units, K, units) : NULL;
    else if (ck_sgemm_packs(false, false, M, units, K)) {
        /* packed afresh on every call (the weights move every step), into
         * scratch that lives with the engine: nothing is allocated per step */
        float *p = ck_exec_scratch(ex, l, ck_sgemm_packed_floats(false, false, M, units, K));
        if (p) ck_pack_b(W, units, K, units, NULL, ck_packed_nr(), p);
        Wp = p;
    }
    const float *bias = c->use_bias ? l->weights[1].value : NULL;
    ck_half half = ck_half_of_dtype(l->dtype);
    ck_weight_gemm(M, units, K, in[0].data, K, W, units, Wp, 0.0f, half ? NULL : bias, z, units);
    if (half) ck_bias_act_half(half, z, bias, out[0].data, M, units, act);
    else ck_bias_act(z, NULL, out[0].data, M, units, act);
    return CK_OK;
}

static ck_status dense_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)n_out;
    const ck_dense_config *c = CK_CFG(l, ck_dense_config);
    int64_t units = c->units, K = in[0].shape.dim[in[0].shape.rank - 1], M = ck_numel(&in[0]) / K;
    const float *dz = dout[0].data;
    if (c->activation.kind != CK_ACT_LINEAR) {
        float *z = ex->workspace, *buf = ex->workspace + M * units;
        memset(buf, 0, (size_t)(M * units) * sizeof *buf);
        ck_act_backward(c->activation.kind, z, out[0].data, dout[0].data, buf, M, units);
        dz = buf;
    }
    const ck_weight *W = &l->weights[0];
    /* dW += X^T dz and dX += dz W^T, each through the packed tiles where they
     * are faster for its shape (ck_sgemm_packs), in one scratch buffer */
    bool pw = ck_sgemm_packs(true, false, K, units, M), px = din[0].data && ck_sgemm_packs(false, true, M, K, units);
    int64_t fw = pw ? ck_sgemm_packed_floats(true, false, K, units, M) : 0;
    int64_t fx = px ? ck_sgemm_packed_floats(false, true, M, K, units) : 0;
    float *work = pw || px ? ck_exec_scratch(ex, l, fw > fx ? fw : fx) : NULL;
    if (pw && work) ck_sgemm_packed(true, false, K, units, M, in[0].data, K, dz, units, 1.0f, W->grad, units, work);
    else ck_sgemm(true, false, K, units, M, 1.0f, in[0].data, K, dz, units, 1.0f, W->grad, units);
    if (c->use_bias) ck_sum_rows_acc(l->weights[1].grad, dz, M, units);
    if (px && work) ck_sgemm_packed(false, true, M, K, units, dz, units, W->value, units, 1.0f, din[0].data, K, work);
    else if (din[0].data) ck_sgemm(false, true, M, K, units, 1.0f, dz, units, W->value, units, 1.0f, din[0].data, K);
    return CK_OK;
}

ck_mask_mode ck_mask_pass(const ck_layer *l, int index)
{
    (void)l, (void)index;
    return CK_MASK_PASS;
}

CK_CLASS(ck_class_dense, "Dense", CK_CONFIG(ck_dense_config, dense_fields), CK_ONE_INPUT,
         .build = dense_build, .flops = dense_flops, .forward = dense_forward,
         .backward = dense_backward, .workspace = dense_workspace, .mask = ck_mask_pass);

/* ---- shape-preserving layers: Activation, Dropout, Identity ---------------------- */
static ck_status same_shape_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)l, (void)n_in;
    out[0] = in[0];
    *n_out = 1;
    return CK_OK;
}

static const ck_field activation_fields[] = {
    CK_FIELD(ck_activation_config, activation, CK_FT_ACT, NULL, 0, CK_FF_REQUIRED | CK_FF_NULLABLE),
};

/* Softmax-like activations normalise over the last axis, so rows are [.., last]. */
static ck_status activation_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out, (void)ex;
    int64_t cols = in[0].shape.rank > 1 ? in[0].shape.dim[in[0].shape.rank - 1] : 1;
    int64_t n = ck_numel(&in[0]);
    ck_act_kind act = CK_CFG(l, ck_activation_config)->activation.kind;
    /* a half layer: every operation rounded but the last, which the engine
     * rounds (keeping it unrounded for a float32 reader) */
    ck_half half = ck_half_of_dtype(l->dtype);
    if (half) ck_act_forward_half_to_f32(act, half, in[0].data, out[0].data, cols ? n / cols : 0, cols);
    else ck_act_forward(act, in[0].data, out[0].data, cols ? n / cols : 0, cols);
    return CK_OK;
}

static ck_status activation_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)n_out, (void)ex;
    if (!din[0].data) return CK_OK;
    int64_t cols = in[0].shape.rank > 1 ? in[0].shape.dim[in[0].shape.rank - 1] : 1;
    int64_t n = ck_numel(&in[0]);
    ck_act_backward(CK_CFG(l, ck_activation_config)->activation.kind, in[0].data, out[0].data, dout[0].data,
                    din[0].data, cols ? n / cols : 0, cols);
    return CK_OK;
}

static bool activation_kind(const ck_layer *l, ck_act_kind *kind)
{
    *kind = CK_CFG(l, ck_activation_config)->activation.kind;
    return true;
}

static const ck_fusion activation_fusion = {.as_activation = activation_kind};

CK_CLASS(ck_class_activation, "Activation", CK_CONFIG(ck_activation_config, activation_fields),
         CK_ONE_INPUT, .build = same_shape_build, .forward = activation_forward,
         .backward = activation_backward, .keras.no_build_config = true, .fusion = &activation_fusion,
         .mask = ck_mask_pass);

static const ck_field dropout_fields[] = {
    CK_FIELD(ck_dropout_config, rate, CK_FT_FLOAT, NULL, 0, CK_FF_REQUIRED),
    CK_FIELD(ck_dropout_config, seed, CK_FT_INT, "null", 0, CK_FF_NULLABLE),
    CK_FIELD(ck_dropout_config, noise_shape, CK_FT_SHAPE, "null", 0, CK_FF_NULLABLE),
};

static ck_status dropout_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    double rate = CK_CFG(l, ck_dropout_config)->rate;
    if (!(rate >= 0.0 && rate <= 1.0))
        return ck_layer_error(l, CK_ERR_CONFIG, "field 'rate' must be in [0, 1], got %g", rate);
    return same_shape_build(l, in, n_in, out, n_out);
}

/* Per row: the scaled keep mask (0 or 1/(1-rate)) and the noise_shape draws. */
static int64_t dropout_workspace(const ck_layer *l)
{
    int64_t n;
    if (ck_shape_size_from(&l->out_shapes[0], 1, &n) || n == CK_NONE) return 0;
    return 2 * n;
}

/* The noise_shape of Keras with None filled from the input; rank -1 = the input's. */
static void dropout_noise_dims(const ck_layer *l, const ck_tensor *x, int64_t *dims)
{
    const ck_shape *ns = &CK_CFG(l, ck_dropout_config)->noise_shape;
    for (int a = 0; a < x->shape.rank; a++) {
        int64_t d = (ns->rank == x->shape.rank) ? ns->dim[a] : CK_NONE;
        dims[a] = (d == CK_NONE || d < 1) ? x->shape.dim[a] : d;
    }
}

/* Inverted dropout, only while training: kept values are scaled by 1/(1-rate) so
 * inference is the identity, as in Keras. Draws come from the engine's seeded RNG. */
static ck_status dropout_forward(CK_FWD_ARGS)
{
    double rate = CK_CFG(l, ck_dropout_config)->rate;
    if (!ex->training || rate == 0.0) return copy_forward(l, in, n_in, out, n_out, ex);
    if (!ex->workspace) return ck_layer_error(l, CK_ERR_SHAPE, "the engine needs every input dimension known");
    int rank = in[0].shape.rank;
    int64_t n = ck_numel(&in[0]), noise_dims[CK_MAX_RANK], strides[CK_MAX_RANK], n_noise = 1;
    dropout_noise_dims(l, &in[0], noise_dims);
    for (int a = 0; a < rank; a++) n_noise *= noise_dims[a];
    if (n_noise > n) return ck_layer_error(l, CK_ERR_SHAPE, "noise_shape does not broadcast to the input");
    float *mask = ex->workspace, *noise = ex->workspace + n;
    float keep = rate >= 1.0 ? 0.0f : (float)(1.0 / (1.0 - rate));
    for (int64_t i = 0; i < n_noise; i++) noise[i] = ck_rng_uniform(&ex->rng) >= rate ? keep : 0.0f;
    ck_bcast_strides(noise_dims, rank, in[0].shape.dim, rank, strides);
    for (int64_t j = 0; j < n; j++) {
        mask[j] = n_noise == n ? noise[j] : noise[ck_bcast_offset(j, in[0].shape.dim, rank, strides)];
        out[0].data[j] = in[0].data[j] * mask[j];
    }
    return CK_OK;
}

static ck_status dropout_backward(CK_BWD_ARGS)
{
    double rate = CK_CFG(l, ck_dropout_config)->rate;
    if (!ex->training || rate == 0.0) return copy_backward(l, in, n_in, out, dout, n_out, din, ex);
    if (!din[0].data) return CK_OK;
    int64_t n = ck_numel(&in[0]);
    for (int64_t j = 0; j < n; j++) din[0].data[j] += dout[0].data[j] * ex->workspace[j];
    return CK_OK;
}

CK_CLASS(ck_class_dropout, "Dropout", CK_CONFIG(ck_dropout_config, dropout_fields), CK_ONE_INPUT,
         .build = dropout_build, .forward = dropout_forward, .backward = dropout_backward,
         .workspace = dropout_workspace, .keras.no_build_config = true, .mask = ck_mask_pass);

CK_CLASS(ck_class_identity, "Identity", CK_ONE_INPUT, .build = same_shape_build,
         .forward = copy_forward, .backward = copy_backward, .keras.no_build_config = true, .mask = ck_mask_pass);

/* ---- Flatten -------------------------------------------------------------------------- */
static const char *const data_formats[] = {"channels_last", "channels_first", NULL};

static const ck_field flatten_fields[] = {
    CK_FIELD(ck_flatten_config, data_format, CK_FT_STR, "\"channels_last\"", 0, 0, data_formats),
};

static ck_status flatten_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)n_in;
    int64_t n;
    ck_status st = ck_shape_size_from(&in[0], 1, &n);
    if (st) return ck_fail_prefix(st, "%s '%s': ", l->cls->class_name, l->name);
    out[0] = ck_shape_2(in[0].dim[0], n);
    *n_out = 1;
    return CK_OK;
}

CK_CLASS(ck_class_flatten, "Flatten", CK_CONFIG(ck_flatten_config, flatten_fields), CK_ONE_INPUT,
         .build = flatten_build, .forward = copy_forward, .backward = copy_backward,
         .channels_first = ck_channels_first_rank);

/* ---- Reshape ------------------------------------------------------------------------------ */
static const ck_field reshape_fields[] = {
    CK_FIELD(ck_reshape_config, target_shape, CK_FT_SHAPE, NULL, 0, CK_FF_REQUIRED | CK_FF_MINUS1),
};

static ck_status reshape_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)n_in;
    const ck_shape *t = &CK_CFG(l, ck_reshape_config)->target_shape;
    if (t->rank < 0 || t->rank + 1 > CK_MAX_RANK)
        return ck_layer_error(l, CK_ERR_SHAPE, "field 'target_shape' must be a tuple of rank < %d", CK_MAX_RANK);
    int64_t known = 1, total;
    int unknown = -1;
    for (int i = 0; i < t->rank; i++) {
        int64_t d = t->dim[i];
        if (d == -1) {
            if (unknown >= 0) return ck_layer_error(l, CK_ERR_SHAPE, "field 'target_shape' has more than one -1");
            unknown = i;
        } else if (d <= 0 || !ck_mul_ok(known, d, &known)) {
            return ck_layer_error(l, CK_ERR_SHAPE, "field 'target_shape' has an invalid dimension %lld", (long long)d);
        }
    }
    ck_status st = ck_shape_size_from(&in[0], 1, &total);
    if (st) return ck_fail_prefix(st, "%s '%s': ", l->cls->class_name, l->name);
    out[0] = (ck_shape){.rank = t->rank + 1, .dim = {in[0].dim[0]}};
    for (int i = 0; i < t->rank; i++) out[0].dim[i + 1] = t->dim[i];
    if (total != CK_NONE) {
        if (unknown >= 0) {
            if (total % known) goto mismatch;
            out[0].dim[unknown + 1] = total / known;
        } else if (total != known) {
            goto mismatch;
        }
    } else if (unknown >= 0) {
        out[0].dim[unknown + 1] = CK_NONE;
    }
    *n_out = 1;
    return CK_OK;
mismatch: {
    char a[96], b[96];
    ck_shape_repr(&in[0], a, sizeof a);
    ck_shape_repr(t, b, sizeof b);
    return ck_layer_error(l, CK_ERR_SHAPE, "cannot reshape input %s (%lld values) to target_shape %s",
                          a, (long long)total, b);
}
}

CK_CLASS(ck_class_reshape, "Reshape", CK_CONFIG(ck_reshape_config, reshape_fields), CK_ONE_INPUT,
         .build = reshape_build, .forward = copy_forward, .backward = copy_backward,
         .keras.no_build_config = true);

/* ---- Permute -------------------------------------------------------------------------------- */
static const ck_field permute_fields[] = {
    CK_FIELD(ck_permute_config, dims, CK_FT_INTS, NULL, 0, CK_FF_REQUIRED),
};

static ck_status permute_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)n_in;
    const ck_ints *d = &CK_CFG(l, ck_permute_config)->dims;
    if (d->n != in[0].rank - 1)
        return ck_layer_error(l, CK_ERR_SHAPE, "field 'dims' has %d entries for an input of rank %d", d->n, in[0].rank);
    bool seen[CK_MAX_RANK] = {0};
    out[0] = in[0];
    for (int i = 0; i < d->n; i++) {
        int64_t a = d->v[i];
        if (a < 1 || a > d->n || seen[a])
            return ck_layer_error(l, CK_ERR_CONFIG, "field 'dims' must be a permutation of 1..%d", d->n);
        seen[a] = true;
        out[0].dim[i + 1] = in[0].dim[a];
    }
    *n_out = 1;
    return CK_OK;
}

static void permute_axes(const ck_layer *l, const ck_tensor *x, int64_t *dims, int *perm)
{
    const ck_ints *d = &CK_CFG(l, ck_permute_config)->dims;
    for (int i = 0; i < d->n; i++) {
        dims[i] = x->shape.dim[i + 1];
        perm[i] = (int)d->v[i] - 1;
    }
}

static ck_status permute_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out, (void)ex;
    int64_t dims[CK_MAX_RANK], row = ck_row_size(&in[0]);
    int perm[CK_MAX_RANK], rank = CK_CFG(l, ck_permute_config)->dims.n;
    permute_axes(l, &in[0], dims, perm);
    for (int64_t b = 0; b < in[0].shape.dim[0]; b++)
        ck_permute(in[0].data + b * row, dims, rank, perm, out[0].data + b * row, false);
    return CK_OK;
}

static ck_status permute_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)out, (void)n_out, (void)ex;
    if (!din[0].data) return CK_OK;
    int64_t dims[CK_MAX_RANK], row = ck_row_size(&in[0]);
    int perm[CK_MAX_RANK], rank = CK_CFG(l, ck_permute_config)->dims.n;
    permute_axes(l, &in[0], dims, perm);
    for (int64_t b = 0; b < in[0].shape.dim[0]; b++)
        ck_permute(din[0].data + b * row, dims, rank, perm, dout[0].data + b * row, true);
    return CK_OK;
}

CK_CLASS(ck_class_permute, "Permute", CK_CONFIG(ck_permute_config, permute_fields), CK_ONE_INPUT,
         .build = permute_build, .forward = permute_forward, .backward = permute_backward);

/* ---- RepeatVector ------------------------------------------------------------------------------ */
static const ck_field repeat_fields[] = {
    CK_FIELD(ck_repeat_vector_config, n, CK_FT_INT, NULL, 0, CK_FF_REQUIRED),
};

static ck_status repeat_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)n_in;
    int64_t n = CK_CFG(l, ck_repeat_vector_config)->n;
    if (in[0].rank != 2) return ck_layer_error(l, CK_ERR_SHAPE, "input must have rank 2, got %d", in[0].rank);
    if (n <= 0) return ck_layer_error(l, CK_ERR_CONFIG, "field 'n' must be positive");
    out[0] = (ck_shape){.rank = 3, .dim = {in[0].dim[0], n, in[0].dim[1]}};
    *n_out = 1;
    return CK_OK;
}

/* [b, d] -> [b, n, d]; backward sums the n copies. */
static ck_status repeat_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out, (void)ex;
    int64_t n = CK_CFG(l, ck_repeat_vector_config)->n, d = in[0].shape.dim[1];
    for (int64_t b = 0; b < in[0].shape.dim[0]; b++)
        for (int64_t r = 0; r < n; r++)
            memcpy(out[0].data + (b * n + r) * d, in[0].data + b * d, (size_t)d * sizeof(float));
    return CK_OK;
}

static ck_status repeat_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)out, (void)n_out, (void)ex;
    if (!din[0].data) return CK_OK;
    int64_t n = CK_CFG(l, ck_repeat_vector_config)->n, d = in[0].shape.dim[1];
    for (int64_t b = 0; b < in[0].shape.dim[0]; b++)
        ck_sum_rows_acc(din[0].data + b * d, dout[0].data + b * n * d, n, d);
    return CK_OK;
}

CK_CLASS(ck_class_repeat_vector, "RepeatVector", CK_CONFIG(ck_repeat_vector_config, repeat_fields),
         CK_ONE_INPUT, .build = repeat_build, .forward = repeat_forward, .backward = repeat_backward);

CK_FAMILY(ck_core_layers, &ck_class_input_layer, &ck_class_dense, &ck_class_activation,
          &ck_class_dropout, &ck_class_identity, &ck_class_flatten, &ck_class_reshape,
          &ck_class_permute, &ck_class_repeat_vector);
