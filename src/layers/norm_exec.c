/* Forward and backward passes of LayerNormalization, GroupNormalization,
 * UnitNormalization and RMSNormalization; forwards as Keras 3 computes them (ops.layer_normalization, GroupNormalization's
 * grouped moments, ops.normalize): statistics in double over each group of
 * elements, mean and biased variance in two passes like jnp.var. Keras quirks
 * kept on purpose: rms_scaling divides by sqrt(variance + eps), not by the root
 * mean square; UnitNormalization scales by min(rsqrt(sum of squares), 1e12).
 * Any set of axes works: elements are grouped by an odometer over the full shape
 * that tracks the group (axes not normalized) and the parameter (axes normalized).
 * The per-group statistics (doubles) live in the node's workspace, which keeps
 * nothing between the passes; GroupNormalization's per-element gamma expansion
 * in the layer's scratch. Steps allocate nothing. */
#include "layers/conv_layers.h"
#include "layers/engine_util.h"
#include "layers/layers.h"
#include "layers/norm_exec.h"

#include <math.h>
#include <string.h>

/* Odometer over a whole tensor: for each element in row-major order, its group
 * index (flattened over the axes not reduced) and parameter index (flattened over
 * the axes marked in `param`: the reduced ones, except for GroupNormalization's
 * backward, which indexes every non-batch axis). */
typedef struct walk {
    int rank;
    int64_t dim[CK_MAX_RANK], pos[CK_MAX_RANK], gstride[CK_MAX_RANK], pstride[CK_MAX_RANK];
    int64_t g, p;
} walk;

static int64_t walk_init2(walk *w, const ck_shape *s, const bool *reduced, const bool *param)
{
    *w = (walk){.rank = s->rank};
    int64_t gs = 1, ps = 1;
    for (int d = s->rank - 1; d >= 0; d--) {
        w->dim[d] = s->dim[d];
        w->gstride[d] = reduced[d] ? 0 : gs;
        w->pstride[d] = param[d] ? ps : 0;
        if (param[d]) ps *= s->dim[d];
        if (!reduced[d]) gs *= s->dim[d];
    }
    return gs; /* number of groups */
}

static int64_t walk_init(walk *w, const ck_shape *s, const bool *reduced)
{
    return walk_init2(w, s, reduced, reduced);
}

static void walk_next(walk *w)
{
    for (int d = w->rank - 1; d >= 0; d--) {
        w->g += w->gstride[d], w->p += w->pstride[d];
        if (++w->pos[d] < w->dim[d]) return;
        w->g -= w->gstride[d] * w->dim[d], w->p -= w->pstride[d] * w->dim[d];
        w->pos[d] = 0;
    }
}

/* The axes a Layer/UnitNormalization reduces over, checked against the rank. */
static ck_status reduced_axes(const ck_layer *l, const ck_shape *s, bool *reduced)
{
    const ck_ints *a = &CK_CFG(l, ck_norm_config)->axis;
    memset(reduced, 0, CK_MAX_RANK * sizeof *reduced);
    for (int i = 0; i < a->n; i++) {
        int ax;
        if (!ck_normalize_axis(a->v[i], s->rank, &ax) || ax == 0)
            return ck_layer_error(l, CK_ERR_CONFIG, "field 'axis' (%lld) is out of range for an input of rank %d",
                                  (long long)a->v[i], s->rank);
        reduced[ax] = true;
    }
    return CK_OK;
}

/* Per-group sum of x (or of (x - mean)^2 when mean is given), over all elements. */
static void group_sums(const float *x, const ck_shape *s, const bool *reduced, const double *mean, double *acc,
                       int64_t groups)
{
    walk w;
    walk_init(&w, s, reduced);
    memset(acc, 0, (size_t)groups * sizeof *acc);
    int64_t n = 1;
    for (int d = 0; d < s->rank; d++) n *= s->dim[d];
    for (int64_t i = 0; i < n; i++, walk_next(&w)) {
        double v = x[i];
        if (mean) v = (v - mean[w.g]) * (v - mean[w.g]);
        acc[w.g] += v;
    }
}

/* Groups per sample of a Layer/Unit/RMSNormalization: the product of the
 * non-batch axes it does not reduce; 0 when one is unknown or the axes are bad. */
