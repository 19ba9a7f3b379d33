/* Pooling layers: Max/AveragePooling1D/2D/3D and GlobalMax/GlobalAveragePooling
 * 1D/2D/3D. No weights; shapes by Keras's compute_pooling_output_shape (an empty
 * output is an error). Forward is channels-last: max ignores padding, average
 * divides by the number of real (unpadded) elements, as TensorFlow and JAX do. */
#include "layers/conv_exec.h"
#include "layers/conv_layers.h"
#include "layers/layers.h"
#include "engine/run.h"
#include "kernels/tensor_ops.h"

#include <float.h>
#include <math.h>
#include <string.h>

#define PF(member, type, def, ...) CK_FIELD(ck_pool_config, member, type, def, __VA_ARGS__)
static const char *const pads[] = {"valid", "same", NULL};
static const char *const formats[] = {"channels_last", "channels_first", NULL};

#define POOL_FIELDS(R, SIZE_DEF, SIZE_FLAGS)                                  \
    PF(pool_size, CK_FT_INTS, SIZE_DEF, R, SIZE_FLAGS),                       \
    PF(padding, CK_FT_STR, "\"valid\"", 0, 0, pads),                          \
    PF(strides, CK_FT_INTS, "null", R, CK_FF_NULLABLE),                       \
    PF(data_format, CK_FT_STR, "\"channels_last\"", 0, 0, formats)

static const ck_field max1_fields[] = {POOL_FIELDS(1, "2", 0)};
static const ck_field max2_fields[] = {POOL_FIELDS(2, "2", 0)};
static const ck_field max3_fields[] = {POOL_FIELDS(3, "2", 0)};
static const ck_field avg1_fields[] = {POOL_FIELDS(1, NULL, CK_FF_REQUIRED)};
static const ck_field avg2_fields[] = {POOL_FIELDS(2, NULL, CK_FF_REQUIRED)};
static const ck_field avg3_fields[] = {POOL_FIELDS(3, NULL, CK_FF_REQUIRED)};
static const ck_field global_fields[] = {
    PF(data_format, CK_FT_STR, "\"channels_last\"", 0, 0, formats),
    PF(keepdims, CK_FT_BOOL, "false"),
};

static ck_status pool_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)n_in;
    ck_pool_config *c = CK_CFG(l, ck_pool_config);
    ck_spatial sp;
    ck_status st = ck_spatial_of(l, &in[0], c->pool_size.n, c->data_format, &sp);
    if (st) return st;
    if (c->strides.is_null || c->strides.n == 0) c->strides = c->pool_size; /* Keras: strides=None -> pool_size */
    for (int i = 0; i < sp.rank; i++) {
        if (c->pool_size.v[i] <= 0 || c->strides.v[i] <= 0)
            return ck_layer_error(l, CK_ERR_CONFIG, "fields 'pool_size' and 'strides' must be positive");
    }
    out[0] = in[0];
    for (int i = 0; i < sp.rank; i++)
        if ((st = ck_conv_out_len(l, in[0].dim[sp.first + i], c->pool_size.v[i], c->strides.v[i], 1, c->padding,
                                  true, &out[0].dim[sp.first + i])))
            return st;
    *n_out = 1;
    return CK_OK;
}

static ck_status global_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)n_in;
    ck_pool_config *c = CK_CFG(l, ck_pool_config);
    int rank = l->cls->class_name[strlen(l->cls->class_name) - 2] - '0'; /* "...Pooling2D" */
    ck_spatial sp;
    ck_status st = ck_spatial_of(l, &in[0], rank, c->data_format, &sp);
    if (st) return st;
    if (c->keepdims) {
        out[0] = in[0];
        for (int i = 0; i < rank; i++) out[0].dim[sp.first + i] = 1;
    } else {
        out[0] = ck_shape_2(in[0].dim[0], in[0].dim[sp.channel]);
    }
    *n_out = 1;
    return CK_OK;
}

