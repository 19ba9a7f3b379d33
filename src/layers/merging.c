/* Merging layers: the elementwise ones (Add, Subtract, Multiply, Average, Maximum,
 * Minimum) broadcast their inputs' non-batch dims as Keras 3 does; Concatenate joins
 * along an axis; Dot contracts one axis of each of two inputs. */
#include "layers/layers.h"
#include "layers/core_layers.h"
#include "layers/engine_util.h"

#include <math.h>
#include <string.h>

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

/* ---- elementwise forward/backward ------------------------------------------------ */
typedef enum merge_op { OP_ADD, OP_SUB, OP_MUL, OP_AVG, OP_MAX, OP_MIN } merge_op;

/* Keras 3 expands a lower-rank input at axis 1 until ranks match, so the batch
 * axis stays first and the other dims align from the right. */
static void input_strides(const ck_tensor *x, const ck_tensor *y, int64_t *strides)
{
    int64_t dims[CK_MAX_RANK];
    int pad = y->shape.rank - x->shape.rank;
    dims[0] = x->shape.dim[0];
    for (int a = 1; a < y->shape.rank; a++) dims[a] = a - pad >= 1 ? x->shape.dim[a - pad] : 1;
    ck_bcast_strides(dims, y->shape.rank, y->shape.dim, y->shape.rank, strides);
}

static bool same_shape(const ck_tensor *x, const ck_tensor *y)
{
    return ck_shape_eq(&x->shape, &y->shape);
}

static inline float combine(merge_op op, float a, float b)
{
    switch (op) {
    case OP_SUB: return a - b;
    case OP_MUL: return a * b;
    case OP_MAX: return a > b ? a : b;
    case OP_MIN: return a < b ? a : b;
    default: return a + b;
    }
}

static inline int64_t offset_of(const ck_tensor *x, const ck_tensor *y, const int64_t *strides, int64_t j)
{
    return same_shape(x, y) ? j : ck_bcast_offset(j, y->shape.dim, y->shape.rank, strides);
}

static bool all_same_shape(const ck_tensor *in, int n_in, const ck_tensor *out)
{
    for (int k = 0; k < n_in; k++)
        if (!same_shape(&in[k], out)) return false;
    return true;
}

/* Inputs of the output's shape (a residual Add): one contiguous pass per input. */
static void merge_forward_same(merge_op op, const ck_tensor *in, int n_in, float *y, int64_t n)
{
    memcpy(y, in[0].data, (size_t)n * sizeof *y);
    for (int k = 1; k < n_in; k++) {
        const float *x = in[k].data;
        switch (op) {
        case OP_SUB: for (int64_t j = 0; j < n; j++) y[j] -= x[j]; break;
        case OP_MUL: for (int64_t j = 0; j < n; j++) y[j] *= x[j]; break;
        case OP_MAX: for (int64_t j = 0; j < n; j++) y[j] = y[j] > x[j] ? y[j] : x[j]; break;
        case OP_MIN: for (int64_t j = 0; j < n; j++) y[j] = y[j] < x[j] ? y[j] : x[j]; break;
        default: for (int64_t j = 0; j < n; j++) y[j] += x[j]; break;
        }
    }
    if (op == OP_AVG)
        for (int64_t j = 0; j < n; j++) y[j] /= (float)n_in;
}

static ck_status merge_forward(merge_op op, const ck_tensor *in, int n_in, ck_tensor *out)
{
    int64_t n = ck_numel(&out[0]), strides[64][CK_MAX_RANK];
    if (all_same_shape(in, n_in, out)) {
        merge_forward_same(op, in, n_in, out[0].data, n);
        return CK_OK;
    }
    for (int k = 0; k < n_in; k++) input_strides(&in[k], &out[0], strides[k]);
    float *y = out[0].data;
    for (int64_t j = 0; j < n; j++) {
        float acc = in[0].data[offset_of(&in[0], &out[0], strides[0], j)];
        for (int k = 1; k < n_in; k++) acc = combine(op, acc, in[k].data[offset_of(&in[k], &out[0], strides[k], j)]);
        y[j] = op == OP_AVG ? acc / (float)n_in : acc;
    }
    return CK_OK;
}

