/* BatchNormalization in training, as Keras 3 runs it: while training (and the
 * layer is trainable) the output is normalized with the batch's own mean and
 * biased variance over every axis but the feature axis, and the moving
 * statistics move by Keras's momentum rule,
 *     moving = moving * momentum + batch_stat * (1 - momentum);
 * in inference they are only read. Backward covers both modes: the full batch
 * statistics gradient in training, the affine map of the moving statistics
 * otherwise (with the moving statistics' own gradients, which the optimizer
 * leaves alone since they are not trainable). The batch mean and
 * 1/sqrt(var + eps) are kept in the workspace between forward and backward.
 * With synchronized=True in a data-parallel fit (ex->sum_across), the sums
 * behind the moments and their gradients run over every rank's rows, as one
 * process over the global batch; otherwise each rank uses its own rows (Keras's
 * per-replica default). Also the backward/workspace hooks of normalization.c's
 * NORM_CLASS entries (BatchNormalization; the other classes get their own hooks). */
#include "layers/conv_exec.h"
#include "layers/conv_layers.h"
#include "layers/engine_util.h"
#include "layers/layers.h"

#include <math.h>
#include <string.h>

typedef struct bn_view {
    int64_t outer, dim, inner;        /* x as [outer, dim, inner], dim the feature axis */
    const float *gamma, *beta;        /* NULL when scale / center are off              */
    float *mean, *var;                /* moving statistics                             */
    float *dgamma, *dbeta;
    float *dmean, *dvar;              /* grads of the moving statistics (inference)    */
} bn_view;

static ck_status view_of(const ck_layer *l, const ck_tensor *x, bn_view *v)
{
    const ck_norm_config *c = CK_CFG(l, ck_norm_config);
    const ck_shape *s = &x->shape;
    int ax;
    if (c->axis.n != 1 || !ck_normalize_axis(c->axis.v[0], s->rank, &ax))
        return ck_layer_error(l, CK_ERR_UNSUPPORTED, "field 'axis' must be one axis");
    *v = (bn_view){.outer = 1, .inner = 1, .dim = s->dim[ax]};
    for (int i = 0; i < ax; i++) v->outer *= s->dim[i];
    for (int i = ax + 1; i < s->rank; i++) v->inner *= s->dim[i];
    int w = 0;
    if (c->scale) v->gamma = l->weights[w].value, v->dgamma = l->weights[w].grad, w++;
    if (c->center) v->beta = l->weights[w].value, v->dbeta = l->weights[w].grad, w++;
    v->mean = l->weights[w].value, v->var = l->weights[w + 1].value;
    v->dmean = l->weights[w].grad, v->dvar = l->weights[w + 1].grad;
    return CK_OK;
}

static bool batch_mode(const ck_layer *l, const ck_run *ex) { return ex && ex->training && l->trainable; }

/* The rows the moments run over: this rank's, or every rank's when the layer
 * is synchronized in a data-parallel fit; sums (n of them) likewise. */
static ck_status over_batch(const ck_layer *l, const ck_run *ex, double *sums, int64_t n, double *rows)
{
    if (!CK_CFG(l, ck_norm_config)->synchronized || !ex->sum_across) return CK_OK;
    ck_status st = rows ? ex->sum_across(ex->sum_across_user, rows, 1) : CK_OK;
    if (!st) st = ex->sum_across(ex->sum_across_user, sums, n);
    return st ? ck_fail_prefix(st, "BatchNormalization '%s' (synchronized): ", l->name) : CK_OK;
}

/* Loops run over x as [outer, dim, inner] in memory order, with per-feature
 * accumulators, so channels-last data (inner = 1) streams through the cache
 * once per pass instead of once per channel. Sums are in double. */
#define FOR_X(v, BODY)                                                      \
    for (int64_t o = 0; o < (v)->outer; o++)                                \
        for (int64_t d = 0; d < (v)->dim; d++)                              \
            for (int64_t i = 0, at = (o * (v)->dim + d) * (v)->inner; i < (v)->inner; i++, at++) BODY

/* Two zeroed per-feature double sums and one float array of `dim`, in the
 * layer's scratch (whose data sits 8 bytes into a ck_malloc block: aligned). */
static ck_status accumulators(ck_layer *l, ck_run *ex, const bn_view *v, double **s1, double **s2, float **f)
{
    double *acc = (double *)(void *)ck_exec_scratch(ex, l, 5 * v->dim);
    if (!acc) return ck_layer_error(l, CK_ERR_NOMEM, "out of memory for the batch statistics");
    memset(acc, 0, (size_t)(2 * v->dim) * sizeof *acc);
    *s1 = acc, *s2 = acc + v->dim, *f = (float *)(void *)(acc + 2 * v->dim);
    return CK_OK;
}

