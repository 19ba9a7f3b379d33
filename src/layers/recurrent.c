/* Recurrent layers: SimpleRNN, LSTM, GRU (both reset_after forms) and the shape
 * and weight rules of ConvLSTM1D/2D. Each is a class-table entry whose field table
 * lists the keys Keras 3 writes, in its order; build creates the cell's kernel,
 * recurrent_kernel and bias exactly as Keras does (orthogonal recurrent kernel,
 * GRU reset_after bias (2, 3u)); forward runs kernels/rnn.c. return_state gives
 * several outputs (LSTM: output, h, c). Keras 2 keys (implementation, time_major)
 * are ignored by the lenient file reader. */
#include "layers/layers.h"
#include "layers/seq_layers.h"
#include "engine/run.h"
#include "kernels/rnn.h"
#include "kernels/tensor_ops.h"

#include <string.h>

#define T ck_rnn_config
#define JSON_NULL_FIELD(member) CK_FIELD(T, member, CK_FT_JSON, "null", 0, CK_FF_NULLABLE)
#define RNN_HEAD_FIELDS                                                                  \
    CK_FIELD(T, return_sequences, CK_FT_BOOL, "false"),                                  \
    CK_FIELD(T, return_state, CK_FT_BOOL, "false"),                                      \
    CK_FIELD(T, go_backwards, CK_FT_BOOL, "false"),                                      \
    CK_FIELD(T, stateful, CK_FT_BOOL, "false"),                                          \
    CK_FIELD(T, unroll, CK_FT_BOOL, "false"),                                            \
    CK_FIELD(T, zero_output_for_mask, CK_FT_BOOL, "false")
#define RNN_INIT_FIELDS                                                                  \
    CK_FIELD(T, kernel_initializer, CK_FT_INIT, "\"glorot_uniform\""),                   \
    CK_FIELD(T, recurrent_initializer, CK_FT_INIT, "\"orthogonal\""),                    \
    CK_FIELD(T, bias_initializer, CK_FT_INIT, "\"zeros\"")
#define RNN_TAIL_FIELDS                                                                  \
    JSON_NULL_FIELD(kernel_regularizer), JSON_NULL_FIELD(recurrent_regularizer),         \
    JSON_NULL_FIELD(bias_regularizer), JSON_NULL_FIELD(activity_regularizer),            \
    JSON_NULL_FIELD(kernel_constraint), JSON_NULL_FIELD(recurrent_constraint),           \
    JSON_NULL_FIELD(bias_constraint),                                                    \
    CK_FIELD(T, dropout, CK_FT_FLOAT, "0.0"),                                            \
    CK_FIELD(T, recurrent_dropout, CK_FT_FLOAT, "0.0")
#define SEED_FIELD CK_FIELD(T, seed, CK_FT_INT, "null", 0, CK_FF_NULLABLE)

/* units, activation[, recurrent_activation], use_bias: the cells' common head. */
#define UNITS_FIELDS(...)                                                                \
    CK_FIELD(T, units, CK_FT_INT, NULL, 0, CK_FF_REQUIRED),                              \
    CK_FIELD(T, activation, CK_FT_ACT, "\"tanh\"", 0, CK_FF_NULLABLE), __VA_ARGS__       \
    CK_FIELD(T, use_bias, CK_FT_BOOL, "true")
#define REC_ACT_FIELD CK_FIELD(T, recurrent_activation, CK_FT_ACT, "\"sigmoid\"", 0, CK_FF_NULLABLE),

static const ck_field simple_rnn_fields[] = {
    RNN_HEAD_FIELDS,
    UNITS_FIELDS(),
    RNN_INIT_FIELDS,
    RNN_TAIL_FIELDS,
};

static const ck_field lstm_fields[] = {
    RNN_HEAD_FIELDS,
    UNITS_FIELDS(REC_ACT_FIELD),
    RNN_INIT_FIELDS,
    CK_FIELD(T, unit_forget_bias, CK_FT_BOOL, "true"),
    RNN_TAIL_FIELDS,
    SEED_FIELD,
};

static const ck_field gru_fields[] = {
    RNN_HEAD_FIELDS,
    UNITS_FIELDS(REC_ACT_FIELD),
    RNN_INIT_FIELDS,
    RNN_TAIL_FIELDS,
    CK_FIELD(T, reset_after, CK_FT_BOOL, "true"),
    SEED_FIELD,
};

