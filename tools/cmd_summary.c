/* `ckeras summary`, `weights`, `example` and `layers`: model.summary() of a file,
 * model.get_weights() listed or written as np.savez does, the classic model
 * built through the C API, and the class table. */
#include "cli.h"
#include "model_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse_positions(const char *s, double *out, int cap)
{
    int n = 0;
    char *end;
    while (*s && n < cap) {
        out[n++] = strtod(s, &end);
        if (end == s) return -1;
        s = *end == ',' ? end + 1 : end;
        if (*end && *end != ',') return -1;
    }
    return n;
}

static int print_summary(ck_model *m, const ck_summary_opts *o, const char *file)
{
    char *text;
    if (ck_model_summary(m, o, &text) != CK_OK) return cli_fail(file);
    fputs(text, stdout);
    free(text);
    return 0;
}

int cmd_summary(const cli_args *a)
{
    ck_summary_opts o = {.console_width = cli_console_width()};
    const char *style = cli_str(a, "style");
    if (style) o.style = !strcmp(style, "keras2") ? CK_SUMMARY_KERAS2 : !strcmp(style, "json") ? CK_SUMMARY_JSON
                                                                                              : CK_SUMMARY_KERAS3;
    o.line_length = (int)cli_int(a, "line-length", 0);
    double positions[8];
    if (cli_str(a, "positions")) {
        o.n_positions = parse_positions(cli_str(a, "positions"), positions, 8);
        if (o.n_positions <= 0)
            return cli_usage_error(a->cmd, "--positions wants fractions like 0.4,0.7,1.0, got '%s'", cli_str(a, "positions"));
        o.positions = positions;
    }
    o.show_trainable = cli_flag(a, "show-trainable");
    o.expand_nested = cli_flag(a, "expand-nested");
    o.show_flops = cli_flag(a, "flops");
    if (cli_count(a, "layer-range")) {
        o.layer_range[0] = cli_at(a, "layer-range", 0);
        o.layer_range[1] = cli_at(a, "layer-range", 1);
    }
    /* Architecture only: the weight data is never read. */
    ck_model *m = ck_model_load_config(a->pos[0]);
    if (!m) return cli_fail(NULL);
    int rc = print_summary(m, &o, a->pos[0]);
    ck_model_free(m);
    return rc;
}

static void print_shape_tuple(const ck_shape *s)
{
    char buf[160];
    /* get_weights() shapes as Python prints them: (2, 3), (3,) */
    size_t len = (size_t)snprintf(buf, sizeof buf, "(");
    for (int i = 0; i < s->rank; i++) len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%lld", i ? ", " : "", (long long)s->dim[i]);
    snprintf(buf + len, sizeof buf - len, s->rank == 1 ? ",)" : ")");
    fputs(buf, stdout);
}

static int print_weights(ck_model *m, const char *layer, bool values)
{
    int n = ck_model_weight_count(m);
    int64_t total = 0;
    for (int i = 0; i < n; i++) {
        ck_weight_info w;
        if (ck_model_weight(m, i, &w) != CK_OK) return cli_fail("weights");
        if (layer && strcmp(layer, w.layer)) continue;
        printf("%-40s ", w.path);
        print_shape_tuple(&w.shape);
        printf(" %lld%s\n", (long long)w.size, w.trainable ? "" : " (non-trainable)");
        total += w.size;
        if (!values) continue;
        int64_t cols = w.shape.rank >= 2 ? w.shape.dim[w.shape.rank - 1] : w.size;
        for (int64_t r = 0; r < w.size / (cols ? cols : 1); r++) {
            printf("  [");
            for (int64_t c = 0; c < cols; c++) printf("%s% .8f", c ? ", " : "", (double)w.data[r * cols + c]);
            printf("]\n");
        }
    }
    printf("total: %lld\n", (long long)total);
    return 0;
}

int cmd_weights(const cli_args *a)
{
    const char *file = a->pos[0], *layer = cli_str(a, "layer"), *output = cli_str(a, "output");
    const char *format = cli_str(a, "format");
    if (!format) format = output ? "npz" : "text";
    if (!strcmp(format, "npz") && !output) return cli_usage_error(a->cmd, "--format npz needs --output FILE.npz");
    if (!strcmp(format, "text") && output) return cli_usage_error(a->cmd, "--output writes .npz; --format text prints");
    ck_model *m = ck_model_load(file);
    /* An architecture ckeras cannot build: the stored arrays as they are. */
    if (!m) {
        char why[1024];
        snprintf(why, sizeof why, "%s", ck_errmsg());
        /* A file that cannot be read, is damaged, is no model file or is a bare
         * JSON config has no stored arrays to fall back to: one line. */
        ck_status why_status = ck_errstatus();
        if (why_status != CK_ERR_UNSUPPORTED && why_status != CK_ERR_CONFIG)
            return fprintf(stderr, "ckeras: %s\n", why), 1;
        const char *fmt = ck_file_format(file);
        /* A weights-only file has no architecture to order them by: as stored. */
        if (fmt && !strncmp(fmt, "hdf5-weights", 12)) {
            fprintf(stderr, "ckeras: note: %s holds weights only (no architecture): %s the stored arrays in the file's order\n",
                    file, output ? "writing" : "listing");
            return cli_raw_weights(file, layer, format, output);
        }
        if (!fmt || !strcmp(fmt, "keras-json")) return fprintf(stderr, "ckeras: %s\n", why), 1;
        ck_model *arch = ck_model_load_config(file);
        /* The architecture is fine, so the weights themselves are broken. */
        if (arch) {
            ck_model_free(arch);
            fprintf(stderr, "ckeras: %s\n", why);
            return 1;
        }
        fprintf(stderr, "ckeras: note: %s\nckeras: %s the stored weights as they are, in the file's order\n", why,
                output ? "writing" : "listing");
        return cli_raw_weights(file, layer, format, output);
    }
    int rc = 0;
    if (layer && !ck_model_get_layer(m, layer)) {
        fprintf(stderr, "ckeras: %s: no layer named '%s'\n", file, layer);
        rc = 1;
    } else if (output) {
        int n_arrays = 0;
        rc = cli_save_weights_npz(m, layer, output, &n_arrays);
        /* as convert and predict say what they wrote (not on stdout: the bytes go there) */
        if (!rc && strcmp(output, "-")) printf("wrote %s (%d arrays)\n", output, n_arrays);
    } else {
        rc = print_weights(m, layer, cli_flag(a, "values"));
    }
    ck_model_free(m);
    return rc;
}

/* The classic Keras lesson, built through the C API. */
int cmd_example(const cli_args *a)
{
    (void)a;
    ck_model *m = ck_sequential(NULL);
    if (!m) return cli_fail("example");
    ck_status st = ck_sequential_add(m, ck_dense(3, "input_shape=(2,), activation='relu'"));
    if (!st) st = ck_sequential_add(m, ck_dense(2, "activation='softmax'"));
    if (!st) st = ck_model_build(m);
    int rc = st ? cli_fail("example") : 0;
    if (!rc) {
        ck_summary_opts o = {.console_width = cli_console_width()};
        rc = print_summary(m, &o, "example");
    }
    if (!rc) {
        printf("\nget_weights():\n");
        rc = print_weights(m, NULL, true);
    }
    ck_model_free(m);
    return rc;
}

int cmd_layers(const cli_args *a)
{
    (void)a;
    for (int i = 0; i < ck_layer_class_count(); i++) puts(ck_layer_class_at(i));
    return 0;
}
