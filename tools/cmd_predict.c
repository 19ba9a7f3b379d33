/* `ckeras predict MODEL --input x.npy [--input x1.npy ...] --output y.npy [...]
 * [--weights W] [--batch-size N] [--check expected.npy]`: model.predict on
 * arrays (.npy, .npz, .csv, .json, - for stdin and stdout). MODEL is any file ck_model_load reads;
 * W an .npz of arrays in get_weights() order, as np.savez(*model.get_weights())
 * writes them, or any weights file (.weights.h5, .h5, .keras); --check compares the (first)
 * output with a reference array and fails beyond float32 tolerance. Inputs
 * with None dims (variable-length sequences) run on the arrays' shapes. */
#include "cli.h"
#include "model_io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_IO 16

typedef struct predict_args {
    const char *model, *weights, *check;
    const char *inputs[MAX_IO], *outputs[MAX_IO];
    int n_in, n_out;
    int64_t batch;
} predict_args;

static int parse_args(const cli_args *c, predict_args *a)
{
    memset(a, 0, sizeof *a);
    a->model = c->pos[0];
    a->weights = cli_str(c, "weights");
    a->check = cli_str(c, "check");
    a->batch = cli_int(c, "batch-size", 0);
    for (; a->n_in < cli_count(c, "input"); a->n_in++) a->inputs[a->n_in] = cli_at(c, "input", a->n_in);
    for (; a->n_out < cli_count(c, "output"); a->n_out++) {
        a->outputs[a->n_out] = cli_at(c, "output", a->n_out);
        if (!cli_array_format_known(a->outputs[a->n_out]))
            return cli_usage_error(c->cmd, "--output %s: the extension sets the format: .npy, .npz, .csv or .json",
                                   a->outputs[a->n_out]);
    }
    return 0;
}

/* Reads input i and checks it against the model's input shape; rows via *rows. */
static int load_input(ck_model *m, int i, const char *path, ck_array *a, int64_t *rows)
{
    if (cli_load_array(path, a)) return 1;
    const ck_shape *want = ck_model_input_shape(m, i);
    bool ok = a->shape.rank == want->rank && a->shape.rank >= 1;
    for (int d = 1; ok && d < want->rank; d++) ok = want->dim[d] == CK_NONE || want->dim[d] == a->shape.dim[d];
    if (!ok || (i > 0 && a->shape.dim[0] != *rows)) {
        char w[96], g[96];
        ck_shape_format(want, w, sizeof w);
        ck_shape_format(&a->shape, g, sizeof g);
        fprintf(stderr, "ckeras: %s: shape %s does not fit model input %d %s%s\n", path, g, i, w,
                ok ? " (row counts differ between inputs)" : "");
        return 1;
    }
    /* Keras's predict fails on an empty array too (it has no batch to stack) */
    if (a->shape.dim[0] == 0) return fprintf(stderr, "ckeras: %s: no samples (its first axis is 0)\n", path), 1;
    *rows = a->shape.dim[0];
    return 0;
}

static int check_output(const ck_array *y, const char *path)
{
    ck_array e;
    if (ck_npy_read(path, &e) || ck_array_to_float32(&e)) return cli_fail(NULL);
    int rc = 0;
    if (ck_array_size(&e) != ck_array_size(y)) {
        fprintf(stderr, "ckeras: %s: %lld values, the prediction has %lld\n", path, (long long)ck_array_size(&e),
                (long long)ck_array_size(y));
        rc = 1;
    } else {
        double worst = 0.0;
        for (int64_t k = 0; k < ck_array_size(y); k++) {
            double a = ((float *)y->data)[k], b = ((float *)e.data)[k];
            double err = fabs(a - b) / (fabs(b) > 1.0 ? fabs(b) : 1.0);
            worst = err > worst || isnan(err) ? err : worst;
        }
        printf("max relative error vs %s: %.3g\n", path, worst);
        if (!(worst <= 1e-5)) {
            fprintf(stderr, "ckeras: prediction differs from %s by %.3g (tolerance 1e-5)\n", path, worst);
            rc = 1;
        }
    }
    ck_array_free(&e);
    return rc;
}