static const char *const paddings[] = {"valid", "same", NULL};
static const char *const data_formats[] = {"channels_last", "channels_first", NULL};

#define CONV_LSTM_FIELDS(rank_)                                                          \
    RNN_HEAD_FIELDS,                                                                     \
    {.name = "filters", .type = CK_FT_INT, .offset = offsetof(T, units), .def = NULL,    \
     .flags = CK_FF_REQUIRED},                                                           \
    CK_FIELD(T, kernel_size, CK_FT_INTS, NULL, rank_, CK_FF_REQUIRED),                   \
    CK_FIELD(T, strides, CK_FT_INTS, "1", rank_),                                        \
    CK_FIELD(T, padding, CK_FT_STR, "\"valid\"", 0, 0, paddings),                        \
    CK_FIELD(T, data_format, CK_FT_STR, "\"channels_last\"", 0, CK_FF_NULLABLE, data_formats), \
    CK_FIELD(T, dilation_rate, CK_FT_INTS, "1", rank_),                                  \
    CK_FIELD(T, activation, CK_FT_ACT, "\"tanh\"", 0, CK_FF_NULLABLE),                   \
    CK_FIELD(T, recurrent_activation, CK_FT_ACT, "\"sigmoid\"", 0, CK_FF_NULLABLE),      \
    CK_FIELD(T, use_bias, CK_FT_BOOL, "true"),                                           \
    RNN_INIT_FIELDS,                                                                     \
    CK_FIELD(T, unit_forget_bias, CK_FT_BOOL, "true"),                                   \
    RNN_TAIL_FIELDS,                                                                     \
    SEED_FIELD

static const ck_field conv_lstm1d_fields[] = {CONV_LSTM_FIELDS(1)};
static const ck_field conv_lstm2d_fields[] = {CONV_LSTM_FIELDS(2)};

static ck_rnn_kind kind_of(const ck_layer *l)
{
    const char *n = l->cls->class_name;
    return !strcmp(n, "LSTM") ? CK_RNN_LSTM : !strcmp(n, "GRU") ? CK_RNN_GRU : CK_RNN_SIMPLE;
}

static ck_status check_common(ck_layer *l, const ck_rnn_config *c, const ck_shape *in, int rank)
{
    if (c->units <= 0)
        return ck_layer_error(l, CK_ERR_CONFIG, "field '%s' must be positive, got %lld",
                              rank > 3 ? "filters" : "units", (long long)c->units);
    if (!(c->dropout >= 0.0 && c->dropout <= 1.0))
        return ck_layer_error(l, CK_ERR_CONFIG, "field 'dropout' must be in [0, 1], got %g", c->dropout);
    if (!(c->recurrent_dropout >= 0.0 && c->recurrent_dropout <= 1.0))
        return ck_layer_error(l, CK_ERR_CONFIG, "field 'recurrent_dropout' must be in [0, 1], got %g",
                              c->recurrent_dropout);
    if (in[0].rank != rank)
        return ck_layer_error(l, CK_ERR_SHAPE, "input must have rank %d (batch, timesteps, ...features), got %d",
                              rank, in[0].rank);
    if (c->stateful && in[0].dim[0] == CK_NONE)
        return ck_layer_error(l, CK_ERR_SHAPE, "field 'stateful': a stateful layer needs a fixed batch size "
                              "(batch_shape= on the Input)");
    return CK_OK;
}

static void set_outputs(const ck_rnn_config *c, int n_states, const ck_shape *y_step, const ck_shape *in,
                        ck_shape *out, int *n_out)
{
    /* y_step: the per-step output without time, batch first. */
    if (c->return_sequences) {
        out[0] = (ck_shape){.rank = y_step->rank + 1, .dim = {in->dim[0], in->dim[1]}};
        for (int i = 1; i < y_step->rank; i++) out[0].dim[i + 1] = y_step->dim[i];
    } else {
        out[0] = *y_step;
    }
    *n_out = 1;
    for (int s = 0; c->return_state && s < n_states; s++) out[(*n_out)++] = *y_step;
}

/* Inputs after the first are initial states (layer(x, initial_state=[h, c]));
 * each must be [batch, units]. */
