/* File helpers shared by the format readers and writers. */
#ifndef CK_IO_H
#define CK_IO_H

#include "graph/graph.h"

#include <jansson.h>

/* A whole JSON file; a syntax error names the path, line and column. */
ck_status ck_read_json_file(const char *path, json_t **root);
/* A parsed Keras/TF.js config to a built model. */
ck_status ck_model_from_json_value(json_t *root, const char *origin, ck_model **out);
/* Keras 3 model config object (model.to_json()). */
json_t *ck_model_config_json(const ck_model *m);
/* model.get_compile_config(): the compile_config of the file the model was
 * compiled from while that compile stands, else its own ({} if not compiled). */
json_t *ck_model_compile_config_value(const ck_model *m);
/* load_model's compile from config.json's compile_config (io/compile_config.c):
 * best effort, so summary() shows "Optimizer params" as after keras load_model. */
void ck_keras_restore_compile(ck_model *m, json_t *compile_config);
/* The same for a legacy .h5 (its training_config attribute), as Keras 3 does it. */
void ck_keras_restore_legacy_compile(ck_model *m, json_t *training_config, bool has_optimizer_weights);

#endif
