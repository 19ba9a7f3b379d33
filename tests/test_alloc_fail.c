/* Allocation failure, as SQLite tests it: each scenario (load a .keras, a legacy
 * .h5 and a nested functional model; build a CNN and print its summary and
 * JSON; predict; one fit step; save in every format) runs once to count its
 * allocations through ck_set_allocator, then again with the 1st, 2nd, ... Nth
 * allocation failing. Every run must end with CK_OK or a clean one-line error
 * (never a crash), free all it made (LeakSanitizer under make sanitize) and
 * touch nothing freed (ASan). Files are trusted here (hdf5_in_process): the
 * child-process check of untrusted HDF5 is not what is being failed. */
#include "testutil.h"

#include "core/core.h"

#include <dirent.h>
#include <unistd.h>

typedef struct fail_plan {
    long count;   /* allocations so far in this run */
    long fail_at; /* the one that fails (0: none)   */
    bool failed;  /* it was reached                  */
} fail_plan;

static fail_plan plan;

static bool should_fail(void)
{
    plan.count++;
    if (plan.fail_at && plan.count == plan.fail_at) {
        plan.failed = true;
        return true;
    }
    return false;
}

static void *fail_malloc(void *ctx, size_t n)
{
    (void)ctx;
    return should_fail() ? NULL : malloc(n);
}

static void *fail_realloc(void *ctx, void *p, size_t n)
{
    (void)ctx;
    return should_fail() ? NULL : realloc(p, n);
}

static void fail_free(void *ctx, void *p)
{
    (void)ctx;
    free(p);
}

static char tmp_dir[64];

/* A hook with calloc gets the zeroed allocations, a model's weight block among
 * them, as calloc (which leaves the pages a summary never reads unmapped, as
 * libc does); without one they are malloc and zeroing, as in fail_each. */
static size_t calloc_bytes;

static void *count_calloc(void *ctx, size_t n, size_t size)
{
    (void)ctx;
    calloc_bytes += n * size;
    return calloc(n, size);
}

static void calloc_hook(void)
{
    plan = (fail_plan){0};
    CHECK_OK(ck_set_allocator(&(ck_allocator){fail_malloc, fail_realloc, fail_free, NULL, count_calloc}));
    ck_model *m = ck_sequential("name='wide'");
    CHECK(m != NULL, "ck_sequential: %s", ck_errmsg());
    if (m) {
        CHECK_OK(ck_sequential_add(m, ck_dense(512, "input_shape=(256,)")));
        CHECK_OK(ck_model_build(m));
    }
    size_t weights = (256 * 512 + 512) * sizeof(float);
    CHECK(calloc_bytes >= weights, "%zu bytes went through the calloc hook, fewer than the %zu of the weights",
          calloc_bytes, weights);
    ck_model_free(m);
    CHECK_OK(ck_set_allocator(NULL));
}

static ck_status load_file(const char *rel)
{
    char p[1024];
    test_path(p, sizeof p, "%s", rel);
    ck_model *m = ck_model_load(p);
    if (!m) return CK_ERR_NOMEM; /* the message says which */
    ck_model_free(m);
    return CK_OK;
}

static ck_status load_keras(void) { return load_file("tests/golden/files/func_merge/model.keras"); }
static ck_status load_h5(void) { return load_file("tests/golden/files/seq_mlp/model.h5"); }
static ck_status load_nested(void) { return load_file("tests/golden/files/nested_func/model.keras"); }

static ck_model *small_cnn(void)
{
    ck_model *m = ck_sequential("name='cnn'");
    ck_status st = m ? CK_OK : CK_ERR_NOMEM;
    if (!st) st = ck_sequential_add(m, ck_layer_new("Conv2D", "filters=4, kernel_size=3, activation='relu', input_shape=(8, 8, 1)"));
    if (!st) st = ck_sequential_add(m, ck_layer_new("BatchNormalization", NULL));
    if (!st) st = ck_sequential_add(m, ck_layer_new("MaxPooling2D", NULL));
    if (!st) st = ck_sequential_add(m, ck_layer_new("Flatten", NULL));
    if (!st) st = ck_sequential_add(m, ck_dense(3, "activation='softmax'"));
    if (!st) st = ck_model_build(m);
    if (st) {
        ck_model_free(m);
        return NULL;
    }
    return m;
}

static ck_status build_cnn(void)
{
    ck_model *m = small_cnn();
    if (!m) return CK_ERR_NOMEM;
    char *text = NULL;
    ck_status st = ck_model_summary(m, NULL, &text);
    free(text);
    text = NULL;
    if (!st) st = ck_model_to_json(m, &text);
    free(text);
    ck_model_free(m);
    return st;
}

