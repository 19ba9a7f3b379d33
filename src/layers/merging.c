/* Merging layers: the elementwise ones (Add, Subtract, Multiply, Average, Maximum,
 * Minimum) broadcast their inputs' non-batch dims as Keras 3 does; Concatenate joins
 * along an axis; Dot contracts one axis of each of two inputs. */
#include "layers/layers.h"
#include "layers/core_layers.h"

static ck_status broadcast_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    ck_shape r = in[0];
    for (int k = 1; k < n_in; k++) {
        const ck_shape *s = &in[k];
        int rank = r.rank > s->rank ? r.rank : s->rank;
        ck_shape t = {.rank = rank};
        for (int i = 0; i < rank; i++) {
            /* Align from the right, as numpy broadcasting does. */
            int ia = i - (rank - r.rank), ib = i - (rank - s->rank);
            int64_t a = ia >= 0 ? r.dim[ia] : 1, b = ib >= 0 ? s->dim[ib] : 1;
            if (i == 0 && ia >= 0 && ib >= 0) {
                t.dim[0] = a == CK_NONE ? b : a;
            } else if (a == 1 || a == CK_NONE) {
                t.dim[i] = a == CK_NONE && b == 1 ? CK_NONE : b;
            } else if (b == 1 || b == CK_NONE || a == b) {
                t.dim[i] = a;
            } else {
                char x[96], y[96];
                ck_shape_format(&in[0], x, sizeof x);
                ck_shape_format(s, y, sizeof y);
                return ck_layer_error(l, CK_ERR_SHAPE, "inputs %s and %s cannot be broadcast together", x, y);
            }
        }
        r = t;
    }
    out[0] = r;
    *n_out = 1;
    return CK_OK;
}

#define MERGE_CLASS(var, name, lo, hi)                                                     \
    const ck_layer_class var = {.class_name = name, .module = "keras.layers",              \
                                .min_inputs = lo, .max_inputs = hi, .build = broadcast_build}

MERGE_CLASS(ck_class_add, "Add", 2, 64);
MERGE_CLASS(ck_class_subtract, "Subtract", 2, 2);
MERGE_CLASS(ck_class_multiply, "Multiply", 2, 64);
MERGE_CLASS(ck_class_average, "Average", 2, 64);
MERGE_CLASS(ck_class_maximum, "Maximum", 2, 64);
MERGE_CLASS(ck_class_minimum, "Minimum", 2, 64);

/* ---- Concatenate --------------------------------------------------------------- */
static const ck_field concat_fields[] = {
    CK_FIELD(ck_concatenate_config, axis, CK_FT_INT, "-1"),
};

static ck_status concat_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    int axis;
    if (!ck_normalize_axis(CK_CFG(l, ck_concatenate_config)->axis, in[0].rank, &axis) || axis == 0)
        return ck_layer_error(l, CK_ERR_CONFIG, "field 'axis' is out of range for inputs of rank %d", in[0].rank);
    ck_shape r = in[0];
    for (int k = 1; k < n_in; k++) {
        if (in[k].rank != r.rank) goto mismatch;
        for (int i = 1; i < r.rank; i++) {
            if (i == axis) {
                r.dim[i] = (r.dim[i] == CK_NONE || in[k].dim[i] == CK_NONE) ? CK_NONE : r.dim[i] + in[k].dim[i];
            } else if (r.dim[i] != in[k].dim[i] && r.dim[i] != CK_NONE && in[k].dim[i] != CK_NONE) {
                goto mismatch;
            }
        }
    }
    out[0] = r;
    *n_out = 1;
    return CK_OK;
mismatch:
    return ck_layer_error(l, CK_ERR_SHAPE, "inputs must match except along the concat axis %d", axis);
}

const ck_layer_class ck_class_concatenate = {
    .class_name = "Concatenate", .module = "keras.layers", .config_size = sizeof(ck_concatenate_config),
    .fields = concat_fields, .n_fields = 1, .min_inputs = 1, .max_inputs = 64, .build = concat_build,
};

/* ---- Dot --------------------------------------------------------------------------- */
static const ck_field dot_fields[] = {
    CK_FIELD(ck_dot_config, axes, CK_FT_INTS, NULL, 0, CK_FF_REQUIRED | CK_FF_SERIALIZE_INT),
    CK_FIELD(ck_dot_config, normalize, CK_FT_BOOL, "false"),
};

ck_status ck_dot_axes(const ck_layer *l, const ck_shape *in, int axes[2])
{
    const ck_ints *a = &CK_CFG(l, ck_dot_config)->axes;
    if (a->n != 1 && a->n != 2) return ck_layer_error(l, CK_ERR_CONFIG, "field 'axes' must be an int or a pair");
    for (int k = 0; k < 2; k++) {
        int64_t ax = a->v[a->n == 2 ? k : 0];
        if (!ck_normalize_axis(ax, in[k].rank, &axes[k]) || axes[k] == 0)
            return ck_layer_error(l, CK_ERR_CONFIG, "field 'axes' value %lld is out of range", (long long)ax);
    }
    return CK_OK;
}

static ck_status dot_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)n_in;
    int axes[2];
    ck_status st = ck_dot_axes(l, in, axes);
    if (st) return st;
    int64_t a = in[0].dim[axes[0]], b = in[1].dim[axes[1]];
    if (a != CK_NONE && b != CK_NONE && a != b)
        return ck_layer_error(l, CK_ERR_SHAPE, "dimension %lld of input 0 axis %d does not match %lld of input 1 axis %d",
                              (long long)a, axes[0], (long long)b, axes[1]);
    ck_shape r = {.rank = 1, .dim = {in[0].dim[0]}};
    for (int k = 0; k < 2; k++)
        for (int i = 1; i < in[k].rank; i++)
            if (i != axes[k]) {
                if (r.rank >= CK_MAX_RANK) return ck_layer_error(l, CK_ERR_SHAPE, "output rank too large");
                r.dim[r.rank++] = in[k].dim[i];
            }
    if (r.rank == 1) r.dim[r.rank++] = 1;
    out[0] = r;
    *n_out = 1;
    return CK_OK;
}

const ck_layer_class ck_class_dot = {
    .class_name = "Dot", .module = "keras.layers", .config_size = sizeof(ck_dot_config),
    .fields = dot_fields, .n_fields = 2, .min_inputs = 2, .max_inputs = 2, .build = dot_build,
};

CK_FAMILY(ck_merging_layers, &ck_class_add, &ck_class_subtract, &ck_class_multiply,
          &ck_class_average, &ck_class_maximum, &ck_class_minimum, &ck_class_concatenate,
          &ck_class_dot);
