/* Weight initialisers with Keras's formulas (fans, VarianceScaling variants,
 * orthogonal through a QR decomposition, identity). Values come from the model's
 * seeded RNG, or from the initializer's own seed when it has one. */
#include "graph/graph.h"

#include <math.h>
#include <string.h>

static void compute_fans(const ck_shape *s, double *fan_in, double *fan_out)
{
    if (s->rank == 0) {
        *fan_in = *fan_out = 1.0;
    } else if (s->rank == 1) {
        *fan_in = *fan_out = (double)s->dim[0];
    } else if (s->rank == 2) {
        *fan_in = (double)s->dim[0];
        *fan_out = (double)s->dim[1];
    } else {
        double receptive = 1.0;
        for (int i = 0; i < s->rank - 2; i++) receptive *= (double)s->dim[i];
        *fan_in = (double)s->dim[s->rank - 2] * receptive;
        *fan_out = (double)s->dim[s->rank - 1] * receptive;
    }
}

/* Truncated at two standard deviations by redrawing, as TensorFlow and JAX do. */
static double truncated_normal(ck_rng *r)
{
    for (;;) {
        double v = ck_rng_normal(r);
        if (fabs(v) <= 2.0) return v;
    }
}

static void fill_variance_scaling(double scale, ck_fan_mode mode, ck_distribution dist,
                                  const ck_shape *shape, float *v, int64_t n, ck_rng *r)
{
    double fan_in, fan_out;
    compute_fans(shape, &fan_in, &fan_out);
    double fan = mode == CK_FAN_IN ? fan_in : mode == CK_FAN_OUT ? fan_out : (fan_in + fan_out) / 2.0;
    scale /= fan > 1.0 ? fan : 1.0;
    if (dist == CK_DIST_UNIFORM) {
        double limit = sqrt(3.0 * scale);
        for (int64_t i = 0; i < n; i++) v[i] = (float)((2.0 * ck_rng_uniform(r) - 1.0) * limit);
    } else if (dist == CK_DIST_TRUNCATED_NORMAL) {
        double stddev = sqrt(scale) / 0.87962566103423978;
        for (int64_t i = 0; i < n; i++) v[i] = (float)(truncated_normal(r) * stddev);
    } else {
        double stddev = sqrt(scale);
        for (int64_t i = 0; i < n; i++) v[i] = (float)(ck_rng_normal(r) * stddev);
    }
}

/* Householder QR of a [rows, cols] (rows >= cols) matrix in place; returns Q's
 * first cols columns in q [rows, cols] with the signs of diag(R) folded in. */
static ck_status orthonormal_columns(double *a, int64_t rows, int64_t cols, double *q)
{
    double *vs = ck_calloc((size_t)(rows * cols), sizeof *vs);
    double *diag = ck_calloc((size_t)cols, sizeof *diag);
    if (!vs || !diag) {
        ck_free(vs);
        ck_free(diag);
        return CK_ERR_NOMEM;
    }
    for (int64_t k = 0; k < cols; k++) {
        double norm = 0.0;
        for (int64_t i = k; i < rows; i++) norm += a[i * cols + k] * a[i * cols + k];
        norm = sqrt(norm);
        double alpha = a[k * cols + k] > 0 ? -norm : norm;
        double *v = vs + k * rows;
        for (int64_t i = k; i < rows; i++) v[i] = a[i * cols + k];
        v[k] -= alpha;
        double vnorm = 0.0;
        for (int64_t i = k; i < rows; i++) vnorm += v[i] * v[i];
        if (vnorm > 0.0) {
            for (int64_t j = k; j < cols; j++) {
                double dot = 0.0;
                for (int64_t i = k; i < rows; i++) dot += v[i] * a[i * cols + j];
                double f = 2.0 * dot / vnorm;
                for (int64_t i = k; i < rows; i++) a[i * cols + j] -= f * v[i];
            }
        }
        diag[k] = a[k * cols + k];
    }
    /* Q = H0 H1 ... applied to the first cols columns of the identity. */
    for (int64_t i = 0; i < rows; i++)
        for (int64_t j = 0; j < cols; j++) q[i * cols + j] = i == j ? 1.0 : 0.0;
    for (int64_t k = cols - 1; k >= 0; k--) {
        double *v = vs + k * rows, vnorm = 0.0;
        for (int64_t i = k; i < rows; i++) vnorm += v[i] * v[i];
        if (vnorm == 0.0) continue;
        for (int64_t j = 0; j < cols; j++) {
            double dot = 0.0;
            for (int64_t i = k; i < rows; i++) dot += v[i] * q[i * cols + j];
            double f = 2.0 * dot / vnorm;
            for (int64_t i = k; i < rows; i++) q[i * cols + j] -= f * v[i];
        }
    }
    for (int64_t j = 0; j < cols; j++)
        if (diag[j] < 0)
            for (int64_t i = 0; i < rows; i++) q[i * cols + j] = -q[i * cols + j];
    ck_free(vs);
    ck_free(diag);
    return CK_OK;
}

