/*
 * The execution engine: runs a built model's plan (model->steps, nodes in
 * topological order) forward and backward on float32 batches. ck_exec_create
 * plans every activation and gradient buffer for a maximum batch once; after
 * that forward and backward allocate nothing, so a training step or a predict
 * call costs only arithmetic. Nested models run their own plan inside the outer
 * one (one sub-plan per call of the nested model, so a model called twice keeps
 * two sets of activations). Layers reach their per-node scratch, the training
 * flag and the dropout RNG through the ck_exec they are handed.
 */
#ifndef CK_EXEC_H
#define CK_EXEC_H

#include "graph/graph.h"

typedef struct ck_plan ck_plan; /* one model's buffers (private to exec.c) */
struct step_plan;               /* one step of a plan (private to exec.c)  */

/* An activity regularizer of one layer (train/regularizers.c): forward adds its
 * penalty of the layer's outputs to ex->act_penalty, backward its gradient to
 * the outputs' gradients before the layer's own backward. */
typedef struct ck_act_reg {
    const ck_layer *layer;
    float l1, l2;
} ck_act_reg;
double ck_act_reg_forward(const ck_act_reg *a, const float *y, int64_t rows, int64_t per_row);
void ck_act_reg_backward(const ck_act_reg *a, const float *y, float *dy, int64_t rows, int64_t per_row);

struct ck_exec {
    ck_model *model;
    int64_t batch;        /* planned maximum rows                                   */
    int64_t rows;         /* rows of the current forward pass (<= batch)            */
    bool training;        /* Dropout and friends act only when true                  */
    ck_rng rng;           /* dropout masks; seeded from the model seed at create     */
    float *workspace;     /* scratch of the node being run: [rows, cls->workspace()] */
    bool grads_ready;     /* a backward pass has filled every weight's grad          */
    ck_plan *plan;        /* the top-level model's plan                              */
    const ck_act_reg *act_regs; /* set by fit/evaluate (borrowed), n_act_regs of them   */
    int n_act_regs;
    double act_penalty;   /* sum of the activity penalties of the last forward       */
    /* Keras masks of the node being run: in_masks[i] is input i's [rows, steps]
     * 0/1 mask or NULL (in_masks NULL: no input has one); out_mask is where a
     * CK_MASK_NEW layer writes its output's mask. */
    float *const *in_masks;
    float *out_mask;
    /* The per-sample step (pooling) the running step feeds chunk by chunk, and
     * how many rows it has been handed (see ck_exec_rows_done). */
    struct step_plan *fused;
    int64_t fused_done;
    struct step_plan *step;  /* the step being run (its packed kernels)          */
    uint64_t weights_gen;    /* the model's, for this forward (when gen_known)   */
    bool gen_known;
    int folded;              /* readers the running step took (ck_exec_fold)      */
    int folded_in_pass;      /* readers folded away in the last forward, in all   */
    /* Made for predict (set by its creator): layers' work may be folded into
     * their producers (ck_exec_fold), leaving buffers a backward pass would
     * read unwritten, so backward refuses. */
    bool inference_only;
};

/* A streaming layer (ck_layer_class.streams_rows) calls this from its forward
 * each time output rows [row0, row0 + n) are final, in order: when the engine
 * planned its only reader, a per-sample layer, to run behind it, that reader runs
 * on those rows at once, while they are in cache. Otherwise nothing happens. */
ck_status ck_exec_rows_done(ck_exec *ex, int64_t row0, int64_t n);
/* B [K, N] (row stride ldb), a weight of the running layer, packed for
 * ck_gemm_packed (kernels/gemm_packed.h) with the engine's CPU width and kept
 * with the plan step until the model's weights change: inference packs each
 * kernel once instead of once per call (training once per step, as cblas would).
 * NULL on a CPU without a packed kernel, or out of memory: the caller then
 * multiplies by B with cblas. A step keeps up to 4 forms of weights. */
const float *ck_exec_packed(ck_exec *ex, const float *B, int64_t ldb, int64_t K, int64_t N);
/* What the engine keeps made from a weight for a kernel (ck_exec_weight_cache). */
typedef enum ck_weight_form {
    CK_FORM_PACKED,           /* ck_exec_packed                                     */
    CK_FORM_PACKED_SCALED,    /* ck_exec_packed_scaled                              */
    CK_FORM_WINOGRAD,         /* a 3x3 kernel transformed for Winograd, then packed */
    CK_FORM_WINOGRAD_SCALED,  /* the same with a folded reader's column scale       */
    CK_FORM_WINOGRAD_BACKWARD /* transformed and packed for the backward pass       */
} ck_weight_form;
/* The running step's buffer of `floats` floats for `form` of weight src, kept
 * while the model's weights do not change (the packed kernels above use it).
 * *fresh: the buffer is new or stale and the caller must fill it now; false:
 * it holds what the caller last put there. NULL when all of the step's slots
 * hold other weights' forms, or out of memory. */