static int64_t elems(const ck_shape *s)
{
    int64_t n = 1;
    for (int i = 1; i < s->rank; i++) n *= s->dim[i] == CK_NONE ? 1 : s->dim[i];
    return n;
}

static int64_t pool_flops(const ck_layer *l)
{
    const ck_pool_config *c = CK_CFG(l, ck_pool_config);
    int64_t k = 1;
    for (int i = 0; i < c->pool_size.n; i++) k *= c->pool_size.v[i];
    return elems(&l->out_shapes[0]) * k;
}

static int64_t global_flops(const ck_layer *l) { return elems(&l->in_shapes[0]); }

/* ---- forward ------------------------------------------------------------------------- */
typedef struct pool_geom {
    int64_t batch, c, in[3], out[3], k[3], s[3], pad[3];
    /* A half layer's average: XLA's reduce-window rounds its sum after every
     * add, then the division (keras/src/backend/jax/nn.py average_pool). */
    ck_half half;
} pool_geom;

static ck_status pool_geom_of(ck_layer *l, const ck_tensor *x, const ck_tensor *y, const ck_run *ex, pool_geom *g)
{
    const ck_pool_config *c = CK_CFG(l, ck_pool_config);
    int r = c->pool_size.n;
    ck_status st = ck_runs_channels_last(l, ex, c->data_format);
    if (st) return st;
    *g = (pool_geom){.batch = x->shape.dim[0], .c = x->shape.dim[r + 1], .half = ck_half_of_dtype(l->dtype)};
    for (int a = 0; a < 3; a++) g->in[a] = g->out[a] = g->k[a] = g->s[a] = 1;
    for (int i = 0; i < r; i++) {
        int a = 3 - r + i;
        g->in[a] = x->shape.dim[1 + i], g->out[a] = y->shape.dim[1 + i];
        g->k[a] = c->pool_size.v[i], g->s[a] = c->strides.v[i];
        g->pad[a] = ck_pad_before(g->in[a], g->out[a], g->k[a], g->s[a], 1, c->padding);
    }
    return CK_OK;
}

/* Clamped window [lo, hi) of output index o along axis a. */
static void window(const pool_geom *g, int a, int64_t o, int64_t *lo, int64_t *hi)
{
    int64_t start = o * g->s[a] - g->pad[a], end = start + g->k[a];
    *lo = start < 0 ? 0 : start;
    *hi = end > g->in[a] ? g->in[a] : end;
}

/* Element visits below which a pooling pass keeps to one thread. */
#define POOL_PAR_MIN ((int64_t)1 << 18)

/* One pooling pass over samples or image rows (ck_parallel_for). */
typedef struct pool_job {
    const pool_geom *g;
    const float *x, *dy;
    float *y, *dx;
    bool is_max;
} pool_job;

static int pool_team(const pool_geom *g)
{
    return ck_team_size(g->batch * g->in[0] * g->in[1] * g->in[2] * g->c, POOL_PAR_MIN);
}