static ck_status fill_orthogonal(double gain, const ck_shape *shape, float *v, int64_t n, ck_rng *r)
{
    if (shape->rank < 2)
        return ck_fail(CK_ERR_SHAPE, "the orthogonal initializer needs a weight of rank >= 2");
    int64_t cols = shape->dim[shape->rank - 1], rows = n / (cols ? cols : 1);
    int64_t big = rows > cols ? rows : cols, small = rows > cols ? cols : rows;
    double *a = ck_malloc((size_t)(big * small) * sizeof *a), *q = ck_malloc((size_t)(big * small) * sizeof *q);
    if (!a || !q) {
        ck_free(a);
        ck_free(q);
        return CK_ERR_NOMEM;
    }
    for (int64_t i = 0; i < big * small; i++) a[i] = ck_rng_normal(r);
    ck_status st = orthonormal_columns(a, big, small, q);
    for (int64_t i = 0; !st && i < rows; i++)
        for (int64_t j = 0; j < cols; j++)
            v[i * cols + j] = (float)(gain * (rows >= cols ? q[i * small + j] : q[j * small + i]));
    ck_free(a);
    ck_free(q);
    return st;
}

ck_status ck_init_check(const ck_init *in, const ck_shape *shape)
{
    if (in->kind == CK_INIT_ORTHOGONAL && shape->rank < 2)
        return ck_fail(CK_ERR_SHAPE, "the orthogonal initializer needs a weight of rank >= 2");
    if (in->kind == CK_INIT_IDENTITY && shape->rank != 2)
        return ck_fail(CK_ERR_SHAPE, "the identity initializer needs a 2D weight");
    if ((int)in->kind < 0 || in->kind >= CK_INIT_COUNT) return ck_fail(CK_ERR_CONFIG, "unknown initializer");
    return CK_OK;
}

ck_status ck_init_fill(const ck_init *in, const ck_shape *shape, float *v, ck_rng *model_rng)
{
    int64_t n;
    ck_status st = ck_shape_size_from(shape, 0, &n);
    if (st) return st;
    if (in->ones_end > in->ones_begin && in->ones_begin >= 0 && in->ones_end <= n) {
        ck_init base = *in;
        base.ones_begin = base.ones_end = 0;
        if (!(st = ck_init_fill(&base, shape, v, model_rng)))
            for (int64_t i = in->ones_begin; i < in->ones_end; i++) v[i] = 1.0f;
        return st;
    }
    ck_rng own, *r = model_rng;
    if (in->has_seed) {
        ck_rng_seed(&own, (uint64_t)in->seed);
        r = &own;
    }
    switch (in->kind) {
    case CK_INIT_ZEROS: memset(v, 0, (size_t)n * sizeof *v); return CK_OK;
    case CK_INIT_ONES:
    case CK_INIT_CONSTANT: {
        float c = in->kind == CK_INIT_ONES ? 1.0f : (float)in->a;
        for (int64_t i = 0; i < n; i++) v[i] = c;
        return CK_OK;
    }
    case CK_INIT_RANDOM_UNIFORM:
        for (int64_t i = 0; i < n; i++) v[i] = (float)(in->a + (in->b - in->a) * ck_rng_uniform(r));
        return CK_OK;
    case CK_INIT_RANDOM_NORMAL:
        for (int64_t i = 0; i < n; i++) v[i] = (float)(in->a + in->b * ck_rng_normal(r));
        return CK_OK;
    case CK_INIT_TRUNCATED_NORMAL:
        for (int64_t i = 0; i < n; i++) v[i] = (float)(in->a + in->b * truncated_normal(r));
        return CK_OK;
    case CK_INIT_VARIANCE_SCALING:
        fill_variance_scaling(in->a, in->mode, in->distribution, shape, v, n, r);
        return CK_OK;
    case CK_INIT_GLOROT_UNIFORM: fill_variance_scaling(1.0, CK_FAN_AVG, CK_DIST_UNIFORM, shape, v, n, r); return CK_OK;
    case CK_INIT_GLOROT_NORMAL: fill_variance_scaling(1.0, CK_FAN_AVG, CK_DIST_TRUNCATED_NORMAL, shape, v, n, r); return CK_OK;
    case CK_INIT_HE_UNIFORM: fill_variance_scaling(2.0, CK_FAN_IN, CK_DIST_UNIFORM, shape, v, n, r); return CK_OK;
    case CK_INIT_HE_NORMAL: fill_variance_scaling(2.0, CK_FAN_IN, CK_DIST_TRUNCATED_NORMAL, shape, v, n, r); return CK_OK;
    case CK_INIT_LECUN_UNIFORM: fill_variance_scaling(1.0, CK_FAN_IN, CK_DIST_UNIFORM, shape, v, n, r); return CK_OK;
    case CK_INIT_LECUN_NORMAL: fill_variance_scaling(1.0, CK_FAN_IN, CK_DIST_TRUNCATED_NORMAL, shape, v, n, r); return CK_OK;
    case CK_INIT_ORTHOGONAL: return fill_orthogonal(in->a, shape, v, n, r);
    case CK_INIT_IDENTITY:
        if (shape->rank != 2)
            return ck_fail(CK_ERR_SHAPE, "the identity initializer needs a 2D weight");
        for (int64_t i = 0; i < shape->dim[0]; i++)
            for (int64_t j = 0; j < shape->dim[1]; j++)
                v[i * shape->dim[1] + j] = i == j ? (float)in->a : 0.0f;
        return CK_OK;
    case CK_INIT_COUNT: break;
    }
    return ck_fail(CK_ERR_CONFIG, "unknown initializer");
}
