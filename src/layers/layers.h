/*
 * Layer families: each file exports its classes as one array; registry.c joins the
 * families into the table that names resolve against (graph/classes.c). Helpers
 * shared by the families' build functions live here too.
 */
#ifndef CK_LAYERS_H
#define CK_LAYERS_H

#include "graph/graph.h"

extern const ck_layer_family ck_core_layers;
extern const ck_layer_family ck_merging_layers;
extern const ck_layer_family ck_embedding_layers, ck_recurrent_layers, ck_wrapper_layers, ck_attention_layers; /* seq */
extern const ck_layer_family ck_conv_layers, ck_pooling_layers, ck_reshaping_layers, ck_normalization_layers, ck_noise_layers, ck_activation_layers, ck_preprocessing_layers; /* conv issue */
extern const ck_layer_family ck_app_layers; /* Keras Applications' own layers (convb) */

/* Whether l is a keras.src.ops.numpy operation with a number (x + 3.0, run as
 * a one-input class, app_layers.c); if so its operation (0 add, 1 subtract,
 * 2 multiply, 3 divide, 4 maximum, 5 minimum), the number, and its side. */
bool ck_scalar_op_of(const ck_layer *l, int *op, double *scalar, bool *scalar_first);
/* A keras.src.ops.numpy binary operation (Add, Multiply...) called with a number as
 * one operand, as a one-input class with config fields `scalar` and `scalar_first`;
 * NULL if the operation has none (layers/app_layers.c). */
const ck_layer_class *ck_find_scalar_op_class(const char *class_name);

/* ck_layer_class.channels_first of a class whose config has a data_format
 * field and whose spatial axes are all of input 0's but batch and channels:
 * their number when that field is channels_first, else 0. */
int ck_channels_first_rank(const ck_layer *l);
/* Whether a hook may read its tensors as channels-last: the data_format is
 * channels_last, or the engine moved the channel axis for this call
 * for this call (ex->channels_last_view: the layer, or the wrapper it is in);
 * otherwise an error naming the layer and field. */
ck_status ck_runs_channels_last(const ck_layer *l, const ck_run *ex, const char *data_format);

/* One entry of the class table for a class of keras.layers: the variable, Keras's
 * class name, then designators: CK_CONFIG(config struct, field table), inputs,
 * hooks and flags. A family whose classes share hooks lists them once in a
 * *_HOOKS macro of designators. */
#define CK_CLASS(var, name, ...) const ck_layer_class var = {.class_name = name, .module = "keras.layers", __VA_ARGS__}
/* The mask hook of Keras's supports_masking=True classes that keep Layer's
 * compute_mask (keras/src/layers/layer.py: the previous mask, unchanged). */
ck_mask_mode ck_mask_pass(const ck_layer *l, int index);
/* The inputs of most classes. */
#define CK_ONE_INPUT .min_inputs = 1, .max_inputs = 1

#endif