static void pool_samples(void *ctx, int64_t b0, int64_t b1)
{
    const pool_job *j = ctx;
    const pool_geom *g = j->g;
    bool is_max = j->is_max;
    int64_t nin = g->in[0] * g->in[1] * g->in[2], nout = g->out[0] * g->out[1] * g->out[2];
    for (int64_t b = b0; b < b1; b++) {
        const float *xb = j->x + b * nin * g->c;
        float *yb = j->y + b * nout * g->c;
        for (int64_t o0 = 0; o0 < g->out[0]; o0++)
            for (int64_t o1 = 0; o1 < g->out[1]; o1++)
                for (int64_t o2 = 0; o2 < g->out[2]; o2++) {
                    float *dst = yb + ((o0 * g->out[1] + o1) * g->out[2] + o2) * g->c;
                    int64_t l0, h0, l1, h1, l2, h2;
                    window(g, 0, o0, &l0, &h0), window(g, 1, o1, &l1, &h1), window(g, 2, o2, &l2, &h2);
                    for (int64_t ch = 0; ch < g->c; ch++) dst[ch] = is_max ? -INFINITY : 0.0f;
                    for (int64_t i0 = l0; i0 < h0; i0++)
                        for (int64_t i1 = l1; i1 < h1; i1++)
                            for (int64_t i2 = l2; i2 < h2; i2++) {
                                const float *src = xb + ((i0 * g->in[1] + i1) * g->in[2] + i2) * g->c;
                                for (int64_t ch = 0; ch < g->c; ch++)
                                    dst[ch] = is_max ? ck_max_nan(src[ch], dst[ch]) : dst[ch] + src[ch];
                                if (g->half && !is_max) ck_round_half(g->half, dst, dst, g->c);
                            }
                    if (!is_max && g->half) {
                        float count = (float)((h0 - l0) * (h1 - l1) * (h2 - l2));
                        for (int64_t ch = 0; ch < g->c; ch++) dst[ch] /= count;
                        ck_round_half(g->half, dst, dst, g->c);
                    } else if (!is_max) {
                        float inv = 1.0f / (float)((h0 - l0) * (h1 - l1) * (h2 - l2));
                        for (int64_t ch = 0; ch < g->c; ch++) dst[ch] *= inv;
                    }
                }
    }
}

static void pool_run(const pool_geom *g, const float *x, float *y, bool is_max)
{
    pool_job job = {.g = g, .x = x, .y = y, .is_max = is_max};
    ck_parallel_for(pool_team(g), g->batch, pool_samples, &job);
}

/* The CNN workhorse, MaxPooling2D((2, 2)) valid: every window is full, so the
 * four rows are read straight, without window clamping. */
static bool is_max2x2(const pool_geom *g)
{
    bool flat = g->k[0] == 1 && g->out[0] == g->in[0];
    bool two = g->k[1] == 2 && g->k[2] == 2 && g->s[1] == 2 && g->s[2] == 2 && g->pad[1] == 0 && g->pad[2] == 0;
    return flat && two && g->out[1] * 2 <= g->in[1] && g->out[2] * 2 <= g->in[2];
}

/* One output row of max2x2_run: input rows a and b (ow pairs of c channels). */
CK_SIMD_CLONES static void max2x2_row(const float *a, const float *b, float *dst, int64_t ow, int64_t c)
{
    for (int64_t ox = 0; ox < ow; ox++, dst += c, a += 2 * c, b += 2 * c)
        for (int64_t ch = 0; ch < c; ch++) {
            float m = ck_max_nan(a[c + ch], a[ch]);
            m = ck_max_nan(b[ch], m);
            dst[ch] = ck_max_nan(b[c + ch], m);
        }
}

static void max2x2_run(const pool_geom *g, const float *x, float *y)
{
    int64_t c = g->c, rows = g->batch * g->in[0] * g->out[1];
    for (int64_t r = 0; r < rows; r++) { /* r: (sample, depth, output row) */
        int64_t img = r / g->out[1], oy = r % g->out[1];
        const float *a = x + ((img * g->in[1] + 2 * oy) * g->in[2]) * c;
        max2x2_row(a, a + g->in[2] * c, y + r * g->out[2] * c, g->out[2], c);
    }
}

static ck_status pool_forward(CK_FWD_ARGS, bool is_max)
{
    (void)n_in, (void)n_out, (void)ex;
    pool_geom g;
    ck_status st = pool_geom_of(l, &in[0], &out[0], ex, &g);
    if (st) return st;
    if (is_max && is_max2x2(&g)) max2x2_run(&g, in[0].data, out[0].data);
    else pool_run(&g, in[0].data, out[0].data, is_max);
    return CK_OK;
}
static ck_status max_forward(CK_FWD_ARGS) { return pool_forward(l, in, n_in, out, n_out, ex, true); }
static ck_status avg_forward(CK_FWD_ARGS) { return pool_forward(l, in, n_in, out, n_out, ex, false); }

