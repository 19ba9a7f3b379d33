/* The class table graph/classes.c looks names up in: every family of layer
 * classes, in the order `ckeras layers` lists them. This file is the only one
 * that knows all families. */
#include "layers/layers.h"

const ck_layer_family *const ck_layer_families[] = {
    &ck_core_layers,
    &ck_merging_layers,
    &ck_embedding_layers, &ck_recurrent_layers, &ck_wrapper_layers, &ck_attention_layers, /* seq */
    &ck_conv_layers, &ck_pooling_layers, &ck_reshaping_layers, &ck_normalization_layers, &ck_noise_layers, &ck_activation_layers, &ck_preprocessing_layers, /* conv issue */
    &ck_app_layers, /* Keras Applications (convb) */
};
const int ck_n_layer_families = CK_N_OF(ck_layer_families);