static int64_t groups_per_sample(const ck_layer *l)
{
    const ck_shape *s = &l->in_shapes[0];
    bool reduced[CK_MAX_RANK];
    if (reduced_axes(l, s, reduced)) return 0;
    int64_t g = 1;
    for (int d = 1; d < s->rank; d++) {
        if (reduced[d]) continue;
        if (s->dim[d] == CK_NONE) return 0;
        g *= s->dim[d];
    }
    return g;
}

/* Doubles per group: LayerNormalization's backward takes the most (mean, inverse
 * deviation, two gradient sums); UnitNormalization and RMSNormalization two. */
static int64_t ws_groups(const ck_layer *l, int64_t per_group)
{
    int64_t g = groups_per_sample(l);
    return g ? ck_ws_floats8(per_group * g) : 0;
}
int64_t ck_layernorm_workspace(const ck_layer *l) { return ws_groups(l, 4); }
int64_t ck_unitnorm_workspace(const ck_layer *l) { return ws_groups(l, 2); }
int64_t ck_rmsnorm_workspace(const ck_layer *l) { return ws_groups(l, 2); }
/* GroupNormalization's backward: its `groups` groups per sample, four doubles each. */
int64_t ck_groupnorm_workspace(const ck_layer *l)
{
    int64_t g = CK_CFG(l, ck_norm_config)->groups;
    return g > 0 ? ck_ws_floats8(4 * g) : 0;
}

/* `n` zeroed doubles of scratch from the node's workspace (NULL: error set). */
static double *ws_doubles(const ck_layer *l, const ck_run *ex, int64_t n)
{
    float *ws = ck_ws_of(l, ex);
    if (!ws) return NULL;
    double *d = ck_ws_align8(ws);
    memset(d, 0, (size_t)n * sizeof *d);
    return d;
}

ck_status ck_layernorm_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out;
    const ck_norm_config *c = CK_CFG(l, ck_norm_config);
    const ck_shape *s = &in[0].shape;
    bool reduced[CK_MAX_RANK];
    ck_status st = reduced_axes(l, s, reduced);
    if (st) return st;
    walk w;
    int64_t groups = walk_init(&w, s, reduced), numel = ck_numel(&in[0]);
    int64_t per = numel / (groups ? groups : 1);
    double *mean = ws_doubles(l, ex, 2 * groups), *var = mean + groups;
    if (!mean) return CK_ERR_STATE;
    group_sums(in[0].data, s, reduced, NULL, mean, groups);
    for (int64_t g = 0; g < groups; g++) mean[g] /= (double)per;
    group_sums(in[0].data, s, reduced, mean, var, groups);
    for (int64_t g = 0; g < groups; g++) var[g] = 1.0f / sqrtf((float)(var[g] / (double)per) + (float)c->epsilon);
    const float *gamma = c->scale || c->rms_scaling ? l->weights[0].value : NULL;
    const float *beta = c->center && !c->rms_scaling ? l->weights[gamma ? 1 : 0].value : NULL;
    for (int64_t i = 0; i < numel; i++, walk_next(&w)) {
        float inv = (float)var[w.g]; /* 1 / sqrt(variance + eps), in float32 as Keras */
        float x = in[0].data[i], m = (float)mean[w.g];
        if (c->rms_scaling) {
            out[0].data[i] = x * inv * gamma[w.p];
            continue;
        }
        if (gamma) inv *= gamma[w.p];
        out[0].data[i] = x * inv + (-m * inv + (beta ? beta[w.p] : 0.0f));
    }
    return CK_OK;
}

ck_status ck_unitnorm_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out;
    const ck_shape *s = &in[0].shape;
    bool reduced[CK_MAX_RANK];
    ck_status st = reduced_axes(l, s, reduced);
    if (st) return st;
    walk w;
    int64_t groups = walk_init(&w, s, reduced), numel = ck_numel(&in[0]);
    double *sq = ws_doubles(l, ex, groups);
    if (!sq) return CK_ERR_STATE;
    for (int64_t i = 0; i < numel; i++, walk_next(&w)) sq[w.g] += (double)in[0].data[i] * in[0].data[i];
    /* keras/src/ops/nn.py _normalize: x * minimum(rsqrt(sum(square(x))), 1 / epsilon);
     * a half layer rounds the sum (taken in float32), rsqrt, minimum and product */
    ck_half half = ck_half_of_dtype(l->dtype);
    float cap = 1e12f;
    ck_round_half(half, &cap, &cap, 1);
    walk_init(&w, s, reduced);
    for (int64_t i = 0; i < numel; i++, walk_next(&w)) {
        float sum = (float)sq[w.g];
        ck_round_half(half, &sum, &sum, 1);
        float inv = 1.0f / sqrtf(sum);
        ck_round_half(half, &inv, &inv, 1);
        if (!(inv <= cap)) inv = inv != inv ? inv : cap;
        out[0].data[i] = in[0].data[i] * inv;
    }
    ck_round_half(half, out[0].data, out[0].data, numel);
    return CK_OK;
}

