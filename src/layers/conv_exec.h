/* Forward and backward passes of the convolution layers, and the hooks the
 * convolutional-family files share. Channels-last only:
 * channels_first inputs get a clear CK_ERR_UNSUPPORTED. */
#ifndef CK_CONV_EXEC_H
#define CK_CONV_EXEC_H

#include "graph/graph.h"

/* The kernel geometry of a convolution layer between tensors of these shapes
 * (TensorFlow's 'same' split, causal padding; transpose: the JAX
 * conv_transpose padding as the shift of the scattered output). ex may be
 * NULL (then only channels_last data runs). */
struct ck_conv_geom;
ck_status ck_conv_geom_of(ck_layer *l, const struct ck_tensor *x, const struct ck_tensor *y, bool transpose,
                          const ck_run *ex, struct ck_conv_geom *g);
ck_status ck_conv_forward(CK_FWD_ARGS);
ck_status ck_conv_transpose_forward(CK_FWD_ARGS);
ck_status ck_depthwise_forward(CK_FWD_ARGS);
ck_status ck_separable_forward(CK_FWD_ARGS);
ck_status ck_conv_backward(CK_BWD_ARGS);
ck_status ck_conv_transpose_backward(CK_BWD_ARGS);
ck_status ck_depthwise_backward(CK_BWD_ARGS);
ck_status ck_separable_backward(CK_BWD_ARGS);
/* Floats per sample kept from forward for backward (pre-activations, the
 * separable layer's depthwise result). */
int64_t ck_conv_workspace(const ck_layer *l);
int64_t ck_separable_workspace(const ck_layer *l);

/* Normalization family (batchnorm_exec.c): BatchNormalization's training
 * forward (batch statistics, moving statistics updated), whether a pass runs in
 * that mode, and the family's backward and workspace hooks. */
ck_status ck_bn_train_forward(CK_FWD_ARGS);
bool ck_bn_batch_mode(const ck_layer *l, const ck_run *ex);
ck_status ck_norm_backward(CK_BWD_ARGS);
int64_t ck_norm_workspace(const ck_layer *l);


#endif