static int run_predict(ck_model *m, const predict_args *a)
{
    bool text = a->n_out == 0; /* no --output: CSV text on stdout, for one output */
    if (text && ck_model_output_count(m) > 1) {
        fprintf(stderr, "ckeras predict: model '%s' has %d outputs: give --output once for each "
                "(see 'ckeras predict --help')\n", ck_model_name(m), ck_model_output_count(m));
        return 2;
    }
    if (ck_model_output_count(m) > MAX_IO || ck_model_input_count(m) > MAX_IO) {
        fprintf(stderr, "ckeras: model '%s': more than %d inputs or outputs\n", ck_model_name(m), MAX_IO);
        return 1;
    }
    if (a->n_in != ck_model_input_count(m) || (!text && a->n_out != ck_model_output_count(m))) {
        fprintf(stderr, "ckeras: %s: model '%s' has %d inputs and %d outputs; got %d --input and %d --output\n",
                a->model, ck_model_name(m), ck_model_input_count(m), ck_model_output_count(m), a->n_in, a->n_out);
        return 1;
    }
    ck_array xs[MAX_IO] = {{0}}, ys[MAX_IO] = {{0}};
    int64_t rows = 0;
    int rc = 0;
    for (int i = 0; !rc && i < a->n_in; i++) rc = load_input(m, i, a->inputs[i], &xs[i], &rows);
    /* the outputs' shapes for the data's shapes: None dims (variable-length
     * sequences) take the data's values */
    ck_shape in_shapes[MAX_IO], out_shapes[MAX_IO];
    for (int i = 0; i < a->n_in; i++) in_shapes[i] = xs[i].shape;
    if (!rc && ck_model_output_shapes_for(m, in_shapes, out_shapes)) rc = cli_fail("predict");
    int n_out = ck_model_output_count(m);
    for (int i = 0; !rc && i < n_out; i++) {
        ys[i].dtype = CK_FLOAT32;
        ys[i].shape = out_shapes[i];
        ys[i].data = calloc((size_t)(ck_array_size(&ys[i]) ? ck_array_size(&ys[i]) : 1), sizeof(float));
        if (!ys[i].data) rc = 1, fputs("ckeras: out of memory\n", stderr);
    }
    const float *in[MAX_IO];
    float *out[MAX_IO];
    for (int i = 0; i < MAX_IO; i++) in[i] = xs[i].data, out[i] = ys[i].data;
    if (!rc && ck_model_predict_shaped(m, in_shapes, in, out, a->batch)) rc = cli_fail("predict");
    for (int i = 0; !rc && text && i < n_out; i++) cli_print_csv(stdout, &ys[i]);
    for (int i = 0; !rc && i < a->n_out; i++) {
        if (cli_write_array(a->outputs[i], &ys[i])) rc = 1;
        else if (strcmp(a->outputs[i], "-")) {
            char s[96];
            ck_shape_format(&ys[i].shape, s, sizeof s);
            printf("wrote %s: float32 %s\n", a->outputs[i], s);
        }
    }
    if (!rc && a->check) rc = check_output(&ys[0], a->check);
    for (int i = 0; i < MAX_IO; i++) {
        free(xs[i].data);
        free(ys[i].data);
    }
    return rc;
}

int cmd_predict(const cli_args *c)
{
    predict_args a;
    int usage = parse_args(c, &a);
    if (usage) return usage;
    ck_model *m = ck_model_load(a.model);
    if (!m) return cli_fail(NULL);
    int rc = ck_model_built(m) ? 0 : (fprintf(stderr, "ckeras: %s: model is not built (no input shape)\n", a.model), 1);
    if (!rc) cli_note_initial_weights(m, a.model, a.weights);
    if (!rc && a.weights) rc = cli_load_weights(m, a.weights);
    if (!rc) rc = run_predict(m, &a);
    ck_model_free(m);
    return rc;
}
