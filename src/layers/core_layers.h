/* Config structs of the core and merging layers, shared by their class entries. */
#ifndef CK_CORE_LAYERS_H
#define CK_CORE_LAYERS_H

#include "graph/graph.h"

typedef struct ck_input_config {
    bool sparse, ragged, optional;
} ck_input_config;

typedef struct ck_dense_config {
    int64_t units;
    ck_act activation;
    bool use_bias;
    ck_init kernel_initializer, bias_initializer;
    char *kernel_regularizer, *bias_regularizer;  /* raw JSON or NULL */
    char *kernel_constraint, *bias_constraint;
    char *activity_regularizer, *quantization_config;
} ck_dense_config;

typedef struct ck_activation_config {
    ck_act activation;
} ck_activation_config;

typedef struct ck_dropout_config {
    double rate;
    int64_t seed;        /* CK_INT_NULL = None */
    ck_shape noise_shape; /* rank -1 = None     */
} ck_dropout_config;

typedef struct ck_flatten_config {
    char data_format[CK_STR_MAX];
} ck_flatten_config;

typedef struct ck_reshape_config {
    ck_shape target_shape; /* without batch; one entry may be -1 */
} ck_reshape_config;

typedef struct ck_permute_config {
    ck_ints dims;          /* 1-based permutation of the non-batch axes */
} ck_permute_config;

typedef struct ck_repeat_vector_config {
    int64_t n;
} ck_repeat_vector_config;

typedef struct ck_concatenate_config {
    int64_t axis;
} ck_concatenate_config;

typedef struct ck_dot_config {
    ck_ints axes;          /* one axis for both, or one per input */
    bool normalize;
} ck_dot_config;
/* The contracted axis of each of Dot's two inputs (batch-first shapes in). */
ck_status ck_dot_axes(const ck_layer *l, const ck_shape *in, int axes[2]);

#endif