static ck_status global_forward(CK_FWD_ARGS, bool is_max)
{
    (void)n_in, (void)n_out;
    ck_status st = ck_runs_channels_last(l, ex, CK_CFG(l, ck_pool_config)->data_format);
    if (st) return st;
    const ck_shape *s = &in[0].shape;
    int64_t c = s->dim[s->rank - 1], n = elems(s) / c;
    /* Keras's mask (Embedding(mask_zero) upstream): average the unmasked steps only */
    const float *mask = !is_max && ex && ex->in_masks ? ex->in_masks[0] : NULL;
    for (int64_t b = 0; b < s->dim[0]; b++) {
        const float *xb = in[0].data + b * n * c;
        float *yb = out[0].data + b * c, count = 0.0f;
        for (int64_t ch = 0; ch < c; ch++) yb[ch] = is_max ? -INFINITY : 0.0f;
        for (int64_t p = 0; p < n; p++) {
            float w = mask ? mask[b * n + p] : 1.0f;
            count += w;
            for (int64_t ch = 0; ch < c; ch++)
                yb[ch] = is_max ? ck_max_nan(xb[p * c + ch], yb[ch]) : yb[ch] + w * xb[p * c + ch];
        }
        if (!is_max)
            for (int64_t ch = 0; ch < c; ch++) yb[ch] /= count;
    }
    return CK_OK;
}
static ck_status gmax_forward(CK_FWD_ARGS) { return global_forward(l, in, n_in, out, n_out, ex, true); }
static ck_status gavg_forward(CK_FWD_ARGS) { return global_forward(l, in, n_in, out, n_out, ex, false); }

/* ---- backward ------------------------------------------------------------------------ */
/* Max: the gradient goes where XLA's select-and-scatter with `ge` (JAX's
 * max-pool gradient) sends it: scanning the window's real elements in order,
 * the pick moves to an element unless the current pick is >= it. So the first
 * maximum wins ties, and a NaN is picked when met but left for the next
 * element (NaN >= anything is false). Average: spread evenly over the real
 * elements. */
static void pool_back_samples(void *ctx, int64_t b0, int64_t b1)
{
    const pool_job *j = ctx;
    const pool_geom *g = j->g;
    const float *dy = j->dy;
    bool is_max = j->is_max;
    int64_t nin = g->in[0] * g->in[1] * g->in[2], nout = g->out[0] * g->out[1] * g->out[2];
    for (int64_t b = b0; b < b1; b++) {
        const float *xb = j->x + b * nin * g->c;
        float *dxb = j->dx + b * nin * g->c;
        for (int64_t op = 0; op < nout; op++) {
            int64_t o0 = op / (g->out[1] * g->out[2]), o1 = op / g->out[2] % g->out[1], o2 = op % g->out[2];
            const float *d = dy + (b * nout + op) * g->c;
            int64_t l0, h0, l1, h1, l2, h2;
            window(g, 0, o0, &l0, &h0), window(g, 1, o1, &l1, &h1), window(g, 2, o2, &l2, &h2);
            float inv = 1.0f / (float)((h0 - l0) * (h1 - l1) * (h2 - l2));
            for (int64_t ch = 0; ch < g->c; ch++) {
                float best = 0.0f;
                int64_t arg = -1;
                for (int64_t i0 = l0; i0 < h0; i0++)
                    for (int64_t i1 = l1; i1 < h1; i1++)
                        for (int64_t i2 = l2; i2 < h2; i2++) {
                            int64_t at = ((i0 * g->in[1] + i1) * g->in[2] + i2) * g->c + ch;
                            if (!is_max) dxb[at] += d[ch] * inv;
                            else if (arg < 0 || !(best >= xb[at])) best = xb[at], arg = at;
                        }
                if (is_max && arg >= 0) dxb[arg] += d[ch];
            }
        }
    }
}

static void pool_back(const pool_geom *g, const float *x, const float *dy, float *dx, bool is_max)
{
    pool_job job = {.g = g, .x = x, .dy = dy, .dx = dx, .is_max = is_max};
    ck_parallel_for(pool_team(g), g->batch, pool_back_samples, &job);
}

