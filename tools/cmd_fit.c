/* `ckeras fit`, `ckeras evaluate` and `ckeras demo-fashion`: model.compile + fit /
 * evaluate on .npy arrays, and a Fashion-MNIST MLP trained from the IDX files of
 * Debian's dataset-fashion-mnist with Keras's progress bar.
 *   ckeras fit MODEL --x X.npy --y Y.npy [--epochs N] [--batch-size B]
 *   ckeras fit MODEL --csv DATA.csv --label-column NAME [...]  (or --x DATA.csv)
 *   several inputs/outputs: --x, --y, --loss and --metrics repeated in model order,
 *   --loss-weights 1,0.5 (compile(loss=[...], loss_weights=[...], metrics=[[...], ...]))
 *   [--sample-weight SW.npy] [--weighted-metrics LIST] (fit(sample_weight=...),
 *   compile(weighted_metrics=[...]))
 *        [--optimizer SPEC] [--loss SPEC] [--metrics LIST] [--weights W]
 *        [--validation-split F] [--verbose 0|1|2] [--seed S] [--no-shuffle] [--save OUT]
 *   MODEL: any file ck_model_load reads (.keras, .h5, model.json, a JSON config);
 *   W: .npz (get_weights() order) or any weights file; OUT: .npz, .keras,
 *   .weights.h5, .h5 or .json, written atomically (tools/model_io.c).
 *   ckeras evaluate MODEL --x X.npy --y Y.npy --loss SPEC [--metrics LIST] [--weights W]
 *   Under an MPI launcher (mpirun -np N ckeras fit ...) fit and evaluate run
 *   data-parallel on N ranks (src/dist/): --batch-size is the global batch; rank 0
 *   prints and saves. [--bucket-mb MB] [--reduction ordered|mpi] [--dist-stats]
 *   ckeras demo-fashion [--dir DIR] [--epochs N]
 */
#include "cli.h"
#include "model_io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_IO 16

typedef struct fit_args {
    const char *model, *weights, *save, *optimizer;
    const char *x[MAX_IO], *y[MAX_IO], *loss[MAX_IO], *metrics[MAX_IO]; /* repeatable */
    int nx, ny, nloss, nmetrics;
    double loss_weights[MAX_IO];
    int n_loss_weights;
    const char *label_column; /* CSV: the column that holds y */
    const char *weighted[MAX_IO], *sample_weight; /* --weighted-metrics, repeatable */
    int nweighted;
    const char *callbacks[MAX_IO]; /* --callback, repeatable */
    int ncallbacks;
    ck_fit_opts o;
    double bucket_mb;         /* data-parallel: gradient bucket size (0: 25 MB)      */
    const char *reduction;    /* "ordered" (default) or "mpi"                        */
    bool dist_stats;          /* rank 0 prints the reduction's timings at the end    */
} fit_args;

/* "1,0.5" -> loss weights. */
static bool parse_weights(const char *v, fit_args *a)
{
    char *end;
    for (const char *s = v; *s;) {
        if (a->n_loss_weights == MAX_IO) return false;
        a->loss_weights[a->n_loss_weights++] = strtod(s, &end);
        if (end == s || (*end && *end != ',')) return false;
        s = *end ? end + 1 : end;
    }
    return a->n_loss_weights > 0;
}

/* Copies a repeatable option's values. */
static int list(const cli_args *c, const char *name, const char **out)
{
    int n = cli_count(c, name);
    for (int i = 0; i < n; i++) out[i] = cli_at(c, name, i);
    return n;
}

