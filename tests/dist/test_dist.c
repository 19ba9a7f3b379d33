/* Data-parallel fit over MPI equals one process. Run under mpirun at 1 to 4 ranks
 * (CMakeLists.txt: dist_np1..dist_np4). For every Keras training case of
 * tests/golden/{train,seq_train,conv_train} (MLPs with every optimizer and loss,
 * LSTM/GRU/SimpleRNN/Bidirectional/attention, CNNs), each rank trains once on
 * its own as the reference and once across the ranks:
 *  - with the case's settings (the golden's batch size, no shuffle): the
 *    history equals one process's within 1e-5 (and Keras's within 1e-4) and
 *    the final weights within 1e-5;
 *  - shuffled from one seed, on a sample count that leaves a last batch of one
 *    row (so every rank but rank 0 has an empty slice), with a 1-row bucket size
 *    (every weight its own reduction, started from backward): the same bounds,
 *    and a rerun gives the same bits; summed by MPI_Iallreduce instead of in
 *    rank order, the same bounds;
 *  - evaluate() shards its batches and gives one process's logs within 1e-5;
 *  - predict() shards its rows and every rank gets one process's outputs.
 * Cases with BatchNormalization run with its default per-replica moments (the
 * ranks' weights must stay equal) and then with synchronized=True, where the
 * bounds above hold.
 * Then a rank given different data or a different model must make every rank
 * fail naming it.
 *
 *   test_dist                 the checks above
 *   test_dist kill DIR        trains (Adam) with a ModelCheckpoint and a
 *                             BackupAndRestore in DIR; rank 1 kills itself with
 *                             SIGKILL after the 3rd epoch
 *   test_dist resume DIR      the checkpoint DIR left equals the weights of some
 *                             epoch of an uninterrupted run, and the same fit
 *                             with BackupAndRestore resumes and ends with that
 *                             run's final weights, bit for bit
 */
#include "testutil.h"

#include <jansson.h>
#include <signal.h>
#include <unistd.h>

#define TOL 1e-5

static ck_data_parallel *dp;
static int rank, size;
static bool sync_bn; /* load_model sets BatchNormalization(synchronized=True) */

static ck_model *load_model(const char *root, const char *dir)
{
    char path[600];
    test_path(path, sizeof path, "tests/golden/%s/%s/config.json", root, dir);
    size_t len;
    char *text = test_read_file(path, &len);
    for (char *at = text; sync_bn && at && (at = strstr(at, "\"synchronized\": false"));)
        memcpy(at, "\"synchronized\": true ", 21);
    ck_model *m = text ? ck_model_from_json(text, path) : NULL;
    free(text);
    CHECK(m != NULL, "%s: %s", dir, ck_errmsg());
    test_set_golden_weights(m, root, dir);
    return m;
}

/* Attention's key bias shifts every score of a query by the same amount, which
 * softmax ignores: its true gradient is zero and what backward gives is float
 * rounding, which Adam's step (m / sqrt(v)) turns into moves of the full rate.
 * Any other order of additions (another thread count too) moves it elsewhere,
 * so it is left out of the weight comparison; it cannot change a prediction. */
static bool no_gradient(const char *path)
{
    size_t n = strlen(path);
    return n >= 9 && !strcmp(path + n - 9, "/key/bias");
}

/* Adam divides by sqrt(v) + 1e-7: a weight whose gradient is a near-cancelling
 * sum (~1e-6 here) moves by the full rate on rounding-sized changes of it. In
 * cnn_3x3_adam (BatchNormalization, Adam at 0.01) one kernel value ends 4e-5
 * from one process's; with SGD, RMSprop, Adam at 0.001 or Adam with epsilon
 * 1e-5 on the same case every value is within 1e-5. Its predictions are held
 * to 1e-5 like every case's. */
static double weight_tolerance(const char *dir) { return !strcmp(dir, "cnn_3x3_adam") ? 1e-4 : TOL; }