/* max2x2_run's backward: each window's gradient goes where pool_back's scan
 * sends it (row by row, a pick kept while it is >= the next element), chosen
 * without branches so the channel loop vectorizes. Windows do not overlap. */
CK_SIMD_CLONES static void max2x2_back_row(const float *a, const float *b, const float *d, float *da, float *db,
                                           int64_t ow, int64_t c)
{
    for (int64_t ox = 0; ox < ow; ox++, d += c, a += 2 * c, b += 2 * c, da += 2 * c, db += 2 * c)
#pragma omp simd
        for (int64_t ch = 0; ch < c; ch++) {
            float a0 = a[ch], a1 = a[c + ch], b0 = b[ch], b1 = b[c + ch], v = d[ch];
            bool t1 = !(a0 >= a1), t2, t3;
            float m1 = t1 ? a1 : a0;
            t2 = !(m1 >= b0);
            float m2 = t2 ? b0 : m1;
            t3 = !(m2 >= b1);
            /* the share of the later candidates first; selects of floats, which vectorize */
            float g3 = t3 ? v : 0.0f, r3 = t3 ? 0.0f : v;
            float g2 = t2 ? r3 : 0.0f, r2 = t2 ? 0.0f : r3;
            float g1 = t1 ? r2 : 0.0f, g0 = t1 ? 0.0f : r2;
            da[ch] += g0;
            da[c + ch] += g1;
            db[ch] += g2;
            db[c + ch] += g3;
        }
}

static void max2x2_back_rows(void *ctx, int64_t r0, int64_t r1)
{
    const pool_job *j = ctx;
    const pool_geom *g = j->g;
    int64_t c = g->c;
    for (int64_t r = r0; r < r1; r++) {
        int64_t img = r / g->out[1], oy = r % g->out[1], at = ((img * g->in[1] + 2 * oy) * g->in[2]) * c;
        max2x2_back_row(j->x + at, j->x + at + g->in[2] * c, j->dy + r * g->out[2] * c, j->dx + at,
                        j->dx + at + g->in[2] * c, g->out[2], c);
    }
}

static void max2x2_back(const pool_geom *g, const float *x, const float *dy, float *dx)
{
    pool_job job = {.g = g, .x = x, .dy = dy, .dx = dx};
    ck_parallel_for(pool_team(g), g->batch * g->in[0] * g->out[1], max2x2_back_rows, &job);
}

/* max2x2_back_row writing din instead of adding to it, relu's derivative at
 * the input applied: a window's gradient reaches its first maximum only when
 * that maximum is > 0. */
CK_SIMD_CLONES static void max2x2_relu_row(const float *a, const float *b, const float *d, float *da, float *db,
                                           int64_t ow, int64_t c)
{
    for (int64_t ox = 0; ox < ow; ox++, d += c, a += 2 * c, b += 2 * c, da += 2 * c, db += 2 * c)
#pragma omp simd
        for (int64_t ch = 0; ch < c; ch++) {
            float a0 = a[ch], a1 = a[c + ch], b0 = b[ch], b1 = b[c + ch], v = d[ch];
            bool t1 = !(a0 >= a1), t2, t3;
            float m1 = t1 ? a1 : a0;
            t2 = !(m1 >= b0);
            float m2 = t2 ? b0 : m1;
            t3 = !(m2 >= b1);
            float m3 = t3 ? b1 : m2;
            v = m3 > 0.0f ? v : 0.0f; /* relu's derivative: 0 at 0 and at NaN */
            float g3 = t3 ? v : 0.0f, r3 = t3 ? 0.0f : v;
            float g2 = t2 ? r3 : 0.0f, r2 = t2 ? 0.0f : r3;
            float g1 = t1 ? r2 : 0.0f, g0 = t1 ? 0.0f : r2;
            da[ch] = g0, da[c + ch] = g1, db[ch] = g2, db[c + ch] = g3;
        }
}

/* The class's backward_relu: MaxPooling2D's 2x2 path only. Rows and columns no
 * window covers (odd extents) get zeros. */