static int parse_fit_args(const cli_args *c, fit_args *a)
{
    memset(a, 0, sizeof *a);
    a->o = ck_fit_defaults();
    a->o.terminal = isatty(1);
    a->model = c->pos[0];
    a->nx = list(c, "x", a->x);
    if (cli_str(c, "csv")) a->x[a->nx++] = cli_str(c, "csv");
    a->ny = list(c, "y", a->y);
    a->nloss = list(c, "loss", a->loss);
    a->nmetrics = list(c, "metrics", a->metrics);
    a->nweighted = list(c, "weighted-metrics", a->weighted);
    a->ncallbacks = list(c, "callback", a->callbacks);
    a->label_column = cli_str(c, "label-column");
    a->sample_weight = cli_str(c, "sample-weight");
    a->weights = cli_str(c, "weights");
    a->save = cli_str(c, "save");
    a->optimizer = cli_str(c, "optimizer") ? cli_str(c, "optimizer") : "rmsprop"; /* Keras's compile() default */
    if (!a->nloss && (cli_str(c, "optimizer") || a->nmetrics || cli_str(c, "loss-weights") || a->nweighted))
        return cli_usage_error(c->cmd, "--optimizer, --metrics, --loss-weights and --weighted-metrics compile the "
                               "model anew: give --loss with them");
    a->o.epochs = (int)cli_int(c, "epochs", a->o.epochs);
    a->o.initial_epoch = (int)cli_int(c, "initial-epoch", 0);
    a->o.batch_size = cli_int(c, "batch-size", a->o.batch_size);
    a->o.validation_split = cli_number(c, "validation-split", 0);
    a->o.verbose = (int)cli_int(c, "verbose", a->o.verbose);
    a->o.seed = (uint64_t)cli_int(c, "seed", 0);
    a->o.shuffle = !cli_flag(c, "no-shuffle");
    a->bucket_mb = cli_number(c, "bucket-mb", 0);
    a->reduction = cli_str(c, "reduction");
    a->dist_stats = cli_flag(c, "dist-stats");
    if (cli_str(c, "loss-weights") && !parse_weights(cli_str(c, "loss-weights"), a))
        return cli_usage_error(c->cmd, "--loss-weights wants numbers like 1,0.5, got '%s'", cli_str(c, "loss-weights"));
    if (!a->nx) return cli_usage_error(c->cmd, "--x (or --csv) is required");
    if (a->save && !cli_save_format_known(a->save))
        return cli_usage_error(c->cmd, "--save %s: the ending sets the format: .keras, .h5, .weights.h5, .json or a "
                               "folder/ (TF.js), or .npz", a->save);
    if (cli_str(c, "csv") && cli_count(c, "x"))
        return cli_usage_error(c->cmd, "give either --x or --csv, not both");
    if (!a->ny && !a->label_column) return cli_usage_error(c->cmd, "--y (or --label-column with a CSV file) is required");
    if (a->o.initial_epoch > a->o.epochs && cli_str(c, "epochs"))
        return cli_usage_error(c->cmd, "--initial-epoch %d is past --epochs %d", a->o.initial_epoch, a->o.epochs);
    return 0;
}

/* The data of a fit/evaluate call: one array per model input and per output. */
typedef struct xy_data {
    ck_array x[MAX_IO], y[MAX_IO];
    int nx, ny;
} xy_data;

static void xy_free(xy_data *d)
{
    for (int i = 0; i < d->nx; i++) ck_array_free(&d->x[i]);
    for (int i = 0; i < d->ny; i++) ck_array_free(&d->y[i]);
}

/* Loads every --x and --y (or x and y from one CSV split at its label column) as
 * float32 arrays with the same number of rows. */
static int load_xy(const fit_args *a, xy_data *d)
{
    memset(d, 0, sizeof *d);
    const char *label = a->label_column;
    if (label && (a->nx != 1 || !cli_ends_with(a->x[0], ".csv"))) {
        fprintf(stderr, "ckeras: --label-column needs one CSV file (%s is not a .csv)\n", a->x[0]);
        return 1;
    }
    if (label && a->ny) {
        fprintf(stderr, "ckeras: give either --y or --label-column, not both\n");
        return 1;
    }
    if (label) {
        if (ck_csv_read(a->x[0], label, &d->x[0], &d->y[0])) return cli_fail(NULL);
        d->nx = d->ny = 1;
        return 0;
    }
    for (; d->nx < a->nx; d->nx++)
        if (cli_load_array(a->x[d->nx], &d->x[d->nx])) return 1;
    for (; d->ny < a->ny; d->ny++)
        if (cli_load_array(a->y[d->ny], &d->y[d->ny])) return 1;
    return 0;
}

