/* Internal interface between the model-file formats: the weight walk shared by the
 * HDF5 layouts and TF.js, and each format's reader and writer. Every reader takes
 * an `origin` (the file's name) for its messages. */
#ifndef CK_IO_FILES_H
#define CK_IO_FILES_H

#include "io/h5.h"
#include "io/io.h"

/* Every weight of one layer in get_weights() order (nested models flattened). */
typedef struct ck_wlist {
    ck_weight **w;
    ck_layer **owner;   /* the (innermost) layer that holds w[i]           */
    int n, cap, cap_owner;
} ck_wlist;
ck_status ck_wlist_of_layer(ck_layer *l, ck_wlist *out);
void ck_wlist_free(ck_wlist *wl);

/* Checks the stored shape against the weight's and reads the values. */
ck_status ck_load_h5_weight(hid_t loc, const char *dataset, const char *origin, const ck_layer *owner, ck_weight *w);
/* "expected (2, 3), got (3, 2)" message for any source. */
ck_status ck_weight_shape_error(const char *origin, const ck_layer *owner, const ck_weight *w, const ck_shape *got);

/* Keras 3 layout (model.weights.h5, .weights.h5): layers/<snake>/vars/<i>. */
ck_status ck_keras3_weights_read(ck_model *m, hid_t file, const char *origin);
ck_status ck_keras3_weights_write(const ck_model *m, hid_t file);
/* Legacy layout: layer_names + weight_names under `group` (model_weights or root). */
ck_status ck_legacy_weights_read(ck_model *m, hid_t group, const char *origin);
ck_status ck_legacy_weights_write(const ck_model *m, hid_t group);
/* A compiled model's optimizer variables under optimizer/vars (.keras). */
ck_status ck_keras3_optimizer_read(ck_model *m, hid_t file, const char *origin);
ck_status ck_keras3_optimizer_write(const ck_model *m, hid_t file);
/* training_config and optimizer_weights of a legacy .h5, as Keras writes them. */
ck_status ck_legacy_training_write(const ck_model *m, hid_t file);
ck_status ck_legacy_optimizer_read(ck_model *m, hid_t file, const char *origin);
/* A legacy layer group's weight_names; none is an empty float64 array, as Keras
 * writes np.array([]). */
ck_status ck_legacy_set_weight_names(hid_t group, const char *const *names, int n);

/* ck_file_format, leaving an HDF5 file open in *h5 (-1 otherwise, or on error) for
 * the caller to close: each libhdf5 open of an untrusted file costs a guard child. */
const char *ck_file_format_open(const char *path, hid_t *h5);

/* Readers. with_weights false: architecture only, the weight data is never read. */
ck_status ck_keras_zip_load(const char *path, bool with_weights, ck_model **out);
ck_status ck_h5_model_load(const char *path, bool with_weights, ck_model **out);
ck_status ck_tfjs_load(const char *path, json_t *root, bool with_weights, ck_model **out);

/* Writers (atomic). */
ck_status ck_keras_zip_save(const ck_model *m, const char *path);
ck_status ck_h5_model_save(const ck_model *m, const char *path);
ck_status ck_weights_h5_save(const ck_model *m, const char *path);
ck_status ck_tfjs_save(const ck_model *m, const char *path);
/* The Keras 2 dialect config TF.js reads: {keras_version, backend, model_config}. */
json_t *ck_tfjs_topology(const ck_model *m);

#endif
