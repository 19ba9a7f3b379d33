/* `ckeras export MODEL --c DIR [--name NAME] [--weights W] [--bin-threshold BYTES]
 * [--int8 --calibrate X.npy]`: the model as NAME.h and NAME.c in DIR, C99 code
 * needing only libm (ck_model_export_c); --int8 quantizes Dense and Conv layers
 * with the ranges X's rows give. Prints what it wrote: the arena and constant sizes. */
#include "cli.h"
#include "model_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int cmd_export(int argc, char **argv)
{
    const char *model = NULL, *dir = NULL, *weights = NULL, *calib = NULL;
    ck_export_opts opts = {0};
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        bool has_value = i + 1 < argc;
        if (!strcmp(s, "--c") && has_value) dir = argv[++i];
        else if (!strcmp(s, "--name") && has_value) opts.name = argv[++i];
        else if (!strcmp(s, "--weights") && has_value) weights = argv[++i];
        else if (!strcmp(s, "--bin-threshold") && has_value) opts.bin_threshold = atoll(argv[++i]);
        else if (!strcmp(s, "--int8")) opts.int8 = true;
        else if (!strcmp(s, "--calibrate") && has_value) calib = argv[++i];
        else if (s[0] != '-' && !model) model = s;
        else return cli_usage("export", stderr);
    }
    if (!model || !dir || (opts.int8 && !calib)) return cli_usage("export", stderr);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "ckeras: %s: not a folder (--c takes an existing folder)\n", dir);
        return 1;
    }
    ck_model *m = ck_model_load(model);
    if (!m) return cli_fail(model);
    if (weights && cli_load_weights(m, weights)) {
        ck_model_free(m);
        return 1;
    }
    ck_array x = {0};
    if (calib) {
        if (ck_npy_read(calib, &x) || ck_array_to_float32(&x)) {
            ck_model_free(m);
            return cli_fail(NULL);
        }
        opts.calibration = x.data;
        opts.calibration_rows = x.shape.rank ? x.shape.dim[0] : 1;
        int64_t per = 1;
        const ck_shape *in = ck_model_input_shape(m, 0);
        for (int d = 1; d < in->rank; d++) per *= in->dim[d];
        if (per <= 0 || ck_array_size(&x) != opts.calibration_rows * per) {
            fprintf(stderr, "ckeras: %s: %lld values do not make rows of model input 0 (%lld floats each)\n", calib,
                    (long long)ck_array_size(&x), (long long)per);
            ck_array_free(&x);
            ck_model_free(m);
            return 1;
        }
    }
    ck_export_info info;
    int rc = 0;
    if (ck_model_export_c(m, dir, &opts, &info)) rc = cli_fail(model);
    else
        printf("%s/%s.c: %d layer calls (%d in int8), %lld bytes of weights%s, arena %lld bytes (%lld without reuse)\n",
               dir, info.name, info.layers, info.int8_layers, (long long)info.weight_bytes,
               info.weights_bin ? " (in a .bin)" : "", (long long)info.arena_bytes, (long long)info.naive_bytes);
    ck_array_free(&x);
    ck_model_free(m);
    return rc;
}
