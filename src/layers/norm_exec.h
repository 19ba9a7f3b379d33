/* Engine hooks of LayerNormalization, GroupNormalization and UnitNormalization
 * (norm_forward.c), kept apart from normalization.c's shape rules and
 * BatchNormalization. */
#ifndef CK_NORM_EXEC_H
#define CK_NORM_EXEC_H

#include "layers/conv_exec.h"

ck_status ck_layernorm_forward(CK_FWD_ARGS);
ck_status ck_groupnorm_forward(CK_FWD_ARGS);
ck_status ck_unitnorm_forward(CK_FWD_ARGS);

#endif