static ck_status max_backward_relu(ck_layer *l, const ck_tensor *in, const ck_tensor *out, const ck_tensor *dout,
                                   float *din)
{
    pool_geom g;
    ck_status st = pool_geom_of(l, in, out, NULL, &g);
    if (st || !is_max2x2(&g)) return st ? st : CK_ERR_UNSUPPORTED;
    int64_t c = g.c, w = g.in[2] * c, used = 2 * g.out[2] * c, image = g.in[1] * w;
    for (int64_t img = 0; img < g.batch * g.in[0]; img++) {
        const float *x = in[0].data + img * image;
        float *dx = din + img * image;
        for (int64_t oy = 0; oy < g.out[1]; oy++) {
            const float *a = x + 2 * oy * w;
            float *da = dx + 2 * oy * w;
            max2x2_relu_row(a, a + w, dout[0].data + (img * g.out[1] + oy) * g.out[2] * c, da, da + w, g.out[2], c);
            memset(da + used, 0, (size_t)(w - used) * sizeof *da);
            memset(da + w + used, 0, (size_t)(w - used) * sizeof *da);
        }
        memset(dx + 2 * g.out[1] * w, 0, (size_t)((g.in[1] - 2 * g.out[1]) * w) * sizeof *dx);
    }
    return CK_OK;
}

static ck_status pool_backward(CK_BWD_ARGS, bool is_max)
{
    (void)n_in, (void)n_out, (void)ex, (void)dout;
    if (!din[0].data) return CK_OK;
    pool_geom g;
    ck_status st = pool_geom_of(l, &in[0], &out[0], ex, &g);
    if (st) return st;
    if (is_max && is_max2x2(&g)) max2x2_back(&g, in[0].data, dout[0].data, din[0].data);
    else pool_back(&g, in[0].data, dout[0].data, din[0].data, is_max);
    return CK_OK;
}
static ck_status max_backward(CK_BWD_ARGS) { return pool_backward(l, in, n_in, out, dout, n_out, din, ex, true); }
static ck_status avg_backward(CK_BWD_ARGS) { return pool_backward(l, in, n_in, out, dout, n_out, din, ex, false); }

static ck_status global_backward(CK_BWD_ARGS, bool is_max)
{
    (void)n_in, (void)n_out;
    if (!din[0].data) return CK_OK;
    ck_status st = ck_runs_channels_last(l, ex, CK_CFG(l, ck_pool_config)->data_format);
    if (st) return st;
    const ck_shape *s = &in[0].shape;
    int64_t c = s->dim[s->rank - 1], n = elems(s) / c;
    /* the masked mean's gradient: w_p / sum(w) to each step (forward's weights) */
    const float *mask = !is_max && ex && ex->in_masks ? ex->in_masks[0] : NULL;
    for (int64_t b = 0; b < s->dim[0]; b++) {
        const float *xb = in[0].data + b * n * c, *d = dout[0].data + b * c, *yb = out[0].data + b * c;
        float *dxb = din[0].data + b * n * c, count = 0.0f;
        for (int64_t p = 0; p < n; p++) count += mask ? mask[b * n + p] : 1.0f;
        for (int64_t ch = 0; ch < c; ch++) {
            if (!is_max) {
                for (int64_t p = 0; p < n; p++) dxb[p * c + ch] += (mask ? mask[b * n + p] : 1.0f) * d[ch] / count;
                continue;
            }
            /* jnp.max's gradient: shared evenly by every position equal to the
             * maximum, and 0 / 0, NaN, everywhere when the maximum is NaN */
            int64_t ties = 0;
            for (int64_t p = 0; p < n; p++) ties += xb[p * c + ch] == yb[ch];
            float share = ties ? d[ch] / (float)ties : NAN;
            for (int64_t p = 0; p < n; p++)
                dxb[p * c + ch] += ties ? (xb[p * c + ch] == yb[ch] ? share : 0.0f) : NAN;
        }
    }
    return CK_OK;
}
static ck_status gmax_backward(CK_BWD_ARGS) { return global_backward(l, in, n_in, out, dout, n_out, din, ex, true); }
static ck_status gavg_backward(CK_BWD_ARGS) { return global_backward(l, in, n_in, out, dout, n_out, din, ex, false); }