/* Every weight, concatenated in get_weights() order; skip (optional) marks
 * the values of weights no_gradient names. */
static float *flat_weights_marked(const ck_model *m, int64_t *n, bool **skip)
{
    *n = 0;
    for (int i = 0; i < ck_model_weight_count(m); i++) {
        ck_weight_info w;
        if (ck_model_weight(m, i, &w) == CK_OK)
            *n += w.size;
    }
    float *all = malloc((size_t)(*n ? *n : 1) * sizeof *all);
    if (skip)
        *skip = calloc((size_t)(*n ? *n : 1), sizeof **skip);
    int64_t at = 0;
    for (int i = 0; all && i < ck_model_weight_count(m); i++) {
        ck_weight_info w;
        if (ck_model_weight(m, i, &w) != CK_OK)
            continue;
        memcpy(all + at, w.data, (size_t)w.size * sizeof *all);
        for (int64_t j = 0; skip && *skip && j < w.size; j++)
            (*skip)[at + j] = no_gradient(w.path);
        at += w.size;
    }
    return all;
}

static float *flat_weights(const ck_model *m, int64_t *n) { return flat_weights_marked(m, n, NULL); }

typedef struct run {
    ck_history *h, *ev;
    float *w;          /* final weights */
    bool *skip;        /* [n_w] left out of comparisons (no_gradient)  */
    int64_t n_w;
    float *pred;       /* [n_pred] predict() of the first rows of x     */
    int64_t n_pred;
    ck_status st;
    char err[512];
} run;

static void run_free(run *r)
{
    ck_history_free(r->h), ck_history_free(r->ev), free(r->w), free(r->skip), free(r->pred);
}

/* One compile + fit + evaluate of a case, on one process or across the ranks. */
static run train(const char *root, const char *dir, json_t *c, bool distributed, int64_t n, const float *x,
                 const float *y, const ck_fit_opts *o)
{
    run r = {0};
    char metrics[256];
    ck_model *m = load_model(root, dir);
    if (!m) {
        r.st = CK_ERR_IO;
        return r;
    }
    CHECK_OK(ck_model_compile(m, json_string_value(json_object_get(c, "optimizer")),
                              json_string_value(json_object_get(c, "loss")),
                              test_join_strings(json_object_get(c, "metrics"), metrics, sizeof metrics)));
    if (distributed)
        CHECK_OK(ck_model_set_distribution(m, dp));
    r.st = ck_model_fit(m, x, y, n, o, &r.h);
    if (r.st == CK_OK)
        r.st = ck_model_evaluate(m, x, y, n, 7, &r.ev);
    if (r.st != CK_OK)
        snprintf(r.err, sizeof r.err, "%s", ck_errmsg());
    r.w = flat_weights_marked(m, &r.n_w, &r.skip);
    const ck_shape *out = ck_model_output_shape(m, 0);
    int64_t rows = n < 16 ? n : 16;
    r.n_pred = rows;
    for (int d = 1; d < out->rank; d++)
        r.n_pred *= out->dim[d];
    r.pred = calloc((size_t)r.n_pred, sizeof *r.pred);
    CHECK_OK(ck_model_predict(m, &x, rows, &r.pred, 0));
    ck_model_free(m);
    return r;
}

static void same_logs(const char *dir, const char *what, const ck_history *got, const ck_history *want)
{
    CHECK(ck_history_key_count(got) == ck_history_key_count(want) && ck_history_epochs(got) == ck_history_epochs(want),
          "%s: %s: %d keys x %d epochs, one process %d x %d", dir, what, ck_history_key_count(got),
          ck_history_epochs(got), ck_history_key_count(want), ck_history_epochs(want));
    for (int k = 0; k < ck_history_key_count(want); k++)
        for (int e = 0; e < ck_history_epochs(want); e++) {
            const char *key = ck_history_key(want, k);
            double a = ck_history_value(got, key, e), b = ck_history_value(want, key, e);
            CHECK(fabs(a - b) <= TOL * fmax(1, fabs(b)), "%s: %s: %s at epoch %d: %.9g, one process %.9g", dir, what,
                  key, e + 1, a, b);
        }
}

