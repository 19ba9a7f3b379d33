/*
 * What a layer's hooks see of the engine: the run-time context of one pass
 * (ck_exec: rows, training flag, dropout RNG, the node's workspace and masks),
 * the engine's services to a running layer (packed weights kept across calls,
 * streaming its output rows to a fused reader, folding a reader into its
 * product), and the optional fusion protocol a class fills to take part in
 * that. Planning and running a model (ck_exec_create, forward, backward) is
 * engine/exec.h, for the engine's clients (predict, fit, tests).
 */
#ifndef CK_ENGINE_RUN_H
#define CK_ENGINE_RUN_H

#include "graph/graph.h"

typedef struct ck_plan ck_plan;       /* one model's buffers (private to exec.c)          */
struct step_plan;                     /* one step of a plan (private to exec.c)           */
typedef struct ck_act_reg ck_act_reg; /* an activity regularizer (engine/exec.h)          */

struct ck_exec {
    /* What hooks read. */
    int64_t batch;        /* planned maximum rows                                   */
    bool training;        /* Dropout and friends act only when true                  */
    ck_rng rng;           /* dropout masks; seeded from the model seed at create     */
    float *workspace;     /* scratch of the node being run: [rows, cls->workspace()] */
    /* Keras masks of the node being run: in_masks[i] is input i's [rows, steps]
     * 0/1 mask or NULL (in_masks NULL: no input has one); out_mask is where a
     * CK_MASK_NEW layer writes its output's mask. */
    float *const *in_masks;
    float *out_mask;
    /* The layer whose hooks run now on channels-last copies of its
     * channels_first tensors (ck_layer_class.channels_first); NULL otherwise. */
    const ck_layer *channels_last_view;

    /* The engine's own state, and what its clients set (engine/exec.h). */
    ck_model *model;
    int64_t rows;         /* rows of the current forward pass (<= batch)            */
    bool grads_ready;     /* a backward pass has filled every weight's grad          */
    ck_plan *plan;        /* the top-level model's plan                              */
    const ck_act_reg *act_regs; /* set by fit/evaluate (borrowed), n_act_regs of them   */
    int n_act_regs;
    double act_penalty;   /* sum of the activity penalties of the last forward       */
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
    /* Scratch that does not grow with the batch, one block per layer that asks
     * (ck_exec_scratch): kept with the engine, not the layer, so that engines of
     * one model on several threads never share it. [n_scratch] */
    struct ck_scratch *scratch;
    int n_scratch, cap_scratch;
    /* The plan lends concrete shapes to the model's layers around each hook
     * (variable-length inputs), or rounds a mixed-precision layer's weights in
     * place around them: its passes hold the model's lock, so that such calls
     * on one model from several threads take turns instead of mixing. */
    bool lends_shapes;
    uint64_t plan_gen;       /* the model's when planned (ck_model.plan_gen)      */
    /* Called after the backward of each layer that has weights, in backward
     * order (a layer called several times reports each call): data-parallel
     * fit (src/dist/) starts reducing gradients as soon as they are final. */
    ck_status (*grad_ready)(void *user, const ck_layer *layer);
    void *grad_ready_user;
    /* Data-parallel fit: v [n] := its sum over the ranks, added in rank order
     * (BatchNormalization(synchronized=True) sums its batch moments); NULL in
     * one process. Every rank makes the same calls in the same order. */
    ck_status (*sum_across)(void *user, double *v, int64_t n);
    void *sum_across_user;
};

/* ---- the fusion protocol ---------------------------------------------------------- */
/* How a class takes part in the engine's fusion (ck_layer_class.fusion); only
 * the classes that fuse fill one, and every member may stay zero. */
typedef struct ck_fusion {
    /* Forward reports its output chunk by chunk through ck_exec_rows_done
     * (convolutions, which compute a chunk of samples per GEMM). */
    bool streams_rows;
    /* Forward of some rows reads only those rows of its input (pooling): the
     * engine may run it chunk by chunk behind a streaming producer. */
    bool per_sample;
    /* Forward can take its only reader, when that is a per-channel affine layer
     * (and maybe an activation after it), into its own product (ck_exec_fold). */
    bool folds_readers;
    /* Whether the layer's forward is, in this pass, y = x * scale + shift along
     * the last axis of `channels` (BatchNormalization at inference); if so fills
     * scale and shift. */
    bool (*affine)(const ck_layer *l, const ck_exec *ex, int64_t channels, float *scale, float *shift);
    /* Whether the layer is a plain element-wise activation (Activation, ReLU
     * with its defaults); if so gives its kind. */
    bool (*as_activation)(const ck_layer *l, ck_act_kind *kind);
    /* Backward of one input and output writing (not adding) every element of
     * din, already multiplied by relu's derivative at the input (input > 0):
     * what a relu producer wants for its dz, in one pass. CK_ERR_UNSUPPORTED
     * where this layer has no such path (the engine then runs backward). */
    ck_status (*backward_relu)(ck_layer *l, const struct ck_tensor *in, const struct ck_tensor *out,
                               const struct ck_tensor *dout, float *din);
} ck_fusion;

/* ---- what a running layer may ask of the engine ------------------------------------ */
/* A buffer of at least `floats` floats for layer l in this engine (im2col rows,
 * one image's resize buffers, per-feature sums), grown when needed and reused by
 * later passes; freed with the engine. NULL when out of memory. Not kept between
 * forward and backward. */
float *ck_exec_scratch(ck_exec *ex, const ck_layer *l, int64_t floats);
/* Frees every layer's scratch (ck_exec_free does; for a ck_exec a caller made
 * itself to run one layer's hooks, as the layer tests do). */
void ck_exec_release_scratch(ck_exec *ex);

/* A streaming layer (ck_fusion.streams_rows) calls this from its forward
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
 * class's ck_fusion.backward_relu), it writes those rows of d loss / d (the producer's
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
/* For a producer class with ck_fusion.folds_readers, in an inference_only engine: when
 * the engine planned its only reader to be a per-channel affine layer
 * (BatchNormalization), that layer is affine in this pass, and maybe an
 * activation follows it, gives their combined work with the producer's own
 * bias [channels] (NULL: none) folded in. false: nothing to fold. The producer
 * that then does all of it says so with ck_exec_fold_taken, and the engine
 * skips those readers this pass. */
bool ck_exec_fold(ck_exec *ex, int64_t channels, const float *bias, ck_fold *f);
void ck_exec_fold_taken(ck_exec *ex, const ck_fold *f);
/* ck_exec_packed of B with its columns scaled by col_scale [N] first (a
 * folded affine reader's scale); cached the same way. */
const float *ck_exec_packed_scaled(ck_exec *ex, const float *B, int64_t ldb, int64_t K, int64_t N,
                                   const float *col_scale);

#endif
