/* A sequence classifier trained end to end on data the example generates (no
 * files, no network): token sequences of varying length, padded with 0, labelled
 * 1 when token 1 occurs more often than token 2. Embedding(mask_zero=True) makes
 * the padding invisible to the LSTM (Keras masks), the LSTM reads the whole
 * sequence, Dense(1, sigmoid) decides. Prints the summary, Keras's progress lines
 * per epoch, and the accuracy on a held-out set, which should exceed 90 %. */
#include "ckeras.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define STEPS 12
#define VOCAB 8
#define N_TRAIN 2048
#define N_TEST 512

static int fail(const char *what)
{
    fprintf(stderr, "seq: %s: %s\n", what, ck_errmsg());
    return 1;
}

static uint32_t next(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(*s >> 33);
}

/* n sequences of 4..STEPS tokens in [1, VOCAB), zero-padded at the end. */
static void make_data(int64_t n, float *x, float *y, uint64_t seed)
{
    for (int64_t i = 0; i < n; i++) {
        int len = 4 + (int)(next(&seed) % (STEPS - 3)), ones = 0, twos = 0;
        do { /* no ties: the label must be defined */
            ones = twos = 0;
            for (int t = 0; t < STEPS; t++) {
                int tok = t < len ? 1 + (int)(next(&seed) % (VOCAB - 1)) : 0;
                x[i * STEPS + t] = (float)tok;
                ones += tok == 1, twos += tok == 2;
            }
        } while (ones == twos);
        y[i] = ones > twos ? 1.0f : 0.0f;
    }
}

int main(void)
{
    ck_set_num_threads(1); /* small model: threads would only wait on each other */
    ck_model *m = ck_sequential("token_counter");
    const char *layers[][2] = {
        {"InputLayer", "input_shape=(12,)"},
        {"Embedding", "input_dim=8, output_dim=8, mask_zero=True"},
        {"LSTM", "units=16"},
        {"Dense", "units=1, activation='sigmoid'"},
    };
    for (size_t i = 0; i < sizeof layers / sizeof layers[0]; i++)
        if (ck_sequential_add(m, ck_layer_new(layers[i][0], layers[i][1]))) return fail(layers[i][0]);
    if (ck_model_compile(m, "Adam(learning_rate=0.01)", "binary_crossentropy", "accuracy")) return fail("compile");
    char *text = NULL;
    if (ck_model_summary(m, NULL, &text)) return fail("summary");
    fputs(text, stdout);
    free(text);

    float *x = malloc((N_TRAIN + N_TEST) * STEPS * sizeof *x), *y = malloc((N_TRAIN + N_TEST) * sizeof *y);
    if (!x || !y) return fail("memory");
    make_data(N_TRAIN + N_TEST, x, y, 42);
    ck_fit_opts o = ck_fit_defaults();
    o.epochs = 4;
    o.verbose = 2;
    if (ck_model_fit(m, x, y, N_TRAIN, &o, NULL)) return fail("fit");
    ck_history *ev = NULL;
    if (ck_model_evaluate(m, x + N_TRAIN * STEPS, y + N_TRAIN, N_TEST, 64, &ev)) return fail("evaluate");
    double acc = ck_history_value(ev, "accuracy", 0);
    printf("held-out accuracy: %.3f (%s)\n", acc, acc > 0.9 ? "learned to count" : "did not learn");
    ck_history_free(ev);
    free(x), free(y);
    ck_model_free(m);
    return acc > 0.9 ? 0 : 1;
}
