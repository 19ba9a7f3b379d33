/*
 * Keras 3 losses, value and gradient. Each formula follows keras/src/losses/
 * losses.py and, for the cross-entropies, keras/src/backend/jax/nn.py: outputs
 * that are probabilities are clipped to [eps, 1 - eps] (categorical ones first
 * renormalised to sum 1), and a clipped value passes no gradient, as in JAX.
 * Per-row sums are accumulated in double; the results are float32 like Keras's.
 */
#include "train/losses.h"
#include "graph/config.h"
#include "train/spec.h"

#include <jansson.h>
#include <math.h>
#include <string.h>

typedef struct loss_name {
    const char *fn;      /* keras.losses function name (snake_case)    */
    const char *cls;     /* keras.losses class name                     */
    const char *alias;   /* short alias accepted by compile(), or NULL  */
} loss_name;

static const loss_name k_names[CK_LOSS_COUNT] = {
    [CK_LOSS_MSE] = {"mean_squared_error", "MeanSquaredError", "mse"},
    [CK_LOSS_MAE] = {"mean_absolute_error", "MeanAbsoluteError", "mae"},
    [CK_LOSS_MAPE] = {"mean_absolute_percentage_error", "MeanAbsolutePercentageError", "mape"},
    [CK_LOSS_MSLE] = {"mean_squared_logarithmic_error", "MeanSquaredLogarithmicError", "msle"},
    [CK_LOSS_BINARY_CE] = {"binary_crossentropy", "BinaryCrossentropy", NULL},
    [CK_LOSS_CATEGORICAL_CE] = {"categorical_crossentropy", "CategoricalCrossentropy", NULL},
    [CK_LOSS_SPARSE_CE] = {"sparse_categorical_crossentropy", "SparseCategoricalCrossentropy", NULL},
    [CK_LOSS_HINGE] = {"hinge", "Hinge", NULL},
    [CK_LOSS_SQUARED_HINGE] = {"squared_hinge", "SquaredHinge", NULL},
    [CK_LOSS_CATEGORICAL_HINGE] = {"categorical_hinge", "CategoricalHinge", NULL},
    [CK_LOSS_HUBER] = {"huber", "Huber", "huber_loss"},
    [CK_LOSS_LOG_COSH] = {"log_cosh", "LogCosh", "logcosh"},
    [CK_LOSS_KLD] = {"kl_divergence", "KLDivergence", "kld"},
    [CK_LOSS_POISSON] = {"poisson", "Poisson", NULL},
    [CK_LOSS_COSINE] = {"cosine_similarity", "CosineSimilarity", NULL},
};

const char *ck_loss_name(ck_loss_kind kind)
{
    return (unsigned)kind < CK_LOSS_COUNT ? k_names[kind].fn : "?";
}

const char *ck_loss_class_name(ck_loss_kind kind)
{
    return (unsigned)kind < CK_LOSS_COUNT ? k_names[kind].cls : "?";
}

int64_t ck_loss_label_width(const ck_loss *l, int64_t d)
{
    return l->kind == CK_LOSS_SPARSE_CE ? 1 : d;
}

static bool name_is(const char *s, size_t n, const char *name)
{
    return name && strlen(name) == n && strncmp(s, name, n) == 0;
}

/* Applies the keyword arguments of a loss class; only the ones that change the
 * math are kept, the rest (name, reduction="sum_over_batch_size") are checked. */
static ck_status apply_loss_kwargs(ck_loss *l, const char *spec, const char *kwargs)
{
    json_t *obj = NULL;
    ck_status st = ck_kwargs_parse_args(kwargs, ck_spec_positional("loss", spec, strcspn(spec, " (")), &obj);
    if (st != CK_OK)
        return ck_fail_prefix(st, "loss '%s': ", spec);
    const char *key;
    json_t *v;
    json_object_foreach(obj, key, v) {
        bool ok = true;
        if (strcmp(key, "from_logits") == 0)
            ok = json_is_boolean(v), l->from_logits = json_is_true(v);
        else if (strcmp(key, "label_smoothing") == 0)
            ok = json_is_number(v), l->label_smoothing = json_number_value(v);
        else if (strcmp(key, "delta") == 0)
            ok = json_is_number(v), l->delta = json_number_value(v);
        else if (strcmp(key, "reduction") == 0)
            ok = json_is_string(v) && strcmp(json_string_value(v), "sum_over_batch_size") == 0;
        else if (strcmp(key, "name") == 0 || strcmp(key, "dtype") == 0 || strcmp(key, "axis") == 0)
            ok = true;
        else if (strcmp(key, "ignore_class") == 0) /* SparseCategoricalCrossentropy's config */
            ok = json_is_null(v);
        else {
            /* key lives in obj: format the message before releasing it */
            ck_status st = ck_fail(CK_ERR_CONFIG, "loss '%s': unknown keyword '%s'", spec, key);
            json_decref(obj);
            return st;
        }
        if (!ok) {
            ck_status st = ck_fail(CK_ERR_CONFIG, "loss '%s': unsupported value for '%s'", spec, key);
            json_decref(obj);
            return st;
        }
    }
    json_decref(obj);
    if (l->label_smoothing < 0 || l->label_smoothing > 1)
        return ck_fail(CK_ERR_CONFIG, "loss '%s': label_smoothing must be in [0, 1]", spec);
    if (!(l->delta > 0))
        return ck_fail(CK_ERR_CONFIG, "loss '%s': delta must be positive", spec);
    return CK_OK;
}

