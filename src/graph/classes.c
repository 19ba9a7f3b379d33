/* Lookups in the table of every layer class, by Keras class name, and the
 * messages that name a layer. The table itself is filled in by the layers floor
 * (layers/registry.c); lookups are a linear scan over a few hundred names, done
 * only while building. */
#include "graph/graph.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int ck_layer_class_count(void)
{
    int n = 0;
    for (int f = 0; f < ck_n_layer_families; f++) n += ck_layer_families[f]->count;
    return n;
}

static const ck_layer_class *class_at(int index)
{
    for (int f = 0; f < ck_n_layer_families; f++) {
        if (index < ck_layer_families[f]->count) return ck_layer_families[f]->classes[index];
        index -= ck_layer_families[f]->count;
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
    /* A class Keras saves under an export alias (saved_name) is found by either. */
    int n = ck_layer_class_count();
    for (int i = 0; i < n; i++) {
        const ck_layer_class *c = class_at(i);
        if (!strcmp(c->class_name, name) || (c->keras.saved_name && !strcmp(c->keras.saved_name, name))) return c;
    }
    return NULL;
}

const ck_layer_class *ck_input_layer_class(void) { return ck_find_layer_class("InputLayer"); }

bool ck_layer_is_input(const ck_layer *l) { return !strcmp(l->cls->class_name, "InputLayer"); }

bool ck_ktensor_has_mask(const ck_ktensor *t)
{
    const ck_layer *l = t->node->layer;
    ck_mask_mode mode = l->cls->mask ? l->cls->mask(l, t->index) : CK_MASK_NONE;
    if (mode == CK_MASK_NEW) return true;
    if (mode == CK_MASK_ALL || mode == CK_MASK_ANY) {
        int n = 0;
        for (int k = 0; k < t->node->n_inputs; k++) n += ck_ktensor_has_mask(t->node->inputs[k]);
        return mode == CK_MASK_ALL ? n > 0 && n == t->node->n_inputs : n > 0;
    }
    return mode == CK_MASK_PASS && t->node->n_inputs > 0 && ck_ktensor_has_mask(t->node->inputs[0]);
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