/* d/dx_k of the merged value at output element j (Add, Subtract, Average, Multiply). */
static float merge_partial(merge_op op, const ck_tensor *in, int n_in, const ck_tensor *out,
                           int64_t (*strides)[CK_MAX_RANK], int k, int64_t j)
{
    switch (op) {
    case OP_ADD: return 1.0f;
    case OP_SUB: return k == 0 ? 1.0f : -1.0f;
    case OP_AVG: return 1.0f / (float)n_in;
    case OP_MUL: {
        float p = 1.0f;
        for (int m = 0; m < n_in; m++)
            if (m != k) p *= in[m].data[offset_of(&in[m], &out[0], strides[m], j)];
        return p;
    }
    default: return 0.0f; /* Maximum/Minimum: extreme_backward */
    }
}

/* Maximum/Minimum as Keras computes them, a chain of pairwise ops.maximum
 * (acc = max(acc, x_k)), differentiated as JAX does: a tie splits the gradient
 * in halves between the two operands, so equal branches learn alike. */
static void extreme_backward(merge_op op, const ck_tensor *in, int n_in, const ck_tensor *out,
                             int64_t (*strides)[CK_MAX_RANK], const float *dout, ck_tensor *din)
{
    int64_t n = ck_numel(&out[0]);
    float acc[64];
    for (int64_t j = 0; j < n; j++) {
        acc[0] = in[0].data[offset_of(&in[0], &out[0], strides[0], j)];
        for (int k = 1; k < n_in; k++) acc[k] = combine(op, acc[k - 1], in[k].data[offset_of(&in[k], &out[0], strides[k], j)]);
        float g = dout[j]; /* gradient reaching acc[k] */
        for (int k = n_in - 1; k >= 0 && g != 0.0f; k--) {
            float x = in[k].data[offset_of(&in[k], &out[0], strides[k], j)], gx;
            if (k == 0) gx = g, g = 0.0f;
            else if (x == acc[k - 1]) gx = 0.5f * g, g *= 0.5f;
            else if (x == acc[k]) gx = g, g = 0.0f;
            else gx = 0.0f;
            if (din[k].data) din[k].data[offset_of(&in[k], &out[0], strides[k], j)] += gx;
        }
    }
}

static ck_status merge_backward(merge_op op, const ck_tensor *in, int n_in, const ck_tensor *out,
                                const ck_tensor *dout, ck_tensor *din)
{
    int64_t n = ck_numel(&out[0]), strides[64][CK_MAX_RANK];
    for (int k = 0; k < n_in; k++) input_strides(&in[k], &out[0], strides[k]);
    if (op == OP_MAX || op == OP_MIN) {
        extreme_backward(op, in, n_in, out, strides, dout[0].data, din);
        return CK_OK;
    }
    for (int k = 0; k < n_in; k++) {
        if (!din[k].data) continue;
        if (op != OP_MUL && same_shape(&in[k], out)) { /* a constant partial: one pass */
            float c = merge_partial(op, in, n_in, out, strides, k, 0);
            for (int64_t j = 0; j < n; j++) din[k].data[j] += dout[0].data[j] * c;
            continue;
        }
        for (int64_t j = 0; j < n; j++)
            din[k].data[offset_of(&in[k], &out[0], strides[k], j)] +=
                dout[0].data[j] * merge_partial(op, in, n_in, out, strides, k, j);
    }
    return CK_OK;
}

/* ---- masks (keras/src/layers/merging/base_merge.py, multiply.py) ----------------
 * Add, Subtract and Average leave values alone. Multiply replaces an input's
 * masked steps by 1 and, when every input has a mask, zeroes the steps none
 * keeps. Maximum and Minimum (_apply_merge_op_and_or_mask) fold pairwise: a
 * masked step of the next input takes the running value, a masked step of the
 * running value takes the input's, and the running mask is the OR while every
 * input so far had one. The output mask (the engine's CK_MASK_ALL) is the OR. */
