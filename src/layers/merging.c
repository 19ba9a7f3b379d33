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

/* The hooks of one merge operation (kind_forward, kind_backward). */
#define MERGE_HOOKS(kind, op)                                                                     \
    static ck_status kind##_forward(CK_FWD_ARGS)                                                 \
    {                                                                                            \
        (void)l, (void)n_out, (void)ex;                                                          \
        return merge_forward(op, in, n_in, out);                                                 \
    }                                                                                            \
    static ck_status kind##_backward(CK_BWD_ARGS)                                                \
    {                                                                                            \
        (void)l, (void)n_out, (void)ex;                                                          \
        return merge_backward(op, in, n_in, out, dout, din);                                     \
    }
MERGE_HOOKS(add, OP_ADD)
MERGE_HOOKS(subtract, OP_SUB)
MERGE_HOOKS(multiply, OP_MUL)
MERGE_HOOKS(average, OP_AVG)
MERGE_HOOKS(maximum, OP_MAX)
MERGE_HOOKS(minimum, OP_MIN)

CK_CLASS(ck_class_add, "Add", .min_inputs = 2, .max_inputs = 64, .build = broadcast_build, .forward = add_forward,
         .backward = add_backward);
CK_CLASS(ck_class_subtract, "Subtract", .min_inputs = 2, .max_inputs = 2, .build = broadcast_build,
         .forward = subtract_forward, .backward = subtract_backward);
CK_CLASS(ck_class_multiply, "Multiply", .min_inputs = 2, .max_inputs = 64, .build = broadcast_build,
         .forward = multiply_forward, .backward = multiply_backward);
CK_CLASS(ck_class_average, "Average", .min_inputs = 2, .max_inputs = 64, .build = broadcast_build,
         .forward = average_forward, .backward = average_backward);
CK_CLASS(ck_class_maximum, "Maximum", .min_inputs = 2, .max_inputs = 64, .build = broadcast_build,
         .forward = maximum_forward, .backward = maximum_backward);
CK_CLASS(ck_class_minimum, "Minimum", .min_inputs = 2, .max_inputs = 64, .build = broadcast_build,
         .forward = minimum_forward, .backward = minimum_backward);

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

static ck_status concat_forward(CK_FWD_ARGS)
{
    (void)n_out, (void)ex;
    return concat_run(l, in, n_in, out[0].data, NULL, false);
}

static ck_status concat_backward(CK_BWD_ARGS)
{
    (void)out, (void)n_out, (void)ex;
    return concat_run(l, in, n_in, dout[0].data, din, true);
}

CK_CLASS(ck_class_concatenate, "Concatenate", CK_CONFIG(ck_concatenate_config, concat_fields),
         .min_inputs = 1, .max_inputs = 64, .build = concat_build, .forward = concat_forward,
         .backward = concat_backward);

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