static ck_status check_initial_states(ck_layer *l, const ck_shape *in, int n_in, int64_t units)
{
    int states = kind_of(l) == CK_RNN_LSTM ? 2 : 1;
    if (n_in > 1 && n_in != 1 + states)
        return ck_layer_error(l, CK_ERR_SHAPE, "field 'initial_state': %d state(s) given, %s needs %d", n_in - 1,
                              l->cls->class_name, states);
    for (int i = 1; i < n_in; i++)
        if (in[i].rank != 2 || (in[i].dim[1] != CK_NONE && in[i].dim[1] != units))
            return ck_layer_error(l, CK_ERR_SHAPE, "field 'initial_state': state %d must be (batch, %lld)", i - 1,
                                  (long long)units);
    return CK_OK;
}

/* Keras 3 builds the weights inside the layer's cell, so their paths read
 * "lstm/lstm_cell/kernel"; the cell's scope is part of the weight's name here. */
static ck_status add_cell_weight(ck_layer *l, const char *cell, const char *name, ck_shape shape, const ck_init *init)
{
    char full[CK_STR_MAX];
    snprintf(full, sizeof full, "%s/%s", cell, name);
    return ck_layer_add_weight(l, full, shape, init, true, CK_FLOAT32);
}

/* unit_forget_bias: the forget gate's quarter of an LSTM bias starts at one. */
static ck_init forget_bias_init(const ck_rnn_config *c, bool lstm)
{
    ck_init bi = c->bias_initializer;
    if (lstm && c->unit_forget_bias) bi.ones_begin = c->units, bi.ones_end = 2 * c->units;
    return bi;
}

static ck_status rnn_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    ck_rnn_config *c = CK_CFG(l, ck_rnn_config);
    ck_status st = check_common(l, c, in, 3);
    if (!st) st = check_initial_states(l, in, n_in, c->units);
    if (st) return st;
    int64_t d = in[0].dim[2], u = c->units, g;
    if (d == CK_NONE) return ck_layer_error(l, CK_ERR_SHAPE, "the feature dimension of the input must be known");
    ck_rnn_kind kind = kind_of(l);
    g = ck_rnn_gates(kind);
    if (!ck_mul_ok(g, u, &g)) return ck_layer_error(l, CK_ERR_OVERFLOW, "units %lld is too large", (long long)u);
    const char *cell = kind == CK_RNN_LSTM ? "lstm_cell" : kind == CK_RNN_GRU ? "gru_cell" : "simple_rnn_cell";
    if ((st = add_cell_weight(l, cell, "kernel", ck_shape_2(d, g), &c->kernel_initializer)) ||
        (st = add_cell_weight(l, cell, "recurrent_kernel", ck_shape_2(u, g), &c->recurrent_initializer)))
        return st;
    if (c->use_bias) {
        ck_shape bs = kind == CK_RNN_GRU && c->reset_after ? ck_shape_2(2, g) : ck_shape_1(g);
        ck_init bi = forget_bias_init(c, kind == CK_RNN_LSTM);
        if ((st = add_cell_weight(l, cell, "bias", bs, &bi))) return st;
    }
    ck_shape step = ck_shape_2(in[0].dim[0], u);
    set_outputs(c, kind == CK_RNN_LSTM ? 2 : 1, &step, &in[0], out, n_out);
    return CK_OK;
}

/* The kernel's arguments for one call; states come as inputs 1 (h) and 2 (c). */
static ck_status rnn_args(ck_layer *l, const ck_tensor *in, int n_in, ck_run *ex, ck_rnn_args *a)
{
    const ck_rnn_config *c = CK_CFG(l, ck_rnn_config);
    *a = (ck_rnn_args){
        .kind = kind_of(l), .batch = in[0].shape.dim[0], .steps = in[0].shape.dim[1],
        .in_dim = in[0].shape.dim[2], .units = c->units, .x = in[0].data,
        .kernel = l->weights[0].value, .recurrent = l->weights[1].value,
        .bias = c->use_bias ? l->weights[2].value : NULL, .reset_after = c->reset_after,
        .go_backwards = c->go_backwards, .act = c->activation.kind, .rec_act = c->recurrent_activation.kind,
        .mask = ex && ex->in_masks ? ex->in_masks[0] : NULL, .zero_output_for_mask = c->zero_output_for_mask,
        .h0 = n_in > 1 ? in[1].data : NULL, .c0 = n_in > 2 ? in[2].data : NULL,
        .forward_only = ex && ex->inference_only, .half = ck_half_of_dtype(l->dtype),
    };
    if (a->kind == CK_RNN_SIMPLE) a->rec_act = CK_ACT_LINEAR;
    int states = a->kind == CK_RNN_LSTM ? 2 : 1;
    if (n_in > 1 && n_in != 1 + states)
        return ck_layer_error(l, CK_ERR_ARG, "field 'initial_state': %d state(s) given, %s needs %d", n_in - 1,
                              l->cls->class_name, states);
    if (!ex || !ex->workspace)
        return ck_layer_error(l, CK_ERR_STATE, "the engine gave no scratch (every input dimension must be known)");
    a->work = ex->workspace;
    if (ex->training) {
        /* the dropout masks live after the kernel's scratch, so backward sees them */
        float *m = a->work + ck_rnn_work_floats(a);
        if (c->dropout > 0.0) a->in_drop = m;
        if (c->recurrent_dropout > 0.0) a->rec_drop = m + a->batch * a->in_dim;
    }
    return CK_OK;
}