typedef struct merge_masks {
    float *const *in; /* [n_in] [rows, steps] or NULL per input; NULL: none has one */
    float *out;       /* [rows, steps] to write, or NULL                             */
    int64_t feat;     /* elements per step: the output's last dim                    */
} merge_masks;

static merge_masks masks_of(const ck_run *ex, const ck_tensor *out)
{
    merge_masks m = {ex ? ex->in_masks : NULL, ex ? ex->out_mask : NULL, out[0].shape.dim[out[0].shape.rank - 1]};
    return m;
}

/* Whether input k's step t is masked out. */
static inline bool masked_out(const merge_masks *m, int k, int64_t t)
{
    return m->in[k] && m->in[k][t] == 0.0f;
}

static bool every_input_masked(const merge_masks *m, int n_in)
{
    for (int k = 0; k < n_in; k++)
        if (!m->in[k]) return false;
    return true;
}

/* Maximum/Minimum of one element as _apply_merge_op_and_or_mask folds it:
 * acc[k] the running value after input k, and where the pair op(a, b) of step k
 * took its operands from (bit 0: a is x_k, else the running value; bit 1: b is
 * x_k, else the running value), so backward follows the selections. */
static void extreme_fold(merge_op op, const merge_masks *m, int n_in, const float *x, int64_t t, float *acc,
                         unsigned char *from)
{
    bool have = m->in[0] != NULL, keep = !masked_out(m, 0, t);
    acc[0] = x[0];
    for (int k = 1; k < n_in; k++) {
        bool bx = !masked_out(m, k, t);   /* x = where(mask, x, output)              */
        bool ab = have && !keep;          /* output = where(output_mask, output, x)  */
        bool ax = ab && bx;
        from[k] = (unsigned char)((ax ? 1 : 0) | (bx ? 2 : 0));
        acc[k] = combine(op, ax ? x[k] : acc[k - 1], bx ? x[k] : acc[k - 1]);
        if (have && m->in[k]) keep = keep || bx;
        else have = false;
    }
}

/* Forward of inputs that all have the output's shape when some carry masks. */
static void merge_forward_masked(merge_op op, const ck_tensor *in, int n_in, const merge_masks *m, float *y, int64_t n)
{
    bool all = every_input_masked(m, n_in);
    float acc[64], x[64];
    unsigned char from[64];
    for (int64_t j = 0; j < n; j++) {
        int64_t t = j / m->feat;
        for (int k = 0; k < n_in; k++) x[k] = in[k].data[j];
        if (op == OP_MAX || op == OP_MIN) {
            extreme_fold(op, m, n_in, x, t, acc, from);
            y[j] = acc[n_in - 1];
        } else if (op == OP_MUL) {
            float p = 1.0f;
            bool any = false;
            for (int k = 0; k < n_in; k++) {
                if (!masked_out(m, k, t)) p *= x[k];
                any = any || !masked_out(m, k, t);
            }
            y[j] = all && !any ? 0.0f : p;
        }
    }
}

/* The output mask: the OR of the inputs' (Merge.compute_mask). */
static void merge_out_mask(const merge_masks *m, int n_in, int64_t steps)
{
    for (int64_t t = 0; m->out && t < steps; t++) {
        bool keep = false;
        for (int k = 0; k < n_in; k++) keep = keep || !masked_out(m, k, t);
        m->out[t] = keep ? 1.0f : 0.0f;
    }
}

/* Backward of merge_forward_masked (Multiply, Maximum, Minimum); JAX's
 * where() sends the gradient to the chosen operand, maximum splits ties. */
