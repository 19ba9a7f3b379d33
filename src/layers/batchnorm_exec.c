/* BatchNormalization in training, as Keras 3 runs it: while training (and the
 * layer is trainable) the output is normalized with the batch's own mean and
 * biased variance over every axis but the feature axis, and the moving
 * statistics move by Keras's momentum rule,
 *     moving = moving * momentum + batch_stat * (1 - momentum);
 * in inference they are only read. Backward covers both modes: the full batch
 * statistics gradient in training, the affine map of the moving statistics
 * otherwise (with the moving statistics' own gradients, which the optimizer
 * leaves alone since they are not trainable). The batch mean and 1/sqrt(var + eps) are kept in the workspace
 * between forward and backward. Also the backward/workspace dispatch of the
 * normalization family's class table (only BatchNormalization has one yet). */
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

static bool batch_mode(const ck_layer *l, const ck_exec *ex) { return ex && ex->training && l->trainable; }

/* Batch mean and biased variance of feature d, in double. */
static void moments(const bn_view *v, const float *x, int64_t d, double *mean, double *var)
{
    double s = 0, q = 0, n = (double)(v->outer * v->inner);
    for (int64_t o = 0; o < v->outer; o++) {
        const float *p = x + (o * v->dim + d) * v->inner;
        for (int64_t i = 0; i < v->inner; i++) s += p[i];
    }
    *mean = s / n;
    for (int64_t o = 0; o < v->outer; o++) {
        const float *p = x + (o * v->dim + d) * v->inner;
        for (int64_t i = 0; i < v->inner; i++) q += (p[i] - *mean) * (p[i] - *mean);
    }
    *var = q / n;
}

ck_status ck_bn_train_forward(CK_FWD_ARGS)
{
    (void)n_in, (void)n_out;
    const ck_norm_config *c = CK_CFG(l, ck_norm_config);
    bn_view v;
    ck_status st = view_of(l, &in[0], &v);
    if (st) return st;
    if (!ex->workspace) return ck_layer_error(l, CK_ERR_SHAPE, "the engine needs every input dimension known");
    float *bmean = ex->workspace, *binv = ex->workspace + v.dim;
    float mom = (float)c->momentum;
#pragma omp parallel for schedule(static)
    for (int64_t d = 0; d < v.dim; d++) {
        double m, var;
        moments(&v, in[0].data, d, &m, &var);
        bmean[d] = (float)m;
        binv[d] = 1.0f / sqrtf((float)var + (float)c->epsilon);
        v.mean[d] = v.mean[d] * mom + (float)m * (1.0f - mom);
        v.var[d] = v.var[d] * mom + (float)var * (1.0f - mom);
        float a = binv[d] * (v.gamma ? v.gamma[d] : 1.0f), b = (v.beta ? v.beta[d] : 0.0f) - bmean[d] * a;
        for (int64_t o = 0; o < v.outer; o++) {
            const float *x = in[0].data + (o * v.dim + d) * v.inner;
            float *y = out[0].data + (o * v.dim + d) * v.inner;
            for (int64_t i = 0; i < v.inner; i++) y[i] = x[i] * a + b;
        }
    }
    return CK_OK;
}

static ck_status bn_backward(CK_BWD_ARGS)
{
    (void)n_in, (void)n_out, (void)out;
    const ck_norm_config *c = CK_CFG(l, ck_norm_config);
    bn_view v;
    ck_status st = view_of(l, &in[0], &v);
    if (st) return st;
    bool batch = batch_mode(l, ex);
    if (batch && !ex->workspace) return ck_layer_error(l, CK_ERR_SHAPE, "the engine needs every input dimension known");
    double n = (double)(v.outer * v.inner);
#pragma omp parallel for schedule(static)
    for (int64_t d = 0; d < v.dim; d++) {
        float mean = batch ? ex->workspace[d] : v.mean[d];
        float inv = batch ? ex->workspace[v.dim + d] : 1.0f / sqrtf(v.var[d] + (float)c->epsilon);
        double sdy = 0, sdyx = 0;
        for (int64_t o = 0; o < v.outer; o++) {
            const float *x = in[0].data + (o * v.dim + d) * v.inner, *dy = dout[0].data + (o * v.dim + d) * v.inner;
            for (int64_t i = 0; i < v.inner; i++) sdy += dy[i], sdyx += (double)dy[i] * (x[i] - mean) * inv;
        }
        if (v.dgamma) v.dgamma[d] += (float)sdyx;
        if (v.dbeta) v.dbeta[d] += (float)sdy;
        float gm = v.gamma ? v.gamma[d] : 1.0f;
        if (!batch && v.dmean && v.dvar) { /* the engine gives frozen weights gradients too */
            v.dmean[d] += (float)(-sdy * gm * inv);
            v.dvar[d] += (float)(-0.5 * sdyx * gm * inv * inv);
        }
        if (!din[0].data) continue;
        float g = gm * inv;
        float mdy = batch ? (float)(sdy / n) : 0.0f, mdyx = batch ? (float)(sdyx / n) : 0.0f;
        for (int64_t o = 0; o < v.outer; o++) {
            const float *x = in[0].data + (o * v.dim + d) * v.inner, *dy = dout[0].data + (o * v.dim + d) * v.inner;
            float *dx = din[0].data + (o * v.dim + d) * v.inner;
            for (int64_t i = 0; i < v.inner; i++) dx[i] += g * (dy[i] - mdy - (x[i] - mean) * inv * mdyx);
        }
    }
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

bool ck_bn_batch_mode(const ck_layer *l, const ck_exec *ex) { return batch_mode(l, ex); }
