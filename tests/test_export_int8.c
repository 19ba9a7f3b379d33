/* int8 export on Fashion-MNIST (Debian's dataset-fashion-mnist): the MLP of
 * `ckeras demo-fashion` and the CNN of `ckeras demo-cnn`, trained briefly here
 * (the bar is the loss from quantizing, not the models' own accuracy), are
 * exported in float and with --int8 (calibrated on 1000 training images); both
 * are compiled with gcc and run on the test images. int8 may lose at most 0.5%
 * test accuracy against float, its weights must be at least 3.5x smaller, and
 * the float code must agree with ckeras's predictions; the int8 code built
 * with and without the vectorizer gives the same bytes. */
#include "testutil.h"

#include <sys/stat.h>
#include <unistd.h>

#define DATA "/usr/share/datasets/fashion-mnist"


/* n values spread evenly over [offset, offset + scale) by an LCG from `seed`:
 * any spread of inputs serves as calibration and test rows. NULL: no memory. */
static float *spread_rows(int64_t n, uint32_t seed, float scale, float offset)
{
    float *x = malloc(sizeof(float) * (size_t)n);
    for (int64_t i = 0; x && i < n; i++) {
        seed = seed * 1664525u + 1013904223u;
        x[i] = (float)(seed >> 8) / 16777216.0f * scale + offset;
    }
    return x;
}
static char work[512], driver[2048];

static bool load(const char *prefix, ck_array *x, ck_array *y)
{
    char p[256];
    snprintf(p, sizeof p, DATA "/%s-images-idx3-ubyte.gz", prefix);
    bool ok = ck_idx_read(p, x) == CK_OK && ck_array_to_float32(x) == CK_OK;
    snprintf(p, sizeof p, DATA "/%s-labels-idx1-ubyte.gz", prefix);
    ok = ok && ck_idx_read(p, y) == CK_OK && ck_array_to_float32(y) == CK_OK;
    CHECK(ok, "%s: %s", prefix, ck_errmsg());
    for (int64_t i = 0; ok && i < ck_array_size(x); i++) ((float *)x->data)[i] /= 255.0f;
    return ok;
}

static double accuracy(const float *probs, const float *labels, int64_t n)
{
    int64_t right = 0;
    for (int64_t i = 0; i < n; i++) {
        int best = 0;
        for (int k = 1; k < 10; k++) best = probs[i * 10 + k] > probs[i * 10 + best] ? k : best;
        right += best == (int)labels[i];
    }
    return (double)right / (double)n;
}

/* The int8 kernels' sums are exact integers, so the code built without the
 * vectorizer and with the widest vectors here (-O3 -march=native: pmaddwd,
 * AVX-512, VNNI where the CPU has them) must give the -O2 build's bytes. */
static void same_vectorized(const char *dir, const char *name, bool weights_bin, const float *out, size_t len)
{
    static const char *const flags[] = {"-O2 -fno-tree-vectorize -fno-tree-slp-vectorize", "-O3 -march=native"};
    for (int f = 0; f < 2; f++) {
        char cmd[4096], p[800];
        snprintf(cmd, sizeof cmd,
                 "cd '%s' && gcc -std=c99 -Wall -Wextra -Werror -pedantic %s -I. -o run_v m.c '%s' %s -lm && "
                 "./run_v in.bin out_v.bin",
                 dir, flags[f], driver, weights_bin ? "m_weights.S" : "");
        int rc = system(cmd);
        CHECK(rc == 0, "%s: building or running with %s failed (%d)", name, flags[f], rc);
        snprintf(p, sizeof p, "%s/out_v.bin", dir);
        size_t vlen = 0;
        float *v = rc ? NULL : (float *)test_read_file(p, &vlen);
        CHECK(v && vlen == len && memcmp(v, out, len) == 0, "%s: int8 outputs with %s differ from -O2's", name,
              flags[f]);
        free(v);
    }
}

/* Exports m into work/name, builds it with gcc -O2, runs it on x [n, in_per];
 * the outputs [n, out_per] (NULL on failure), *info what the export reported. */