static int check_counts(const ck_model *m, const fit_args *a, const xy_data *d)
{
    int ni = ck_model_input_count(m), no = ck_model_output_count(m);
    if (d->nx == ni && d->ny == no && (a->nloss <= 1 || a->nloss == no) && (a->nmetrics == 0 || a->nmetrics == no) &&
        (a->n_loss_weights == 0 || a->n_loss_weights == no))
        return 0;
    fprintf(stderr, "ckeras: %s: model '%s' has %d inputs and %d outputs; got %d --x, %d --y, %d --loss, %d --metrics, "
            "%d loss weights\n", a->model, ck_model_name(m), ni, no, d->nx, d->ny, a->nloss, a->nmetrics, a->n_loss_weights);
    return 1;
}

/* The library names the arrays as Keras does (x, y[1]); this says which file
 * each one is: "ckeras: fit (x = a.npy, y = b.npy): y: shape ...". */
static int data_fail(const char *what, const fit_args *a)
{
    char files[2048];
    int w = 0;
    if (a->label_column) w = snprintf(files, sizeof files, "x, y = %s", a->x[0]);
    for (int i = 0; !a->label_column && i < a->nx + a->ny && w >= 0 && w < (int)sizeof files; i++) {
        bool is_x = i < a->nx;
        int k = is_x ? i : i - a->nx, n = is_x ? a->nx : a->ny;
        char index[16] = "";
        if (n > 1) snprintf(index, sizeof index, "[%d]", k);
        w += snprintf(files + w, sizeof files - (size_t)w, "%s%s%s = %s", i ? ", " : "", is_x ? "x" : "y", index,
                      is_x ? a->x[k] : a->y[k]);
    }
    fprintf(stderr, "ckeras: %s (%s): %s\n", what, files, ck_errmsg());
    return 1;
}

static void print_logs(const char *title, const ck_history *h, int epoch)
{
    printf("%s", title);
    for (int k = 0; k < ck_history_key_count(h); k++)
        printf(" - %s: %.4f", ck_history_key(h, k), ck_history_value(h, ck_history_key(h, k), epoch));
    printf("\n");
}

/* --sample-weight: one weight per sample. */
static int load_sample_weight(const char *path, int64_t n, ck_array *sw)
{
    if (cli_load_array(path, sw)) return 1;
    if (ck_array_size(sw) != n) {
        fprintf(stderr, "ckeras: %s: %lld sample weights for %lld samples\n", path, (long long)ck_array_size(sw),
                (long long)n);
        ck_array_free(sw);
        return 1;
    }
    return 0;
}

/* --callback specs as ck_callback objects (Keras's spelling, parsed by the
 * library's keyword codec). */
static int make_callbacks(const fit_args *a, ck_callback **cbs)
{
    for (int i = 0; i < a->ncallbacks; i++)
        if (!(cbs[i] = ck_callback_new(a->callbacks[i]))) {
            fprintf(stderr, "ckeras: --callback %s: %s\n", a->callbacks[i], ck_errmsg());
            return 1;
        }
    return 0;
}

/* Under an MPI launcher: joins the job with the options' bucket size and
 * reduction, and trains m on it. 0, or the exit status. */
static int join_job(const fit_args *a, ck_model *m, ck_data_parallel **dp)
{
    *dp = NULL;
    if (!ck_distribute_launched()) return 0;
    if (ck_distribute_init(NULL, NULL, dp)) return cli_fail("fit");
    if (a->bucket_mb > 0) ck_distribute_set_bucket_bytes(*dp, (int64_t)(a->bucket_mb * 1048576.0));
    if (a->reduction && !strcmp(a->reduction, "mpi")) ck_distribute_set_reduction(*dp, CK_REDUCE_MPI);
    ck_model_set_distribution(m, *dp);
    return 0;
}

/* --dist-stats: where a data-parallel fit's time went, per step (rank 0). */
static void print_dist_stats(ck_data_parallel *dp, double seconds)
{
    ck_distribute_stats s;
    ck_distribute_get_stats(dp, &s);
    double steps = s.steps > 0 ? (double)s.steps : 1;
    printf("dist: ranks %d, steps %lld, step %.3f ms, wait for reductions %.3f ms, rank-order sums %.3f ms, "
           "%lld buckets of %.3f MB/step\n", ck_distribute_size(dp), (long long)s.steps, 1e3 * seconds / steps,
           1e3 * s.wait_s / steps, 1e3 * s.sum_s / steps, (long long)s.buckets, s.bytes / steps / 1048576.0);
}