static void merge_backward_masked(merge_op op, const ck_tensor *in, int n_in, const merge_masks *m, const float *dy,
                                  ck_tensor *din, int64_t n)
{
    bool all = every_input_masked(m, n_in);
    float acc[64], x[64];
    unsigned char from[64];
    for (int64_t j = 0; j < n; j++) {
        int64_t t = j / m->feat;
        float g = dy[j];
        for (int k = 0; k < n_in; k++) x[k] = in[k].data[j];
        if (op == OP_MUL) {
            bool any = false;
            for (int k = 0; k < n_in; k++) any = any || !masked_out(m, k, t);
            if (all && !any) continue;
            for (int k = 0; k < n_in; k++) {
                if (!din[k].data || masked_out(m, k, t)) continue;
                float p = 1.0f;
                for (int q = 0; q < n_in; q++)
                    if (q != k && !masked_out(m, q, t)) p *= x[q];
                din[k].data[j] += g * p;
            }
            continue;
        }
        extreme_fold(op, m, n_in, x, t, acc, from);
        for (int k = n_in - 1; k >= 1 && g != 0.0f; k--) {
            float a = from[k] & 1 ? x[k] : acc[k - 1], b = from[k] & 2 ? x[k] : acc[k - 1], ga, gb;
            if (a == b) ga = gb = 0.5f * g;
            else if (acc[k] == a) ga = g, gb = 0.0f;
            else ga = 0.0f, gb = g;
            float gx = (from[k] & 1 ? ga : 0.0f) + (from[k] & 2 ? gb : 0.0f);
            if (din[k].data) din[k].data[j] += gx;
            g -= gx;
        }
        if (din[0].data) din[0].data[j] += g;
    }
}

/* Whether values depend on the masks: Multiply, Maximum, Minimum with one. */
static bool values_masked(merge_op op, const merge_masks *m)
{
    return m->in && (op == OP_MUL || op == OP_MAX || op == OP_MIN);
}

static ck_status merge_forward_hook(merge_op op, const ck_layer *l, const ck_tensor *in, int n_in, ck_tensor *out,
                                    const ck_run *ex)
{
    merge_masks m = masks_of(ex, out);
    /* the masks meet elementwise only: broadcast inputs that would read them are refused */
    if ((m.out || values_masked(op, &m)) && !all_same_shape(in, n_in, out))
        return ck_layer_error(l, CK_ERR_UNSUPPORTED, "inputs with Keras masks must all have the output's shape");
    int64_t n = ck_numel(&out[0]);
    merge_out_mask(&m, n_in, n / m.feat);
    if (!values_masked(op, &m)) return merge_forward(op, in, n_in, out);
    merge_forward_masked(op, in, n_in, &m, out[0].data, n);
    return CK_OK;
}

static ck_status merge_backward_hook(merge_op op, const ck_tensor *in, int n_in, const ck_tensor *out,
                                     const ck_tensor *dout, ck_tensor *din, const ck_run *ex)
{
    merge_masks m = masks_of(ex, out);
    if (!values_masked(op, &m)) return merge_backward(op, in, n_in, out, dout, din);
    merge_backward_masked(op, in, n_in, &m, dout[0].data, din, ck_numel(&out[0]));
    return CK_OK;
}

/* The hooks of one merge operation (kind_forward, kind_backward). */
#define MERGE_HOOKS(kind, op)                                                                     \
    static ck_status kind##_forward(CK_FWD_ARGS)                                                 \
    {                                                                                            \
        (void)n_out;                                                                             \
        return merge_forward_hook(op, l, in, n_in, out, ex);                                     \
    }                                                                                            \
    static ck_status kind##_backward(CK_BWD_ARGS)                                                \
    {                                                                                            \
        (void)l, (void)n_out;                                                                    \
        return merge_backward_hook(op, in, n_in, out, dout, din, ex);                            \
    }
MERGE_HOOKS(add, OP_ADD)
MERGE_HOOKS(subtract, OP_SUB)
MERGE_HOOKS(multiply, OP_MUL)
MERGE_HOOKS(average, OP_AVG)
MERGE_HOOKS(maximum, OP_MAX)
MERGE_HOOKS(minimum, OP_MIN)

/* Merge.compute_mask (keras/src/layers/merging/base_merge.py): the OR of the
 * inputs' masks, none unless every input has one. Dot overrides it with None. */
static ck_mask_mode merge_mask(const ck_layer *l, int index)
{
    (void)l, (void)index;
    return CK_MASK_ALL;
}

CK_CLASS(ck_class_add, "Add", .min_inputs = 2, .max_inputs = 64, .build = broadcast_build, .forward = add_forward,
         .backward = add_backward, .mask = merge_mask);
