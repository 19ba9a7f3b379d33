/* Core layers: InputLayer, Dense, Activation, Dropout, Flatten, Reshape, Permute,
 * RepeatVector and Identity. Each is one class-table entry: its config fields with
 * Keras 3's defaults, and a build that checks shapes and creates weights in
 * Keras's order. The engine (kernels/, train/) supplies forward and backward. */
#include "layers/layers.h"
#include "layers/core_layers.h"

#include <string.h>

#define JSON_NULL_FIELD(type, member) CK_FIELD(type, member, CK_FT_JSON, "null", 0, CK_FF_NULLABLE)

/* ---- InputLayer ----------------------------------------------------------------- */
static const ck_field input_fields[] = {
    CK_FIELD(ck_input_config, sparse, CK_FT_BOOL, "false"),
    CK_FIELD(ck_input_config, ragged, CK_FT_BOOL, "false"),
    CK_FIELD(ck_input_config, optional, CK_FT_BOOL, "false"),
};

static ck_status input_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)in, (void)n_in;
    if (!l->has_input_shape) return ck_layer_error(l, CK_ERR_CONFIG, "needs a shape");
    out[0] = l->input_shape;
    *n_out = 1;
    return CK_OK;
}

const ck_layer_class ck_class_input_layer = {
    .class_name = "InputLayer", .module = "keras.layers", .config_size = sizeof(ck_input_config),
    .fields = input_fields, .n_fields = 3, .min_inputs = 0, .max_inputs = 0,
    .build = input_build,
};

/* ---- Dense ------------------------------------------------------------------------ */
static const ck_field dense_fields[] = {
    CK_FIELD(ck_dense_config, units, CK_FT_INT, NULL, 0, CK_FF_REQUIRED),
    CK_FIELD(ck_dense_config, activation, CK_FT_ACT, "\"linear\"", 0, CK_FF_NULLABLE),
    CK_FIELD(ck_dense_config, use_bias, CK_FT_BOOL, "true"),
    CK_FIELD(ck_dense_config, kernel_initializer, CK_FT_INIT, "\"glorot_uniform\""),
    CK_FIELD(ck_dense_config, bias_initializer, CK_FT_INIT, "\"zeros\""),
    JSON_NULL_FIELD(ck_dense_config, kernel_regularizer),
    JSON_NULL_FIELD(ck_dense_config, bias_regularizer),
    JSON_NULL_FIELD(ck_dense_config, kernel_constraint),
    JSON_NULL_FIELD(ck_dense_config, bias_constraint),
    JSON_NULL_FIELD(ck_dense_config, activity_regularizer),
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

const ck_layer_class ck_class_dense = {
    .class_name = "Dense", .module = "keras.layers", .config_size = sizeof(ck_dense_config),
    .fields = dense_fields, .n_fields = 10, .min_inputs = 1, .max_inputs = 1,
    .build = dense_build, .flops = dense_flops,
};

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

const ck_layer_class ck_class_activation = {
    .class_name = "Activation", .module = "keras.layers", .config_size = sizeof(ck_activation_config),
    .fields = activation_fields, .n_fields = 1, .min_inputs = 1, .max_inputs = 1,
    .build = same_shape_build,
};

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

const ck_layer_class ck_class_dropout = {
    .class_name = "Dropout", .module = "keras.layers", .config_size = sizeof(ck_dropout_config),
    .fields = dropout_fields, .n_fields = 3, .min_inputs = 1, .max_inputs = 1,
    .build = dropout_build,
};

const ck_layer_class ck_class_identity = {
    .class_name = "Identity", .module = "keras.layers", .min_inputs = 1, .max_inputs = 1,
    .build = same_shape_build,
};

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

const ck_layer_class ck_class_flatten = {
    .class_name = "Flatten", .module = "keras.layers", .config_size = sizeof(ck_flatten_config),
    .fields = flatten_fields, .n_fields = 1, .min_inputs = 1, .max_inputs = 1,
    .build = flatten_build,
};

/* ---- Reshape ------------------------------------------------------------------------------ */
static const ck_field reshape_fields[] = {
    CK_FIELD(ck_reshape_config, target_shape, CK_FT_SHAPE, NULL, 0, CK_FF_REQUIRED),
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

const ck_layer_class ck_class_reshape = {
    .class_name = "Reshape", .module = "keras.layers", .config_size = sizeof(ck_reshape_config),
    .fields = reshape_fields, .n_fields = 1, .min_inputs = 1, .max_inputs = 1,
    .build = reshape_build,
};

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

const ck_layer_class ck_class_permute = {
    .class_name = "Permute", .module = "keras.layers", .config_size = sizeof(ck_permute_config),
    .fields = permute_fields, .n_fields = 1, .min_inputs = 1, .max_inputs = 1,
    .build = permute_build,
};

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

const ck_layer_class ck_class_repeat_vector = {
    .class_name = "RepeatVector", .module = "keras.layers", .config_size = sizeof(ck_repeat_vector_config),
    .fields = repeat_fields, .n_fields = 1, .min_inputs = 1, .max_inputs = 1,
    .build = repeat_build,
};

CK_FAMILY(ck_core_layers, &ck_class_input_layer, &ck_class_dense, &ck_class_activation,
          &ck_class_dropout, &ck_class_identity, &ck_class_flatten, &ck_class_reshape,
          &ck_class_permute, &ck_class_repeat_vector);