/* Keras's dropout masks: per sample, the same for every step, 0 or 1/(1-rate). */
static void draw_masks(const ck_rnn_config *c, ck_rnn_args *a, ck_run *ex)
{
    float *m[2] = {(float *)a->in_drop, (float *)a->rec_drop};
    double rate[2] = {c->dropout, c->recurrent_dropout};
    int64_t n[2] = {a->batch * a->in_dim, a->batch * a->units};
    for (int i = 0; i < 2; i++) {
        float keep = rate[i] < 1.0 ? (float)(1.0 / (1.0 - rate[i])) : 0.0f;
        for (int64_t k = 0; m[i] && k < n[i]; k++) m[i][k] = ck_rng_uniform(&ex->rng) >= rate[i] ? keep : 0.0f;
    }
}

/* Scratch per batch row: the kernel keeps every step's gates and states there
 * for backward. */
static int64_t rnn_workspace(const ck_layer *l)
{
    int64_t t = l->in_shapes[0].dim[1];
    if (t == CK_NONE) return 0;
    ck_rnn_args a = {.kind = kind_of(l), .batch = 1, .steps = t, .units = CK_CFG(l, ck_rnn_config)->units,
                     .in_dim = l->in_shapes[0].dim[2]};
    return ck_rnn_work_floats(&a) + a.in_dim + a.units; /* + the dropout masks */
}

static ck_status rnn_forward(ck_layer *l, const ck_tensor *in, int n_in, ck_tensor *out, int n_out, ck_run *ex);

/* stateful=True: the last states of one call start the next (until
 * ck_model_reset_states), kept in l->state as [batch, units] h then c. The batch
 * is the fixed one the layer was built with. */
static ck_status stateful_states(ck_layer *l, ck_rnn_args *a, int n_in, float **carried)
{
    int64_t fixed = l->in_shapes[0].dim[0], n = 2 * fixed * a->units;
    if (a->batch != fixed)
        return ck_layer_error(l, CK_ERR_SHAPE, "field 'stateful': the layer was built for batches of %lld, got %lld",
                              (long long)fixed, (long long)a->batch);
    if (!l->state && !(l->state = ck_calloc((size_t)n, sizeof(float))))
        return ck_fail(CK_ERR_NOMEM, "%s '%s': out of memory", l->cls->class_name, l->name);
    *carried = l->state;
    if (n_in == 1) {
        a->h0 = *carried;
        if (a->kind == CK_RNN_LSTM) a->c0 = *carried + a->batch * a->units;
    }
    return CK_OK;
}

/* Zeroes the carried states of every stateful layer (and wrapped ones). */
static void reset_layer(ck_layer *l)
{
    if (l->model) {
        ck_model_reset_states(l->model);
        return;
    }
    for (int i = 0; i < l->n_sublayers; i++) reset_layer(l->sublayers[i]);
    if (l->cls->forward == rnn_forward && l->state) {
        ck_free(l->state);
        l->state = NULL;
    }
}

ck_status ck_model_reset_states(ck_model *m)
{
    if (!m) return ck_fail(CK_ERR_ARG, "ck_model_reset_states: model is NULL");
    for (int i = 0; i < m->n_layers; i++) reset_layer(m->layers[i]);
    return CK_OK;
}