static void same_run(const char *dir, const char *what, const run *got, const run *want)
{
    CHECK(got->st == CK_OK, "%s: %s: %s", dir, what, got->err);
    if (got->st != CK_OK || want->st != CK_OK)
        return;
    same_logs(dir, what, got->h, want->h);
    same_logs(dir, "evaluate", got->ev, want->ev);
    double worst = 0;
    int64_t at = 0;
    for (int64_t i = 0; got->n_w == want->n_w && i < want->n_w; i++) {
        if (want->skip && want->skip[i])
            continue;
        double e = fabs(got->w[i] - want->w[i]) / fmax(1, fabs(want->w[i]));
        if (e > worst)
            worst = e, at = i;
    }
    CHECK(got->n_w == want->n_w && worst <= weight_tolerance(dir), "%s: %s: final weights differ by %.3g at value %lld",
          dir, what, worst, (long long)at);
    worst = 0;
    for (int64_t i = 0; got->n_pred == want->n_pred && i < want->n_pred; i++)
        worst = fmax(worst, fabs(got->pred[i] - want->pred[i]) / fmax(1, fabs(want->pred[i])));
    CHECK(got->n_pred == want->n_pred && worst <= TOL, "%s: %s: predictions differ by %.3g", dir, what, worst);
}

static void keras_history(const char *dir, json_t *c, const ck_history *h)
{
    const char *key;
    json_t *vals;
    json_object_foreach(json_object_get(c, "history"), key, vals) {
        size_t e;
        json_t *v;
        json_array_foreach(vals, e, v) {
            double got = ck_history_value(h, key, (int)e), want = json_number_value(v);
            CHECK(fabs(got - want) <= 1e-4 * fmax(fabs(want), 1e-3), "%s: %s at epoch %zu: %.8g, Keras %.8g", dir,
                  key, e + 1, got, want);
        }
    }
}

