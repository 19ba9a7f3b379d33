/*
 * Internal pieces of compile/fit/evaluate shared by the files of src/train/:
 * the compiled state a model keeps (loss, optimizer, metrics), per-epoch logs
 * (ck_history), the callback objects and the Keras 3 progress bar.
 */
#ifndef CK_TRAIN_TRAIN_H
#define CK_TRAIN_TRAIN_H

#include "engine/exec.h"
#include "train/losses.h"
#include "train/metrics.h"
#include "train/optimizers.h"

#define CK_MAX_METRICS 16 /* per output */
#define CK_MAX_IO 16      /* model inputs, and outputs, that fit() handles */
#define CK_MAX_LOG_KEYS 128

/* Weight regularizers, resolved at compile (train/regularizers.c). */
typedef struct ck_weight_reg {
    ptrdiff_t offset;     /* into the model's weight (and gradient) block */
    int64_t size;
    float l1, l2;
    /* OrthogonalRegularizer(factor, mode): the rank-2 weight's rows (or columns)
     * as n_vec unit vectors of length len; scratch [2*n_vec*len + 2*n_vec*n_vec]. */
    float ortho_factor;   /* 0: none                                        */
    bool ortho_columns;
    int64_t n_vec, len;
    float *scratch;
} ck_weight_reg;

typedef struct ck_regs {
    ck_weight_reg *w;
    int n_w, cap_w;
    ck_act_reg *act;
    int n_act, cap_act;
} ck_regs;

/* Every regularizer of the model's layers (nested models included); an
 * unsupported one (OrthogonalRegularizer, a custom class) fails, naming the layer. */
ck_status ck_regs_collect(ck_model *m, ck_regs *r);
void ck_regs_release(ck_regs *r);
/* Fails, naming the layer and field, if a trainable weight has a constraint
 * (Keras applies it after every step; ckeras does not). */
ck_status ck_constraints_check(ck_model *m);
/* Fails if the model's compile is a loaded file's compile config with parts
 * ckeras cannot honour left out (ck_model.compile_gap). */
ck_status ck_compile_gap_check(const ck_model *m);
/* Sum of the weight penalties at `weights`; adds their gradient to grads if non-NULL. */
double ck_regs_weight_penalty(const ck_regs *r, const float *weights, float *grads);

/* CK_ERR_NUMERIC naming `name`, the sample and the value when p (n_samples
 * samples of per_sample floats) holds a NaN or an infinity. */
ck_status ck_check_finite(const char *name, const float *p, int64_t n_samples, int64_t per_sample);

/* One model output's part of compile(): its loss, weight and metrics. */
typedef struct ck_out_spec {
    ck_loss loss;
    double weight;        /* loss_weights[i] (1)                                */
    ck_metric metrics[CK_MAX_METRICS]; /* named "<output>_<metric>" when several outputs */
    int n_metrics;
    bool weighted[CK_MAX_METRICS]; /* from compile(weighted_metrics=...)          */
    ck_metric loss_tracker; /* "<output>_loss" (several outputs only): unweighted */
    int64_t out_size;     /* floats per sample of the output                    */
    int64_t d;            /* last output dim: the loss's class/feature axis     */
    int64_t rows;         /* loss rows per sample (out_size / d)                */
    int64_t label_width;  /* labels per row (1 for sparse)                      */
} ck_out_spec;

/* compile()'s arguments in the form they were given, which Keras's
 * get_compile_config records: one loss for every output or a list, loss_weights
 * or None, each output's metric list text ("accuracy, mae") or None. */
typedef struct ck_compile_args {
    int n_losses;                 /* 0 (loss=None), 1, or one per output           */
    bool loss_weights;            /* given (else None)                             */
    int n_metrics, n_weighted;    /* lists given: 0 (None) or one per output       */
    char *metrics[CK_MAX_IO], *weighted[CK_MAX_IO]; /* owned; NULL for an empty list */
} ck_compile_args;

/* model.engine after compile(). */
typedef struct ck_compiled {
    ck_optimizer opt;
    ck_compile_args given;
    int n_in, n_out;
    int64_t in_size[CK_MAX_IO]; /* floats per sample of each input              */
    ck_out_spec out[CK_MAX_IO];
    ck_metric loss_tracker;     /* "loss": the weighted sum over outputs + penalties */
    ck_regs regs;
    bool stop_training;         /* set by callbacks                             */
    bool has_loss;              /* compile(optimizer) alone (loss=None) cannot fit */
    /* An input has None dims (variable-length sequences): the sizes above are
     * those of the last *_shaped call's data, -1 before one. */
    bool varlen;
    const ck_shape *in_shapes;  /* the current call's data shapes (borrowed) or NULL */
    struct loop_bufs *kept;     /* the last fit's engine and buffers (fit.c), for the next */
    int fit_plans;              /* engines fit has planned since compile         */
} ck_compiled;

struct ck_history {
    char keys[CK_MAX_LOG_KEYS][72]; /* sorted                                   */
    int n_keys;
    double *values;                 /* [cap_epochs][n_keys]                     */
    int n_epochs, cap_epochs;
};

