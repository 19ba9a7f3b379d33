/* ckeras plot: keras.utils.plot_model from the shell, with its options and
 * defaults (to_file="model.png", show_layer_names=False, rankdir="TB", dpi=200). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

int cmd_plot(int argc, char **argv)
{
    if (argc < 1) return cli_usage("plot", stderr);
    const char *out = "model.png";
    ck_plot_opts o = {0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_next = i + 1 < argc;
        if ((!strcmp(a, "-o") || !strcmp(a, "--output") || !strcmp(a, "--to-file")) && has_next) out = argv[++i];
        else if (!strcmp(a, "--show-shapes")) o.show_shapes = true;
        else if (!strcmp(a, "--show-dtype")) o.show_dtype = true;
        else if (!strcmp(a, "--show-layer-names")) o.show_layer_names = true;
        else if (!strcmp(a, "--expand-nested")) o.expand_nested = true;
        else if (!strcmp(a, "--show-layer-activations")) o.show_layer_activations = true;
        else if (!strcmp(a, "--show-trainable")) o.show_trainable = true;
        else if (!strcmp(a, "--rankdir") && has_next) o.rankdir = argv[++i];
        else if (!strcmp(a, "--splines") && has_next) o.splines = argv[++i];
        else if (!strcmp(a, "--dpi") && has_next) {
            o.dpi = atoi(argv[++i]);
            if (o.dpi <= 0) return fprintf(stderr, "ckeras: --dpi must be a positive number\n"), 2;
        } else {
            fprintf(stderr, "ckeras: plot: unknown option '%s'\n", a);
            return 2;
        }
    }
    ck_model *m = ck_model_load_config(argv[0]);
    if (!m) return cli_fail(NULL);
    int rc = 0;
    if (!strcmp(out, "-")) {
        /* model_to_dot(...).to_string() on stdout */
        char *dot;
        if (ck_model_to_dot(m, &o, &dot)) rc = cli_fail(NULL);
        else fputs(dot, stdout), free(dot);
    } else if (ck_model_plot(m, out, &o)) {
        rc = cli_fail(NULL);
    } else {
        printf("wrote %s\n", out);
    }
    ck_model_free(m);
    return rc;
}
