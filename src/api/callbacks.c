/* The public calls that join two client floors: ck_callback_new builds train's
 * callback and hands it io's model writer, so ModelCheckpoint saves .keras,
 * .h5 and .weights.h5 files although train may not call io (docs/DESIGN.md,
 * the floor plan). */
#include "train/train.h"

ck_callback *ck_callback_new(const char *spec) { return ck_callback_from_spec(spec, ck_model_save); }