/* A legacy .h5's optimizer_weights kept by its load (ck_model.pending_optimizer):
 * builds the optimizer over the trainable variables, as the first fit does, and
 * takes the saved values when they are exactly that optimizer's. fit calls it,
 * and so does a save, so that a converted file keeps the training state. */
ck_status ck_optimizer_adopt_pending(ck_model *m);

ck_status ck_history_new(const char *const *keys, int n_keys, ck_history **out);
/* Appends an epoch with every value NAN; returns its row. */
double *ck_history_append(ck_history *h);
int ck_history_find(const ck_history *h, const char *key);
/* The logs of the last epoch as a one-row view (for callbacks). */
double ck_history_last(const ck_history *h, const char *key);

typedef enum ck_callback_kind {
    CK_CB_EARLY_STOPPING, CK_CB_CHECKPOINT, CK_CB_REDUCE_LR, CK_CB_TERMINATE_NAN,
    CK_CB_CSV, CK_CB_LR_SCHEDULER, CK_CB_HOOK, CK_CB_BACKUP
} ck_callback_kind;

/* model.save(path) by the path's ending: io's ck_model_save, handed down by the
 * public API (src/api/callbacks.c), since train may not call io. */
typedef ck_status (*ck_model_saver)(const ck_model *model, const char *path);

struct ck_callback {
    ck_callback_kind kind;
    ck_model_saver save_model;  /* ModelCheckpoint's writer of .keras/.h5/.weights.h5 */
    char monitor[72];
    bool maximize;              /* mode resolved from "min"/"max"/"auto"        */
    double min_delta, baseline, factor, min_lr;
    int patience, cooldown, start_from_epoch;
    bool restore_best_weights, save_best_only, append, save_weights_only, delete_checkpoint;
    char path[512];              /* filepath, filename or backup_dir            */
    char separator;              /* CSVLogger's, ','                            */
    ck_schedule lr_schedule;     /* LearningRateScheduler(Schedule(...)) by epoch */
    double (*schedule)(int epoch, double lr, void *user);
    bool (*hook)(int epoch, const ck_history *logs, void *user);
    void *user;
    /* state of one fit() */
    double best;
    int wait, cooldown_counter, best_epoch;
    float *best_weights;
    bool csv_header_done;
    bool warned;                /* the missing-monitor warning was printed      */
};

typedef struct ck_fit_ctx {
    ck_model *model;
    ck_compiled *c;
    const ck_fit_opts *opts;
    ck_history *hist;
    int initial_epoch;          /* opts->initial_epoch, or where a backup resumes */
    ck_rng *draws;              /* the engine's Dropout/noise stream, saved by BackupAndRestore */
    bool writes_files;          /* CSVLogger, ModelCheckpoint, BackupAndRestore: rank 0 only when data-parallel */
} ck_fit_ctx;

/* Callback events; each returns a status (I/O of CSVLogger/ModelCheckpoint). */
ck_status ck_callbacks_train_begin(ck_fit_ctx *f);
ck_status ck_callbacks_epoch_begin(ck_fit_ctx *f, int epoch);
ck_status ck_callbacks_batch_end(ck_fit_ctx *f, double batch_loss);
ck_status ck_callbacks_epoch_end(ck_fit_ctx *f, int epoch);
void ck_callbacks_train_end(ck_fit_ctx *f);
/* ck_callback_new's parser: the Python spelling of a keras.callbacks class;
 * ModelCheckpoint writes its non-.npz files through save_model. */
ck_callback *ck_callback_from_spec(const char *spec, ck_model_saver save_model);
/* BackupAndRestore (train/backup.c): the training state after `epoch`, the
 * state a killed run left (moves f->initial_epoch), and its removal. */
ck_status ck_backup_save(ck_fit_ctx *f, ck_callback *cb, int epoch);
ck_status ck_backup_restore(ck_fit_ctx *f, ck_callback *cb);
void ck_backup_delete(const ck_callback *cb);
/* Does any callback put "learning_rate" into the logs? */
bool ck_callbacks_log_lr(const ck_fit_opts *o);

/* Data-parallel fit (train/fit_dist.c): every rank must hold the same model,
 * data and options (checked); then rank 0's weights become everyone's. x, y: the
 * call's arrays of n samples (validation split included), n_train of them trained on. */
ck_status ck_fit_dist_begin(ck_model *m, const float *const *x, const float *const *y, int64_t n, int64_t n_train,
                            int64_t batch, const ck_fit_opts *o);
/* The debug check after each epoch: the weights' checksums agree on all ranks. */
ck_status ck_fit_dist_same_weights(ck_model *m, int epoch);

/* Keras 3 Progbar (verbose 1 and 2). */
typedef struct ck_progbar {
    int64_t target;
    int verbose;
    bool terminal;
    double start, last_update;
    int prev_width;
    void (*print)(const char *text, void *user);
    void *user;
} ck_progbar;
void ck_progbar_start(ck_progbar *p, int64_t target, const ck_fit_opts *o);
/* names/values: the logs to show, in order. */
void ck_progbar_update(ck_progbar *p, int64_t current, const char *const *names,
                       const double *values, int n, bool finalize);
void ck_print(const ck_fit_opts *o, const char *text);

#endif
