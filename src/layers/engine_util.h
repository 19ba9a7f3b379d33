/* Small helpers the layers' forward and backward share: element counts of
 * concrete tensors. */
#ifndef CK_ENGINE_UTIL_H
#define CK_ENGINE_UTIL_H

#include "graph/graph.h"
#include "kernels/tensor_ops.h"
#include "train/exec.h"

/* Floats per batch row: product of the non-batch dims. */
static inline int64_t ck_row_size(const ck_tensor *t)
{
    int64_t n = 1;
    for (int i = 1; i < t->shape.rank; i++) n *= t->shape.dim[i];
    return n;
}
/* All floats of a concrete tensor. */
static inline int64_t ck_numel(const ck_tensor *t) { return t->shape.dim[0] * ck_row_size(t); }

#endif