/* GroupNormalization's view of its input s: the non-batch axes before the
 * channel axis (pre), the channels, and the axes after it (post). */
static ck_status gn_view(const ck_layer *l, const ck_shape *s, int64_t *pre, int64_t *ch, int64_t *post)
{
    const ck_norm_config *c = CK_CFG(l, ck_norm_config);
    int ax;
    if (c->axis.n != 1 || !ck_normalize_axis(c->axis.v[0], s->rank, &ax) || ax == 0)
        return ck_layer_error(l, CK_ERR_CONFIG, "field 'axis' must be one non-batch axis");
    *pre = 1, *post = 1, *ch = s->dim[ax];
    for (int d = 1; d < ax; d++) *pre *= s->dim[d];
    for (int d = ax + 1; d < s->rank; d++) *post *= s->dim[d];
    return CK_OK;
}

/* GroupNormalization: the channel axis splits into `groups` groups; each
 * (sample, group) is normalized over every other non-batch axis. */
ck_status ck_groupnorm_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out, (void)ex;
    const ck_norm_config *c = CK_CFG(l, ck_norm_config);
    const ck_shape *s = &in[0].shape;
    int64_t pre, post, ch;
    ck_status st = gn_view(l, s, &pre, &ch, &post);
    if (st) return st;
    int64_t per_group = ch / c->groups;
    const float *gamma = c->scale ? l->weights[0].value : NULL;
    const float *beta = c->center ? l->weights[gamma ? 1 : 0].value : NULL;
    int64_t count = pre * per_group * post;
    for (int64_t b = 0; b < s->dim[0]; b++) {
        const float *x = in[0].data + b * pre * ch * post;
        float *y = out[0].data + b * pre * ch * post;
        for (int64_t g = 0; g < c->groups; g++) {
            double sum = 0.0, ss = 0.0;
            for (int64_t p = 0; p < pre; p++)
                for (int64_t k = g * per_group; k < (g + 1) * per_group; k++)
                    for (int64_t q = 0; q < post; q++) sum += x[(p * ch + k) * post + q];
            double mean = sum / (double)count;
            for (int64_t p = 0; p < pre; p++)
                for (int64_t k = g * per_group; k < (g + 1) * per_group; k++)
                    for (int64_t q = 0; q < post; q++) {
                        double d = x[(p * ch + k) * post + q] - mean;
                        ss += d * d;
                    }
            float inv0 = 1.0f / sqrtf((float)(ss / (double)count) + (float)c->epsilon), m = (float)mean;
            for (int64_t k = g * per_group; k < (g + 1) * per_group; k++) {
                float inv = gamma ? inv0 * gamma[k] : inv0, res = -m * inv + (beta ? beta[k] : 0.0f);
                for (int64_t p = 0; p < pre; p++)
                    for (int64_t q = 0; q < post; q++)
                        y[(p * ch + k) * post + q] = x[(p * ch + k) * post + q] * inv + res;
            }
        }
    }
    return CK_OK;
}

/* ---- backward: statistics are recomputed from the input (nothing kept) ------------ */

/* Per-group mean and 1 / sqrt(variance + eps) of x over the reduced axes, into
 * mean[groups] and mean[groups..2 groups). */
static void group_stats(const ck_tensor *x, const bool *reduced, double eps, int64_t groups, double *mean)
{
    int64_t per = ck_numel(x) / (groups ? groups : 1);
    double *inv = mean + groups;
    group_sums(x->data, &x->shape, reduced, NULL, mean, groups);
    for (int64_t g = 0; g < groups; g++) mean[g] /= (double)per;
    group_sums(x->data, &x->shape, reduced, mean, inv, groups);
    for (int64_t g = 0; g < groups; g++) inv[g] = 1.0 / sqrt(inv[g] / (double)per + eps);
}

/* The shared gradient of normalizing over groups: with u = dy * gamma and
 * xhat = (x - mean) * inv, dx = inv * (u - mean(u) - xhat * mean(u * xhat)); for
 * Keras's rms_scaling (y = x * inv * gamma) dx = inv * u - inv^3 (x - mean) mean(u * x).
 * gamma, dgamma and dbeta are indexed by the parameter index over the axes in `param`. */