static void run_case(const char *root, const char *dir)
{
    char path[600];
    test_path(path, sizeof path, "tests/golden/%s/%s/case.json", root, dir);
    json_error_t jerr;
    json_t *c = json_load_file(path, 0, &jerr);
    int64_t n = 0, ny = 0, nsw = 0;
    float *x = test_golden_array(root, dir, "x.npy", &n), *y = test_golden_array(root, dir, "y.npy", &ny);
    float *sw = json_is_true(json_object_get(c, "sample_weight")) ? test_golden_array(root, dir, "sw.npy", &nsw) : NULL;
    CHECK(c && x && y, "%s: missing golden files", dir);
    if (!c || !x || !y)
        goto done;
    ck_fit_opts o = ck_fit_defaults();
    /* conv_train's cases fit twice (history1, history2): here 2 epochs at once */
    o.epochs = json_object_get(c, "epochs") ? (int)json_integer_value(json_object_get(c, "epochs")) : 2;
    o.sample_weight = sw;
    float cw[16];
    o.class_weight = test_class_weight(c, cw, 16, &o.n_class_weight);
    o.batch_size = json_integer_value(json_object_get(c, "batch_size"));
    o.shuffle = false;
    o.verbose = 0;
    o.validation_split = json_number_value(json_object_get(c, "validation_split"));
    test_path(path, sizeof path, "tests/golden/%s/%s/config.json", root, dir);
    size_t len;
    char *text = test_read_file(path, &len);
    bool bn = text && strstr(text, "\"BatchNormalization\"");
    bool activity = text && strstr(text, "\"ActivityRegularization\"");
    free(text);
    run one = train(root, dir, c, false, n, x, y, &o), many;
    CHECK(one.st == CK_OK, "%s: one process: %s", dir, one.err);
    if (activity) { /* a per-replica batch mean: refused across ranks (fit_dist.c) */
        many = train(root, dir, c, true, n, x, y, &o);
        CHECK(many.st == CK_ERR_UNSUPPORTED && strstr(many.err, "activity regularizers"), "%s: data-parallel: %s", dir,
              many.st ? many.err : "trained");
        run_free(&one), run_free(&many);
        goto done;
    }
    if (bn) { /* per-replica moments: only one rank equals one process, but every epoch's
               * checksum (inside fit) shows that the ranks' weights stay equal */
        many = train(root, dir, c, true, n, x, y, &o);
        CHECK(many.st == CK_OK, "%s: per-replica BatchNormalization: %s", dir, many.err);
        if (size == 1)
            same_run(dir, "per-replica BatchNormalization", &many, &one);
        run_free(&many);
        sync_bn = true; /* from here on synchronized, as one process over the global batch */
    }
    many = train(root, dir, c, true, n, x, y, &o);
    same_run(dir, "as Keras ran it", &many, &one);
    if (many.st == CK_OK && json_object_get(c, "history"))
        keras_history(dir, c, many.h);
    run_free(&one), run_free(&many);
    /* shuffled, a last batch of one row */
    o.shuffle = true, o.seed = 11, o.batch_size = 9, o.validation_split = 0;
    int64_t n1 = (n - 1) / o.batch_size * o.batch_size + 1;
    one = train(root, dir, c, false, n1, x, y, &o);
    ck_distribute_set_bucket_bytes(dp, 4);
    many = train(root, dir, c, true, n1, x, y, &o);
    run again = train(root, dir, c, true, n1, x, y, &o);
    ck_distribute_set_reduction(dp, CK_REDUCE_MPI);
    run mpi = train(root, dir, c, true, n1, x, y, &o);
    ck_distribute_set_reduction(dp, CK_REDUCE_ORDERED);
    ck_distribute_set_bucket_bytes(dp, 25 << 20);
    same_run(dir, "shuffled, summed by MPI_Iallreduce", &mpi, &one);
    run_free(&mpi);
    same_run(dir, "shuffled, last batch of one row", &many, &one);
    CHECK(again.st == CK_OK && many.st == CK_OK && again.n_w == many.n_w &&
              !memcmp(again.w, many.w, (size_t)many.n_w * sizeof *many.w),
          "%s: a rerun across %d ranks gives other bits", dir, size);
    run_free(&one), run_free(&many), run_free(&again);
    sync_bn = false;
done:
    free(x), free(y), free(sw);
    json_decref(c);
}

/* A rank with other data, or another model, is named on every rank. */
static void mismatches(void)
{
    if (size < 2)
        return;
    json_t *c = json_pack("{s:s, s:s, s:[s]}", "optimizer", "adam", "loss", "categorical_crossentropy", "metrics",
                          "accuracy");
    int64_t n = 0, ny = 0;
    float *x = test_golden_array("train", "adam_cce", "x.npy", &n), *y = test_golden_array("train", "adam_cce", "y.npy", &ny);
    ck_fit_opts o = ck_fit_defaults();
    o.verbose = 0;
    if (x && rank == size - 1)
        x[3] += 1;
    run r = train("train", "adam_cce", c, true, n, x, y, &o);
    char want[128];
    snprintf(want, sizeof want, "rank %d's data checksum is", size - 1);
    CHECK(r.st == CK_ERR_SHAPE && strstr(r.err, want), "other data on rank %d: %s", size - 1, r.err);
    run_free(&r);
    if (x && rank == size - 1)
        x[3] -= 1;
    r = train("train", "adam_cce", c, true, rank == 1 ? n - 1 : n, x, y, &o);
    CHECK(r.st == CK_ERR_SHAPE && strstr(r.err, "rank 1's number of samples is"), "fewer samples: %s", r.err);
    run_free(&r);
    free(x), free(y);
    json_decref(c);
}

/* predict() shards the rows (contiguous shares, a rank may have none) and
 * every rank receives all outputs in order: one process's values. */
