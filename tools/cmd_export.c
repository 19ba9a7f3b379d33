/* `ckeras export MODEL --c DIR [--name NAME] [--weights W] [--bin-threshold BYTES]`:
 * the model as NAME.h and NAME.c in DIR, C99 code needing only libm
 * (ck_model_export_c). Prints what it wrote: the arena and constant sizes. */
#include "cli.h"
#include "model_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int cmd_export(int argc, char **argv)
{
    const char *model = NULL, *dir = NULL, *weights = NULL;
    ck_export_opts opts = {0};
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        bool has_value = i + 1 < argc;
        if (!strcmp(s, "--c") && has_value) dir = argv[++i];
        else if (!strcmp(s, "--name") && has_value) opts.name = argv[++i];
        else if (!strcmp(s, "--weights") && has_value) weights = argv[++i];
        else if (!strcmp(s, "--bin-threshold") && has_value) opts.bin_threshold = atoll(argv[++i]);
        else if (s[0] != '-' && !model) model = s;
        else return cli_usage("export", stderr);
    }
    if (!model || !dir) return cli_usage("export", stderr);
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
    ck_export_info info;
    int rc = 0;
    if (ck_model_export_c(m, dir, &opts, &info)) rc = cli_fail(model);
    else
        printf("%s/%s.c: %d layer calls, %lld bytes of weights%s, arena %lld bytes (%lld without reuse)\n", dir,
               info.name, info.layers, (long long)info.weight_bytes, info.weights_bin ? " (in a .bin)" : "",
               (long long)info.arena_bytes, (long long)info.naive_bytes);
    ck_model_free(m);
    return rc;
}
