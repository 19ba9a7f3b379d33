/* Thin helpers over libhdf5 for the Keras file readers and writers: opening a file
 * from a path or from memory (the model.weights.h5 member of a .keras zip), string
 * attributes in every form h5py writes them, float datasets with their shapes, and
 * an in-memory writer whose image is then written atomically. */
#ifndef CK_IO_H5_H
#define CK_IO_H5_H

#include "graph/graph.h"

#include <hdf5.h>

/* Opens read-only after ck_h5_check; `origin` names the file in messages. */
ck_status ck_h5_open(const char *path, hid_t *file);
ck_status ck_h5_open_image(const void *data, size_t len, const char *origin, hid_t *file);
/* A file at `path`, or `image` of `len` bytes when image is not NULL: has libhdf5
 * read all of it in a forked child under ck_limits (h5_guard.c), so that a damaged
 * file crashes or stalls only the child. */
ck_status ck_h5_check(const char *path, const void *image, size_t len, const char *origin);
/* H5Fopen without the check (-1 on failure): for the child itself. */
hid_t ck_h5_open_unchecked(const char *path, const void *image, size_t len);
/* A new empty file held in memory; ck_h5_image then gives its bytes. */
ck_status ck_h5_create_memory(hid_t *file);
/* A libhdf5 write that failed: CK_ERR_NOMEM ("...: out of memory") when an
 * allocation inside libhdf5 failed (errno ENOMEM, as libc's allocators leave
 * it; ck_h5_create_memory clears errno, so that an older failure does not
 * count), else CK_ERR_IO, with the message fmt. */
ck_status ck_h5_write_failed(const char *fmt, ...) CK_PRINTF(1, 2);
ck_status ck_h5_image(hid_t file, void **data, size_t *len);

bool ck_h5_exists(hid_t loc, const char *path);
bool ck_h5_has_attr(hid_t loc, const char *name);
/* A string attribute (scalar, fixed or variable length); malloc'ed. */
ck_status ck_h5_attr_string(hid_t loc, const char *name, const char *origin, char **out);
/* A list-of-strings attribute, also when Keras split it into name0, name1, ...
 * A missing attribute is an error; an empty float array (Keras's empty list) gives 0. */
ck_status ck_h5_attr_strings(hid_t loc, const char *name, const char *origin, char ***out, int *n);
void ck_h5_free_strings(char **s, int n);

/* Shape and element count of a numeric dataset; non-numeric dtypes are errors. */
ck_status ck_h5_dataset_shape(hid_t loc, const char *path, const char *origin, ck_shape *shape, int64_t *size);
/* Reads a numeric dataset converted to float32 into `out` ([size] floats). */
ck_status ck_h5_read_floats(hid_t loc, const char *path, const char *origin, float *out, int64_t size);

/* A float dataset of `shape`: float32, or with `half` the values rounded to
 * float16 / bfloat16 and stored in the type Keras (h5py) gives that dtype. */
ck_status ck_h5_write_floats(hid_t loc, const char *name, const ck_shape *shape, const float *data, ck_half half);
ck_status ck_h5_set_attr_string(hid_t loc, const char *name, const char *value);
/* Fixed-length byte-string array attribute, as h5py writes np.array of bytes. */
ck_status ck_h5_set_attr_strings(hid_t loc, const char *name, const char *const *values, int n);
/* Creates every missing group on a path ("layers/dense/vars"). */
hid_t ck_h5_group(hid_t loc, const char *path);

#endif
