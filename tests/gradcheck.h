/* The finite-difference gradient check of the engine's backward passes, shared
 * by the test_*gradcheck programs (tests/gradcheck.c). */
#ifndef CK_TEST_GRADCHECK_H
#define CK_TEST_GRADCHECK_H

#include "testutil.h"
#include "graph/graph.h"

/* Builds m (seeded per model), runs forward and backward at 3 rows and checks
 * every input and weight partial; frees m. scale multiplies the random inputs
 * (negative: distinct values 0.05 apart, for Maximum/Minimum); training runs the
 * layers in training mode with the same dropout mask on every pass. */
void gradcheck(const char *label, ck_model *m, float scale, bool training);
/* The same for models whose inputs are ids in [0, ids) for an Embedding (every
 * row's last two steps 0, the padding mask_zero masks); only weights are checked
 * (ids 0: gradcheck with scale 1). */
void gradcheck_ids(const char *label, ck_model *m, int ids, bool training);
/* How many models gradcheck has checked so far. */
int gradcheck_models(void);
/* Sequential([InputLayer(input_shape), cls(kwargs)]). */
ck_model *gc_seq(const char *input_shape, const char *cls, const char *kwargs);
/* A functional model applying cls to n inputs of the given shapes. */
ck_model *gc_merge(const char *cls, const char *kwargs, const char *const *shapes, int n);

#endif
