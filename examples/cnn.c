/* A LeNet-style CNN built with the C API: its Keras summary, then each layer's
 * parameter count spelled out from the weights the layer really created
 * (Conv2D: kh*kw*in*filters + filters; pooling and Flatten: none). The same model
 * is tests/golden/conv/lenet, whose summary comes from real Keras. */
#include "ckeras.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int fail(const char *what)
{
    fprintf(stderr, "cnn: %s: %s\n", what, ck_errmsg());
    return 1;
}

/* "5x5x1x6 = 150" for one weight. */
static void print_weight(const ck_weight_info *w)
{
    printf("    %-16s ", w->name);
    if (w->shape.rank == 0) printf("scalar");
    for (int i = 0; i < w->shape.rank; i++) printf("%s%lld", i ? " x " : "", (long long)w->shape.dim[i]);
    printf(" = %lld%s\n", (long long)w->size, w->trainable ? "" : "  (non-trainable)");
}

int main(void)
{
    static const struct { const char *cls, *kwargs; } net[] = {
        {"Conv2D", "filters=6, kernel_size=5, padding='same', activation='relu'"},
        {"MaxPooling2D", ""},
        {"Conv2D", "filters=16, kernel_size=5, activation='relu'"},
        {"MaxPooling2D", ""},
        {"Flatten", ""},
        {"Dense", "units=120, activation='relu'"},
        {"Dense", "units=84, activation='relu'"},
        {"Dense", "units=10, activation='softmax'"},
    };
    ck_model *m = ck_sequential(NULL);
    if (!m) return fail("sequential");
    for (size_t i = 0; i < sizeof net / sizeof net[0]; i++) {
        ck_layer *l = ck_layer_new(net[i].cls, net[i].kwargs);
        if (!l || ck_sequential_add(m, l)) return ck_model_free(m), fail(net[i].cls);
    }
    ck_shape in = {.rank = 4, .dim = {CK_NONE, 28, 28, 1}};
    if (ck_model_build_with(m, &in)) return ck_model_free(m), fail("build");

    char *text = NULL;
    if (ck_model_summary(m, NULL, &text)) return ck_model_free(m), fail("summary");
    fputs(text, stdout);
    free(text);

    printf("\nParameter arithmetic, layer by layer:\n");
    int nw = ck_model_weight_count(m);
    for (int li = 0; li < ck_model_layer_count(m); li++) {
        const ck_layer *l = ck_model_layer(m, li);
        printf("  %s (%s): %lld params\n", ck_layer_name(l), ck_layer_class_name(l),
               (long long)ck_layer_count_params(l));
        for (int wi = 0; wi < nw; wi++) {
            ck_weight_info w;
            if (!ck_model_weight(m, wi, &w) && !strcmp(w.layer, ck_layer_name(l))) print_weight(&w);
        }
    }
    ck_model_free(m);
    return 0;
}