static ck_status norm_backward(const ck_layer *l, const ck_run *ex, const ck_tensor *x, const ck_tensor *dy,
                               ck_tensor *dx, const bool *reduced, const bool *param, double eps, bool rms,
                               const float *gamma, float *dgamma, float *dbeta)
{
    walk w;
    int64_t groups = walk_init(&w, &x->shape, reduced), n = ck_numel(x);
    double *mean = ws_doubles(l, ex, 4 * groups);
    if (!mean) return CK_ERR_STATE;
    group_stats(x, reduced, eps, groups, mean);
    double *inv = mean + groups, *su = inv + groups, *sux = su + groups;
    int64_t per = n / (groups ? groups : 1);
    /* pass 1: sums of u and u * xhat (u * x for rms) per group; weight gradients */
    walk_init2(&w, &x->shape, reduced, param);
    for (int64_t i = 0; i < n; i++, walk_next(&w)) {
        int64_t k = w.p;
        double xhat = (x->data[i] - mean[w.g]) * inv[w.g], g = gamma ? gamma[k] : 1.0, u = dy->data[i] * g;
        su[w.g] += u;
        sux[w.g] += rms ? u * x->data[i] : u * xhat;
        if (dgamma) dgamma[k] += (float)(dy->data[i] * (rms ? x->data[i] * inv[w.g] : xhat));
        if (dbeta) dbeta[k] += dy->data[i];
    }
    if (dx->data) {
        walk_init2(&w, &x->shape, reduced, param);
        for (int64_t i = 0; i < n; i++, walk_next(&w)) {
            int64_t k = w.p;
            double iv = inv[w.g], u = dy->data[i] * (gamma ? gamma[k] : 1.0), d = x->data[i] - mean[w.g];
            double g = rms ? iv * u - iv * iv * iv * d * sux[w.g] / (double)per
                           : iv * (u - su[w.g] / (double)per - d * iv * sux[w.g] / (double)per);
            dx->data[i] += (float)g;
        }
    }
    return CK_OK;
}

ck_status ck_layernorm_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)out, (void)n_out;
    const ck_norm_config *c = CK_CFG(l, ck_norm_config);
    bool reduced[CK_MAX_RANK];
    ck_status st = reduced_axes(l, &in[0].shape, reduced);
    if (st) return st;
    bool has_gamma = c->scale || c->rms_scaling, has_beta = c->center && !c->rms_scaling;
    return norm_backward(l, ex, &in[0], &dout[0], &din[0], reduced, reduced, (double)(float)c->epsilon,
                         c->rms_scaling, has_gamma ? l->weights[0].value : NULL,
                         has_gamma ? l->weights[0].grad : NULL, has_beta ? l->weights[has_gamma ? 1 : 0].grad : NULL);
}

/* GroupNormalization as a normalization of the view [batch, pre, groups,
 * per_group, post] over axes (pre, per_group, post); gamma is expanded to one
 * value per (pre, channel, post) element, whose index is the view's parameter
 * index over every non-batch axis, and its gradient folded back per channel. */
ck_status ck_groupnorm_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)out, (void)n_out;
    const ck_norm_config *c = CK_CFG(l, ck_norm_config);
    const ck_shape *s = &in[0].shape;
    int64_t pre, post, ch;
    ck_status st = gn_view(l, s, &pre, &ch, &post);
    if (st) return st;
    ck_tensor x = in[0], dy = dout[0], dx = din[0];
    x.shape = dy.shape = dx.shape = (ck_shape){.rank = 5, .dim = {s->dim[0], pre, c->groups, ch / c->groups, post}};
    bool reduced[CK_MAX_RANK] = {false, true, false, true, true}, param[CK_MAX_RANK] = {false, true, true, true, true};
    const float *gamma = c->scale ? l->weights[0].value : NULL;
    float *dgamma = c->scale ? l->weights[0].grad : NULL, *dbeta = c->center ? l->weights[c->scale ? 1 : 0].grad : NULL;
    size_t nfull = (size_t)(pre * ch * post);
    float *g_full = ck_exec_scratch(ex, l, (int64_t)(3 * nfull));
    if (!g_full) return ck_layer_error(l, CK_ERR_NOMEM, "out of memory for the gradients");
    float *dg_full = g_full + nfull, *db_full = dg_full + nfull;
    memset(dg_full, 0, 2 * nfull * sizeof *dg_full);
    for (int64_t p = 0; p < pre; p++)
        for (int64_t k = 0; k < ch; k++)
            for (int64_t q = 0; q < post; q++) g_full[(p * ch + k) * post + q] = gamma ? gamma[k] : 1.0f;
    st = norm_backward(l, ex, &x, &dy, &dx, reduced, param, (double)(float)c->epsilon, false, g_full,
                       dg_full, db_full);
    for (int64_t p = 0; !st && p < pre; p++)
        for (int64_t k = 0; k < ch; k++)
            for (int64_t q = 0; q < post; q++) {
                size_t i = (size_t)((p * ch + k) * post + q);
                if (dgamma) dgamma[k] += dg_full[i];
                if (dbeta) dbeta[k] += db_full[i];
            }
    return st;
}