ck_status ck_loss_parse(const char *spec, ck_loss *out)
{
    if (!spec || !out)
        return ck_fail(CK_ERR_ARG, "ck_loss_parse: NULL argument");
    const char *paren = strchr(spec, '(');
    size_t n = paren ? (size_t)(paren - spec) : strlen(spec);
    while (n > 0 && spec[n - 1] == ' ')
        n--;
    for (int k = 0; k < CK_LOSS_COUNT; k++) {
        const loss_name *nm = &k_names[k];
        if (!name_is(spec, n, nm->fn) && !name_is(spec, n, nm->cls) && !name_is(spec, n, nm->alias))
            continue;
        *out = (ck_loss){.kind = (ck_loss_kind)k, .delta = 1.0, .as_object = paren != NULL};
        snprintf(out->given, sizeof out->given, "%.*s", (int)n, spec);
        if (!paren)
            return CK_OK;
        const char *close = strrchr(paren, ')');
        if (!close || close[1] != '\0')
            return ck_fail(CK_ERR_CONFIG, "loss '%s': missing closing parenthesis", spec);
        char *kw = ck_malloc((size_t)(close - paren));
        if (!kw)
            return ck_fail(CK_ERR_NOMEM, "loss '%s': out of memory", spec);
        memcpy(kw, paren + 1, (size_t)(close - paren - 1));
        kw[close - paren - 1] = '\0';
        ck_status st = apply_loss_kwargs(out, spec, kw);
        ck_free(kw);
        return st;
    }
    return ck_fail(CK_ERR_CONFIG, "unknown loss '%s'", spec);
}

/* ---- one row of each loss: returns the value, writes g[d] when g != NULL ---- */

static double sgn(double x) { return (x > 0) - (x < 0); }
static double sigmoid(double x) { return x >= 0 ? 1 / (1 + exp(-x)) : exp(x) / (1 + exp(x)); }
static double softplus(double x) { return x > 0 ? x + log1p(exp(-x)) : log1p(exp(x)); }

static double row_regression(ck_loss_kind k, const float *t, const float *p, int64_t d,
                             double delta, float *g)
{
    double sum = 0, eps = CK_EPSILON;
    for (int64_t j = 0; j < d; j++) {
        double e = (double)p[j] - t[j], v = 0, dv = 0;
        switch (k) {
        case CK_LOSS_MSE: v = e * e; dv = 2 * e; break;
        case CK_LOSS_MAE: v = fabs(e); dv = sgn(e); break;
        case CK_LOSS_MAPE: {
            double den = fmax(fabs((double)t[j]), eps);
            v = 100 * fabs(e) / den;
            dv = 100 * sgn(e) / den;
            break;
        }
        case CK_LOSS_MSLE: {
            double a = log(fmax(p[j], eps) + 1) - log(fmax(t[j], eps) + 1);
            v = a * a;
            dv = p[j] > eps ? 2 * a / (p[j] + 1.0) : 0;
            break;
        }
        case CK_LOSS_HUBER:
            if (fabs(e) <= delta) v = 0.5 * e * e, dv = e;
            else v = delta * fabs(e) - 0.5 * delta * delta, dv = delta * sgn(e);
            break;
        case CK_LOSS_LOG_COSH: v = e + softplus(-2 * e) - log(2.0); dv = tanh(e); break;
        case CK_LOSS_POISSON:
            v = p[j] - t[j] * log(p[j] + eps);
            dv = 1 - t[j] / (p[j] + eps);
            break;
        default: break;
        }
        sum += v;
        if (g)
            g[j] = (float)(dv / (double)d);
    }
    return sum / (double)d;
}

