/* The checks model.fit(x, y) makes on its arrays before training, with one
 * line naming the array and the shape it should have: the samples agree
 * ("Data cardinality is ambiguous"), each x fits its input, each y fits its
 * output under the compiled loss (keras/src/losses/loss.py
 * squeeze_or_expand_to_same_rank, then categorical_crossentropy's "Arguments
 * `target` and `output` must have the same shape" and
 * sparse_categorical_crossentropy's rank rule in keras/src/backend/jax/nn.py),
 * and every value is finite. */
#include "graph/graph.h"
#include "train/train.h"

#include <math.h>
#include <stdio.h>

/* "x", or "x[1]" when the model has several inputs (Keras's lists). */
static const char *array_name(char *buf, size_t cap, const char *base, int i, int n)
{
    if (n == 1) snprintf(buf, cap, "%s", base);
    else snprintf(buf, cap, "%s[%d]", base, i);
    return buf;
}

ck_status ck_check_finite(const char *name, const float *p, int64_t n_samples, int64_t per_sample)
{
    for (int64_t i = 0; i < n_samples * per_sample; i++)
        if (!isfinite(p[i]))
            return ck_fail(CK_ERR_NUMERIC, "%s: %s at sample %lld (value %lld of the sample): fit and evaluate "
                           "need finite data", name, isnan(p[i]) ? "NaN" : "infinity", (long long)(i / per_sample),
                           (long long)(i % per_sample));
    return CK_OK;
}

/* A shape as Python prints a tuple: (64,), (None, 2). */
static void tuple_format(const ck_shape *s, char *buf, size_t cap)
{
    size_t n = (size_t)snprintf(buf, cap, "(");
    for (int d = 0; d < s->rank && n < cap; d++) {
        if (s->dim[d] == CK_NONE) n += (size_t)snprintf(buf + n, cap - n, "%sNone", d ? ", " : "");
        else n += (size_t)snprintf(buf + n, cap - n, "%s%lld", d ? ", " : "", (long long)s->dim[d]);
    }
    if (n < cap) snprintf(buf + n, cap - n, s->rank == 1 ? ",)" : ")");
}

static bool same_dims(const ck_shape *a, const ck_shape *b)
{
    if (a->rank != b->rank) return false;
    for (int d = 1; d < a->rank; d++)
        if (a->dim[d] != b->dim[d] && a->dim[d] != CK_NONE && b->dim[d] != CK_NONE) return false;
    return true;
}

/* The label shape the loss wants for output shape `out` (rows first). */
static ck_shape wanted_labels(const ck_loss *l, const ck_shape *out)
{
    ck_shape w = *out;
    if (l->kind == CK_LOSS_SPARSE_CE) w.rank--;
    return w;
}

/* Keras's squeeze_or_expand_to_same_rank: a trailing 1 on either side goes. */
static bool labels_fit(const ck_loss *l, const ck_shape *y, const ck_shape *out)
{
    ck_shape want = wanted_labels(l, out), got = *y;
    if (got.rank == want.rank + 1 && got.dim[got.rank - 1] == 1) got.rank--;
    if (want.rank == got.rank + 1 && want.dim[want.rank - 1] == 1) want.rank--;
    return same_dims(&got, &want);
}

static ck_status labels_error(const ck_model *m, int i, const char *name, const ck_loss *l, const ck_shape *y,
                              const ck_shape *out)
{
    ck_shape want = wanted_labels(l, out);
    want.dim[0] = y->dim[0];
    char got_s[128], want_s[128], out_s[128];
    tuple_format(y, got_s, sizeof got_s);
    tuple_format(&want, want_s, sizeof want_s);
    ck_shape model_out = *out;
    model_out.dim[0] = CK_NONE;
    tuple_format(&model_out, out_s, sizeof out_s);
    const char *hint = "";
    if (l->kind == CK_LOSS_CATEGORICAL_CE && y->rank + 1 == out->rank)
        hint = "; class indices go with sparse_categorical_crossentropy";
    else if (l->kind == CK_LOSS_SPARSE_CE && y->rank == out->rank && y->dim[y->rank - 1] > 1)
        hint = "; one-hot rows go with categorical_crossentropy";
    return ck_fail(CK_ERR_SHAPE, "%s: shape %s does not fit %s on output '%s' %s: it wants %s%s%s", name, got_s,
                   ck_loss_name(l->kind), m->outputs[i]->node->layer->name, out_s,
                   l->kind == CK_LOSS_SPARSE_CE ? "class indices of shape " : l->kind == CK_LOSS_CATEGORICAL_CE
                       ? "one-hot rows of shape " : "shape ", want_s, hint);
}