CK_CLASS(ck_class_subtract, "Subtract", .min_inputs = 2, .max_inputs = 2, .build = broadcast_build,
         .forward = subtract_forward, .backward = subtract_backward, .mask = merge_mask);
CK_CLASS(ck_class_multiply, "Multiply", .min_inputs = 2, .max_inputs = 64, .build = broadcast_build,
         .forward = multiply_forward, .backward = multiply_backward, .mask = merge_mask);
CK_CLASS(ck_class_average, "Average", .min_inputs = 2, .max_inputs = 64, .build = broadcast_build,
         .forward = average_forward, .backward = average_backward, .mask = merge_mask);
CK_CLASS(ck_class_maximum, "Maximum", .min_inputs = 2, .max_inputs = 64, .build = broadcast_build,
         .forward = maximum_forward, .backward = maximum_backward, .mask = merge_mask);
CK_CLASS(ck_class_minimum, "Minimum", .min_inputs = 2, .max_inputs = 64, .build = broadcast_build,
         .forward = minimum_forward, .backward = minimum_backward, .mask = merge_mask);

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

/* Each input is [outer, inner_k] around the axis (outer includes the batch);
 * the output interleaves the inputs' inner blocks. */
static ck_status concat_run(ck_layer *l, const ck_tensor *in, int n_in, float *y, ck_tensor *din, bool backward)
{
    int axis;
    ck_normalize_axis(CK_CFG(l, ck_concatenate_config)->axis, in[0].shape.rank, &axis);
    int64_t outer = 1, inner_out = 0;
    for (int a = 0; a < axis; a++) outer *= in[0].shape.dim[a];
    for (int k = 0; k < n_in; k++) inner_out += ck_numel(&in[k]) / outer;
    int64_t off = 0;
    for (int k = 0; k < n_in; k++) {
        int64_t inner = ck_numel(&in[k]) / outer;
        for (int64_t o = 0; o < outer; o++) {
            float *yo = y + o * inner_out + off;
            if (!backward) memcpy(yo, in[k].data + o * inner, (size_t)inner * sizeof(float));
            else if (din[k].data) ck_vec_add(din[k].data + o * inner, yo, inner);
        }
        off += inner;
    }
    return CK_OK;
}

/* Concatenate.compute_mask (keras/src/layers/merging/concatenate.py): each
 * input's mask (all ones for an input without one) broadcast over its last
 * axis, concatenated along the axis, then any() over the last axis: the OR of
 * the masks when joining features, the masks joined along the axis otherwise. */
static void concat_mask(const ck_layer *l, const ck_tensor *in, int n_in, float *const *masks, float *y)
{
    int axis, r = in[0].shape.rank;
    ck_normalize_axis(CK_CFG(l, ck_concatenate_config)->axis, r, &axis);
    int64_t steps = ck_numel(&in[0]) / in[0].shape.dim[r - 1];
    if (axis == r - 1) {
        for (int64_t t = 0; t < steps; t++) {
            bool keep = false;
            for (int k = 0; k < n_in; k++) keep = keep || !masks[k] || masks[k][t] != 0.0f;
            y[t] = keep ? 1.0f : 0.0f;
        }
        return;
    }
    int64_t outer = 1, inner_out = 0, off = 0;
    for (int a = 0; a < axis; a++) outer *= in[0].shape.dim[a];
    for (int k = 0; k < n_in; k++) inner_out += ck_numel(&in[k]) / in[k].shape.dim[r - 1] / outer;
    for (int k = 0; k < n_in; k++) {
        int64_t inner = ck_numel(&in[k]) / in[k].shape.dim[r - 1] / outer;
        for (int64_t o = 0; o < outer; o++)
            for (int64_t i = 0; i < inner; i++) y[o * inner_out + off + i] = masks[k] ? masks[k][o * inner + i] : 1.0f;
        off += inner;
    }
}

static ck_status concat_forward(CK_FWD_ARGS)
{
    (void)n_out;
    if (ex && ex->out_mask) concat_mask(l, in, n_in, ex->in_masks, ex->out_mask);
    return concat_run(l, in, n_in, out[0].data, NULL, false);
}

