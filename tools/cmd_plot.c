/* ckeras plot: keras.utils.plot_model from the shell, with its options and
 * defaults (to_file="model.png", show_layer_names=False, rankdir="TB", dpi=200). */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

int cmd_plot(const cli_args *a)
{
    const char *path = a->pos[0], *out = cli_str(a, "output");
    if (!out) out = "model.png";
    ck_plot_opts o = {
        .show_shapes = cli_flag(a, "show-shapes"),
        .show_dtype = cli_flag(a, "show-dtype"),
        .show_layer_names = cli_flag(a, "show-layer-names"),
        .rankdir = cli_str(a, "rankdir"),
        .expand_nested = cli_flag(a, "expand-nested"),
        .dpi = (int)cli_int(a, "dpi", 0),
        .show_layer_activations = cli_flag(a, "show-layer-activations"),
        .show_trainable = cli_flag(a, "show-trainable"),
        .splines = cli_str(a, "splines"),
    };
    ck_model *m = ck_model_load_config(path);
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
