/* Model weights and data in and out for the engine commands (predict, fit,
 * evaluate), whatever the file format: shared by tools/cmd_predict.c and
 * tools/cmd_fit.c. Each function prints its one-line error and returns 1. */
#ifndef CKERAS_TOOLS_MODEL_IO_H
#define CKERAS_TOOLS_MODEL_IO_H

#include "ckeras.h"

#include <stdbool.h>

/* --weights: an .npz of get_weights() arrays (np.savez order), or any weights
 * file ck_model_load_weights reads (.weights.h5, legacy .h5, .keras, model.json). */
int cli_load_weights(ck_model *m, const char *path);
/* --save: by the ending: ".npz" (get_weights() arrays), ".keras", ".weights.h5",
 * ".h5", ".json" (TF.js) -- all written to a temporary file and renamed. */
int cli_save_model(ck_model *m, const char *path);
/* Does the path end with `suffix`? */
bool cli_ends_with(const char *path, const char *suffix);
/* A .npy (any supported dtype, as float32) or a .csv (every column). */
int cli_load_array(const char *path, ck_array *a);

#endif