static void sharded_predict(const char *root, const char *dir)
{
    int64_t n = 0;
    float *x = test_golden_array(root, dir, "x.npy", &n);
    ck_model *m = load_model(root, dir);
    if (!x || !m) {
        CHECK(0, "%s: missing golden files", dir);
        free(x), ck_model_free(m);
        return;
    }
    int64_t width = 1;
    const ck_shape *out = ck_model_output_shape(m, 0);
    for (int d = 1; d < out->rank; d++)
        width *= out->dim[d];
    for (int64_t rows = 1; rows <= n; rows += n - 1) { /* one row (ranks without any) and all */
        float *one = calloc((size_t)(rows * width), sizeof *one), *many = calloc((size_t)(rows * width), sizeof *many);
        CHECK_OK(ck_model_set_distribution(m, NULL));
        CHECK_OK(ck_model_predict(m, (const float *const *)&x, rows, &one, 3));
        CHECK_OK(ck_model_set_distribution(m, dp));
        CHECK_OK(ck_model_predict(m, (const float *const *)&x, rows, &many, 3));
        CHECK(!memcmp(one, many, (size_t)(rows * width) * sizeof *one), "%s: predict of %lld rows across %d ranks "
              "differs from one process's", dir, (long long)rows, size);
        free(one), free(many);
    }
    free(x);
    ck_model_free(m);
}

/* ---- a lost rank and resuming ---------------------------------------------------- */

#define FAULT_EPOCHS 6

static bool kill_rank1(int epoch, const ck_history *logs, void *user)
{
    (void)logs, (void)user;
    if (rank == 1 && epoch == 2)
        raise(SIGKILL);
    return true;
}

typedef struct snapshots {
    float *w[FAULT_EPOCHS];
    int64_t n;
    ck_model *m;
} snapshots;

static bool keep_weights(int epoch, const ck_history *logs, void *user)
{
    (void)logs;
    snapshots *s = user;
    s->w[epoch] = flat_weights(s->m, &s->n);
    return true;
}

static ck_model *fault_model(void)
{
    ck_model *m = load_model("train", "sgd_cce");
    if (m) /* Adam: its moments must come back with the weights for the resumed run to be exact */
        CHECK_OK(ck_model_compile(m, "Adam(learning_rate=0.01)", "categorical_crossentropy", "accuracy"));
    if (m)
        CHECK_OK(ck_model_set_distribution(m, dp));
    return m;
}

static ck_fit_opts fault_opts(void)
{
    ck_fit_opts o = ck_fit_defaults();
    o.epochs = FAULT_EPOCHS, o.batch_size = 6, o.seed = 5, o.verbose = 0;
    return o;
}