ck_status ck_bn_train_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out;
    const ck_norm_config *c = CK_CFG(l, ck_norm_config);
    bn_view v;
    double *sum = NULL, *sq = NULL;
    float *unused = NULL;
    ck_status st = view_of(l, &in[0], &v);
    if (!st) st = ex->workspace ? accumulators(l, ex, &v, &sum, &sq, &unused)
                                : ck_layer_error(l, CK_ERR_SHAPE, "the engine needs every input dimension known");
    if (st) return st;
    float *bmean = ex->workspace, *binv = ex->workspace + v.dim, mom = (float)c->momentum;
    const float *x = in[0].data;
    float *y = out[0].data;
    double n = (double)(v.outer * v.inner);
    FOR_X(&v, { sum[d] += x[at]; });
    if ((st = over_batch(l, ex, sum, v.dim, &n))) return st;
    for (int64_t d = 0; d < v.dim; d++) bmean[d] = (float)(sum[d] / n);
    FOR_X(&v, { double e = x[at] - bmean[d]; sq[d] += e * e; });
    if ((st = over_batch(l, ex, sq, v.dim, NULL))) return st;
    for (int64_t d = 0; d < v.dim; d++) {
        float var = (float)(sq[d] / n);
        binv[d] = 1.0f / sqrtf(var + (float)c->epsilon);
        v.mean[d] = v.mean[d] * mom + bmean[d] * (1.0f - mom);
        v.var[d] = v.var[d] * mom + var * (1.0f - mom);
        /* y = x * a + b, a and b kept in the accumulators' place */
        sum[d] = binv[d] * (v.gamma ? v.gamma[d] : 1.0f);
        sq[d] = (v.beta ? v.beta[d] : 0.0f) - bmean[d] * (float)sum[d];
    }
    FOR_X(&v, { y[at] = x[at] * (float)sum[d] + (float)sq[d]; });
    return CK_OK;
}

static ck_status bn_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)n_out, (void)out;
    const ck_norm_config *c = CK_CFG(l, ck_norm_config);
    bn_view v;
    double *sdy = NULL, *sdyx = NULL;
    float *inv = NULL;
    bool batch = batch_mode(l, ex);
    ck_status st = view_of(l, &in[0], &v);
    if (!st && batch && !ex->workspace)
        st = ck_layer_error(l, CK_ERR_SHAPE, "the engine needs every input dimension known");
    if (!st) st = accumulators(l, ex, &v, &sdy, &sdyx, &inv);
    if (st) return st;
    /* the statistics this pass normalized with: the batch's or the moving ones */
    const float *mean = batch ? ex->workspace : v.mean;
    for (int64_t d = 0; d < v.dim; d++)
        inv[d] = batch ? ex->workspace[v.dim + d] : 1.0f / sqrtf(v.var[d] + (float)c->epsilon);
    const float *x = in[0].data, *dy = dout[0].data;
    FOR_X(&v, {
        sdy[d] += dy[at];
        sdyx[d] += (double)dy[at] * (x[at] - mean[d]) * inv[d];
    });
    /* the weights' gradients are this rank's share (fit sums them); the
     * input's gradient needs the means over the whole batch */
    for (int64_t d = 0; d < v.dim; d++) {
        if (v.dgamma) v.dgamma[d] += (float)sdyx[d];
        if (v.dbeta) v.dbeta[d] += (float)sdy[d];
    }
    double n = (double)(v.outer * v.inner);
    if (batch && (st = over_batch(l, ex, sdy, 2 * v.dim, &n))) return st; /* sdy, sdyx are adjacent */
    for (int64_t d = 0; d < v.dim; d++) {
        float gm = v.gamma ? v.gamma[d] : 1.0f;
        if (!batch && v.dmean && v.dvar) { /* the engine gives frozen weights gradients too */
            v.dmean[d] += (float)(-sdy[d] * gm * inv[d]);
            v.dvar[d] += (float)(-0.5 * sdyx[d] * gm * inv[d] * inv[d]);
        }
        /* reuse the sums as the means of dy and dy * xhat (zero in inference) */
        sdy[d] = batch ? sdy[d] / n : 0.0, sdyx[d] = batch ? sdyx[d] / n : 0.0;
    }
    if (!din[0].data) return CK_OK;
    float *dx = din[0].data;
    FOR_X(&v, {
        float g = (v.gamma ? v.gamma[d] : 1.0f) * inv[d];
        dx[at] += g * (dy[at] - (float)sdy[d] - (x[at] - mean[d]) * inv[d] * (float)sdyx[d]);
    });
    return CK_OK;
}

ck_status ck_norm_backward(CK_BWD_ARGS)
{
    if (!strcmp(l->cls->class_name, "BatchNormalization")) return bn_backward(l, in, n_in, out, dout, n_out, din, ex);
    return ck_layer_error(l, CK_ERR_UNSUPPORTED, "the engine has no backward for this layer class");
}

/* BatchNormalization keeps the batch mean and 1/sqrt(var + eps) per feature. */
int64_t ck_norm_workspace(const ck_layer *l)
{
    if (strcmp(l->cls->class_name, "BatchNormalization")) return 0;
    const ck_norm_config *c = CK_CFG(l, ck_norm_config);
    const ck_shape *s = &l->in_shapes[0];
    int ax;
    if (c->axis.n != 1 || !ck_normalize_axis(c->axis.v[0], s->rank, &ax) || s->dim[ax] == CK_NONE) return 0;
    return 2 * s->dim[ax];
}

bool ck_bn_batch_mode(const ck_layer *l, const ck_run *ex) { return batch_mode(l, ex); }
