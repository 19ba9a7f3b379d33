/* Data-parallel training from C: the same program on every rank,
 *   mpirun -np 4 ./example_data_parallel
 * Each rank builds the same model and data; ck_model_fit then trains across the
 * ranks (the batch size is the global batch) and every rank ends with the same
 * weights; rank 0 prints. Without a launcher it trains on one process. */
#include <ckeras.h>
#include <stdio.h>
#include <stdlib.h>

int main(int argc, char **argv)
{
    ck_data_parallel *dp = NULL;
    if (ck_distribute_launched() && ck_distribute_init(&argc, &argv, &dp) != CK_OK) {
        fprintf(stderr, "%s\n", ck_errmsg());
        return 1;
    }
    enum { N = 512, D = 8 };
    float *x = malloc(sizeof(float) * N * D), *y = malloc(sizeof(float) * N);
    for (int i = 0; i < N; i++) { /* label: is the sum of the features positive? */
        float s = 0;
        for (int j = 0; j < D; j++)
            s += x[i * D + j] = (float)((i * 7 + j * 13) % 17) / 8.0f - 1.0f;
        y[i] = s > 0;
    }
    ck_model *m = ck_sequential("classifier");
    ck_sequential_add(m, ck_dense(16, "input_shape=(8,), activation='relu'"));
    ck_sequential_add(m, ck_dense(1, "activation='sigmoid'"));
    ck_model_set_seed(m, 1);
    ck_fit_opts o = ck_fit_defaults();
    o.epochs = 5, o.batch_size = 64, o.seed = 1, o.verbose = 2;
    ck_history *h = NULL;
    ck_status st = ck_model_compile(m, "adam", "binary_crossentropy", "accuracy");
    if (st == CK_OK)
        st = ck_model_set_distribution(m, dp);
    if (st == CK_OK)
        st = ck_model_fit(m, x, y, N, &o, &h);
    if (st != CK_OK) {
        fprintf(stderr, "rank %d: %s\n", ck_distribute_rank(dp), ck_errmsg());
        ck_distribute_abort(dp, 1); /* the other ranks would wait for this one */
    } else if (ck_distribute_rank(dp) == 0) {
        printf("accuracy after %d epochs on %d rank(s): %.4f\n", ck_history_epochs(h), ck_distribute_size(dp),
               ck_history_value(h, "accuracy", ck_history_epochs(h) - 1));
    }
    ck_history_free(h);
    ck_model_free(m);
    free(x), free(y);
    ck_distribute_finalize(dp);
    return st == CK_OK ? 0 : 1;
}
