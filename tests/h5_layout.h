/* Comparing the HDF5 files ckeras writes with Keras's layout.json (see h5_layout.c). */
#ifndef CK_TEST_H5_LAYOUT_H
#define CK_TEST_H5_LAYOUT_H

#include <jansson.h>
#include <stdbool.h>

/* Each object of the HDF5 file as layout.json records it: path, kind, shape and
 * dtype of datasets (numpy's name), attributes (name, type, value) by name. */
json_t *test_h5_layout(const char *path);
/* model.weights.h5 of a .keras archive, copied out to `out`. */
bool test_extract_weights(const char *archive, const char *out);
/* CHECKs the members of a .keras archive, in order, against Keras's list. */
void test_check_members(const char *archive, json_t *keras, const char *what);
/* A scalar dataset's value (an int32 counter or a float32) as a double. */
bool test_h5_scalar(const char *file, const char *path, double *out);
/* CHECKs `ours` (test_h5_layout) against Keras's layout, object by object. */
void test_compare_layout(json_t *ours, json_t *keras, const char *what);

#endif
