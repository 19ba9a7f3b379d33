/* File helpers shared by the format readers and writers. */
#ifndef CK_IO_H
#define CK_IO_H

#include "graph/graph.h"

#include <jansson.h>

/* Whole file into a NUL-terminated buffer; messages name the path. */
ck_status ck_read_file(const char *path, char **data, size_t *len);
/* A whole JSON file; a syntax error names the path, line and column. */
ck_status ck_read_json_file(const char *path, json_t **root);
/* Atomic write: a temporary file in the same folder, fsync, the destination's
 * mode (new: 0666 less the umask), rename, fsync of the folder (io/file.c). */
ck_status ck_write_file_atomic(const char *path, const void *data, size_t len);
/* A zip of n members built in memory (stored, or deflated), then written as above. */
ck_status ck_write_zip_atomic(const char *path, const char *const *names, const void *const *data, const size_t *lens,
                              int n, bool deflate);
/* Whether a zip member stating `size` bytes may be inflated, before a byte is:
 * not beyond what deflate can make of comp_size (a stored member is its size),
 * not beyond `implied` (what its contents should take, 0 when nothing implies a
 * size) plus ck_limits' slack, and not beyond `max` (a ck_limits maximum). */
ck_status ck_zip_size_ok(uint64_t size, uint64_t comp_size, bool stored, uint64_t implied, int64_t max,
                         const char *origin, const char *member);
/* The most bytes a .keras model.weights.h5 for this model can need (the
 * `implied` of ck_zip_size_ok); 0 if unknown. */
uint64_t ck_weights_member_bytes(const ck_model *m);
/* A parsed Keras/TF.js config to a built model. */
ck_status ck_model_from_json_value(json_t *root, const char *origin, ck_model **out);
/* Keras 3 model config object (model.to_json()). */
json_t *ck_model_config_json(const ck_model *m);
/* load_model's compile from config.json's compile_config (io/compile_config.c):
 * best effort, so summary() shows "Optimizer params" as after keras load_model. */
void ck_keras_restore_compile(ck_model *m, json_t *compile_config);
/* The same for a legacy .h5 (its training_config attribute), as Keras 3 does it. */
void ck_keras_restore_legacy_compile(ck_model *m, json_t *training_config, bool has_optimizer_weights);

#endif