static ck_status rnn_forward(CK_FWD_ARGS)
{
    const ck_rnn_config *c = CK_CFG(l, ck_rnn_config);
    ck_rnn_args a;
    ck_status st = rnn_args(l, in, n_in, ex, &a);
    if (st) return st;
    draw_masks(c, &a, ex);
    float *carried = NULL;
    if (c->stateful && (st = stateful_states(l, &a, n_in, &carried))) return st;
    int64_t GU = ck_rnn_gates(a.kind) * a.units;
    if (ck_weight_gemm_packs(a.batch * a.steps, GU, a.in_dim))
        a.kernel_packed = ck_exec_packed(ex, a.kernel, GU, a.in_dim, GU);
    if (!(a.kind == CK_RNN_GRU && !a.reset_after) && ck_weight_gemm_packs(a.batch, GU, a.units))
        a.recurrent_packed = ck_exec_packed(ex, a.recurrent, GU, a.units, GU);
    a.seq = c->return_sequences ? out[0].data : NULL;
    a.h = !c->return_sequences ? out[0].data : n_out > 1 ? out[1].data : NULL;
    a.c = a.kind == CK_RNN_LSTM && n_out > 2 ? out[2].data : NULL;
    ck_rnn_forward(&a);
    if (carried) ck_rnn_final_states(&a, carried, a.kind == CK_RNN_LSTM ? carried + a.batch * a.units : NULL);
    if (!c->return_sequences && n_out > 1)
        memcpy(out[1].data, out[0].data, (size_t)(a.batch * a.units) * sizeof(float));
    return CK_OK;
}

/* Backpropagation through time over the scratch the forward kept. */
static ck_status rnn_backward(CK_BWD_ARGS)
{
    (void)out;
    const ck_rnn_config *c = CK_CFG(l, ck_rnn_config);
    ck_rnn_args a;
    ck_status st = rnn_args(l, in, n_in, ex, &a);
    if (st) return st;
    ck_rnn_grads g = {
        .dseq = c->return_sequences ? dout[0].data : NULL,
        .dh = !c->return_sequences ? dout[0].data : NULL,
        .dh2 = n_out > 1 ? dout[1].data : NULL,
        .dc = a.kind == CK_RNN_LSTM && n_out > 2 ? dout[2].data : NULL,
        .dx = din[0].data, .dh0 = n_in > 1 ? din[1].data : NULL, .dc0 = n_in > 2 ? din[2].data : NULL,
        .dkernel = l->weights[0].grad, .drecurrent = l->weights[1].grad,
        .dbias = c->use_bias ? l->weights[2].grad : NULL,
    };
    ck_rnn_backward(&a, &g);
    return CK_OK;
}

/* The input's mask follows the sequence output; a last step or a state has none. */
static ck_mask_mode rnn_mask(const ck_layer *l, int index)
{
    return index == 0 && CK_CFG(l, ck_rnn_config)->return_sequences ? CK_MASK_PASS : CK_MASK_NONE;
}

static int64_t rnn_flops(const ck_layer *l)
{
    const ck_rnn_config *c = CK_CFG(l, ck_rnn_config);
    int64_t t = l->in_shapes[0].dim[1] == CK_NONE ? 1 : l->in_shapes[0].dim[1];
    int64_t gu = ck_rnn_gates(kind_of(l)) * c->units, d = l->in_shapes[0].dim[2];
    return t * (2 * d * gu + 2 * c->units * gu);
}

/* ConvLSTM: kernel (*kernel_size, channels, 4f), recurrent (*kernel_size, f, 4f);
 * input convolution with the given padding and strides, the state's "same". */
