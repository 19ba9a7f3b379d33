/* Process-wide limits on what a file may make the library do (ck_set_limits).
 * Like ck_set_num_threads, a setting for the whole program rather than for one
 * model: the readers consult it when they open a file, so a program sets it once,
 * before its threads start reading. */
#include "core.h"

static ck_limits limits = {
    .inflate_slack_bytes = (int64_t)1 << 20,
    .inflate_max_bytes = (int64_t)4 << 30,
    .config_max_bytes = (int64_t)64 << 20,
    .hdf5_seconds = 1.0,
    .hdf5_memory_bytes = (int64_t)1 << 30,
    .hdf5_in_process = false,
};

void ck_get_limits(ck_limits *out)
{
    if (out) *out = limits;
}

ck_status ck_set_limits(const ck_limits *l)
{
    if (!l) return ck_fail(CK_ERR_ARG, "ck_set_limits: limits is NULL");
    if (l->inflate_slack_bytes < 0 || l->inflate_max_bytes <= 0 || l->config_max_bytes <= 0)
        return ck_fail(CK_ERR_ARG, "ck_set_limits: inflate sizes must be positive");
    if (!(l->hdf5_seconds > 0) || l->hdf5_memory_bytes <= 0)
        return ck_fail(CK_ERR_ARG, "ck_set_limits: hdf5_seconds and hdf5_memory_bytes must be positive");
    limits = *l;
    return CK_OK;
}