static int fault(const char *mode, const char *dir)
{
    int64_t n = 0, ny = 0;
    float *x = test_golden_array("train", "sgd_cce", "x.npy", &n), *y = test_golden_array("train", "sgd_cce", "y.npy", &ny);
    char ckpt[600], spec[700], backup[700];
    snprintf(ckpt, sizeof ckpt, "%s/ckpt.npz", dir);
    snprintf(backup, sizeof backup, "BackupAndRestore(backup_dir='%s/backup')", dir);
    ck_model *m = fault_model();
    ck_fit_opts o = fault_opts();
    if (!strcmp(mode, "kill")) {
        snprintf(spec, sizeof spec, "ModelCheckpoint(filepath='%s')", ckpt);
        ck_callback *cbs[3] = {ck_callback_new(spec), ck_callback_new(backup), ck_callback_hook(kill_rank1, NULL)};
        o.callbacks = cbs, o.n_callbacks = 3;
        CHECK_OK(ck_model_fit(m, x, y, n, &o, NULL)); /* never returns on a rank when rank 1 dies */
        for (int i = 0; i < 3; i++)
            ck_callback_free(cbs[i]);
    } else {
        snapshots s = {.m = m};
        ck_callback *keep = ck_callback_hook(keep_weights, &s);
        o.callbacks = &keep, o.n_callbacks = 1;
        CHECK_OK(ck_model_fit(m, x, y, n, &o, NULL));
        ck_callback_free(keep);
        ck_npz z;
        int at = -1;
        CHECK_OK(ck_npz_read(ckpt, &z));
        int64_t got = 0;
        for (int i = 0; i < z.n; i++)
            got += ck_array_size(&z.arrays[i]);
        float *w = malloc((size_t)(got ? got : 1) * sizeof *w);
        for (int i = 0, off = 0; i < z.n; off += (int)ck_array_size(&z.arrays[i]), i++)
            memcpy(w + off, z.arrays[i].data, (size_t)ck_array_size(&z.arrays[i]) * sizeof *w);
        for (int e = 0; got == s.n && e < FAULT_EPOCHS; e++)
            if (s.w[e] && !memcmp(w, s.w[e], (size_t)s.n * sizeof *w))
                at = e;
        CHECK(at >= 1 && at <= 3, "the checkpoint is no epoch's weights of the uninterrupted run (epoch %d)", at + 1);
        /* the same fit again with BackupAndRestore: it resumes where the lost
         * job's backup left it, weights and optimizer state */
        ck_model *r = fault_model();
        ck_callback *restore = ck_callback_new(backup);
        o = fault_opts();
        o.callbacks = &restore, o.n_callbacks = 1;
        ck_history *h = NULL;
        CHECK_OK(ck_model_fit(r, x, y, n, &o, &h));
        int ran = h ? ck_history_epochs(h) : 0;
        CHECK(ran >= 1 && ran < FAULT_EPOCHS, "BackupAndRestore ran %d of %d epochs: it did not resume", ran,
              FAULT_EPOCHS);
        int64_t nr;
        float *wr = flat_weights(r, &nr);
        CHECK(nr == s.n && !memcmp(wr, s.w[FAULT_EPOCHS - 1], (size_t)nr * sizeof *wr),
              "resumed for %d epochs: the final weights differ from the uninterrupted run's", ran);
        if (rank == 0)
            printf("checkpoint held epoch %d; BackupAndRestore resumed at epoch %d and ended with the uninterrupted "
                   "run's weights\n", at + 1, FAULT_EPOCHS - ran + 1);
        ck_history_free(h);
        ck_callback_free(restore);
        free(w), free(wr);
        ck_model_free(r);
        ck_npz_free(&z);
        for (int e = 0; e < FAULT_EPOCHS; e++)
            free(s.w[e]);
    }
    ck_model_free(m);
    free(x), free(y);
    return test_failures;
}

int main(int argc, char **argv)
{
    ck_status st = ck_distribute_init(&argc, &argv, &dp);
    if (st != CK_OK) {
        fprintf(stderr, "test_dist: %s\n", ck_errmsg());
        return 1;
    }
    rank = ck_distribute_rank(dp), size = ck_distribute_size(dp);
    if (argc == 3) {
        int rc = fault(argv[1], argv[2]);
        ck_distribute_finalize(dp);
        return rc ? 1 : 0;
    }
    static const char *const roots[] = {"train", "seq_train", "conv_train"};
    int cases = 0;
    for (int r = 0; r < 3; r++) {
        char path[512];
        size_t len;
        char *list = test_read_file(test_path(path, sizeof path, "tests/golden/%s/CASES", roots[r]), &len);
        CHECK(list != NULL, "missing %s", path);
        for (char *line = list ? strtok(list, "\n") : NULL; line; line = strtok(NULL, "\n"), cases++)
            run_case(roots[r], line);
        free(list);
    }
    CHECK(cases == 76, "expected 76 cases, ran %d", cases);
    mismatches();
    sharded_predict("train", "adam_cce");
    sharded_predict("conv_train", "cnn_3x3_adam");
    sharded_predict("seq_train", "lstm_adam_mse");
    char name[64];
    snprintf(name, sizeof name, "test_dist (rank %d of %d)", rank, size);
    int rc = test_report(name);
    ck_distribute_finalize(dp);
    return rc;
}