static double seconds_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int run_fit(const cli_args *c, bool train)
{
    fit_args a;
    int usage = parse_fit_args(c, &a);
    if (usage) return usage;
    ck_callback *cbs[MAX_IO] = {0};
    if (make_callbacks(&a, cbs)) {
        for (int i = 0; i < a.ncallbacks; i++) ck_callback_free(cbs[i]);
        return 1;
    }
    a.o.callbacks = cbs;
    a.o.n_callbacks = a.ncallbacks;
    ck_model *m = ck_model_load(a.model);
    if (!m) return cli_fail(NULL); /* ck_errmsg() names the file */
    xy_data d = {0};
    ck_data_parallel *dp = NULL;
    int rc = 0;
    if ((rc = join_job(&a, m, &dp))) goto out_model;
    bool root = ck_distribute_rank(dp) == 0;
    if (!train && root) cli_note_initial_weights(m, a.model, a.weights); /* fit starts from them anyway */
    if (a.weights && (rc = cli_load_weights(m, a.weights))) goto out_model;
    if ((rc = load_xy(&a, &d)) || (rc = check_counts(m, &a, &d))) goto out;
    /* No --loss: the compile() a .keras file recorded (load_model compiles it),
     * its optimizer state included; the progress output says which compile trains. */
    const char *file_optimizer = ck_model_optimizer_class(m);
    if (a.o.verbose && a.nloss) printf("compile: from the options (%s)\n", a.optimizer);
    else if (a.o.verbose && file_optimizer)
        printf("compile: the file's compile config (%s, its optimizer state)\n", file_optimizer);
    if (a.nloss && ck_model_compile_outputs(m, a.optimizer, a.loss, a.nloss, a.n_loss_weights ? a.loss_weights : NULL,
                                            a.metrics, a.nmetrics)) {
        rc = cli_fail(a.model);
        goto out;
    }
    if (a.nweighted && ck_model_compile_weighted_metrics(m, a.weighted, a.nweighted)) {
        rc = cli_fail(a.model);
        goto out;
    }
    /* Keras's checks of the arrays against the model and the loss, before any epoch. */
    ck_status checked = ck_model_check_data(m, d.x, d.nx, d.y, d.ny);
    if (checked == CK_ERR_STATE && !a.nloss) {
        /* .keras compile_config and legacy .h5 training_config compile on load */
        rc = cli_usage_error(c->cmd, "--loss is required: %s records no compile() with a loss", a.model);
        goto out;
    }
    if (checked) {
        rc = data_fail(train ? "fit" : "evaluate", &a);
        goto out;
    }
    ck_array sw = {0};
    if (a.sample_weight && (rc = load_sample_weight(a.sample_weight, d.x[0].shape.dim[0], &sw))) goto out;
    a.o.sample_weight = sw.data;
    const float *x[MAX_IO], *y[MAX_IO];
    for (int i = 0; i < d.nx; i++) x[i] = d.x[i].data;
    for (int i = 0; i < d.ny; i++) y[i] = d.y[i].data;
    ck_history *h = NULL;
    int64_t n = d.x[0].shape.dim[0];
    /* the data's shapes: checked against the model's, and None dims
     * (variable-length sequences) take their values */
    ck_shape in_shapes[MAX_IO];
    for (int i = 0; i < d.nx; i++) in_shapes[i] = d.x[i].shape;
    double t0 = seconds_now();
    ck_status st = train ? ck_model_fit_shaped(m, in_shapes, x, y, n, &a.o, &h)
                         : ck_model_evaluate_shaped(m, in_shapes, x, y, n, a.o.batch_size, &h);
    if (st) {
        /* a callback's file (CSVLogger, ModelCheckpoint) names itself; other errors are the data's */
        rc = st == CK_ERR_IO ? cli_fail(train ? "fit" : "evaluate") : data_fail(train ? "fit" : "evaluate", &a);
        ck_array_free(&sw);
        goto out;
    }
    if (root && !train) print_logs("evaluate", h, 0);
    else if (root && a.o.verbose != 0 && ck_history_epochs(h) > 0) print_logs("final", h, ck_history_epochs(h) - 1);
    if (root && dp && a.dist_stats) print_dist_stats(dp, seconds_now() - t0);
    ck_history_free(h);
    if (train && a.save && root) rc = cli_save_model(m, a.save);
    ck_array_free(&sw);
out:
    xy_free(&d);
out_model:
    ck_model_free(m);
    for (int i = 0; i < a.ncallbacks; i++) ck_callback_free(cbs[i]);
    /* a rank that failed alone would leave the others waiting in a collective */
    if (dp && rc) ck_distribute_abort(dp, rc);
    ck_distribute_finalize(dp);
    return rc;
}