static ck_mask_mode concat_mask_mode(const ck_layer *l, int index)
{
    (void)l, (void)index;
    return CK_MASK_ANY;
}

static ck_status concat_backward(CK_BWD_ARGS)
{
    (void)out, (void)n_out, (void)ex;
    return concat_run(l, in, n_in, dout[0].data, din, true);
}

CK_CLASS(ck_class_concatenate, "Concatenate", CK_CONFIG(ck_concatenate_config, concat_fields),
         .min_inputs = 1, .max_inputs = 64, .build = concat_build, .forward = concat_forward,
         .backward = concat_backward, .mask = concat_mask_mode);

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

/* One input of Dot seen per sample as [pre, K, post] around its contracted axis;
 * the kept elements are numbered i = p * post + q, in the input's axis order. */
typedef struct dot_view {
    int64_t pre, K, post, row;
} dot_view;

static dot_view dot_view_of(const ck_tensor *x, int axis)
{
    dot_view v = {1, x->shape.dim[axis], 1, ck_row_size(x)};
    for (int a = 1; a < axis; a++) v.pre *= x->shape.dim[a];
    for (int a = axis + 1; a < x->shape.rank; a++) v.post *= x->shape.dim[a];
    return v;
}

static inline int64_t dot_at(const dot_view *v, int64_t i, int64_t k)
{
    return ((i / v->post) * v->K + k) * v->post + i % v->post;
}

/* Keras's normalize(x, axis): x / max(||x||_2, 1e-7) along the axis. */
#define DOT_NORM_EPS 1e-7

static void l2_normalize(const float *x, const dot_view *v, float *y)
{
    for (int64_t i = 0; i < v->pre * v->post; i++) {
        double ss = 0.0;
        for (int64_t k = 0; k < v->K; k++) ss += (double)x[dot_at(v, i, k)] * x[dot_at(v, i, k)];
        double d = sqrt(ss);
        float inv = (float)(1.0 / (d > DOT_NORM_EPS ? d : DOT_NORM_EPS));
        for (int64_t k = 0; k < v->K; k++) y[dot_at(v, i, k)] = x[dot_at(v, i, k)] * inv;
    }
}

/* dx += (dy - y * <dy, y>) / ||x|| when the norm is above eps, else dy / eps. */
static void l2_normalize_backward(const float *x, const float *y, const float *dy, const dot_view *v, float *dx)
{
    for (int64_t i = 0; i < v->pre * v->post; i++) {
        double ss = 0.0, dot = 0.0;
        for (int64_t k = 0; k < v->K; k++) {
            int64_t at = dot_at(v, i, k);
            ss += (double)x[at] * x[at];
            dot += (double)dy[at] * y[at];
        }
        double d = sqrt(ss);
        for (int64_t k = 0; k < v->K; k++) {
            int64_t at = dot_at(v, i, k);
            dx[at] += d > DOT_NORM_EPS ? (float)((dy[at] - y[at] * dot) / d) : (float)(dy[at] / DOT_NORM_EPS);
        }
    }
}

static void dot_setup(const ck_layer *l, const ck_tensor *in, dot_view v[2])
{
    ck_shape s[2] = {in[0].shape, in[1].shape};
    int axes[2];
    ck_dot_axes(l, s, axes);
    v[0] = dot_view_of(&in[0], axes[0]);
    v[1] = dot_view_of(&in[1], axes[1]);
}

/* Per row: the normalised inputs and their gradients (normalize=True only). */
static int64_t dot_workspace(const ck_layer *l)
{
    if (!CK_CFG(l, ck_dot_config)->normalize) return 0;
    int64_t a, b;
    if (ck_shape_size_from(&l->in_shapes[0], 1, &a) || ck_shape_size_from(&l->in_shapes[1], 1, &b) ||
        a == CK_NONE || b == CK_NONE)
        return 0;
    return 2 * (a + b);
}

/* The engine's buffers for the normalised inputs u and their grads du, laid out
 * by the planned batch so forward and backward agree. */
