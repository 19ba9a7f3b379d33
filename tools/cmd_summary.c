/* The commands on a model's graph: summary, weights, the classic example and
 * the list of layer classes. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define fail cli_fail

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

static int print_summary(ck_model *m, const ck_summary_opts *o)
{
    char *text;
    if (ck_model_summary(m, o, &text) != CK_OK) return fail("summary");
    fputs(text, stdout);
    free(text);
    return 0;
}

int cmd_summary(int argc, char **argv)
{
    if (argc < 1) return cli_usage("summary", stderr);
    const char *path = argv[0];
    ck_summary_opts o = {.console_width = cli_console_width()};
    double positions[8];
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_next = i + 1 < argc;
        if (!strcmp(a, "--style") && has_next) {
            const char *s = argv[++i];
            if (!strcmp(s, "keras3")) o.style = CK_SUMMARY_KERAS3;
            else if (!strcmp(s, "keras2")) o.style = CK_SUMMARY_KERAS2;
            else if (!strcmp(s, "json")) o.style = CK_SUMMARY_JSON;
            else return fprintf(stderr, "ckeras: unknown style '%s'\n", s), 2;
        } else if (!strcmp(a, "--line-length") && has_next) {
            o.line_length = atoi(argv[++i]);
            if (o.line_length <= 0) return fprintf(stderr, "ckeras: --line-length must be positive\n"), 2;
        } else if (!strcmp(a, "--positions") && has_next) {
            o.n_positions = parse_positions(argv[++i], positions, 8);
            if (o.n_positions <= 0) return fprintf(stderr, "ckeras: --positions wants numbers like 0.4,0.7,1.0\n"), 2;
            o.positions = positions;
        } else if (!strcmp(a, "--show-trainable")) {
            o.show_trainable = true;
        } else if (!strcmp(a, "--expand-nested")) {
            o.expand_nested = true;
        } else if (!strcmp(a, "--flops")) {
            o.show_flops = true;
        } else if (!strcmp(a, "--layer-range") && i + 2 < argc) {
            o.layer_range[0] = argv[++i];
            o.layer_range[1] = argv[++i];
        } else {
            fprintf(stderr, "ckeras: summary: unknown option '%s'\n", a);
            return 2;
        }
    }
    /* Architecture only: the weight data is never read. */
    ck_model *m = ck_model_load_config(path);
    if (!m) return fail(NULL);
    int rc = print_summary(m, &o);
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
        if (ck_model_weight(m, i, &w) != CK_OK) return fail("weights");
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

int cmd_weights(int argc, char **argv)
{
    if (argc < 1) return cli_usage("weights", stderr);
    const char *layer = NULL, *format = NULL, *output = NULL;
    bool values = false;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--layer") && i + 1 < argc) layer = argv[++i];
        else if (!strcmp(argv[i], "--values")) values = true;
        else if (!strcmp(argv[i], "--format") && i + 1 < argc) format = argv[++i];
        else if (!strcmp(argv[i], "--output") && i + 1 < argc) output = argv[++i];
        else return fprintf(stderr, "ckeras: weights: unknown option '%s'\n", argv[i]), 2;
    }
    if (format && strcmp(format, "text")) return cli_raw_weights(argv[0], layer, format, output);
    ck_model *m = ck_model_load(argv[0]);
    /* An architecture ckeras cannot build: list the stored arrays as they are. */
    if (!m) {
        char why[1024];
        snprintf(why, sizeof why, "%s", ck_errmsg());
        ck_model *arch = ck_model_load_config(argv[0]);
        /* The architecture is fine, so the weights themselves are broken. */
        if (arch) {
            ck_model_free(arch);
            fprintf(stderr, "ckeras: %s\n", why);
            return 1;
        }
        fprintf(stderr, "ckeras: note: %s\nckeras: listing the stored weights as they are\n", why);
        return cli_raw_weights(argv[0], layer, "text", NULL);
    }
    if (layer && !ck_model_get_layer(m, layer)) {
        fprintf(stderr, "ckeras: %s: no layer named '%s'\n", argv[0], layer);
        ck_model_free(m);
        return 1;
    }
    int rc = print_weights(m, layer, values);
    ck_model_free(m);
    return rc;
}

/* The classic Keras lesson, built through the C API. */
static int cmd_example(void)
{
    ck_model *m = ck_sequential(NULL);
    if (!m) return fail("example");
    ck_status st = ck_sequential_add(m, ck_dense(3, "input_shape=(2,), activation='relu'"));
    if (!st) st = ck_sequential_add(m, ck_dense(2, "activation='softmax'"));
    if (!st) st = ck_model_build(m);
    int rc = st ? fail("example") : 0;
    if (!rc) {
        ck_summary_opts o = {.console_width = cli_console_width()};
        rc = print_summary(m, &o);
    }
    if (!rc) {
        printf("\nget_weights():\n");
        rc = print_weights(m, NULL, true);
    }
    ck_model_free(m);
    return rc;
}

static int cmd_layers(void)
{
    for (int i = 0; i < ck_layer_class_count(); i++) puts(ck_layer_class_at(i));
    return 0;
}

int cmd_example_args(int argc, char **argv) { (void)argc, (void)argv; return cmd_example(); }
int cmd_layers_args(int argc, char **argv) { (void)argc, (void)argv; return cmd_layers(); }