static double row_hinge(ck_loss_kind k, const float *t, const float *p, int64_t d,
                        bool convert, float *g)
{
    double sum = 0;
    for (int64_t j = 0; j < d; j++) {
        double y = convert ? 2.0 * t[j] - 1.0 : t[j];
        double m = fmax(1 - y * p[j], 0);
        sum += k == CK_LOSS_HINGE ? m : m * m;
        if (g)
            g[j] = (float)((m > 0 ? (k == CK_LOSS_HINGE ? -y : -2 * y * m) : 0) / (double)d);
    }
    return sum / (double)d;
}

static double row_categorical_hinge(const float *t, const float *p, int64_t d, float *g)
{
    double pos = 0, neg = -INFINITY;
    int64_t arg = 0;
    for (int64_t j = 0; j < d; j++) {
        pos += (double)t[j] * p[j];
        double n = (1.0 - t[j]) * p[j];
        if (n > neg)
            neg = n, arg = j;
    }
    double v = fmax(neg - pos + 1, 0);
    if (g)
        for (int64_t j = 0; j < d; j++)
            g[j] = v > 0 ? (float)(-t[j] + (j == arg ? 1.0 - t[j] : 0)) : 0.f;
    return v;
}

static double row_binary_ce(const float *t, const float *p, int64_t d, const ck_loss *l, float *g)
{
    double sum = 0, eps = CK_EPSILON, ls = l->label_smoothing;
    for (int64_t j = 0; j < d; j++) {
        double y = t[j] * (1 - ls) + 0.5 * ls, v, dv;
        if (l->from_logits) {
            v = y * softplus(-p[j]) + (1 - y) * softplus(p[j]);
            dv = sigmoid(p[j]) - y;
        } else {
            /* JAX computes in float32: clip to [eps, 1 - eps] as float32 values. */
            float q = fminf(fmaxf(p[j], (float)eps), (float)(1 - eps));
            v = -(y * log(q) + (1 - y) * log(1.0 - q));
            dv = (p[j] == q) ? -(y / q - (1 - y) / (1.0 - q)) : 0;
        }
        sum += v;
        if (g)
            g[j] = (float)(dv / (double)d);
    }
    return sum / (double)d;
}

/* Categorical cross-entropy of one row against target y[d] (already smoothed).
 * dc is scratch-free: the gradient is formed in two passes over g. */
static double row_categorical_ce(const double *y, const float *p, int64_t d, bool logits, float *g)
{
    double v = 0;
    if (logits) {
        double mx = -INFINITY, se = 0, ysum = 0;
        for (int64_t j = 0; j < d; j++)
            mx = fmax(mx, p[j]);
        for (int64_t j = 0; j < d; j++)
            se += exp(p[j] - mx);
        double lse = mx + log(se);
        for (int64_t j = 0; j < d; j++)
            v -= y[j] * (p[j] - lse), ysum += y[j];
        if (g)
            for (int64_t j = 0; j < d; j++)
                g[j] = (float)(exp(p[j] - lse) * ysum - y[j]);
        return v;
    }
    double s = 0, eps = CK_EPSILON, dot = 0;
    for (int64_t j = 0; j < d; j++)
        s += p[j];
    for (int64_t j = 0; j < d; j++) {
        double o = p[j] / s, c = fmin(fmax(o, eps), 1 - eps);
        v -= y[j] * log(c);
        double dc = (o == c) ? -y[j] / c : 0; /* d v / d c_j */
        dot += dc * p[j];
        if (g)
            g[j] = (float)dc;
    }
    if (g) /* c_j = p_j / s: d v / d p_j = dc_j / s - sum_k dc_k p_k / s^2 */
        for (int64_t j = 0; j < d; j++)
            g[j] = (float)(g[j] / s - dot / (s * s));
    return v;
}

static double row_kld(const float *t, const float *p, int64_t d, float *g)
{
    double v = 0, eps = CK_EPSILON;
    for (int64_t j = 0; j < d; j++) {
        double tc = fmin(fmax(t[j], eps), 1), pc = fmin(fmax(p[j], eps), 1);
        v += tc * log(tc / pc);
        if (g)
            g[j] = (float)((p[j] == pc) ? -tc / pc : 0);
    }
    return v;
}

