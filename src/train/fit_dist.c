/*
 * The checks of data-parallel fit: at the start every rank must hold the same
 * model (weight layout and classes), the same data (a checksum of every array)
 * and the same fit options, and a first global batch of at least one row each, or every rank fails with one line naming the rank
 * that differs; rank 0's weights are then broadcast. After each epoch the
 * weights' checksums are compared, so ranks that drifted apart are caught.
 */
#include "train/train.h"
#include "dist/dist.h"

#include <string.h>

/* FNV-1a over 32-bit words (the data are floats): order-sensitive and cheap. */
static uint64_t hash_words(uint64_t h, const void *p, int64_t bytes)
{
    const unsigned char *c = p;
    for (int64_t i = 0; i + 4 <= bytes; i += 4) {
        uint32_t w;
        memcpy(&w, c + i, 4);
        h = (h ^ w) * 0x100000001b3ull;
    }
    for (int64_t i = bytes & ~(int64_t)3; i < bytes; i++)
        h = (h ^ c[i]) * 0x100000001b3ull;
    return h;
}

static const uint64_t fnv_basis = 0xcbf29ce484222325ull;

/* The layer classes and weight sizes, in weight order. */
static ck_status model_hash(ck_model *m, int *n_weights, uint64_t *out)
{
    ck_weight_ref *refs;
    ck_status st = ck_model_collect_weights(m, &refs, n_weights);
    if (st != CK_OK)
        return st;
    uint64_t h = fnv_basis;
    for (int i = 0; i < *n_weights && st == CK_OK; i++) {
        const ck_layer *l = refs[i].layer;
        h = hash_words(h, l->cls->class_name, (int64_t)strlen(l->cls->class_name));
        h = hash_words(h, &refs[i].w->size, sizeof refs[i].w->size);
    }
    ck_free(refs);
    *out = h;
    return st;
}

ck_status ck_fit_dist_begin(ck_model *m, const float *const *x, const float *const *y, int64_t n, int64_t n_train,
                            int64_t batch, const ck_fit_opts *o)
{
    const ck_compiled *c = m->engine;
    if (c->regs.n_act)
        return ck_fail(CK_ERR_UNSUPPORTED, "model '%s': activity regularizers are not supported in data-parallel "
                       "fit (their penalty is a per-replica batch mean)", m->base.name);
    int size = ck_distribute_size(m->data_parallel);
    int64_t first = batch < n_train ? batch : n_train;
    if (first < size) /* the first step teaches every rank the step's collectives */
        return ck_fail(CK_ERR_ARG, "distributed fit: a first batch of %lld rows leaves ranks without data on %d "
                       "ranks; use a batch of at least one row per rank", (long long)first, size);
    int n_weights;
    uint64_t mh, dh = fnv_basis;
    ck_status st = model_hash(m, &n_weights, &mh);
    if (st != CK_OK)
        return st;
    for (int i = 0; i < c->n_in; i++)
        dh = hash_words(dh, x[i], n * c->in_size[i] * (int64_t)sizeof(float));
    for (int i = 0; i < c->n_out; i++)
        dh = hash_words(dh, y[i], n * c->out[i].rows * c->out[i].label_width * (int64_t)sizeof(float));
    if (o->sample_weight)
        dh = hash_words(dh, o->sample_weight, n * (int64_t)sizeof(float));
    if (o->val_x) /* one input and one output (check_fit) */
        dh = hash_words(hash_words(dh, o->val_x, o->n_val * c->in_size[0] * (int64_t)sizeof(float)), o->val_y,
                        o->n_val * c->out[0].rows * c->out[0].label_width * (int64_t)sizeof(float));
    static const char *const names[] = {
        "number of weights", "weight values", "model layout (layer classes and weight sizes)", "number of samples",
        "data checksum", "batch size", "epochs", "initial epoch", "shuffle seed", "shuffle", "validation split"};
    int64_t v[] = {n_weights, m->weight_block_size, (int64_t)mh, n, (int64_t)dh, batch, o->epochs,
                   o->initial_epoch, (int64_t)o->seed, o->shuffle, (int64_t)(o->validation_split * 1e9)};
    if ((st = ck_dist_check_same(m->data_parallel, names, v, CK_N_OF(v))) != CK_OK)
        return st;
    if ((st = ck_model_init_weights(m)) != CK_OK)
        return st;
    st = ck_dist_broadcast(m->data_parallel, m->weight_block, m->weight_block_size);
    ck_model_weights_changed(m);
    return st;
}

ck_status ck_fit_dist_same_weights(ck_model *m, int epoch)
{
    char what[80];
    snprintf(what, sizeof what, "weights' checksum after epoch %d", epoch + 1);
    const char *names[] = {what};
    int64_t h = (int64_t)hash_words(fnv_basis, m->weight_block, m->weight_block_size * (int64_t)sizeof(float));
    ck_status st = ck_dist_check_same(m->data_parallel, names, &h, 1);
    return st == CK_OK ? CK_OK : ck_fail_prefix(st, "model '%s': ", m->base.name);
}
