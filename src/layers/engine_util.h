/* Small helpers the layers' forward and backward share: element counts of
 * concrete tensors, and the layout of a node's workspace. */
#ifndef CK_ENGINE_UTIL_H
#define CK_ENGINE_UTIL_H

#include "graph/graph.h"
#include "layers/layers.h"
#include "kernels/tensor_ops.h"
#include "engine/run.h"

#include <stdint.h>

/* Floats per batch row: product of the non-batch dims. */
static inline int64_t ck_row_size(const ck_tensor *t)
{
    int64_t n = 1;
    for (int i = 1; i < t->shape.rank; i++) n *= t->shape.dim[i];
    return n;
}
/* All floats of a concrete tensor. */
static inline int64_t ck_numel(const ck_tensor *t) { return t->shape.dim[0] * ck_row_size(t); }

/* A node's workspace (ck_layer_class.workspace, planned once for the largest
 * batch) is where forward and backward take their scratch, after what forward
 * keeps for backward, so steps allocate nothing. It is only float-aligned (a
 * wrapper hands its sublayer an offset into its own), so doubles and int64s go
 * at ck_ws_align8(p), and a class declares ck_ws_floats8(n) floats per sample for
 * n of them: one float of slack covers the rounding for any rows >= 1. */
static inline void *ck_ws_align8(float *p) { return p + ((uintptr_t)p & 4 ? 1 : 0); }
static inline int64_t ck_ws_floats8(int64_t n) { return 2 * n + 1; }
/* The node's workspace, or NULL after setting an error that names the layer (the
 * engine plans none when a dimension is unknown). */
static inline float *ck_ws_of(const ck_layer *l, const ck_run *ex)
{
    if (ex && ex->workspace) return ex->workspace;
    ck_layer_error(l, CK_ERR_STATE, "the engine gave no scratch (every input dimension must be known)");
    return NULL;
}

#endif
