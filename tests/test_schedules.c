/* Keras's learning-rate schedules and the callbacks that Keras users write as
 * text: every schedule of tests/golden/schedules (tests/oracle/schedule_cases.py,
 * real Keras 3) at steps 0..24 within float32 rounding, the per-epoch
 * learning_rate that fit() logs under LearningRateScheduler(Schedule(...)),
 * ModelCheckpoint's filepath rules ({epoch:02d}, {val_loss:.2f}, the ending
 * choosing the format, save_best_only), and BackupAndRestore: a fit stopped
 * after an epoch's backup and restarted ends with the weights of one that ran
 * through. */
#include "testutil.h"
#include "train/optimizers.h"

#include <jansson.h>
#include <sys/stat.h>
#include <unistd.h>

static bool close_to(double a, double b) { return fabs(a - b) <= 1e-6 * fmax(1.0, fabs(b)); }

static ck_model *small_model(uint64_t seed)
{
    ck_model *m = ck_sequential(NULL);
    ck_sequential_add(m, ck_dense(4, "input_shape=(3,), activation='tanh'"));
    ck_sequential_add(m, ck_dense(2, "activation='softmax'"));
    ck_model_set_seed(m, seed);
    CHECK_OK(ck_model_build(m));
    return m;
}

static void data(float *x, float *y, int n)
{
    for (int i = 0; i < n * 3; i++) x[i] = (float)sin(i * 0.7);
    for (int i = 0; i < n; i++) y[i] = (float)(x[3 * i] > x[3 * i + 1]);
}

static void test_schedules_against_keras(void)
{
    json_t *root = test_load_json("tests/golden/schedules/cases.json");
    json_t *cases = json_object_get(root, "cases");
    int epochs = (int)json_integer_value(json_object_get(root, "epochs"));
    for (size_t i = 0; i < json_array_size(cases); i++) {
        json_t *c = json_array_get(cases, i), *values = json_object_get(c, "values");
        const char *spec = json_string_value(json_object_get(c, "spec"));
        ck_schedule s;
        CHECK_OK(ck_schedule_parse(spec, &s));
        for (size_t k = 0; k < json_array_size(values); k++) {
            double want = json_real_value(json_array_get(values, k)), got = ck_schedule_value(&s, (double)k);
            CHECK(close_to(got, want), "%s at step %zu: %.9g, Keras %.9g", spec, k, got, want);
        }
        /* the same schedule by epoch through LearningRateScheduler, as fit() logs it */
        char cb_spec[512];
        snprintf(cb_spec, sizeof cb_spec, "LearningRateScheduler(%s)", spec);
        ck_callback *cb = ck_callback_new(cb_spec);
        CHECK(cb, "%s: %s", cb_spec, ck_errmsg());
        ck_model *m = small_model(1);
        CHECK_OK(ck_model_compile(m, "sgd", "sparse_categorical_crossentropy", NULL));
        float x[8 * 3], y[8];
        data(x, y, 8);
        ck_fit_opts o = ck_fit_defaults();
        o.epochs = epochs, o.verbose = 0, o.callbacks = &cb, o.n_callbacks = 1;
        ck_history *h = NULL;
        CHECK_OK(ck_model_fit(m, x, y, 8, &o, &h));
        json_t *lr = json_object_get(c, "fit_learning_rate");
        for (int e = 0; h && e < epochs; e++) {
            double want = json_real_value(json_array_get(lr, (size_t)e)), got = ck_history_value(h, "learning_rate", e);
            CHECK(close_to(got, want), "%s: learning_rate of epoch %d: %.9g, Keras %.9g", cb_spec, e, got, want);
        }
        ck_history_free(h);
        ck_callback_free(cb);
        ck_model_free(m);
    }
    CHECK(json_array_size(cases) >= 9, "only %zu schedules", json_array_size(cases));
    CHECK(ck_callback_new("LearningRateScheduler()") == NULL && strstr(ck_errmsg(), "give a schedule"),
          "empty LearningRateScheduler: %s", ck_errmsg());
    CHECK(ck_callback_new("LearningRateScheduler(Nope(a=1))") == NULL && strstr(ck_errmsg(), "unknown learning rate"),
          "unknown schedule: %s", ck_errmsg());
    json_decref(root);
}

static void tmpdir(char *buf, size_t cap, const char *what)
{
    snprintf(buf, cap, "/tmp/ckeras_test_sched_%d_%s", (int)getpid(), what);
    mkdir(buf, 0777);
}

static bool exists(const char *dir, const char *name)
{
    char p[600];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return access(p, F_OK) == 0;
}

