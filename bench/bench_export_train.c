/* The trained models of bench/run_export.sh's int8 accuracy table (never run
 * by the tests): the Fashion-MNIST MLP of `ckeras demo-fashion` (10 epochs) and
 * the CNN of `ckeras demo-cnn` (6 epochs), trained with ckeras as those demos
 * train them (Adam, batch 64, seed 1) on Debian's dataset-fashion-mnist, saved
 * as DIR/mlp.keras and DIR/cnn.keras, with the arrays both quantizers and the
 * accuracy check share: DIR/calib.npy (the first 1000 training images, the
 * calibration set), DIR/x_test.npy and DIR/y_test.npy (the 10000 test images
 * and labels), images as floats in [0, 1] shaped (n, 28, 28, 1). Prints each
 * model's test accuracy as ckeras evaluates it.
 * Usage: bench_export_train DIR [MLP_EPOCHS CNN_EPOCHS] */
#include "ckeras.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DATA "/usr/share/datasets/fashion-mnist"

static int die(const char *what)
{
    fprintf(stderr, "bench_export_train: %s: %s\n", what, ck_errmsg());
    return 1;
}

/* The IDX images [n, 28, 28] scaled to [0, 1] and their labels [n] as floats. */
static ck_status load(const char *prefix, ck_array *x, ck_array *y)
{
    char p[256];
    snprintf(p, sizeof p, DATA "/%s-images-idx3-ubyte.gz", prefix);
    ck_status st = ck_idx_read(p, x);
    if (!st) st = ck_array_to_float32(x);
    snprintf(p, sizeof p, DATA "/%s-labels-idx1-ubyte.gz", prefix);
    if (!st) st = ck_idx_read(p, y);
    if (!st) st = ck_array_to_float32(y);
    for (int64_t i = 0; !st && i < ck_array_size(x); i++) ((float *)x->data)[i] /= 255.0f;
    return st;
}

/* x's first n images saved as (n, 28, 28, 1). */
static ck_status save_images(const char *dir, const char *name, const ck_array *x, int64_t n)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    ck_array a = {.dtype = CK_FLOAT32, .shape = {.rank = 4, .dim = {n, 28, 28, 1}}, .data = x->data};
    return ck_npy_write(p, &a);
}

static ck_model *mlp(void)
{
    ck_model *m = ck_sequential("fashion_mlp");
    ck_sequential_add(m, ck_layer_new("Flatten", "input_shape=(28, 28, 1)"));
    ck_sequential_add(m, ck_dense(256, "activation='relu'"));
    ck_sequential_add(m, ck_dense(128, "activation='relu'"));
    ck_sequential_add(m, ck_dense(10, "activation='softmax'"));
    return m;
}

static ck_model *cnn(void)
{
    ck_model *m = ck_sequential("fashion_cnn");
    ck_sequential_add(m, ck_layer_new("InputLayer", "input_shape=(28, 28, 1)"));
    ck_sequential_add(m, ck_layer_new("Conv2D", "filters=32, kernel_size=3, activation='relu'"));
    ck_sequential_add(m, ck_layer_new("MaxPooling2D", ""));
    ck_sequential_add(m, ck_layer_new("Conv2D", "filters=64, kernel_size=3, activation='relu'"));
    ck_sequential_add(m, ck_layer_new("MaxPooling2D", ""));
    ck_sequential_add(m, ck_layer_new("Flatten", ""));
    ck_sequential_add(m, ck_dense(128, "activation='relu'"));
    ck_sequential_add(m, ck_dense(10, "activation='softmax'"));
    return m;
}

static int train(ck_model *m, const char *dir, const char *name, int epochs, const ck_array *xtr, const ck_array *ytr,
                 const ck_array *xte, const ck_array *yte)
{
    char p[1024];
    ck_fit_opts o = ck_fit_defaults();
    o.epochs = epochs, o.batch_size = 64, o.seed = 1, o.verbose = 0;
    ck_history *h = NULL;
    ck_model_set_seed(m, 1);
    if (ck_model_compile(m, "Adam(learning_rate=0.001)", "sparse_categorical_crossentropy", "accuracy") ||
        ck_model_fit(m, xtr->data, ytr->data, xtr->shape.dim[0], &o, &h))
        return die(name);
    ck_history_free(h);
    ck_history *e = NULL;
    if (ck_model_evaluate(m, xte->data, yte->data, xte->shape.dim[0], 256, &e)) return die(name);
    printf("%s: %d epochs, ckeras test accuracy %.4f\n", name, epochs, ck_history_value(e, "accuracy", 0));
    ck_history_free(e);
    snprintf(p, sizeof p, "%s/%s.keras", dir, name);
    return ck_model_save(m, p) ? die(p) : 0;
}

int main(int argc, char **argv)
{
    if (argc != 2 && argc != 4) {
        fprintf(stderr, "usage: bench_export_train DIR [MLP_EPOCHS CNN_EPOCHS]\n");
        return 2;
    }
    const char *dir = argv[1];
    int mlp_epochs = argc == 4 ? atoi(argv[2]) : 10, cnn_epochs = argc == 4 ? atoi(argv[3]) : 6;
    ck_array xtr = {0}, ytr = {0}, xte = {0}, yte = {0};
    char p[1024];
    if (load("train", &xtr, &ytr) || load("t10k", &xte, &yte)) return die(DATA);
    snprintf(p, sizeof p, "%s/y_test.npy", dir);
    if (save_images(dir, "calib.npy", &xtr, 1000) || save_images(dir, "x_test.npy", &xte, xte.shape.dim[0]) ||
        ck_npy_write(p, &yte))
        return die(dir);
    ck_model *a = mlp(), *b = cnn();
    int rc = train(a, dir, "mlp", mlp_epochs, &xtr, &ytr, &xte, &yte);
    if (!rc) rc = train(b, dir, "cnn", cnn_epochs, &xtr, &ytr, &xte, &yte);
    ck_model_free(a), ck_model_free(b);
    ck_array_free(&xtr), ck_array_free(&ytr), ck_array_free(&xte), ck_array_free(&yte);
    return rc;
}
