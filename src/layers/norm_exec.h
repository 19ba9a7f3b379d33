/* Engine hooks of LayerNormalization, GroupNormalization, UnitNormalization and
 * RMSNormalization
 * (norm_exec.c), kept apart from normalization.c's shape rules and
 * BatchNormalization. */
#ifndef CK_NORM_EXEC_H
#define CK_NORM_EXEC_H

#include "layers/conv_exec.h"

ck_status ck_layernorm_forward(CK_FWD_ARGS);
ck_status ck_groupnorm_forward(CK_FWD_ARGS);
ck_status ck_unitnorm_forward(CK_FWD_ARGS);

ck_status ck_layernorm_backward(CK_BWD_ARGS);
ck_status ck_groupnorm_backward(CK_BWD_ARGS);
ck_status ck_unitnorm_backward(CK_BWD_ARGS);
ck_status ck_rmsnorm_forward(CK_FWD_ARGS);
ck_status ck_rmsnorm_backward(CK_BWD_ARGS);
/* Scratch per sample for the per-group statistics (nothing is kept between the
 * passes). */
int64_t ck_layernorm_workspace(const ck_layer *l);
int64_t ck_groupnorm_workspace(const ck_layer *l);
int64_t ck_unitnorm_workspace(const ck_layer *l);
int64_t ck_rmsnorm_workspace(const ck_layer *l);

#endif
