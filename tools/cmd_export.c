/* `ckeras export MODEL --c DIR [--name NAME] [--weights W] [--bin-threshold BYTES]
 * [--int8 --calibrate X.npy] [--max-steps N]`: the model as NAME.h and NAME.c in DIR, C99 code
 * needing only libm (ck_model_export_c); --int8 quantizes Dense and Conv layers
 * with the ranges X's rows give. Prints what it wrote: the arena and constant sizes. */
#include "cli.h"
#include "model_io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* --calibrate's rows, checked against model input 0; 1 after a message. */
static int load_calibration(ck_model *m, const char *path, ck_array *x, ck_export_opts *opts)
{
    if (ck_npy_read(path, x) || ck_array_to_float32(x)) return cli_fail(NULL);
    opts->calibration = x->data;
    opts->calibration_rows = x->shape.rank ? x->shape.dim[0] : 1;
    int64_t per = 1;
    const ck_shape *in = ck_model_input_shape(m, 0);
    for (int d = 1; d < in->rank; d++) per *= in->dim[d];
    if (per > 0 && ck_array_size(x) == opts->calibration_rows * per) return 0;
    fprintf(stderr, "ckeras: %s: %lld values do not make rows of model input 0 (%lld floats each)\n", path,
            (long long)ck_array_size(x), (long long)per);
    return 1;
}

int cmd_export(const cli_args *a)
{
    const char *model = a->pos[0], *dir = cli_str(a, "c"), *weights = cli_str(a, "weights");
    const char *calib = cli_str(a, "calibrate");
    ck_export_opts opts = {.name = cli_str(a, "name"), .bin_threshold = cli_int(a, "bin-threshold", 0),
                           .int8 = cli_flag(a, "int8"), .max_steps = cli_int(a, "max-steps", 0)};
    if (opts.int8 != (calib != NULL)) return cli_usage_error(a->cmd, "--int8 and --calibrate go together");
    struct stat st;
    int err = stat(dir, &st) ? errno : 0;
    if (err || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "ckeras: %s: %s (--c takes an existing folder)\n", dir,
                err == ENOENT ? "no such folder" : err ? strerror(err) : "not a folder");
        return 1;
    }
    ck_model *m = ck_model_load(model);
    if (!m) return cli_fail(model);
    cli_note_initial_weights(m, model, weights);
    ck_array x = {0};
    ck_export_info info;
    int rc = (weights && cli_load_weights(m, weights)) || (calib && load_calibration(m, calib, &x, &opts));
    if (!rc && ck_model_export_c(m, dir, &opts, &info)) rc = cli_fail(model);
    else if (!rc)
        printf("%s/%s.c: %d layer calls (%d in int8), %lld bytes of weights%s, arena %lld bytes (%lld without reuse)\n",
               dir, info.name, info.layers, info.int8_layers, (long long)info.weight_bytes,
               info.weights_bin ? " (in a .bin)" : "", (long long)info.arena_bytes, (long long)info.naive_bytes);
    ck_array_free(&x);
    ck_model_free(m);
    return rc;
}