static ck_status conv_lstm_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out)
{
    (void)n_in;
    ck_rnn_config *c = CK_CFG(l, ck_rnn_config);
    int r = c->kernel_size.n;
    ck_status st = check_common(l, c, in, r + 3);
    if (st) return st;
    bool cf = !strcmp(c->data_format, "channels_first");
    int64_t ch = cf ? in[0].dim[2] : in[0].dim[r + 2], f = c->units, f4;
    if (ch == CK_NONE) return ck_layer_error(l, CK_ERR_SHAPE, "the channel dimension of the input must be known");
    if (!ck_mul_ok(4, f, &f4)) return ck_layer_error(l, CK_ERR_OVERFLOW, "filters is too large");
    ck_shape k = {.rank = r + 2}, rk = {.rank = r + 2};
    ck_shape step = {.rank = r + 2, .dim = {in[0].dim[0]}};
    for (int i = 0; i < r; i++) {
        int64_t ks = c->kernel_size.v[i], s = c->strides.v[i], dl = c->dilation_rate.v[i];
        if (ks <= 0 || s <= 0 || dl <= 0)
            return ck_layer_error(l, CK_ERR_CONFIG, "kernel_size, strides and dilation_rate must be positive");
        k.dim[i] = rk.dim[i] = ks;
        int64_t n = in[0].dim[(cf ? 3 : 2) + i], o = CK_NONE;
        if (n != CK_NONE) {
            int64_t eff = (ks - 1) * dl + 1;
            o = !strcmp(c->padding, "same") ? (n + s - 1) / s : (n - eff + s) / s;
            if (o <= 0) return ck_layer_error(l, CK_ERR_SHAPE, "spatial dimension %lld is smaller than the kernel", (long long)n);
        }
        step.dim[(cf ? 2 : 1) + i] = o;
    }
    step.dim[cf ? 1 : r + 1] = f;
    k.dim[r] = ch, k.dim[r + 1] = f4;
    rk.dim[r] = f, rk.dim[r + 1] = f4;
    ck_init bi = forget_bias_init(c, true);
    if ((st = add_cell_weight(l, "conv_lstm_cell", "kernel", k, &c->kernel_initializer)) ||
        (st = add_cell_weight(l, "conv_lstm_cell", "recurrent_kernel", rk, &c->recurrent_initializer)))
        return st;
    if (c->use_bias && (st = add_cell_weight(l, "conv_lstm_cell", "bias", ck_shape_1(f4), &bi))) return st;
    set_outputs(c, 2, &step, &in[0], out, n_out);
    return CK_OK;
}

/* Keras's RNN.build(sequences_shape, initial_state_shape=None). */
static const char *const rnn_build_shapes[] = {"sequences_shape", "initial_state_shape[]", NULL};

/* Keras 3 saves a recurrent layer's weights under its `cell` attribute. */
static const ck_saved_part simple_rnn_parts[] = {{"cell", "simple_rnn_cell", 0}, {0}};
static const ck_saved_part lstm_parts[] = {{"cell", "lstm_cell", 0}, {0}};
static const ck_saved_part gru_parts[] = {{"cell", "gru_cell", 0}, {0}};
static const ck_saved_part conv_lstm_parts[] = {{"cell", "conv_lstm_cell", 0}, {0}};

#define RNN_HOOKS                                                                                   \
    .min_inputs = 1, .max_inputs = 3, .build = rnn_build, .forward = rnn_forward, .backward = rnn_backward, \
        .flops = rnn_flops, .mask = rnn_mask, .workspace = rnn_workspace, .keras.build_shape_names = rnn_build_shapes, \
        .keras.call_inputs = CK_CALL_STATES
CK_CLASS(ck_class_simple_rnn, "SimpleRNN", CK_CONFIG(T, simple_rnn_fields), RNN_HOOKS,
         .keras.saved_parts = simple_rnn_parts);
CK_CLASS(ck_class_lstm, "LSTM", CK_CONFIG(T, lstm_fields), RNN_HOOKS, .keras.saved_parts = lstm_parts);
CK_CLASS(ck_class_gru, "GRU", CK_CONFIG(T, gru_fields), RNN_HOOKS, .keras.saved_parts = gru_parts);

/* ConvLSTM's spatial axes follow the time axis and the channels; the engine
 * moves the channels last for channels_first (ck_layer_class.channels_first). */
static int conv_lstm_channels_first(const ck_layer *l)
{
    const T *c = CK_CFG(l, T);
    return !strcmp(c->data_format, "channels_first") ? (int)c->kernel_size.n : 0;
}

CK_CLASS(ck_class_conv_lstm1d, "ConvLSTM1D", CK_CONFIG(T, conv_lstm1d_fields), CK_ONE_INPUT,
         .build = conv_lstm_build, .forward = ck_conv_lstm_forward, .backward = ck_conv_lstm_backward,
         .workspace = ck_conv_lstm_workspace, .channels_first = conv_lstm_channels_first,
         .keras.saved_parts = conv_lstm_parts);
CK_CLASS(ck_class_conv_lstm2d, "ConvLSTM2D", CK_CONFIG(T, conv_lstm2d_fields), CK_ONE_INPUT,
         .build = conv_lstm_build, .forward = ck_conv_lstm_forward, .backward = ck_conv_lstm_backward,
         .workspace = ck_conv_lstm_workspace, .channels_first = conv_lstm_channels_first,
         .keras.saved_parts = conv_lstm_parts);

CK_FAMILY(ck_recurrent_layers, &ck_class_simple_rnn, &ck_class_lstm, &ck_class_gru, &ck_class_conv_lstm1d,
          &ck_class_conv_lstm2d);
