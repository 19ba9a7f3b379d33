/* The table of every layer class, by Keras class name. Families register here
 * once; lookups are a linear scan over a few dozen names, done only while building. */
#include "layers/layers.h"

#include <string.h>

static const ck_layer_family *const families[] = {
    &ck_core_layers,
    &ck_merging_layers,
    &ck_embedding_layers, &ck_recurrent_layers, &ck_wrapper_layers, &ck_attention_layers, /* seq */
    &ck_conv_layers, &ck_pooling_layers, &ck_reshaping_layers, &ck_normalization_layers, &ck_noise_layers, &ck_activation_layers, &ck_preprocessing_layers, /* conv issue */
    &ck_app_layers, /* Keras Applications (convb) */
};
#define N_FAMILIES ((int)(sizeof families / sizeof families[0]))

int ck_layer_class_count(void)
{
    int n = 0;
    for (int f = 0; f < N_FAMILIES; f++) n += families[f]->count;
    return n;
}

static const ck_layer_class *class_at(int index)
{
    for (int f = 0; f < N_FAMILIES; f++) {
        if (index < families[f]->count) return families[f]->classes[index];
        index -= families[f]->count;
    }
    return NULL;
}

const char *ck_layer_class_at(int index)
{
    const ck_layer_class *c = index >= 0 ? class_at(index) : NULL;
    return c ? c->class_name : NULL;
}

const ck_layer_class *ck_find_layer_class(const char *name)
{
    /* Keras serializes GroupedQueryAttention under its export alias (seq). */
    if (!strcmp(name, "GroupQueryAttention")) name = "GroupedQueryAttention";
    int n = ck_layer_class_count();
    for (int i = 0; i < n; i++) {
        const ck_layer_class *c = class_at(i);
        if (!strcmp(c->class_name, name)) return c;
    }
    return NULL;
}

ck_status ck_layer_error(const ck_layer *l, ck_status st, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ck_fail(st, "%s '%s': %s", l->cls->class_name, l->name, msg);
}

bool ck_normalize_axis(int64_t axis, int rank, int *out)
{
    if (axis < 0) axis += rank;
    if (axis < 0 || axis >= rank) return false;
    *out = (int)axis;
    return true;
}
