/* File helpers shared by the format readers and writers. */
#ifndef CK_IO_H
#define CK_IO_H

#include "graph/graph.h"

#include <jansson.h>

/* A whole JSON file; a syntax error names the path, line and column. */
ck_status ck_read_json_file(const char *path, json_t **root);
/* The most bytes a .keras model.weights.h5 for this model can need (the
 * `implied` of ck_zip_size_ok); 0 if unknown. */
uint64_t ck_weights_member_bytes(const ck_model *m);
/* A parsed Keras/TF.js config to a built model. */
ck_status ck_model_from_json_value(json_t *root, const char *origin, ck_model **out);
/* The last model a Keras Python script makes, run without its side effects
 * (print, summary, plot_model and save are checked, not done): io/python_model.c. */
ck_status ck_python_model_load(const char *path, ck_model **model);
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

/* Keras's LossScaleOptimizer defaults (keras/src/optimizers/loss_scale_optimizer.py),
 * which Trainer.compile's wrapping under mixed_float16 keeps. */
#define LOSS_SCALE_NAME "loss_scale_optimizer"
#define LOSS_SCALE_INITIAL 32768.0
#define LOSS_SCALE_GROWTH 2000
/* serialize_keras_object of a LossScaleOptimizer around the serialized optimizer
 * `inner` (new reference; `inner` itself where it is one already). */
json_t *ck_loss_scale_config(const ck_model *m, json_t *inner);

#endif