static float *run_export(ck_model *m, const char *name, const ck_export_opts *opts, const float *x, int64_t n,
                         int64_t in_per, int64_t out_per, ck_export_info *info)
{
    char dir[700], cmd[4096], p[800];
    snprintf(dir, sizeof dir, "%s/%s", work, name);
    mkdir(dir, 0755);
    ck_status st = ck_model_export_c(m, dir, opts, info);
    CHECK(st == CK_OK, "%s: export: %s", name, ck_errmsg());
    if (st) return NULL;
    snprintf(p, sizeof p, "%s/in.bin", dir);
    FILE *f = fopen(p, "wb");
    bool ok = f && fwrite(x, sizeof *x, (size_t)(n * in_per), f) == (size_t)(n * in_per);
    CHECK(f && fclose(f) == 0 && ok, "cannot write %s", p);
    snprintf(cmd, sizeof cmd,
             "cd '%s' && gcc -std=c99 -Wall -Wextra -Werror -pedantic -O2 -I. -o run m.c '%s' %s -lm && ./run in.bin out.bin",
             dir, driver, info->weights_bin ? "m_weights.S" : "");
    int rc = system(cmd);
    CHECK(rc == 0, "%s: building or running the generated code failed (%d)", name, rc);
    snprintf(p, sizeof p, "%s/out.bin", dir);
    size_t len = 0;
    float *out = rc ? NULL : (float *)test_read_file(p, &len);
    CHECK(!rc && out && len == (size_t)(n * out_per) * sizeof(float), "%s: %zu bytes of output", name, len);
    if (out && opts->int8) same_vectorized(dir, name, info->weights_bin, out, len);
    return out;
}

/* run_export of a Fashion-MNIST model; the constant bytes written and the int8 layers. */
static float *run_generated(ck_model *m, const char *name, const ck_export_opts *opts, const float *x, int64_t n,
                            int64_t *weight_bytes, int *int8_layers)
{
    ck_export_info info = {0};
    float *out = run_export(m, name, opts, x, n, 784, 10, &info);
    *weight_bytes = info.weight_bytes, *int8_layers = info.int8_layers;
    return out;
}

/* Trains m for an epoch on the first ntr training images, then compares its
 * float and int8 code on the first nte test images. */
static void check_model(ck_model *m, const char *name, const ck_array *xtr, const float *ytr, int64_t ntr,
                        const ck_array *xte, const float *yte, int64_t nte)
{
    ck_fit_opts o = ck_fit_defaults();
    o.epochs = 1, o.batch_size = 64, o.seed = 1, o.verbose = 0;
    ck_history *h = NULL;
    CHECK_OK(ck_model_compile(m, "Adam(learning_rate=0.001)", "sparse_categorical_crossentropy", "accuracy"));
    CHECK_OK(ck_model_fit(m, xtr->data, ytr, ntr, &o, &h));
    ck_history_free(h);
    float *ref = malloc(sizeof(float) * (size_t)(nte * 10));
    CHECK_OK(ck_model_predict1(m, xte->data, nte, ref));
    ck_export_opts fo = {.name = "m", .bin_threshold = -1};
    ck_export_opts qo = {.name = "m", .bin_threshold = -1, .int8 = true, .calibration = xtr->data,
                         .calibration_rows = 1000};
    int64_t fbytes = 0, qbytes = 0;
    int fl = 0, ql = 0;
    char qname[64];
    snprintf(qname, sizeof qname, "%s_int8", name);
    float *fy = run_generated(m, name, &fo, xte->data, nte, &fbytes, &fl);
    float *qy = run_generated(m, qname, &qo, xte->data, nte, &qbytes, &ql);
    if (fy && qy) {
        double a_ref = accuracy(ref, yte, nte), a_f = accuracy(fy, yte, nte), a_q = accuracy(qy, yte, nte);
        double err = test_max_error(fy, ref, nte * 10, 0.0);
        fprintf(stderr, "%s: test accuracy ckeras %.4f, generated float %.4f, int8 %.4f (%d layers in int8); "
                        "weights %lld -> %lld bytes (%.2fx)\n",
                name, a_ref, a_f, a_q, ql, (long long)fbytes, (long long)qbytes, (double)fbytes / (double)qbytes);
        CHECK(err <= 1e-5, "%s: float code differs from ckeras by %g", name, err);
        CHECK(a_q >= a_f - 0.005, "%s: int8 accuracy %.4f is more than 0.5%% below float's %.4f", name, a_q, a_f);
        CHECK(ql >= 2, "%s: only %d layers ran in int8", name, ql);
        CHECK(fbytes >= 3.5 * (double)qbytes, "%s: int8 weights %lld bytes, float %lld", name, (long long)qbytes,
              (long long)fbytes);
    }
    free(ref);
    free(fy);
    free(qy);
}

