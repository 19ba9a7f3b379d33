/*
 * Layer families: each file exports its classes as one array; registry.c joins the
 * families into the table that names resolve against. Helpers shared by the
 * families' build functions live here too.
 */
#ifndef CK_LAYERS_H
#define CK_LAYERS_H

#include "graph/graph.h"

typedef struct ck_layer_family {
    const ck_layer_class *const *classes;
    int count;
} ck_layer_family;

extern const ck_layer_family ck_core_layers;
extern const ck_layer_family ck_merging_layers;
extern const ck_layer_family ck_embedding_layers, ck_recurrent_layers, ck_wrapper_layers, ck_attention_layers; /* seq */
extern const ck_layer_family ck_conv_layers, ck_pooling_layers, ck_reshaping_layers, ck_normalization_layers, ck_noise_layers, ck_activation_layers, ck_preprocessing_layers; /* conv issue */
extern const ck_layer_family ck_app_layers; /* Keras Applications' own layers (convb) */

/* Whether l is a keras.src.ops.numpy operation with a number (x + 3.0, run as
 * a one-input class, app_layers.c); if so its operation (0 add, 1 subtract,
 * 2 multiply, 3 divide, 4 maximum, 5 minimum), the number, and its side. */
bool ck_scalar_op_of(const ck_layer *l, int *op, double *scalar, bool *scalar_first);
/* "Dense 'dense': " prefix for messages about a layer. */
ck_status ck_layer_error(const ck_layer *l, ck_status st, const char *fmt, ...) CK_PRINTF(3, 4);
/* Python-style axis (negative counts from the end) to an index in [0, rank). */
bool ck_normalize_axis(int64_t axis, int rank, int *out);

#define CK_FAMILY(name, ...)                                                          \
    static const ck_layer_class *const name##_classes[] = {__VA_ARGS__};              \
    const ck_layer_family name = {name##_classes,                                     \
                                  (int)(sizeof name##_classes / sizeof name##_classes[0])}

#endif