#define POOL_HOOKS(build_, flops_, kind)                                                         \
    CK_ONE_INPUT, .build = build_, .flops = flops_, .forward = kind##_forward, .backward = kind##_backward, \
        .keras.no_build_config = true, .channels_first = ck_channels_first_rank

/* Pooling reads only the rows it pools: it can run behind a streaming producer. */
static const ck_fusion per_sample = {.per_sample = true};
static const ck_fusion per_sample_relu = {.per_sample = true, .backward_relu = max_backward_relu};
CK_CLASS(ck_class_max1, "MaxPooling1D", CK_CONFIG(ck_pool_config, max1_fields),
         POOL_HOOKS(pool_build, pool_flops, max), .fusion = &per_sample);
CK_CLASS(ck_class_max2, "MaxPooling2D", CK_CONFIG(ck_pool_config, max2_fields),
         POOL_HOOKS(pool_build, pool_flops, max), .fusion = &per_sample_relu);
CK_CLASS(ck_class_max3, "MaxPooling3D", CK_CONFIG(ck_pool_config, max3_fields),
         POOL_HOOKS(pool_build, pool_flops, max), .fusion = &per_sample);
CK_CLASS(ck_class_avg1, "AveragePooling1D", CK_CONFIG(ck_pool_config, avg1_fields),
         POOL_HOOKS(pool_build, pool_flops, avg), .fusion = &per_sample);
CK_CLASS(ck_class_avg2, "AveragePooling2D", CK_CONFIG(ck_pool_config, avg2_fields),
         POOL_HOOKS(pool_build, pool_flops, avg), .fusion = &per_sample);
CK_CLASS(ck_class_avg3, "AveragePooling3D", CK_CONFIG(ck_pool_config, avg3_fields),
         POOL_HOOKS(pool_build, pool_flops, avg), .fusion = &per_sample);
CK_CLASS(ck_class_gmax1, "GlobalMaxPooling1D", CK_CONFIG(ck_pool_config, global_fields),
         POOL_HOOKS(global_build, global_flops, gmax), .fusion = &per_sample);
CK_CLASS(ck_class_gmax2, "GlobalMaxPooling2D", CK_CONFIG(ck_pool_config, global_fields),
         POOL_HOOKS(global_build, global_flops, gmax), .fusion = &per_sample);
CK_CLASS(ck_class_gmax3, "GlobalMaxPooling3D", CK_CONFIG(ck_pool_config, global_fields),
         POOL_HOOKS(global_build, global_flops, gmax), .fusion = &per_sample);
CK_CLASS(ck_class_gavg1, "GlobalAveragePooling1D", CK_CONFIG(ck_pool_config, global_fields),
         POOL_HOOKS(global_build, global_flops, gavg), .fusion = &per_sample,
         .casts_output = true);
CK_CLASS(ck_class_gavg2, "GlobalAveragePooling2D", CK_CONFIG(ck_pool_config, global_fields),
         POOL_HOOKS(global_build, global_flops, gavg), .fusion = &per_sample,
         .casts_output = true);
CK_CLASS(ck_class_gavg3, "GlobalAveragePooling3D", CK_CONFIG(ck_pool_config, global_fields),
         POOL_HOOKS(global_build, global_flops, gavg), .fusion = &per_sample,
         .casts_output = true);

CK_FAMILY(ck_pooling_layers, &ck_class_max1, &ck_class_max2, &ck_class_max3, &ck_class_avg1, &ck_class_avg2,
          &ck_class_avg3, &ck_class_gmax1, &ck_class_gmax2, &ck_class_gmax3, &ck_class_gavg1, &ck_class_gavg2,
          &ck_class_gavg3);