static double row_cosine(const float *t, const float *p, int64_t d, float *g)
{
    double nt = 0, np = 0, dot = 0, eps = CK_EPSILON;
    for (int64_t j = 0; j < d; j++)
        nt += (double)t[j] * t[j], np += (double)p[j] * p[j], dot += (double)t[j] * p[j];
    nt = fmax(sqrt(nt), eps);
    double rawp = sqrt(np);
    np = fmax(rawp, eps);
    double v = -dot / (nt * np);
    if (g)
        for (int64_t j = 0; j < d; j++) {
            double tn = t[j] / nt;
            g[j] = rawp > eps ? (float)(-(tn + v * p[j] / np) / np) : (float)(-tn / np);
        }
    return v;
}

/* Keras converts {0, 1} hinge labels to {-1, 1} when the whole batch is binary. */
static bool labels_are_binary(const float *t, int64_t n)
{
    for (int64_t i = 0; i < n; i++)
        if (t[i] != 0.f && t[i] != 1.f)
            return false;
    return true;
}

static ck_status row_crossentropy(const ck_loss *l, const float *t, const float *p, int64_t r,
                                  int64_t d, double *y, double *out, float *g)
{
    if (l->kind == CK_LOSS_SPARSE_CE) {
        double c = t[0];
        if (!(c >= 0 && c < (double)d) || c != floor(c))
            return ck_fail(CK_ERR_ARG, "sparse_categorical_crossentropy: label %g of row %lld of the "
                           "batch is not a class index in [0, %lld)", c, (long long)r, (long long)d);
        for (int64_t j = 0; j < d; j++)
            y[j] = (j == (int64_t)c);
    } else {
        double ls = l->label_smoothing;
        for (int64_t j = 0; j < d; j++)
            y[j] = t[j] * (1 - ls) + ls / (double)d;
    }
    *out = row_categorical_ce(y, p, d, l->from_logits, g);
    return CK_OK;
}

ck_status ck_loss_rows(const ck_loss *l, const float *y_true, const float *y_pred,
                       int64_t rows, int64_t d, float *per_row, float *grad)
{
    int64_t tw = ck_loss_label_width(l, d);
    bool convert = (l->kind == CK_LOSS_HINGE || l->kind == CK_LOSS_SQUARED_HINGE) &&
                   labels_are_binary(y_true, rows * tw);
    double *y = NULL;
    if (l->kind == CK_LOSS_CATEGORICAL_CE || l->kind == CK_LOSS_SPARSE_CE) {
        y = ck_malloc((size_t)d * sizeof *y); /* once per batch, not per row */
        if (!y)
            return ck_fail(CK_ERR_NOMEM, "loss: out of memory");
    }
    ck_status st = CK_OK;
    for (int64_t r = 0; r < rows && st == CK_OK; r++) {
        const float *t = y_true + r * tw, *p = y_pred + r * d;
        float *g = grad ? grad + r * d : NULL;
        double v = 0;
        switch (l->kind) {
        case CK_LOSS_BINARY_CE: v = row_binary_ce(t, p, d, l, g); break;
        case CK_LOSS_CATEGORICAL_CE:
        case CK_LOSS_SPARSE_CE: st = row_crossentropy(l, t, p, r, d, y, &v, g); break;
        case CK_LOSS_HINGE:
        case CK_LOSS_SQUARED_HINGE: v = row_hinge(l->kind, t, p, d, convert, g); break;
        case CK_LOSS_CATEGORICAL_HINGE: v = row_categorical_hinge(t, p, d, g); break;
        case CK_LOSS_KLD: v = row_kld(t, p, d, g); break;
        case CK_LOSS_COSINE: v = row_cosine(t, p, d, g); break;
        default: v = row_regression(l->kind, t, p, d, l->delta, g); break;
        }
        if (per_row)
            per_row[r] = (float)v;
    }
    ck_free(y);
    return st;
}

double ck_loss_reduce_share(const float *per_row, const float *sample_weight, int64_t rows, int64_t divisor,
                            int64_t d, float *grad)
{
    if (rows <= 0 || divisor <= 0)
        return 0;
    double sum = 0;
    for (int64_t r = 0; r < rows; r++)
        sum += (double)per_row[r] * (sample_weight ? sample_weight[r] : 1.f);
    if (grad)
        for (int64_t r = 0; r < rows; r++) {
            float s = (sample_weight ? sample_weight[r] : 1.f) / (float)divisor;
            for (int64_t j = 0; j < d; j++)
                grad[r * d + j] *= s;
        }
    return sum / (double)divisor;
}

double ck_loss_reduce(const float *per_row, const float *sample_weight, int64_t rows,
                      int64_t d, float *grad)
{
    return ck_loss_reduce_share(per_row, sample_weight, rows, rows, d, grad);
}
