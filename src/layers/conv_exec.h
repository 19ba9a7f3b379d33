/* Forward passes of the convolution, pooling, normalization and other
 * convolutional-family layers, with the engine's hook signature. Channels-last
 * only: channels_first inputs get a clear CK_ERR_UNSUPPORTED. */
#ifndef CK_CONV_EXEC_H
#define CK_CONV_EXEC_H

#include "graph/graph.h"

#define CK_FWD_ARGS ck_layer *l, const struct ck_tensor *in, int n_in, struct ck_tensor *out, int n_out, ck_exec *ex
ck_status ck_conv_forward(CK_FWD_ARGS);
ck_status ck_conv_transpose_forward(CK_FWD_ARGS);
ck_status ck_depthwise_forward(CK_FWD_ARGS);
ck_status ck_separable_forward(CK_FWD_ARGS);

#endif
