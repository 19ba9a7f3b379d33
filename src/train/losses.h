/*
 * Keras 3 losses: each gives the per-row loss value and its gradient with respect
 * to y_pred, following the formulas of keras/src/losses/losses.py and the JAX
 * backend's cross-entropies (clipping to epsilon = 1e-7 included), and the
 * "sum_over_batch_size" reduction with sample weights that compile() uses.
 * A "row" is one loss element: every index of y_pred except its last axis.
 */
#ifndef CK_TRAIN_LOSSES_H
#define CK_TRAIN_LOSSES_H

#include "core/core.h"

#define CK_EPSILON 1e-7 /* keras.backend.epsilon() */

typedef enum ck_loss_kind {
    CK_LOSS_MSE, CK_LOSS_MAE, CK_LOSS_MAPE, CK_LOSS_MSLE,
    CK_LOSS_BINARY_CE, CK_LOSS_CATEGORICAL_CE, CK_LOSS_SPARSE_CE,
    CK_LOSS_HINGE, CK_LOSS_SQUARED_HINGE, CK_LOSS_CATEGORICAL_HINGE,
    CK_LOSS_HUBER, CK_LOSS_LOG_COSH, CK_LOSS_KLD, CK_LOSS_POISSON,
    CK_LOSS_COSINE, CK_LOSS_COUNT
} ck_loss_kind;

typedef struct ck_loss {
    ck_loss_kind kind;
    bool from_logits;        /* cross-entropies                         */
    double label_smoothing;  /* binary / categorical cross-entropy      */
    double delta;            /* Huber, 1.0                              */
    /* How compile() was given it, for get_compile_config: the name as written
     * ("mse" stays "mse"), or a class called with arguments, which Keras
     * serializes as an object (keras.losses.CategoricalCrossentropy(...)). */
    char given[64];
    bool as_object;
} ck_loss;

/* "mse", "mean_squared_error", "MeanSquaredError",
 * "CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)". */
ck_status ck_loss_parse(const char *spec, ck_loss *out);
/* Keras's snake_case function name of the loss ("mean_squared_error"). */
const char *ck_loss_name(ck_loss_kind kind);
/* Keras's class name of the loss ("MeanSquaredError"). */
const char *ck_loss_class_name(ck_loss_kind kind);
/* Labels per row: 1 for sparse categorical cross-entropy, else d. */
int64_t ck_loss_label_width(const ck_loss *l, int64_t d);

/* Per-row losses and gradients.
 *   y_true   [rows, label_width]   (class indices as floats when sparse)
 *   y_pred   [rows, d]
 *   per_row  [rows]                loss of each row (may be NULL)
 *   grad     [rows, d]             d per_row[r] / d y_pred[r, :] (may be NULL)
 * Fails only on bad labels (a sparse class index out of range). */
ck_status ck_loss_rows(const ck_loss *l, const float *y_true, const float *y_pred,
                       int64_t rows, int64_t d, float *per_row, float *grad);

/* "sum_over_batch_size": sum(w_r * loss_r) / rows, with w = 1 when sample_weight
 * is NULL. Scales grad (from ck_loss_rows) in place to the gradient of this mean.
 * per_row [rows], sample_weight [rows] or NULL. Returns the mean. */
/* The same with the divisor given: a data-parallel rank holds `rows` of a
 * global batch of `divisor` rows, and its share of the mean is sum / divisor. */
double ck_loss_reduce_share(const float *per_row, const float *sample_weight, int64_t rows, int64_t divisor,
                            int64_t d, float *grad);
double ck_loss_reduce(const float *per_row, const float *sample_weight, int64_t rows,
                      int64_t d, float *grad);

#endif
