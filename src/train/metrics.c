/*
 * Keras 3 metrics. Mean-style metrics (accuracies, mae, mse, rmse) keep a
 * weighted sum and weight of per-row values like MeanMetricWrapper; precision
 * and recall keep confusion counts at one threshold; AUC keeps them at Keras's
 * 200 thresholds and integrates the ROC curve by interpolation.
 */
#include "train/metrics.h"
#include "graph/config.h"
#include "train/spec.h"

#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <string.h>

typedef struct metric_name {
    const char *spec;
    ck_metric_kind kind;
    const char *name;   /* default key for class specs */
} metric_name;

static const metric_name k_metrics[] = {
    {"binary_accuracy", CK_MET_BINARY_ACC, NULL}, {"BinaryAccuracy", CK_MET_BINARY_ACC, "binary_accuracy"},
    {"categorical_accuracy", CK_MET_CATEGORICAL_ACC, NULL},
    {"CategoricalAccuracy", CK_MET_CATEGORICAL_ACC, "categorical_accuracy"},
    {"sparse_categorical_accuracy", CK_MET_SPARSE_ACC, NULL},
    {"SparseCategoricalAccuracy", CK_MET_SPARSE_ACC, "sparse_categorical_accuracy"},
    {"top_k_categorical_accuracy", CK_MET_TOP_K, NULL},
    {"TopKCategoricalAccuracy", CK_MET_TOP_K, "top_k_categorical_accuracy"},
    {"mae", CK_MET_MAE, NULL}, {"mean_absolute_error", CK_MET_MAE, NULL},
    {"MeanAbsoluteError", CK_MET_MAE, "mean_absolute_error"},
    {"mse", CK_MET_MSE, NULL}, {"mean_squared_error", CK_MET_MSE, NULL},
    {"MeanSquaredError", CK_MET_MSE, "mean_squared_error"},
    {"RootMeanSquaredError", CK_MET_RMSE, "root_mean_squared_error"},
    {"Precision", CK_MET_PRECISION, "precision"}, {"precision", CK_MET_PRECISION, NULL},
    {"Recall", CK_MET_RECALL, "recall"}, {"recall", CK_MET_RECALL, NULL},
    {"AUC", CK_MET_AUC, "auc"}, {"auc", CK_MET_AUC, NULL},
};

static ck_status metric_kwargs(ck_metric *m, const char *spec, const char *open)
{
    const char *close = strrchr(open, ')');
    if (!close || close[1] != '\0')
        return ck_fail(CK_ERR_CONFIG, "metric '%s': missing closing parenthesis", spec);
    char *kw = ck_strdup(open + 1);
    if (!kw)
        return ck_fail(CK_ERR_NOMEM, "metric: out of memory");
    kw[close - open - 1] = '\0';
    json_t *obj = NULL;
    ck_status st = ck_kwargs_parse_args(kw, ck_spec_positional("metric", spec, strcspn(spec, " (")), &obj);
    ck_free(kw);
    const char *key;
    json_t *v;
    if (st == CK_OK)
        json_object_foreach(obj, key, v) {
            if (strcmp(key, "name") == 0 && json_is_string(v))
                snprintf(m->name, sizeof m->name, "%s", json_string_value(v));
            else if (strcmp(key, "k") == 0 && json_is_integer(v) && json_integer_value(v) > 0 && json_integer_value(v) <= INT_MAX)
                m->k = (int)json_integer_value(v);
            else if ((strcmp(key, "threshold") == 0 || strcmp(key, "thresholds") == 0) && json_is_number(v))
                m->threshold = json_number_value(v);
            else {
                st = ck_fail(CK_ERR_CONFIG, "metric '%s': unknown keyword or bad value '%s'", spec, key);
                break;
            }
        }
    json_decref(obj);
    return st;
}

ck_status ck_metric_parse(const char *spec, int64_t d, int64_t label_width, ck_metric *out)
{
    *out = (ck_metric){.threshold = 0.5, .k = 5};
    const char *open = strchr(spec, '(');
    size_t n = open ? (size_t)(open - spec) : strlen(spec);
    if ((n == 8 && strncmp(spec, "accuracy", 8) == 0) || (n == 3 && strncmp(spec, "acc", 3) == 0)) {
        /* compile_utils: binary when one output unit, sparse when labels are indices */
        out->kind = d == 1 ? CK_MET_BINARY_ACC : label_width == 1 ? CK_MET_SPARSE_ACC
                                                                   : CK_MET_CATEGORICAL_ACC;
        snprintf(out->name, sizeof out->name, "%.*s", (int)n, spec);
    } else {
        int i = 0, count = CK_N_OF(k_metrics);
        while (i < count && !(strlen(k_metrics[i].spec) == n && strncmp(spec, k_metrics[i].spec, n) == 0))
            i++;
        if (i == count)
            return ck_fail(CK_ERR_CONFIG, "unknown metric '%s'", spec);
        out->kind = k_metrics[i].kind;
        snprintf(out->name, sizeof out->name, "%s", k_metrics[i].name ? k_metrics[i].name : k_metrics[i].spec);
    }
    if (open) {
        ck_status st = metric_kwargs(out, spec, open);
        if (st != CK_OK)
            return st;
    }
    if (out->kind == CK_MET_AUC) {
        out->auc = ck_calloc(4 * CK_AUC_THRESHOLDS, sizeof(double));
        if (!out->auc)
            return ck_fail(CK_ERR_NOMEM, "metric: out of memory");
    }
    return CK_OK;
}

void ck_metric_reset(ck_metric *m)
{
    m->total = m->count = m->tp = m->fp = m->fn = 0;
    if (m->auc)
        memset(m->auc, 0, 4 * CK_AUC_THRESHOLDS * sizeof(double));
}

