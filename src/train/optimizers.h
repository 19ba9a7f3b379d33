/*
 * Keras 3 optimizers with their exact update rules and defaults (keras/src/
 * optimizers/ (one file per class)): SGD, Adam, AdamW, RMSprop, Adagrad, Adadelta, Adamax, Nadam,
 * Lion; gradient clipping (clipnorm, clipvalue, global_clipnorm), decoupled
 * weight decay, and the learning-rate schedules ExponentialDecay,
 * PiecewiseConstantDecay, CosineDecay and InverseTimeDecay. Each step updates the
 * trainable variables in one fused pass per contiguous span of the model's weight
 * block; the optimizer's slots live in one allocation laid out like the spans.
 */
#ifndef CK_TRAIN_OPTIMIZERS_H
#define CK_TRAIN_OPTIMIZERS_H

#include "core/core.h"

typedef enum ck_opt_kind {
    CK_OPT_SGD, CK_OPT_ADAM, CK_OPT_ADAMW, CK_OPT_RMSPROP, CK_OPT_ADAGRAD,
    CK_OPT_ADADELTA, CK_OPT_ADAMAX, CK_OPT_NADAM, CK_OPT_LION, CK_OPT_COUNT
} ck_opt_kind;

typedef enum ck_sched_kind {
    CK_SCHED_NONE, CK_SCHED_EXPONENTIAL, CK_SCHED_PIECEWISE, CK_SCHED_COSINE,
    CK_SCHED_INVERSE_TIME
} ck_sched_kind;

#define CK_SCHED_MAX_PIECES 16

typedef struct ck_schedule {
    ck_sched_kind kind;
    double initial, decay_steps, decay_rate, alpha;
    double warmup_target, warmup_steps;     /* CosineDecay; NAN = None (no warmup) */
    bool staircase;
    double boundaries[CK_SCHED_MAX_PIECES]; /* PiecewiseConstantDecay */
    double values[CK_SCHED_MAX_PIECES + 1];
    int n_boundaries;
} ck_schedule;

/* One variable of the update: `size` floats at `offset` in the weight block. */
typedef struct ck_opt_var {
    int64_t offset, size;
} ck_opt_var;

typedef struct ck_optimizer {
    ck_opt_kind kind;
    double learning_rate;       /* constant rate; the variable Keras keeps       */
    ck_schedule schedule;       /* overrides learning_rate when kind != NONE     */
    double beta_1, beta_2, epsilon, momentum, rho, initial_accumulator_value;
    bool nesterov, amsgrad, centered;
    double weight_decay;        /* NAN = None                                    */
    double clipnorm, clipvalue, global_clipnorm; /* NAN = None                   */

    int64_t iterations;         /* Keras's optimizer.iterations                  */
    double u_product;           /* Nadam's running product of momentum factors   */

    /* set by ck_optimizer_build */
    ck_opt_var *vars;           /* [n_vars] trainable variables, Keras order     */
    int n_vars;
    int64_t n_params;           /* sum of their sizes                            */
    int n_slots;                /* per-parameter slot arrays (Adam: 2)           */
    float *slots;               /* [n_slots][n_params]                           */
    float *scratch;             /* [n_params] clipped gradient when clipping     */
} ck_optimizer;

/* "adam", "Adam", "SGD(learning_rate=0.1, momentum=0.9, nesterov=True)",
 * "Adam(learning_rate=ExponentialDecay(initial_learning_rate=0.1, decay_steps=10,
 * decay_rate=0.9))". */
ck_status ck_optimizer_parse(const char *spec, ck_optimizer *out);
const char *ck_optimizer_class_name(ck_opt_kind kind);
/* Creates the slots for these variables (copied). */
ck_status ck_optimizer_build(ck_optimizer *o, const ck_opt_var *vars, int n_vars);
void ck_optimizer_release(ck_optimizer *o);
/* Keras's optimizer.variables in scalars: iteration, learning_rate (unless a
 * schedule replaces it), Nadam's u_product, plus the slots. */
int64_t ck_optimizer_param_count(const ck_optimizer *o);
/* The learning rate used by the next step (schedule evaluated at iterations). */
double ck_optimizer_current_lr(const ck_optimizer *o);
/* One step: weights -= update(grads) for every variable; grads are read only
 * (clipping works on a copy). weights and grads are the model's blocks. */
ck_status ck_optimizer_step(ck_optimizer *o, float *weights, const float *grads);
/* "CosineDecay(initial_learning_rate=0.0, decay_steps=100, warmup_target=0.1,
 * warmup_steps=10)": one schedule by its Keras class name and keywords. */
ck_status ck_schedule_parse(const char *spec, ck_schedule *out);
/* Evaluates a schedule at a step. */
double ck_schedule_value(const ck_schedule *s, double step);

#endif