/* y = x * r with r = min(rsqrt(sum x^2), 1e12): dx = r * dy - r^3 x sum(dy * x),
 * or 1e12 * dy where the clip is active. */
ck_status ck_unitnorm_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)out, (void)n_out;
    if (!din[0].data) return CK_OK;
    const ck_shape *s = &in[0].shape;
    bool reduced[CK_MAX_RANK];
    ck_status st = reduced_axes(l, s, reduced);
    if (st) return st;
    walk w;
    int64_t groups = walk_init(&w, s, reduced), n = ck_numel(&in[0]);
    double *sq = ws_doubles(l, ex, 2 * groups), *sux = sq + groups;
    if (!sq) return CK_ERR_STATE;
    for (int64_t i = 0; i < n; i++, walk_next(&w)) {
        sq[w.g] += (double)in[0].data[i] * in[0].data[i];
        sux[w.g] += (double)dout[0].data[i] * in[0].data[i];
    }
    walk_init(&w, s, reduced);
    for (int64_t i = 0; i < n; i++, walk_next(&w)) {
        double r = 1.0 / sqrt(sq[w.g]);
        din[0].data[i] += r < 1e12 ? (float)(r * dout[0].data[i] - r * r * r * in[0].data[i] * sux[w.g])
                                   : 1e12f * dout[0].data[i];
    }
    return CK_OK;
}

/* RMSNormalization: y = x * r * scale with r = rsqrt(mean(x^2) + eps) over the
 * axes (ops.rms_normalization); backward dx = r * u - r^3 x mean(u * x) with
 * u = dy * scale, dscale = dy * x * r. */
static ck_status rms_run(ck_layer *l, const ck_run *ex, const ck_tensor *x, const ck_tensor *y, const ck_tensor *dy,
                         ck_tensor *dx)
{
    const ck_norm_config *c = CK_CFG(l, ck_norm_config);
    bool reduced[CK_MAX_RANK];
    ck_status st = reduced_axes(l, &x->shape, reduced);
    if (st) return st;
    walk w;
    int64_t groups = walk_init(&w, &x->shape, reduced), n = ck_numel(x), per = n / (groups ? groups : 1);
    double *ms = ws_doubles(l, ex, 2 * groups), *sux = ms + groups;
    if (!ms) return CK_ERR_STATE;
    const float *scale = l->weights[0].value;
    for (int64_t i = 0; i < n; i++, walk_next(&w)) {
        ms[w.g] += (double)x->data[i] * x->data[i];
        if (dy) sux[w.g] += (double)dy->data[i] * scale[w.p] * x->data[i];
    }
    for (int64_t g = 0; g < groups; g++) ms[g] = 1.0f / sqrtf((float)(ms[g] / (double)per) + (float)c->epsilon);
    walk_init(&w, &x->shape, reduced);
    float *dscale = dy ? l->weights[0].grad : NULL;
    for (int64_t i = 0; i < n; i++, walk_next(&w)) {
        double r = ms[w.g];
        if (!dy) {
            y->data[i] = x->data[i] * (float)r * scale[w.p];
            continue;
        }
        if (dscale) dscale[w.p] += (float)(dy->data[i] * x->data[i] * r);
        if (dx->data)
            dx->data[i] += (float)(r * dy->data[i] * scale[w.p] - r * r * r * x->data[i] * sux[w.g] / (double)per);
    }
    return CK_OK;
}

ck_status ck_rmsnorm_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out;
    return rms_run(l, ex, &in[0], &out[0], NULL, NULL);
}

ck_status ck_rmsnorm_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)out, (void)n_out;
    return rms_run(l, ex, &in[0], NULL, &dout[0], &din[0]);
}