float *ck_exec_weight_cache(ck_exec *ex, const float *src, ck_weight_form form, int64_t floats, bool *fresh);
/* Backward's counterpart of ck_exec_rows_done: a streaming layer's backward
 * calls it, in order, before it first reads rows [row0, row0 + n) of its output
 * gradient; the reader the engine ran behind it in forward then runs its
 * backward on those rows (into freshly zeroed rows of that gradient). */
ck_status ck_exec_rows_needed(ck_exec *ex, int64_t row0, int64_t n);
/* The same for a producer whose output is its relu: when the reader can (its
 * class's backward_relu), it writes those rows of d loss / d (the producer's
 * pre-activation) straight into dz (rows of the output's width, row0 first),
 * relu's derivative applied, and *done says so; otherwise it runs as for
 * ck_exec_rows_needed and the producer applies relu's derivative itself. */
ck_status ck_exec_rows_needed_relu(ck_exec *ex, int64_t row0, int64_t n, float *dz, bool *done);
/* What ck_exec_fold hands a producer: its readers' work, to do itself. */
typedef struct ck_fold {
    const float *scale; /* [channels]: multiply the product's columns by this (the weights, packed) */
    const float *shift; /* [channels]: then add this (the producer's bias folded in)              */
    ck_act_kind act;    /* then this activation (the second reader's; linear if none)             */
    float *out;         /* and write here: the last folded reader's output, [rows, ..., channels] */
    int readers;        /* how many readers that is (1 or 2)                                      */
} ck_fold;
/* For a producer class with folds_readers, in an inference_only engine: when
 * the engine planned its only reader to be a per-channel affine layer
 * (BatchNormalization), that layer is affine in this pass, and maybe an
 * activation follows it, gives their combined work with the producer's own
 * bias [channels] (NULL: none) folded in. false: nothing to fold. The producer
 * that then does all of it says so with ck_exec_fold_taken, and the engine
 * skips those readers this pass. */
bool ck_exec_fold(ck_exec *ex, int64_t channels, const float *bias, ck_fold *f);
void ck_exec_fold_taken(ck_exec *ex, const ck_fold *f);
/* Readers folded into their producers in the last forward. */
int ck_exec_folded_readers(const ck_exec *ex);
/* ck_exec_packed of B with its columns scaled by col_scale [N] first (a
 * folded affine reader's scale); cached the same way. */
const float *ck_exec_packed_scaled(ck_exec *ex, const float *B, int64_t ldb, int64_t K, int64_t N,
                                   const float *col_scale);
/* How many steps of the plan (nested plans included) run behind a producer. */
int ck_exec_fused_steps(const ck_exec *ex);

/* Plans buffers for up to `batch` rows. The model must be built, with every
 * non-batch dimension known. Allocates model->grad_block and points every
 * weight's grad into it. */
ck_status ck_exec_create(ck_model *m, int64_t batch, ck_exec **out);
/* The same, planned for inputs of concrete shapes in_shapes[i] (batch first, the
 * batch dim ignored) that fill in the model's None dims (variable-length
 * sequences): each layer's output shapes are inferred again for this plan and
 * its hooks see the concrete shapes, while the model's stored shapes, summary
 * and weights stay as built. in_shapes NULL: the model's own shapes. */
ck_status ck_exec_create_shaped(ck_model *m, int64_t batch, const ck_shape *in_shapes, ck_exec **out);
/* Shape of model output i as planned, batch first (dim[0] = planned batch). */
const ck_shape *ck_exec_output_shape(const ck_exec *ex, int i);
/* inputs[i]: [rows, ...model input i dims] (1 <= rows <= planned batch), read in
 * place, not copied: they must stay unchanged until the next forward (backward
 * reads them for the weight gradients). */
ck_status ck_exec_forward(ck_exec *ex, const float *const *inputs, int64_t rows, bool training);
/* Output i of the last forward pass: [rows, ...]; valid until the next forward. */
const float *ck_exec_output(const ck_exec *ex, int i);
/* Floats per row of model output i (product of its non-batch dims). */
int64_t ck_exec_output_size(const ck_exec *ex, int i);
/* d loss / d output i, [rows, ...] for the rows of the last forward. Zeroes
 * model->grad_block, then every weight's grad (ck_weight.grad) receives the sum
 * of its gradients over all calls of its layer. Frozen weights get grads too;
 * the optimizer decides what to update. */
ck_status ck_exec_backward(ck_exec *ex, const float *const *d_outputs);
/* Gradient w.r.t. model input i after backward ([rows, ...]); NULL unless
 * ck_exec_want_input_grads(ex, true) was called before the forward (gradcheck). */
const float *ck_exec_input_grad(const ck_exec *ex, int i);
void ck_exec_want_input_grads(ck_exec *ex, bool want);
void ck_exec_free(ck_exec *ex);
/* The values [rows, ...] of symbolic tensor t of the top-level model after the
 * last forward (not inference_only: every buffer is written), or NULL when t is
 * not one of its tensors (a nested model's). Export's calibration reads them. */
const float *ck_exec_value(const ck_exec *ex, const ck_ktensor *t);

#endif
