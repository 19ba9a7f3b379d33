/* The seed example of ckeras, the first thing a newcomer copies: the classic Keras
 * lesson
 *     Sequential([Dense(3, input_shape=(2,), activation='relu'),
 *                 Dense(2, activation='softmax')])
 * built with the C API, then its summary() (byte for byte what Keras 3 prints to a
 * pipe, tests/golden/core/classic_input_shape), its parameter counts and its
 * get_weights() in Keras's order. An optional argument is the initialiser seed. */
#include "ckeras.h"

#include <stdio.h>
#include <stdlib.h>

static int fail(ck_model *m, const char *what)
{
    fprintf(stderr, "seed: %s: %s\n", what, ck_errmsg());
    ck_model_free(m);
    return 1;
}

/* One weight as numpy prints a small float32 array: rows of a 2-D kernel, or one row. */
static void print_weight(const ck_weight_info *w)
{
    printf("%s  shape (", w->path);
    for (int d = 0; d < w->shape.rank; d++) printf("%s%lld", d ? ", " : "", (long long)w->shape.dim[d]);
    printf("%s)\n", w->shape.rank == 1 ? "," : "");
    int64_t cols = w->shape.rank >= 2 ? w->shape.dim[w->shape.rank - 1] : w->size;
    if (cols <= 0) return;
    for (int64_t r = 0; r < w->size / cols; r++) {
        printf("  [");
        for (int64_t c = 0; c < cols; c++) printf("%s% .8f", c ? ", " : "", (double)w->data[r * cols + c]);
        printf("]\n");
    }
}

int main(int argc, char **argv)
{
    ck_model *m = ck_sequential(NULL);
    if (!m) return fail(m, "sequential");
    if (argc > 1) ck_model_set_seed(m, strtoull(argv[1], NULL, 10));
    /* The model takes each layer, also when adding fails, so nothing leaks. */
    if (ck_sequential_add(m, ck_dense(3, "input_shape=(2,), activation='relu'")))
        return fail(m, "Dense(3)");
    if (ck_sequential_add(m, ck_dense(2, "activation='softmax'"))) return fail(m, "Dense(2)");
    if (ck_model_build(m)) return fail(m, "build");

    char *text = NULL;
    if (ck_model_summary(m, NULL, &text)) return fail(m, "summary");
    fputs(text, stdout);
    free(text);

    ck_param_counts c;
    if (ck_model_count_params(m, &c)) return fail(m, "count_params");
    printf("\ncounts: total %lld, trainable %lld, non-trainable %lld\n", (long long)c.total,
           (long long)c.trainable, (long long)c.non_trainable);

    printf("\nget_weights():\n");
    for (int i = 0; i < ck_model_weight_count(m); i++) {
        ck_weight_info w;
        if (ck_model_weight(m, i, &w)) return fail(m, "weights");
        print_weight(&w);
    }
    ck_model_free(m);
    return 0;
}
