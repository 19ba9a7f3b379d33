/* ck_history: the per-epoch logs fit() returns (Keras's History.history), one
 * row of doubles per epoch over a fixed, sorted set of keys. */
#include "train/train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_key(const void *a, const void *b) { return strcmp(a, b); }

ck_status ck_history_new(const char *const *keys, int n_keys, ck_history **out)
{
    if (n_keys > CK_MAX_LOG_KEYS)
        return ck_fail(CK_ERR_UNSUPPORTED, "too many metrics (%d logs, at most %d)", n_keys, CK_MAX_LOG_KEYS);
    ck_history *h = ck_calloc(1, sizeof *h);
    if (!h)
        return ck_fail(CK_ERR_NOMEM, "history: out of memory");
    for (int i = 0; i < n_keys; i++)
        if (ck_history_find(h, keys[i]) < 0)
            snprintf(h->keys[h->n_keys++], sizeof h->keys[0], "%s", keys[i]);
    qsort(h->keys, (size_t)h->n_keys, sizeof h->keys[0], cmp_key);
    *out = h;
    return CK_OK;
}

double *ck_history_append(ck_history *h)
{
    if (h->n_epochs == h->cap_epochs) {
        int cap = h->cap_epochs ? 2 * h->cap_epochs : 16;
        double *v = ck_realloc(h->values, (size_t)cap * (size_t)(h->n_keys ? h->n_keys : 1) * sizeof *v);
        if (!v)
            return NULL;
        h->values = v, h->cap_epochs = cap;
    }
    double *row = h->values + (size_t)h->n_epochs++ * (size_t)h->n_keys;
    for (int i = 0; i < h->n_keys; i++)
        row[i] = NAN;
    return row;
}

int ck_history_find(const ck_history *h, const char *key)
{
    for (int i = 0; i < h->n_keys; i++)
        if (strcmp(h->keys[i], key) == 0)
            return i;
    return -1;
}

double ck_history_last(const ck_history *h, const char *key)
{
    return ck_history_value(h, key, h->n_epochs - 1);
}

int ck_history_epochs(const ck_history *h) { return h ? h->n_epochs : 0; }
int ck_history_key_count(const ck_history *h) { return h ? h->n_keys : 0; }

const char *ck_history_key(const ck_history *h, int i)
{
    return h && i >= 0 && i < h->n_keys ? h->keys[i] : NULL;
}

double ck_history_value(const ck_history *h, const char *key, int epoch)
{
    int k = h && key ? ck_history_find(h, key) : -1;
    if (k < 0 || epoch < 0 || epoch >= h->n_epochs)
        return NAN;
    return h->values[(size_t)epoch * (size_t)h->n_keys + (size_t)k];
}

void ck_history_free(ck_history *h)
{
    if (!h)
        return;
    ck_free(h->values);
    ck_free(h);
}
