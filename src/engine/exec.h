/*
 * The execution engine: runs a built model's plan (model->steps, nodes in
 * topological order) forward and backward on float32 batches. ck_exec_create
 * plans every activation and gradient buffer for a maximum batch once; after
 * that forward and backward allocate nothing, so a training step or a predict
 * call costs only arithmetic. Nested models run their own plan inside the outer
 * one (one sub-plan per call of the nested model, so a model called twice keeps
 * two sets of activations). This header is for the engine's clients (predict,
 * fit, the tests); layers see only engine/run.h.
 */
#ifndef CK_EXEC_H
#define CK_EXEC_H

#include "engine/run.h"

/* An activity regularizer of one layer (resolved by train/regularizers.c): forward adds its
 * penalty of the layer's outputs to ck_exec_act_penalty, backward its gradient to
 * the outputs' gradients before the layer's own backward. */
typedef struct ck_act_reg {
    const ck_layer *layer;
    float l1, l2;
} ck_act_reg;

/* Readers folded into their producers in the last forward. */
int ck_exec_folded_readers(const ck_exec *ex);
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
/* Back to where ck_exec_create left it (dropout masks drawn from the model's
 * seed again), for an engine kept from one fit call to the next. */
void ck_exec_restart(ck_exec *ex);
void ck_exec_free(ck_exec *ex);

/* What the engine's clients set and read beside a pass. */
/* Made for inference (predict): layers' work may be folded into their
 * producers (ck_exec_fold), leaving buffers a backward pass would read
 * unwritten, so backward refuses from now on. */
void ck_exec_set_inference_only(ck_exec *ex);
/* The activity regularizers (fit, evaluate) forward and backward apply, n of
 * them, borrowed until the next call; and the sum of their penalties in the
 * last forward. */
void ck_exec_set_act_regs(ck_exec *ex, const ck_act_reg *regs, int n);
double ck_exec_act_penalty(const ck_exec *ex);
/* Data-parallel fit (src/dist/): grad_ready is called after the backward of
 * each layer that has weights, in backward order (a layer called several
 * times reports each call), so reducing gradients starts as soon as they are
 * final; sum_across is what layers get as ck_run.sum_across. NULLs: one
 * process again. */
void ck_exec_set_data_parallel(ck_exec *ex, ck_status (*grad_ready)(void *user, const ck_layer *layer),
                               ck_status (*sum_across)(void *user, double *v, int64_t n), void *user);
/* The model the engine runs. */
ck_model *ck_exec_model(const ck_exec *ex);
/* Whether the engine was planned for `batch` rows or more and its model was
 * not planned again since (ck_model.plan_gen): a kept engine may run again. */
bool ck_exec_fits(const ck_exec *ex, int64_t batch);
/* The planned batch (rows a forward may take at most). */
int64_t ck_exec_batch(const ck_exec *ex);
/* Floats per row of model input i as planned. */
int64_t ck_exec_input_size(const ck_exec *ex, int i);
/* Bytes one row touches in all steps of the plan (each step's inputs, outputs
 * and workspace), and in *busiest (may be NULL) its busiest step's: predict
 * sizes its sub-batches from them. */
int64_t ck_exec_row_bytes(const ck_exec *ex, int64_t *busiest);
/* False when some layer was built for a fixed batch (stateful RNNs keep their
 * states per row of it): the rows of a call must then run together. */
bool ck_exec_rows_independent(const ck_exec *ex);
/* An engine with no plan, for calling one layer's hooks by hand (the layer
 * tests): the caller fills its run context (ck_exec_run) and passes that to
 * the hooks; the layers' scratch (ck_exec_scratch) stays with the engine until
 * ck_exec_free. forward and backward refuse it. */
ck_status ck_exec_create_unplanned(ck_model *m, int64_t batch, ck_exec **out);
ck_run *ck_exec_run(ck_exec *ex);
/* The values [rows, ...] of symbolic tensor t of the top-level model after the
 * last forward (not inference_only: every buffer is written), or NULL when t is
 * not one of its tensors (a nested model's). Export's calibration reads them. */
const float *ck_exec_value(const ck_exec *ex, const ck_ktensor *t);

#endif
