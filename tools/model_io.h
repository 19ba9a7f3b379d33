/* Model weights and data in and out for the engine commands (predict, fit,
 * evaluate, weights), whatever the file format: shared by tools/cmd_*.c. Each
 * function prints its one-line error and returns 1. A path "-" is stdin or
 * stdout. */
#ifndef CKERAS_TOOLS_MODEL_IO_H
#define CKERAS_TOOLS_MODEL_IO_H

#include "ckeras.h"

#include <stdbool.h>
#include <stdio.h>

/* --weights: an .npz of get_weights() arrays (np.savez order), or any weights
 * file ck_model_load_weights reads (.weights.h5, legacy .h5, .keras, model.json). */
int cli_load_weights(ck_model *m, const char *path);
/* A note on stderr when the model file stores no weights (a JSON config,
 * Python code) and none are given: predict, evaluate and export then use the
 * initializers' values, which is rarely what was meant. */
void cli_note_initial_weights(const ck_model *m, const char *path, const char *weights);
/* np.savez(path, *model.get_weights()) (only `layer`'s when not NULL): the
 * order cli_load_weights reads back. *n_arrays (may be NULL): how many it wrote. */
int cli_save_weights_npz(ck_model *m, const char *layer, const char *path, int *n_arrays);
/* --save: by the ending: ".npz" (get_weights() arrays), ".keras", ".weights.h5",
 * ".h5", ".json" (TF.js) -- all written to a temporary file and renamed. */
int cli_save_model(ck_model *m, const char *path);
/* Does --save's path end with one of the endings cli_save_model writes? */
bool cli_save_format_known(const char *path);
/* Does the path end with `suffix`? */
bool cli_ends_with(const char *path, const char *suffix);
/* An array by its extension, as float32: .npy (any supported dtype), .npz
 * (one array), .csv (every column, header row), .json (nested lists); "-"
 * reads stdin and tells the format from its first bytes. */
int cli_load_array(const char *path, ck_array *a);
/* Writes a float32 array by the extension (.npy, .npz, .csv with an
 * output_<i> header, .json nested lists); "-" writes .npy bytes to stdout. */
int cli_write_array(const char *path, const ck_array *a);
/* stdin's bytes in a temporary file (path into `path`; the caller unlinks it)
 * named "ckeras-XXXXXX<suffix>", or with suffix NULL by what its first bytes
 * are (.npy, .npz, .json, else .csv): the readers go by the name where the
 * content has no signature. Messages then call the file "-" (cli_fail). */
int cli_stdin_to_file(char *path, size_t cap, const char *suffix);
/* The array as CSV text (an output_<i> header row, then one row per sample). */
void cli_print_csv(FILE *f, const ck_array *a);
/* Is the path "-" or does it end with one of those four extensions? */
bool cli_array_format_known(const char *path);

#endif