static float x_data[4 * 64], y_data[4];

static ck_status predict_cnn(void)
{
    ck_model *m = small_cnn();
    if (!m) return CK_ERR_NOMEM;
    float out[4 * 3];
    ck_status st = ck_model_predict1(m, x_data, 4, out);
    ck_model_free(m);
    return st;
}

static ck_status fit_step(void)
{
    ck_model *m = small_cnn();
    if (!m) return CK_ERR_NOMEM;
    ck_status st = ck_model_compile(m, "adam", "sparse_categorical_crossentropy", "accuracy");
    ck_fit_opts o = {.epochs = 1, .batch_size = 4, .verbose = 0};
    ck_history *h = NULL;
    if (!st) st = ck_model_fit(m, x_data, y_data, 4, &o, &h);
    ck_history_free(h);
    ck_model_free(m);
    return st;
}

/* Every save starts from an empty folder, so each run allocates alike. */
static void remove_saved(void)
{
    DIR *d = opendir(tmp_dir);
    struct dirent *e;
    while (d && (e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        char p[512];
        snprintf(p, sizeof p, "%s/%s", tmp_dir, e->d_name);
        unlink(p);
    }
    if (d) closedir(d);
}

static ck_status save_all(void)
{
    remove_saved();
    ck_model *m = small_cnn();
    if (!m) return CK_ERR_NOMEM;
    static const char *const names[] = {"m.keras", "m.h5", "m.weights.h5", "model.json"};
    ck_status st = CK_OK;
    for (size_t i = 0; !st && i < sizeof names / sizeof *names; i++) {
        char p[128];
        snprintf(p, sizeof p, "%s/%s", tmp_dir, names[i]);
        st = ck_model_save(m, p);
    }
    ck_model_free(m);
    return st;
}

typedef struct scenario {
    const char *name;
    ck_status (*run)(void);
} scenario;

static void fail_each(const scenario *s)
{
    /* Twice: a first call may set up what later calls reuse (libhdf5's own state). */
    plan = (fail_plan){0};
    ck_status st = s->run();
    long first = plan.count;
    plan = (fail_plan){0};
    st = st ? st : s->run();
    if (getenv("VERBOSE")) printf("%s first %ld second %ld\n", s->name, first, plan.count);
    CHECK(st == CK_OK, "%s: fails without injected failures: %s", s->name, ck_errmsg());
    long total = plan.count, errors = 0;
    for (long k = 1; k <= total; k++) {
        plan = (fail_plan){.fail_at = k};
        ck_clear_error();
        st = s->run();
        if (st) {
            errors++;
            CHECK(*ck_errmsg() && !strchr(ck_errmsg(), '\n'), "%s: allocation %ld: error without one line: '%s'",
                  s->name, k, ck_errmsg());
        }
        CHECK(plan.failed, "%s: allocation %ld of %ld was never made (the run is not deterministic): %s", s->name, k, total, st ? ck_errmsg() : "ok");
    }
    printf("%-12s %5ld allocations, each failed in turn: %ld runs ended with an error, %ld recovered\n", s->name,
           total, errors, total - errors);
}

int main(void)
{
    ck_limits lim;
    ck_get_limits(&lim);
    lim.hdf5_in_process = true;
    CHECK_OK(ck_set_limits(&lim));
    snprintf(tmp_dir, sizeof tmp_dir, "/tmp/ckeras-allocfail-XXXXXX");
    if (!mkdtemp(tmp_dir)) return 1;
    for (int i = 0; i < 4 * 64; i++) x_data[i] = (float)((i * 7) % 11) / 11.0f;
    for (int i = 0; i < 4; i++) y_data[i] = (float)(i % 3);
    calloc_hook();
    CHECK_OK(ck_set_allocator(&(ck_allocator){.malloc = fail_malloc, .realloc = fail_realloc, .free = fail_free}));
    static const scenario scenarios[] = {
        {"load .keras", load_keras}, {"load .h5", load_h5},     {"load nested", load_nested}, {"build", build_cnn},
        {"predict", predict_cnn},    {"fit step", fit_step},    {"save", save_all},
    };
    for (size_t i = 0; i < sizeof scenarios / sizeof *scenarios; i++) fail_each(&scenarios[i]);
    CHECK_OK(ck_set_allocator(NULL));
    remove_saved();
    rmdir(tmp_dir);
    return test_report("test_alloc_fail");
}
