/* What a model's config implies about the size of its files, so that a reader
 * can refuse to inflate more (ck_zip_size_ok). */
#include "io/io.h"

/* Every value as float64 with up to three optimizer slots each, and HDF5's
 * object headers (a few KiB per dataset, four datasets per weight at most). */
uint64_t ck_weights_member_bytes(const ck_model *m)
{
    ck_param_counts pc;
    if (!m || ck_model_count_params(m, &pc)) return 0;
    return (uint64_t)pc.total * 32 + (uint64_t)ck_model_weight_count(m) * 4 * 4096 + 65536;
}
