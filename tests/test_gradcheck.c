/* Finite-difference gradient checks of the engine's backward pass, for every
 * layer class of the core and merging families, every activation, nested models
 * and shared layers. The loss is L = sum_i <output_i, R_i> with fixed random R_i,
 * so d L / d output_i = R_i; analytic gradients w.r.t. every input element and
 * every weight are compared with central differences of the float32 forward
 * (eps 5e-3: truncation error ~eps^2, rounding ~1e-7 * |L| / eps; the tolerance
 * |analytic - numeric| <= 2e-3 + 1e-2 * max(|analytic|, |numeric|) sits well
 * above both and well below any real bug, which shows up as O(1) errors). */
#include "gradcheck.h"

#include "engine/exec.h"

static const char *const activations[] = {
    "linear", "relu", "sigmoid", "softmax", "tanh", "elu", "selu", "gelu", "silu", "swish", "softplus",
    "softsign", "relu6", "leaky_relu", "hard_sigmoid", "hard_silu", "mish", "log_softmax", "exponential",
    "sparsemax", "hard_tanh", "sparse_plus", "squareplus", "celu", "log_sigmoid", "tanh_shrink", NULL};

int main(void)
{
    char kw[128], label[128];
    for (int i = 0; activations[i]; i++) {
        snprintf(kw, sizeof kw, "units=3, activation='%s'", activations[i]);
        snprintf(label, sizeof label, "Dense(%s)", activations[i]);
        gradcheck(label, gc_seq("(4,)", "Dense", kw), 1.0f, false);
        snprintf(kw, sizeof kw, "activation='%s'", activations[i]);
        snprintf(label, sizeof label, "Activation(%s)", activations[i]);
        /* x4 reaches the kinks and tails of relu6, hard_sigmoid, hard_silu. */
        gradcheck(label, gc_seq("(2, 3)", "Activation", kw), 4.0f, false);
    }
    gradcheck("Dense no bias", gc_seq("(4,)", "Dense", "units=2, use_bias=False"), 1.0f, false);
    gradcheck("Dense 3d", gc_seq("(2, 4)", "Dense", "units=3, activation='tanh'"), 1.0f, false);
    gradcheck("Dense 4d", gc_seq("(2, 2, 3)", "Dense", "units=2"), 1.0f, false);
    gradcheck("Dropout training", gc_seq("(6,)", "Dropout", "rate=0.5"), 1.0f, true);
    gradcheck("Dropout inference", gc_seq("(6,)", "Dropout", "rate=0.5"), 1.0f, false);
    gradcheck("Dropout noise_shape", gc_seq("(3, 4)", "Dropout", "rate=0.4, noise_shape=(None, 1, 4)"), 1.0f, true);
    gradcheck("Identity", gc_seq("(3,)", "Identity", ""), 1.0f, false);
    gradcheck("Flatten", gc_seq("(2, 3)", "Flatten", ""), 1.0f, false);
    gradcheck("Reshape", gc_seq("(2, 3)", "Reshape", "target_shape=(3, -1)"), 1.0f, false);
    gradcheck("Permute 2d", gc_seq("(2, 3)", "Permute", "dims=(2, 1)"), 1.0f, false);
    gradcheck("Permute 3d", gc_seq("(2, 3, 4)", "Permute", "dims=(3, 1, 2)"), 1.0f, false);
    gradcheck("RepeatVector", gc_seq("(3,)", "RepeatVector", "n=4"), 1.0f, false);

    const char *same2[] = {"(3, 4)", "(3, 4)"}, *same3[] = {"(3, 4)", "(3, 4)", "(3, 4)"};
    const char *bc[] = {"(3, 4)", "(1, 4)"}, *bc_rank[] = {"(3, 4)", "(4,)"};
    const char *merges[] = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", NULL};
    for (int i = 0; merges[i]; i++) {
        float sc = (strcmp(merges[i], "Maximum") && strcmp(merges[i], "Minimum")) ? 1.0f : -1.0f;
        snprintf(label, sizeof label, "%s", merges[i]);
        gradcheck(label, gc_merge(merges[i], "", same2, 2), sc, false);
        snprintf(label, sizeof label, "%s broadcast", merges[i]);
        gradcheck(label, gc_merge(merges[i], "", bc, 2), sc, false);
        snprintf(label, sizeof label, "%s rank broadcast", merges[i]);
        gradcheck(label, gc_merge(merges[i], "", bc_rank, 2), sc, false);
        if (strcmp(merges[i], "Subtract")) {
            snprintf(label, sizeof label, "%s x3", merges[i]);
            gradcheck(label, gc_merge(merges[i], "", same3, 3), sc, false);
        }
    }
    const char *cat[] = {"(2, 3)", "(2, 1)", "(2, 2)"}, *cat1[] = {"(1, 3)", "(2, 3)"};
    gradcheck("Concatenate", gc_merge("Concatenate", "", cat, 3), 1.0f, false);
    gradcheck("Concatenate axis=1", gc_merge("Concatenate", "axis=1", cat1, 2), 1.0f, false);
    const char *vec[] = {"(4,)", "(4,)"}, *mat[] = {"(3, 4)", "(2, 4)"}, *mixed[] = {"(3, 4)", "(4, 2)"};
    gradcheck("Dot", gc_merge("Dot", "axes=1", vec, 2), 1.0f, false);
    gradcheck("Dot normalize", gc_merge("Dot", "axes=1, normalize=True", vec, 2), 1.0f, false);
    gradcheck("Dot 3d", gc_merge("Dot", "axes=(2, 2)", mat, 2), 1.0f, false);
    gradcheck("Dot 3d normalize", gc_merge("Dot", "axes=(2, 2), normalize=True", mat, 2), 1.0f, false);
    gradcheck("Dot (2, 1)", gc_merge("Dot", "axes=(2, 1)", mixed, 2), 1.0f, false);

    /* Nested: a Sequential inside a functional model, called twice (shared weights
     * accumulate their gradients from both calls). */
    {
        ck_model *inner = ck_sequential("inner");
        ck_sequential_add(inner, ck_layer_new("InputLayer", "input_shape=(3,)"));
        ck_sequential_add(inner, ck_dense(3, "activation='tanh'"));
        ck_sequential_add(inner, ck_dense(2, ""));
        ck_model *g = ck_functional(NULL);
        ck_ktensor *a = ck_input(g, "shape=(3,)"), *b = ck_input(g, "shape=(3,)");
        ck_layer *il = ck_model_as_layer(inner);
        ck_ktensor *ya = ck_call1(g, il, a), *yb = ck_call1(g, il, b);
        ck_ktensor *pair[2] = {ya, yb}, *ins[2] = {a, b};
        ck_ktensor *y = ck_call(g, ck_layer_new("Add", ""), pair, 2);
        ck_ktensor *outs[2] = {y, ya};
        CHECK_OK(ck_functional_finish(g, ins, 2, outs, 2));
        gradcheck("nested shared Sequential", g, 1.0f, false);
    }
    {
        ck_model *g = ck_functional(NULL);
        ck_ktensor *x = ck_input(g, "shape=(4,)");
        ck_layer *d = ck_dense(4, "activation='sigmoid'");
        ck_ktensor *y = ck_call1(g, d, ck_call1(g, d, x));
        CHECK_OK(ck_functional_finish(g, &x, 1, &y, 1));
        gradcheck("shared Dense twice", g, 1.0f, false);
    }
    printf("gradcheck: %d models checked\n", gradcheck_models());
    CHECK(gradcheck_models() == 96, "expected 96 models, checked %d", gradcheck_models());
    return test_report("test_gradcheck");
}
