/* Config structs of the sequence layers (embedding.c, recurrent.c, wrappers.c,
 * attention.c), shared by their class entries and their forward kernels. Raw-JSON
 * fields (regularizers, constraints, nested layer configs) are kept for the round
 * trip as malloc'ed strings or NULL. */
#ifndef CK_SEQ_LAYERS_H
#define CK_SEQ_LAYERS_H

#include "graph/graph.h"

typedef struct ck_embedding_config {
    int64_t input_dim, output_dim;
    ck_init embeddings_initializer;
    char *embeddings_regularizer, *activity_regularizer, *embeddings_constraint;
    bool mask_zero;
    char *quantization_config;
} ck_embedding_config;

typedef struct ck_masking_config {
    double mask_value;
} ck_masking_config;

/* SimpleRNN, LSTM, GRU and ConvLSTM1D/2D share one struct; each class's field
 * table lists only the keys Keras writes for it. */
typedef struct ck_rnn_config {
    bool return_sequences, return_state, go_backwards, stateful, unroll, zero_output_for_mask;
    int64_t units;                 /* ConvLSTM: filters */
    ck_ints kernel_size, strides, dilation_rate;
    char padding[CK_STR_MAX], data_format[CK_STR_MAX];
    ck_act activation, recurrent_activation;
    bool use_bias, unit_forget_bias, reset_after;
    ck_init kernel_initializer, recurrent_initializer, bias_initializer;
    char *kernel_regularizer, *recurrent_regularizer, *bias_regularizer, *activity_regularizer;
    char *kernel_constraint, *recurrent_constraint, *bias_constraint;
    double dropout, recurrent_dropout;
    int64_t seed;                  /* CK_INT_NULL = None */
} ck_rnn_config;

typedef struct ck_wrapper_config {
    char *layer;                   /* {"class_name": ..., "config": ...} */
    char *backward_layer;          /* Bidirectional only; NULL = mirror of layer */
    char merge_mode[CK_STR_MAX];   /* "" = None */
} ck_wrapper_config;

typedef struct ck_mha_config {
    int64_t num_heads, key_dim, value_dim;   /* value_dim CK_INT_NULL = key_dim */
    int64_t head_dim, num_query_heads, num_key_value_heads; /* GroupQueryAttention */
    double dropout;
    bool use_bias, use_gate;
    ck_ints output_shape;          /* null = the query's last dim */
    ck_ints attention_axes;        /* null = all axes between batch and features */
    int64_t sliding_window;
    ck_init kernel_initializer, bias_initializer;
    char *kernel_regularizer, *bias_regularizer, *activity_regularizer;
    char *kernel_constraint, *bias_constraint;
    int64_t seed;
} ck_mha_config;

typedef struct ck_einsum_dense_config {
    ck_ints output_shape;
    char equation[CK_STR_MAX];
    ck_act activation;
    char bias_axes[CK_STR_MAX];    /* "" = None */
    ck_init kernel_initializer, bias_initializer;
    char *kernel_regularizer, *bias_regularizer, *activity_regularizer;
    char *kernel_constraint, *bias_constraint;
    char *quantization_config;
} ck_einsum_dense_config;

typedef struct ck_attention_config {
    bool use_scale;
    char score_mode[CK_STR_MAX];
    double dropout;
    int64_t seed;
} ck_attention_config;

/* Analysis of an EinsumDense equation against an input shape, as Keras's
 * _analyze_einsum_string computes it (shared with MultiHeadAttention). */
typedef struct ck_einsum_plan {
    ck_shape kernel, bias, output;  /* bias.rank 0 = no bias */
    bool has_bias;
} ck_einsum_plan;
ck_status ck_einsum_analyze(const char *equation, const char *bias_axes, const ck_shape *in,
                            const ck_ints *output_shape, ck_einsum_plan *plan);

/* Forward passes of the attention family (attention_run.c) and ConvLSTM. */
ck_forward_fn ck_einsum_dense_forward;
ck_backward_fn ck_einsum_dense_backward;
int64_t ck_einsum_dense_workspace(const ck_layer *l);
ck_backward_fn ck_mha_backward;
int64_t ck_mha_workspace(const ck_layer *l);
int64_t ck_gqa_workspace(const ck_layer *l);
int64_t ck_attention_workspace(const ck_layer *l);
ck_backward_fn ck_gqa_backward;
ck_backward_fn ck_attention_backward;
ck_forward_fn ck_mha_forward;
ck_forward_fn ck_gqa_forward;
ck_forward_fn ck_attention_forward;
ck_forward_fn ck_conv_lstm_forward; /* conv_lstm_run.c */
int64_t ck_conv_lstm_workspace(const ck_layer *l);
ck_backward_fn ck_conv_lstm_backward;

#endif
