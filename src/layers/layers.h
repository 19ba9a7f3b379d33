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

#endif