static void test_checkpoint(void)
{
    char dir[256], spec[700];
    tmpdir(dir, sizeof dir, "ckpt");
    /* Keras's ModelCheckpoint.__init__ refusals */
    CHECK(!ck_callback_new("ModelCheckpoint(filepath='m.npy')") && strstr(ck_errmsg(), "must end in `.keras`"),
          "m.npy: %s", ck_errmsg());
    CHECK(!ck_callback_new("ModelCheckpoint(filepath='m.keras', save_weights_only=True)") &&
              strstr(ck_errmsg(), "`.weights.h5`"), "weights only .keras: %s", ck_errmsg());
    CHECK(!ck_callback_new("ModelCheckpoint(filepath='m.keras', save_freq=3)"), "save_freq=3 accepted");
    ck_model *m = small_model(2);
    CHECK_OK(ck_model_compile(m, "adam", "sparse_categorical_crossentropy", "accuracy"));
    float x[16 * 3], y[16];
    data(x, y, 16);
    const char *patterns[] = {"e{epoch:02d}-{val_loss:.2f}.keras", "w{epoch}.weights.h5", "legacy-{epoch:03d}.h5",
                              "a{epoch}.npz"};
    ck_callback *cbs[5];
    for (int i = 0; i < 4; i++) {
        snprintf(spec, sizeof spec, "ModelCheckpoint(filepath='%s/%s'%s)", dir, patterns[i],
                 i == 1 ? ", save_weights_only=True" : "");
        cbs[i] = ck_callback_new(spec);
        CHECK(cbs[i], "%s: %s", spec, ck_errmsg());
    }
    snprintf(spec, sizeof spec, "ModelCheckpoint(filepath='%s/best.keras', monitor='val_loss', save_best_only=True)",
             dir);
    cbs[4] = ck_callback_new(spec);
    ck_fit_opts o = ck_fit_defaults();
    o.epochs = 3, o.verbose = 0, o.validation_split = 0.25, o.callbacks = cbs, o.n_callbacks = 5;
    ck_history *h = NULL;
    CHECK_OK(ck_model_fit(m, x, y, 16, &o, &h));
    for (int e = 0; h && e < 3; e++) {
        char name[64];
        snprintf(name, sizeof name, "e%02d-%.2f.keras", e + 1, ck_history_value(h, "val_loss", e));
        CHECK(exists(dir, name), "%s/%s not written", dir, name);
        snprintf(name, sizeof name, "legacy-%03d.h5", e + 1);
        CHECK(exists(dir, name), "%s not written", name);
        snprintf(name, sizeof name, "w%d.weights.h5", e + 1);
        CHECK(exists(dir, name), "%s not written", name);
    }
    /* each file opens as what its ending says, with the trained weights */
    char p[600];
    snprintf(p, sizeof p, "%s/legacy-003.h5", dir);
    ck_model *back = ck_model_load(p);
    CHECK(back, "%s: %s", p, ck_errmsg());
    ck_weight_info a, b;
    if (back && ck_model_weight(m, 0, &a) == CK_OK && ck_model_weight(back, 0, &b) == CK_OK)
        CHECK(!memcmp(a.data, b.data, (size_t)a.size * sizeof(float)), "legacy-003.h5 holds other weights");
    ck_model_free(back);
    snprintf(p, sizeof p, "%s/best.keras", dir);
    CHECK(access(p, F_OK) == 0 && ck_file_format(p) && !strcmp(ck_file_format(p), "keras-zip"),
          "best.keras is not a .keras archive");
    snprintf(p, sizeof p, "%s/w3.weights.h5", dir);
    CHECK(ck_file_format(p) && !strcmp(ck_file_format(p), "hdf5-weights-keras3"), "w3.weights.h5: %s",
          ck_file_format(p) ? ck_file_format(p) : ck_errmsg());
    CHECK(exists(dir, "a3.npz"), "a3.npz not written");
    /* a field the logs lack: Keras's KeyError as one line */
    snprintf(spec, sizeof spec, "ModelCheckpoint(filepath='%s/{nope}.keras')", dir);
    ck_callback *bad = ck_callback_new(spec);
    o.callbacks = &bad, o.n_callbacks = 1, o.epochs = 1;
    CHECK(ck_model_fit(m, x, y, 16, &o, NULL) == CK_ERR_CONFIG && strstr(ck_errmsg(), "'nope' is not in the logs"),
          "unknown field: %s", ck_errmsg());
    ck_callback_free(bad);
    for (int i = 0; i < 5; i++) ck_callback_free(cbs[i]);
    ck_history_free(h);
    ck_model_free(m);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0, "cleanup");
}