void ck_metric_release(ck_metric *m)
{
    ck_free(m->auc);
    m->auc = NULL;
}

int64_t ck_metric_state_size(const ck_metric *m) { return 5 + (m->auc ? 4 * CK_AUC_THRESHOLDS : 0); }

void ck_metric_state_get(const ck_metric *m, double *out)
{
    out[0] = m->total, out[1] = m->count, out[2] = m->tp, out[3] = m->fp, out[4] = m->fn;
    if (m->auc)
        memcpy(out + 5, m->auc, 4 * CK_AUC_THRESHOLDS * sizeof(double));
}

void ck_metric_state_set(ck_metric *m, const double *in)
{
    m->total = in[0], m->count = in[1], m->tp = in[2], m->fp = in[3], m->fn = in[4];
    if (m->auc)
        memcpy(m->auc, in + 5, 4 * CK_AUC_THRESHOLDS * sizeof(double));
}

void ck_metric_add(ck_metric *m, double value, double weight)
{
    m->total += value * weight;
    m->count += weight;
}

static int64_t argmax(const float *p, int64_t d)
{
    int64_t a = 0;
    for (int64_t j = 1; j < d; j++)
        if (p[j] > p[a])
            a = j;
    return a;
}

/* Per-row value of a Mean-style metric. */
static double row_value(const ck_metric *m, const float *t, const float *p, int64_t d)
{
    double s = 0;
    switch (m->kind) {
    case CK_MET_BINARY_ACC:
        for (int64_t j = 0; j < d; j++)
            s += (float)(p[j] > m->threshold) == t[j];
        return s / (double)d;
    case CK_MET_CATEGORICAL_ACC: return argmax(p, d) == argmax(t, d);
    case CK_MET_SPARSE_ACC: return (double)argmax(p, d) == (double)t[0];
    case CK_MET_TOP_K: {
        int64_t c = argmax(t, d), above = 0;
        for (int64_t j = 0; j < d; j++)
            above += p[j] > p[c];
        return above < m->k;
    }
    case CK_MET_MAE:
        for (int64_t j = 0; j < d; j++)
            s += fabs((double)p[j] - t[j]);
        return s / (double)d;
    default: /* mse, rmse */
        for (int64_t j = 0; j < d; j++)
            s += ((double)p[j] - t[j]) * ((double)p[j] - t[j]);
        return s / (double)d;
    }
}

/* Keras's AUC thresholds: -eps, i / (n - 1) for i in 1..n-2, 1 + eps. */
static double auc_threshold(int i)
{
    if (i == 0)
        return -CK_EPSILON;
    if (i == CK_AUC_THRESHOLDS - 1)
        return 1 + CK_EPSILON;
    return (double)(float)((double)i / (CK_AUC_THRESHOLDS - 1));
}

static void update_confusion(ck_metric *m, const float *t, const float *p, int64_t rows, int64_t d,
                             const float *sw)
{
    for (int64_t r = 0; r < rows; r++) {
        double w = sw ? sw[r] : 1.0;
        for (int64_t j = 0; j < d; j++) {
            bool pos = t[r * d + j] != 0.f;
            float q = p[r * d + j];
            if (m->kind != CK_MET_AUC) {
                bool pred = q > m->threshold;
                m->tp += w * (pred && pos), m->fp += w * (pred && !pos), m->fn += w * (!pred && pos);
                continue;
            }
            for (int i = 0; i < CK_AUC_THRESHOLDS; i++) {
                bool pred = q > auc_threshold(i);
                m->auc[(pos ? (pred ? 0 : 3) : (pred ? 1 : 2)) * CK_AUC_THRESHOLDS + i] += w;
            }
        }
    }
}

void ck_metric_update(ck_metric *m, const float *y_true, const float *y_pred, int64_t rows,
                      int64_t d, int64_t label_width, const float *sw)
{
    if (m->kind == CK_MET_PRECISION || m->kind == CK_MET_RECALL || m->kind == CK_MET_AUC) {
        update_confusion(m, y_true, y_pred, rows, d, sw);
        return;
    }
    for (int64_t r = 0; r < rows; r++) {
        double w = sw ? sw[r] : 1.0;
        ck_metric_add(m, row_value(m, y_true + r * label_width, y_pred + r * d, d), w);
    }
}

static double div0(double a, double b) { return b != 0 ? a / b : 0; }

static double auc_result(const double *c)
{
    const double *tp = c, *fp = c + CK_AUC_THRESHOLDS, *tn = c + 2 * CK_AUC_THRESHOLDS,
                 *fn = c + 3 * CK_AUC_THRESHOLDS;
    double area = 0;
    for (int i = 0; i + 1 < CK_AUC_THRESHOLDS; i++) {
        double r0 = div0(tp[i], tp[i] + fn[i]), r1 = div0(tp[i + 1], tp[i + 1] + fn[i + 1]);
        double f0 = div0(fp[i], fp[i] + tn[i]), f1 = div0(fp[i + 1], fp[i + 1] + tn[i + 1]);
        area += (f0 - f1) * (r0 + r1) / 2;
    }
    return area;
}

double ck_metric_result(const ck_metric *m)
{
    switch (m->kind) {
    case CK_MET_PRECISION: return div0(m->tp, m->tp + m->fp);
    case CK_MET_RECALL: return div0(m->tp, m->tp + m->fn);
    case CK_MET_AUC: return auc_result(m->auc);
    case CK_MET_RMSE: return sqrt(div0(m->total, m->count));
    default: return div0(m->total, m->count);
    }
}