int cmd_fit(const cli_args *a) { return run_fit(a, true); }
int cmd_evaluate(const cli_args *a) { return run_fit(a, false); }

/* ---- demo-fashion ---------------------------------------------------------------- */

/* Images scaled to [0, 1] as float32 [n, 784]; labels as class indices. */
/* A missing dataset says where it comes from. */
static int fashion_fail(void)
{
    fprintf(stderr, "ckeras: %s (Fashion-MNIST: apt-get install dataset-fashion-mnist, or --dir DIR)\n", ck_errmsg());
    return 1;
}

int cli_load_fashion(const char *dir, const char *prefix, ck_array *x, float **labels, int64_t *n)
{
    char path[1024];
    ck_array img, lab;
    snprintf(path, sizeof path, "%s/%s-images-idx3-ubyte.gz", dir, prefix);
    if (ck_idx_read(path, &img)) return fashion_fail();
    snprintf(path, sizeof path, "%s/%s-labels-idx1-ubyte.gz", dir, prefix);
    if (ck_idx_read(path, &lab)) {
        ck_array_free(&img);
        return fashion_fail();
    }
    *n = img.shape.dim[0];
    if (lab.shape.dim[0] != *n || img.shape.rank != 3) {
        fprintf(stderr, "ckeras: %s: images and labels do not match\n", dir);
        ck_array_free(&img), ck_array_free(&lab);
        return 1;
    }
    ck_array_to_float32(&img);
    ck_array_to_float32(&lab);
    float *px = img.data;
    for (int64_t i = 0; i < ck_array_size(&img); i++) px[i] /= 255.f;
    *x = img;
    *labels = lab.data;
    return 0;
}

int cmd_demo_fashion(const cli_args *a)
{
    const char *dir = cli_str(a, "dir") ? cli_str(a, "dir") : "/usr/share/datasets/fashion-mnist";
    int epochs = (int)cli_int(a, "epochs", 10);
    ck_array xtr, xte;
    float *ytr, *yte;
    int64_t ntr, nte;
    if (cli_load_fashion(dir, "train", &xtr, &ytr, &ntr)) return 1;
    if (cli_load_fashion(dir, "t10k", &xte, &yte, &nte)) {
        ck_array_free(&xtr), free(ytr);
        return 1;
    }
    ck_model *m = ck_sequential("fashion_mlp");
    ck_sequential_add(m, ck_layer_new("Flatten", "input_shape=(28, 28)"));
    ck_sequential_add(m, ck_dense(256, "activation='relu'"));
    ck_sequential_add(m, ck_dense(128, "activation='relu'"));
    ck_sequential_add(m, ck_dense(10, "activation='softmax'"));
    int rc = 0;
    ck_model_set_seed(m, 1);
    char *text = NULL;
    if (ck_model_compile(m, "Adam(learning_rate=0.001)", "sparse_categorical_crossentropy", "accuracy") ||
        ck_model_summary(m, NULL, &text)) {
        rc = cli_fail("demo-fashion");
    } else {
        fputs(text, stdout);
        free(text);
        ck_fit_opts o = ck_fit_defaults();
        o.epochs = epochs, o.batch_size = 64, o.seed = 1, o.terminal = isatty(1);
        ck_history *h = NULL, *ev = NULL;
        if (ck_model_fit(m, xtr.data, ytr, ntr, &o, &h) || ck_model_evaluate(m, xte.data, yte, nte, 256, &ev))
            rc = cli_fail("demo-fashion");
        else {
            double acc = ck_history_value(ev, "accuracy", 0);
            printf("test accuracy: %.4f - test loss: %.4f\n", acc, ck_history_value(ev, "loss", 0));
            rc = acc >= 0.88 ? 0 : 3;
        }
        ck_history_free(h), ck_history_free(ev);
    }
    ck_model_free(m);
    ck_array_free(&xtr), ck_array_free(&xte), free(ytr), free(yte);
    return rc;
}