/* Stops training after `stop_after` epochs: a run killed right after a backup. */
static bool stop_at(int epoch, const ck_history *logs, void *user)
{
    (void)logs;
    return epoch + 1 < *(int *)user;
}

static void test_backup_and_restore(void)
{
    char dir[256], spec[400];
    tmpdir(dir, sizeof dir, "bk");
    rmdir(dir);
    snprintf(spec, sizeof spec, "BackupAndRestore(backup_dir='%s', delete_checkpoint=False)", dir);
    float x[24 * 3], y[24];
    data(x, y, 24);
    /* the uninterrupted run */
    ck_model *whole = small_model(5);
    CHECK_OK(ck_model_compile(whole, "Adam(learning_rate=0.05)", "sparse_categorical_crossentropy", NULL));
    ck_fit_opts o = ck_fit_defaults();
    o.epochs = 5, o.verbose = 0, o.batch_size = 8, o.seed = 7;
    CHECK_OK(ck_model_fit(whole, x, y, 24, &o, NULL));
    /* stopped after 2 epochs with a backup, then the same fit again on a fresh model */
    ck_callback *cbs[2] = {ck_callback_new(spec), NULL};
    int stop_after = 2;
    cbs[1] = ck_callback_hook(stop_at, &stop_after);
    ck_model *first = small_model(5);
    CHECK_OK(ck_model_compile(first, "Adam(learning_rate=0.05)", "sparse_categorical_crossentropy", NULL));
    o.callbacks = cbs, o.n_callbacks = 2;
    CHECK_OK(ck_model_fit(first, x, y, 24, &o, NULL));
    CHECK(exists(dir, "training_state.ckeras"), "no backup in %s", dir);
    ck_model_free(first);
    ck_model *resumed = small_model(5);
    CHECK_OK(ck_model_compile(resumed, "Adam(learning_rate=0.05)", "sparse_categorical_crossentropy", NULL));
    o.n_callbacks = 1;
    ck_history *h = NULL;
    CHECK_OK(ck_model_fit(resumed, x, y, 24, &o, &h));
    CHECK(h && ck_history_epochs(h) == 3, "resumed run trained %d epochs, want 3 (epochs 3-5)",
          h ? ck_history_epochs(h) : -1);
    for (int i = 0; i < ck_model_weight_count(whole); i++) {
        ck_weight_info a, b;
        CHECK_OK(ck_model_weight(whole, i, &a));
        CHECK_OK(ck_model_weight(resumed, i, &b));
        CHECK(!memcmp(a.data, b.data, (size_t)a.size * sizeof(float)), "weight %s differs from the uninterrupted run",
              a.path);
    }
    ck_history_free(h);
    ck_callback_free(cbs[0]);
    ck_callback_free(cbs[1]);
    /* delete_checkpoint (the default): a completed fit removes its backup */
    snprintf(spec, sizeof spec, "BackupAndRestore(backup_dir='%s')", dir);
    ck_callback *cb = ck_callback_new(spec);
    o.callbacks = &cb, o.n_callbacks = 1;
    CHECK(ck_model_fit(resumed, x, y, 24, &o, NULL) == CK_OK && !exists(dir, "training_state.ckeras"),
          "backup kept after a completed fit");
    /* another model's backup is refused by name */
    ck_model *other = ck_sequential(NULL);
    ck_sequential_add(other, ck_dense(2, "input_shape=(3,), activation='softmax'"));
    CHECK_OK(ck_model_build(other));
    CHECK_OK(ck_model_compile(other, "adam", "sparse_categorical_crossentropy", NULL));
    ck_callback *keep = NULL;
    snprintf(spec, sizeof spec, "BackupAndRestore(backup_dir='%s', delete_checkpoint=False)", dir);
    keep = ck_callback_new(spec);
    o.callbacks = &keep, o.epochs = 1;
    CHECK_OK(ck_model_fit(resumed, x, y, 24, &o, NULL));
    o.epochs = 5;
    CHECK(ck_model_fit(other, x, y, 24, &o, NULL) == CK_ERR_FORMAT && strstr(ck_errmsg(), "another model's backup"),
          "foreign backup: %s", ck_errmsg());
    ck_callback_free(keep);
    ck_callback_free(cb);
    ck_model_free(other);
    ck_model_free(whole);
    ck_model_free(resumed);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0, "cleanup");
}

int main(void)
{
    test_schedules_against_keras();
    test_checkpoint();
    test_backup_and_restore();
    return test_report("test_schedules");
}