/* run_export of the small model (input [12, 12, 1], 3 outputs); *arena its arena bytes. */
static float *run_small(ck_model *m, const char *name, const ck_export_opts *opts, const float *x, int64_t n,
                        int64_t *arena)
{
    ck_export_info info = {0};
    float *out = run_export(m, name, opts, x, n, 144, 3, &info);
    *arena = info.arena_bytes;
    return out;
}

/* int8 activations between int8 layers: Conv2D(8, relu) -> MaxPooling2D ->
 * Flatten -> Dense(6, relu) -> Dense(3, softmax). The convolution's output
 * [10, 10, 8] and the pooling's [5, 5, 8] are int8 (the pooling maps int8 to
 * int8, Flatten shares its bytes, the int8 Dense reads them), so the arena's
 * peak, the pooling's input and output live together, is 800 + 200 bytes
 * (208: 16-byte aligned); with floats between the layers, 3200 + 800. The
 * outputs must be the same bytes either way: int8 in between only saves the
 * float round trip. */
static void check_int8_activations(void)
{
    ck_model *m = ck_sequential("small_cnn");
    ck_sequential_add(m, ck_layer_new("InputLayer", "input_shape=(12, 12, 1)"));
    ck_sequential_add(m, ck_layer_new("Conv2D", "filters=8, kernel_size=3, activation='relu'"));
    ck_sequential_add(m, ck_layer_new("MaxPooling2D", ""));
    ck_sequential_add(m, ck_layer_new("Flatten", ""));
    ck_sequential_add(m, ck_dense(6, "activation='relu'"));
    ck_sequential_add(m, ck_dense(3, "activation='softmax'"));
    ck_model_set_seed(m, 3);
    CHECK_OK(ck_model_build(m));
    enum { ROWS = 64 };
    float *x = spread_rows(ROWS * 144, 12345, 2.0f, -0.5f);
    CHECK(x != NULL, "out of memory");
    ck_export_opts q = {.name = "m", .bin_threshold = -1, .int8 = true, .calibration = x, .calibration_rows = ROWS};
    ck_export_opts qf = q;
    qf.int8_float_between = true;
    int64_t arena = 0, arena_f = 0;
    float *y = x ? run_small(m, "small_int8", &q, x, ROWS, &arena) : NULL;
    float *yf = x ? run_small(m, "small_int8_floats", &qf, x, ROWS, &arena_f) : NULL;
    if (y && yf) {
        fprintf(stderr, "small_cnn int8: arena %lld bytes (%lld with floats between the layers)\n", (long long)arena,
                (long long)arena_f);
        /* each value starts 16-byte aligned: the 200 bytes take 208 */
        CHECK(arena == 10 * 10 * 8 + (5 * 5 * 8 + 15) / 16 * 16,
              "int8 arena %lld bytes, not the 1008 of the int8 pooling's values", (long long)arena);
        CHECK(arena_f == 4 * (10 * 10 * 8 + 5 * 5 * 8), "float-between arena %lld bytes, not 4000", (long long)arena_f);
        CHECK(memcmp(y, yf, sizeof(float) * ROWS * 3) == 0, "int8 activations changed the outputs");
    }
    free(y), free(yf), free(x);
    ck_model_free(m);
}

/* int8 Dense layers reading int8 rows longer than k_dense_q8's chunk of 64
 * inputs: Input(21) -> Dense(128, relu) -> Dense(70, relu) -> Dense(100,
 * relu) -> Dense(1), houseprice_model.h5's shape with widths that leave tails
 * (70 and 100 outputs: not multiples of the 8 summed together; 70 inputs: a
 * chunk and 6). The widened row is scratch of one chunk (128 bytes), not the
 * row (2 bytes an input), so the peak, at Dense(70), is its int8 input (128
 * bytes), output (70: 80 aligned) and the chunk: 336 bytes (464 with the
 * row widened whole). With floats between the layers every Dense widens its
 * whole float row in one go (the other path of the kernel): the outputs must
 * be the same bytes. */