static void dot_inputs(const ck_layer *l, const ck_tensor *in, const dot_view v[2], ck_run *ex, float *u[2], float *du[2])
{
    if (!CK_CFG(l, ck_dot_config)->normalize) {
        u[0] = in[0].data, u[1] = in[1].data;
        du[0] = du[1] = NULL;
        return;
    }
    int64_t B = ex->batch;
    u[0] = ex->workspace;
    u[1] = u[0] + B * v[0].row;
    du[0] = u[1] + B * v[1].row;
    du[1] = du[0] + B * v[0].row;
}

static ck_status dot_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out;
    dot_view v[2];
    float *u[2], *du[2];
    dot_setup(l, in, v);
    if (CK_CFG(l, ck_dot_config)->normalize && !ex->workspace)
        return ck_layer_error(l, CK_ERR_SHAPE, "the engine needs every input dimension known");
    dot_inputs(l, in, v, ex, u, du);
    int64_t rows = in[0].shape.dim[0], n1 = v[0].pre * v[0].post, n2 = v[1].pre * v[1].post, K = v[0].K;
    for (int64_t b = 0; b < rows; b++) {
        if (CK_CFG(l, ck_dot_config)->normalize)
            for (int k = 0; k < 2; k++) l2_normalize(in[k].data + b * v[k].row, &v[k], u[k] + b * v[k].row);
        const float *x1 = u[0] + b * v[0].row, *x2 = u[1] + b * v[1].row;
        float *y = out[0].data + b * n1 * n2;
        for (int64_t i1 = 0; i1 < n1; i1++)
            for (int64_t i2 = 0; i2 < n2; i2++) {
                float s = 0.0f;
                for (int64_t k = 0; k < K; k++) s += x1[dot_at(&v[0], i1, k)] * x2[dot_at(&v[1], i2, k)];
                y[i1 * n2 + i2] = s;
            }
    }
    return CK_OK;
}

static ck_status dot_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)out, (void)n_out;
    dot_view v[2];
    float *u[2], *du[2];
    dot_setup(l, in, v);
    dot_inputs(l, in, v, ex, u, du);
    bool norm = CK_CFG(l, ck_dot_config)->normalize;
    int64_t rows = in[0].shape.dim[0], n1 = v[0].pre * v[0].post, n2 = v[1].pre * v[1].post, K = v[0].K;
    for (int k = 0; k < 2; k++)
        if (norm) memset(du[k], 0, (size_t)(rows * v[k].row) * sizeof(float));
        else du[k] = din[k].data;
    for (int64_t b = 0; b < rows; b++) {
        const float *x1 = u[0] + b * v[0].row, *x2 = u[1] + b * v[1].row, *dy = dout[0].data + b * n1 * n2;
        float *d1 = du[0] ? du[0] + b * v[0].row : NULL, *d2 = du[1] ? du[1] + b * v[1].row : NULL;
        for (int64_t i1 = 0; i1 < n1; i1++)
            for (int64_t i2 = 0; i2 < n2; i2++) {
                float g = dy[i1 * n2 + i2];
                for (int64_t k = 0; k < K; k++) {
                    if (d1) d1[dot_at(&v[0], i1, k)] += g * x2[dot_at(&v[1], i2, k)];
                    if (d2) d2[dot_at(&v[1], i2, k)] += g * x1[dot_at(&v[0], i1, k)];
                }
            }
        for (int k = 0; norm && k < 2; k++)
            if (din[k].data)
                l2_normalize_backward(in[k].data + b * v[k].row, u[k] + b * v[k].row, du[k] + b * v[k].row, &v[k],
                                      din[k].data + b * v[k].row);
    }
    return CK_OK;
}

CK_CLASS(ck_class_dot, "Dot", CK_CONFIG(ck_dot_config, dot_fields), .min_inputs = 2, .max_inputs = 2,
         .build = dot_build, .forward = dot_forward, .backward = dot_backward,
         .workspace = dot_workspace);

CK_FAMILY(ck_merging_layers, &ck_class_add, &ck_class_subtract, &ck_class_multiply,
          &ck_class_average, &ck_class_maximum, &ck_class_minimum, &ck_class_concatenate,
          &ck_class_dot);
