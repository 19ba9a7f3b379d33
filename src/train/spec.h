/*
 * Specs such as "Adam(0.01)" or "CSVLogger('log.csv', append=True)": optimizers,
 * losses, metrics, callbacks and learning-rate schedules as Python spells them,
 * positional arguments included (spec_signatures.c, generated from Keras).
 */
#ifndef CK_TRAIN_SPEC_H
#define CK_TRAIN_SPEC_H

#include <stddef.h>

/* The positional parameters of Keras's class class_name[0..len) (matched without
 * regard to case, as the spec parsers match names) in family "optimizer",
 * "loss", "metric", "callback" or "schedule"; NULL-ended, or NULL if unknown. */
const char *const *ck_spec_positional(const char *family, const char *class_name, size_t len);

#endif
