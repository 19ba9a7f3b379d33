/*
 * Keras 3 metrics as stateful objects (reset / update per batch / result), so a
 * reported value is the weighted average over the whole epoch as in Keras:
 * accuracy in its binary, categorical and sparse forms (and "accuracy" resolved
 * by shapes the way compile() does), top-k categorical accuracy, mae, mse, rmse,
 * precision, recall and ROC AUC with Keras's 200 thresholds and interpolation.
 */
#ifndef CK_TRAIN_METRICS_H
#define CK_TRAIN_METRICS_H

#include "train/losses.h"

typedef enum ck_metric_kind {
    CK_MET_BINARY_ACC, CK_MET_CATEGORICAL_ACC, CK_MET_SPARSE_ACC, CK_MET_TOP_K,
    CK_MET_MAE, CK_MET_MSE, CK_MET_RMSE, CK_MET_PRECISION, CK_MET_RECALL, CK_MET_AUC,
    CK_MET_LOSS /* the loss tracker: a Mean of batch losses weighted by batch size */
} ck_metric_kind;

#define CK_AUC_THRESHOLDS 200

typedef struct ck_metric {
    ck_metric_kind kind;
    char name[64];              /* the key in the logs ("accuracy", "mae")   */
    double threshold;           /* binary accuracy, precision, recall: 0.5   */
    int k;                      /* top-k: 5                                  */
    double total, count;        /* Mean-style metrics                        */
    double tp, fp, fn;          /* precision, recall                         */
    double *auc;                /* [4][CK_AUC_THRESHOLDS] tp, fp, tn, fn     */
} ck_metric;

/* Parses one metric spec ("accuracy", "acc", "mae", "Precision()",
 * "TopKCategoricalAccuracy(k=3)"). "accuracy" is resolved against the output
 * width d and the label width, as Keras does. */
ck_status ck_metric_parse(const char *spec, int64_t d, int64_t label_width, ck_metric *out);
void ck_metric_reset(ck_metric *m);
/* y_true [rows, label_width], y_pred [rows, d], sample_weight [rows] or NULL. */
void ck_metric_update(ck_metric *m, const float *y_true, const float *y_pred, int64_t rows,
                      int64_t d, int64_t label_width, const float *sample_weight);
/* The loss tracker: a batch mean weighted by its rows. */
void ck_metric_add(ck_metric *m, double value, double weight);
double ck_metric_result(const ck_metric *m);
/* The accumulated state as doubles (sums and counts, AUC's confusion counts):
 * data-parallel fit adds the ranks' per-step increments so every rank holds
 * the state one process would. */
int64_t ck_metric_state_size(const ck_metric *m);
void ck_metric_state_get(const ck_metric *m, double *out);
void ck_metric_state_set(ck_metric *m, const double *in);
void ck_metric_release(ck_metric *m);

#endif