static void check_int8_dense_chunks(void)
{
    ck_model *m = ck_sequential("dense_chunks");
    ck_sequential_add(m, ck_layer_new("InputLayer", "input_shape=(21,)"));
    ck_sequential_add(m, ck_dense(128, "activation='relu'"));
    ck_sequential_add(m, ck_dense(70, "activation='relu'"));
    ck_sequential_add(m, ck_dense(100, "activation='relu'"));
    ck_sequential_add(m, ck_dense(1, ""));
    ck_model_set_seed(m, 5);
    CHECK_OK(ck_model_build(m));
    enum { ROWS = 64 };
    float *x = spread_rows(ROWS * 21, 777, 3.0f, -1.0f);
    CHECK(x != NULL, "out of memory");
    ck_export_opts q = {.name = "m", .bin_threshold = -1, .int8 = true, .calibration = x, .calibration_rows = ROWS};
    ck_export_opts qf = q;
    qf.int8_float_between = true;
    ck_export_info info = {0}, info_f = {0};
    float *y = x ? run_export(m, "dense_chunks_int8", &q, x, ROWS, 21, 1, &info) : NULL;
    float *yf = x ? run_export(m, "dense_chunks_floats", &qf, x, ROWS, 21, 1, &info_f) : NULL;
    if (y && yf) {
        fprintf(stderr, "dense_chunks int8: arena %lld bytes (%lld with floats between the layers), %d int8 layers\n",
                (long long)info.arena_bytes, (long long)info_f.arena_bytes, info.int8_layers);
        CHECK(info.int8_layers == 4, "%d of the 4 Dense layers in int8", info.int8_layers);
        CHECK(info.arena_bytes == 128 + 80 + 128, "int8 arena %lld bytes, not 336 (a widened chunk, not the row)",
              (long long)info.arena_bytes);
        CHECK(memcmp(y, yf, sizeof(float) * ROWS) == 0, "widening by chunks changed the outputs");
    }
    free(y), free(yf), free(x);
    ck_model_free(m);
}

int main(void)
{
    test_scratch_dir(work, sizeof work, "int8");
    test_abs_path(driver, sizeof driver, "tests/export_driver.c"); /* compilers run in each case's folder */
    check_int8_activations();
    check_int8_dense_chunks();
    ck_array xtr = {0}, ytr = {0}, xte = {0}, yte = {0};
    if (load("train", &xtr, &ytr) && load("t10k", &xte, &yte)) {
        /* One epoch on part of the training set keeps the test short on a
         * shared machine; the CNN (slower to train and to run unoptimised)
         * sees fewer images, and is tested on half the test set. */
        int64_t ntr = 20000, nte = xte.shape.dim[0];
        ck_model *mlp = ck_sequential("fashion_mlp");
        ck_sequential_add(mlp, ck_layer_new("Flatten", "input_shape=(28, 28)"));
        ck_sequential_add(mlp, ck_dense(256, "activation='relu'"));
        ck_sequential_add(mlp, ck_dense(128, "activation='relu'"));
        ck_sequential_add(mlp, ck_dense(10, "activation='softmax'"));
        ck_model_set_seed(mlp, 1);
        check_model(mlp, "mlp", &xtr, ytr.data, ntr, &xte, yte.data, nte);
        ck_model_free(mlp);
        ck_model *cnn = ck_sequential("fashion_cnn");
        ck_sequential_add(cnn, ck_layer_new("InputLayer", "input_shape=(28, 28, 1)"));
        ck_sequential_add(cnn, ck_layer_new("Conv2D", "filters=32, kernel_size=3, activation='relu'"));
        ck_sequential_add(cnn, ck_layer_new("MaxPooling2D", ""));
        ck_sequential_add(cnn, ck_layer_new("Conv2D", "filters=64, kernel_size=3, activation='relu'"));
        ck_sequential_add(cnn, ck_layer_new("MaxPooling2D", ""));
        ck_sequential_add(cnn, ck_layer_new("Flatten", ""));
        ck_sequential_add(cnn, ck_dense(128, "activation='relu'"));
        ck_sequential_add(cnn, ck_dense(10, "activation='softmax'"));
        ck_model_set_seed(cnn, 1);
        check_model(cnn, "cnn", &xtr, ytr.data, 6000, &xte, yte.data, nte / 2);
        ck_model_free(cnn);
    }
    ck_array_free(&xtr), ck_array_free(&ytr), ck_array_free(&xte), ck_array_free(&yte);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", work);
    if (test_failures == 0 && system(cmd) != 0) fprintf(stderr, "could not remove %s\n", work);
    return test_report("test_export_int8");
}