static ck_status check_array(const char *name, const ck_array *a)
{
    if (!a || !a->data || a->dtype != CK_FLOAT32)
        return ck_fail(CK_ERR_ARG, "%s: a float32 array is required (ck_array_to_float32 converts)", name);
    if (a->shape.rank < 1)
        return ck_fail(CK_ERR_SHAPE, "%s: a scalar; fit wants samples along the first axis", name);
    int64_t per = 1;
    for (int d = 1; d < a->shape.rank; d++) per *= a->shape.dim[d];
    return ck_check_finite(name, a->data, a->shape.dim[0], per);
}

ck_status ck_compile_gap_check(const ck_model *m)
{
    if (!m->compile_gap) return CK_OK;
    return ck_fail(CK_ERR_UNSUPPORTED, "model '%s': the compile config it was saved with cannot be trained as Keras "
                   "would (%s); compile() it again", m->base.name, m->compile_gap);
}

ck_status ck_model_check_data(ck_model *m, const ck_array *x, int n_x, const ck_array *y, int n_y)
{
    if (!m || !x || (n_y && !y)) return ck_fail(CK_ERR_ARG, "ck_model_check_data: NULL argument");
    const ck_compiled *c = m->engine;
    ck_status st = ck_compile_gap_check(m);
    if (st) return st;
    if (!c || !c->has_loss) return ck_fail(CK_ERR_STATE, "model '%s': compile() it with a loss first", m->base.name);
    if (n_x != m->n_inputs || n_y != m->n_outputs)
        return ck_fail(CK_ERR_ARG, "model '%s' has %d inputs and %d outputs; got %d x and %d y arrays", m->base.name,
                       m->n_inputs, m->n_outputs, n_x, n_y);
    char name[32];
    for (int i = 0; i < n_x + n_y; i++) {
        const ck_array *a = i < n_x ? &x[i] : &y[i - n_x];
        const char *nm = i < n_x ? array_name(name, sizeof name, "x", i, n_x)
                                 : array_name(name, sizeof name, "y", i - n_x, n_y);
        st = check_array(nm, a);
        if (st) return st;
        if (a->shape.dim[0] != x[0].shape.dim[0])
            return ck_fail(CK_ERR_SHAPE, "Data cardinality is ambiguous: x%s has %lld samples, %s has %lld "
                           "(every array needs the same number of samples)", n_x > 1 ? "[0]" : "",
                           (long long)x[0].shape.dim[0], nm, (long long)a->shape.dim[0]);
    }
    ck_shape in_shapes[CK_MAX_IO], out_shapes[CK_MAX_IO];
    if (n_x > CK_MAX_IO || n_y > CK_MAX_IO)
        return ck_fail(CK_ERR_UNSUPPORTED, "model '%s': more than %d inputs or outputs", m->base.name, CK_MAX_IO);
    for (int i = 0; i < n_x; i++) in_shapes[i] = x[i].shape;
    st = ck_model_output_shapes_for(m, in_shapes, out_shapes);
    if (st) return st;
    for (int i = 0; i < n_y; i++)
        if (!labels_fit(&c->out[i].loss, &y[i].shape, &out_shapes[i]))
            return labels_error(m, i, array_name(name, sizeof name, "y", i, n_y), &c->out[i].loss, &y[i].shape,
                                &out_shapes[i]);
    return CK_OK;
}
