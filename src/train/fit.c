/*
 * model.compile / fit / evaluate on the execution engine, with Keras 3's
 * semantics: a training step is forward (training=true), loss with
 * "sum_over_batch_size", backward, one optimizer update; the epoch's "loss" is
 * the mean of batch losses weighted by batch rows, metrics are stateful over the
 * epoch and computed on the training-mode outputs; validation runs in inference
 * mode at each epoch end and its logs are prefixed "val_". Every buffer of the
 * loop is allocated before the first step.
 */
#include "train/train.h"
#include "dist/dist.h"

#include <math.h>
#include <string.h>

/* ---- compile --------------------------------------------------------------------- */

static void drop_kept(ck_compiled *c);

static void compiled_free(void *p)
{
    ck_compiled *c = p;
    if (!c)
        return;
    drop_kept(c);
    ck_optimizer_release(&c->opt);
    ck_regs_release(&c->regs);
    for (int o = 0; o < c->n_out; o++)
        for (int i = 0; i < c->out[o].n_metrics; i++)
            ck_metric_release(&c->out[o].metrics[i]);
    for (int i = 0; i < CK_MAX_IO; i++)
        ck_free(c->given.metrics[i]), ck_free(c->given.weighted[i]);
    ck_free(c);
}

static bool name_taken(const ck_compiled *c, const char *name)
{
    for (int o = 0; o < c->n_out; o++)
        for (int i = 0; i < c->out[o].n_metrics; i++)
            if (!strcmp(c->out[o].metrics[i].name, name))
                return true;
    return false;
}

/* The log name of a new metric: the output's name in front when the model has
 * several outputs ("cls_accuracy"); a weighted metric whose name is taken becomes
 * "weighted_<name>" (Keras 3's CompileMetrics.result); a name still taken gets
 * "_1", "_2", ... as Keras names a second "mae" "mae_1". */
static void name_metric(const ck_compiled *c, ck_metric *m, const char *prefix, bool weighted)
{
    char name[sizeof m->name], base[sizeof m->name];
    snprintf(base, sizeof base, "%s", m->name);
    if (prefix)
        snprintf(name, sizeof name, "%.40s_%.22s", prefix, base);
    else
        snprintf(name, sizeof name, "%s", base);
    if (weighted && name_taken(c, name)) {
        if (prefix)
            snprintf(name, sizeof name, "%.30s_weighted_%.22s", prefix, base);
        else
            snprintf(name, sizeof name, "weighted_%.50s", base);
    }
    char unique[sizeof name];
    memcpy(unique, name, sizeof name);
    for (int k = 1; name_taken(c, unique) && k < 1000; k++)
        snprintf(unique, sizeof unique, "%.58s_%d", name, k);
    memcpy(m->name, unique, sizeof name);
}

static ck_status parse_metrics(ck_compiled *c, ck_out_spec *out, const char *list, const char *prefix,
                               bool weighted)
{
    if (!list)
        return CK_OK;
    const char *s = list;
    while (*s) {
        while (*s == ' ' || *s == ',')
            s++;
        if (!*s)
            break;
        const char *e = s;
        int depth = 0;
        while (*e && (depth > 0 || *e != ',')) /* commas inside "AUC(name='a, b')" stay */
            depth += (*e == '(') - (*e == ')'), e++;
        size_t n = (size_t)(e - s);
        while (n > 0 && s[n - 1] == ' ')
            n--;
        if (out->n_metrics == CK_MAX_METRICS)
            return ck_fail(CK_ERR_UNSUPPORTED, "compile: at most %d metrics per output", CK_MAX_METRICS);
        char spec[256];
        snprintf(spec, sizeof spec, "%.*s", (int)n, s);
        ck_metric *m = &out->metrics[out->n_metrics];
        ck_status st = ck_metric_parse(spec, out->d, out->label_width, m);
        if (st != CK_OK)
            return ck_fail_prefix(st, "compile: ");
        name_metric(c, m, prefix, weighted);
        out->weighted[out->n_metrics++] = weighted;
        s = e;
    }
    return CK_OK;
}

static ck_status build_optimizer(ck_model *m, ck_compiled *c)
{
    ck_weight_ref *refs;
    int n;
    ck_status st = ck_model_collect_weights(m, &refs, &n);
    if (st != CK_OK)
        return st;
    ck_opt_var *vars = ck_malloc((size_t)(n ? n : 1) * sizeof *vars);
    int nv = 0;
    if (!vars) {
        ck_free(refs);
        return ck_fail(CK_ERR_NOMEM, "compile: out of memory");
    }
    for (int i = 0; i < n; i++)
        if (refs[i].trainable && refs[i].w->dtype == CK_FLOAT32)
            vars[nv++] = (ck_opt_var){refs[i].w->value - m->weight_block, refs[i].w->size};
    st = ck_optimizer_build(&c->opt, vars, nv);
    ck_free(vars);
    ck_free(refs);
    if (st == CK_OK) { /* summary(): "Optimizer params" with iteration as int32 */
        m->optimizer_params = ck_optimizer_param_count(&c->opt);
        m->optimizer_bytes = 4.0 * (double)m->optimizer_params;
    }
    return st;
}

/* Floats per sample. A None dim in the model's own shapes (a variable-length
 * input) leaves -1 and marks the compile varlen: each *_shaped call fills the
 * sizes in from its data's shapes (shapes_of with in_shapes). */
static ck_status known_size(ck_model *m, bool *unknown, const ck_shape *s, const char *what, int i, int64_t *out)
{
    ck_status st = ck_shape_size_from(s, 1, out);
    if (st == CK_OK && *out < 0) {
        *unknown = true;
        *out = -1;
    } else if (st == CK_OK && *out == 0) {
        st = ck_fail(CK_ERR_SHAPE, "model '%s': %s %d has no values per sample", m->base.name, what, i);
    }
    return st;
}

static ck_status shapes_of(ck_model *m, ck_compiled *c, const ck_shape *in_shapes)
{
    if (m->n_inputs > CK_MAX_IO || m->n_outputs > CK_MAX_IO)
        return ck_fail(CK_ERR_UNSUPPORTED, "model '%s': training supports at most %d inputs and %d outputs "
                       "(it has %d and %d)", m->base.name, CK_MAX_IO, CK_MAX_IO, m->n_inputs, m->n_outputs);
    c->n_in = m->n_inputs;
    c->n_out = m->n_outputs;
    bool unknown = false;
    ck_shape outs[CK_MAX_IO];
    ck_status st = in_shapes ? ck_model_output_shapes_for(m, in_shapes, outs) : CK_OK;
    for (int i = 0; st == CK_OK && i < c->n_in; i++)
        st = known_size(m, &unknown, in_shapes ? &in_shapes[i] : ck_model_input_shape(m, i), "input", i,
                        &c->in_size[i]);
    for (int i = 0; st == CK_OK && i < c->n_out; i++) {
        ck_out_spec *o = &c->out[i];
        const ck_shape *out = in_shapes ? &outs[i] : ck_model_output_shape(m, i);
        if ((st = known_size(m, &unknown, out, "output", i, &o->out_size)) != CK_OK)
            break;
        o->d = out->dim[out->rank - 1];
        if (o->d <= 0) /* metrics and label widths are set up at compile from it */
            return ck_fail(CK_ERR_SHAPE, "model '%s': training needs the last dimension of output %d known",
                           m->base.name, i);
        o->rows = o->out_size < 0 ? -1 : o->out_size / o->d;
        o->label_width = ck_loss_label_width(&o->loss, o->d);
    }
    if (st == CK_OK && in_shapes && unknown)
        st = ck_fail(CK_ERR_SHAPE, "model '%s': the data's shapes leave a dimension unknown", m->base.name);
    if (!in_shapes)
        c->varlen = unknown;
    return st;
}

/* Before a fit/evaluate: sizes for this call's data (in_shapes, or the model's
 * own shapes), and the shapes the engine plans with. */
static ck_status shapes_for_call(ck_model *m, ck_compiled *c, const ck_shape *in_shapes)
{
    c->in_shapes = NULL;
    if (!in_shapes && !c->varlen)
        return CK_OK;
    if (!in_shapes)
        return ck_fail(CK_ERR_SHAPE, "model '%s': an input has unknown (None) dimensions; "
                       "ck_model_fit_shaped / ck_model_evaluate_shaped take them from the data", m->base.name);
    ck_status st = shapes_of(m, c, in_shapes);
    if (st == CK_OK)
        c->in_shapes = in_shapes;
    return st;
}

static const char *output_name(const ck_model *m, int i) { return m->outputs[i]->node->layer->name; }

/* losses: n_losses specs, one per output, or one for every output. */
static ck_status compile_outputs(ck_model *m, ck_compiled *c, const char *const *losses, int n_losses,
                                 const double *loss_weights, const char *const *metrics, int n_metrics)
{
    if (n_losses != 1 && n_losses != m->n_outputs)
        return ck_fail(CK_ERR_ARG, "compile: %d losses for %d outputs", n_losses, m->n_outputs);
    if (n_metrics > 0 && n_metrics != m->n_outputs) /* Keras: "tuple arity mismatch" */
        return ck_fail(CK_ERR_ARG, "compile: %d metric list(s) for %d outputs; give one per output",
                       n_metrics, m->n_outputs);
    if (m->n_outputs > CK_MAX_IO)
        return shapes_of(m, c, NULL);
    c->given.n_losses = n_losses, c->given.loss_weights = loss_weights != NULL, c->given.n_metrics = n_metrics;
    for (int i = 0; i < n_metrics; i++)
        if (metrics[i] && !(c->given.metrics[i] = ck_strdup(metrics[i])))
            return ck_fail(CK_ERR_NOMEM, "compile: out of memory");
    for (int i = 0; i < m->n_outputs; i++) {
        ck_status st = ck_loss_parse(losses[n_losses == 1 ? 0 : i], &c->out[i].loss);
        if (st != CK_OK)
            return m->n_outputs > 1 ? ck_fail_prefix(st, "output '%s': ", output_name(m, i)) : st;
        c->out[i].weight = loss_weights ? loss_weights[i] : 1.0;
    }
    ck_status st = shapes_of(m, c, NULL);
    for (int i = 0; st == CK_OK && i < c->n_out; i++) {
        bool many = c->n_out > 1;
        st = parse_metrics(c, &c->out[i], n_metrics ? metrics[i] : NULL,
                           many ? output_name(m, i) : NULL, false);
        c->out[i].loss_tracker = (ck_metric){.kind = CK_MET_LOSS};
        snprintf(c->out[i].loss_tracker.name, sizeof c->out[i].loss_tracker.name, "%.58s_loss", output_name(m, i));
    }
    return st;
}

ck_status ck_model_compile_outputs(ck_model *m, const char *optimizer, const char *const *losses, int n_losses,
                                   const double *loss_weights, const char *const *metrics, int n_metrics)
{
    if (!m || !optimizer || n_losses < 0 || (n_losses && !losses) || n_metrics < 0 || (n_metrics && !metrics))
        return ck_fail(CK_ERR_ARG, "ck_model_compile: model and optimizer are required");
    ck_free(m->compile_gap); /* this compile is the one in effect now */
    m->compile_gap = NULL;
    for (int i = 0; i < n_losses; i++)
        if (!losses[i])
            return ck_fail(CK_ERR_ARG, "ck_model_compile: loss %d is NULL", i);
    ck_status st = ck_model_build(m);
    if (st == CK_OK && !m->base.built)
        st = ck_fail(CK_ERR_STATE, "model '%s' is not built (give its input shape)", m->base.name);
    if (st != CK_OK)
        return st;
    ck_compiled *c = ck_calloc(1, sizeof *c);
    if (!c)
        return ck_fail(CK_ERR_NOMEM, "compile: out of memory");
    /* Keras's compile(optimizer) with loss=None: the optimizer is there (its
     * variables counted), but the model cannot be trained. */
    c->has_loss = n_losses > 0;
    c->n_in = m->n_inputs, c->n_out = m->n_outputs;
    st = ck_optimizer_parse(optimizer, &c->opt);
    if (st == CK_OK && c->has_loss)
        st = compile_outputs(m, c, losses, n_losses, loss_weights, metrics, n_metrics);
    if (st == CK_OK)
        st = ck_regs_collect(m, &c->regs);
    if (st == CK_OK)
        st = build_optimizer(m, c);
    if (st != CK_OK) {
        compiled_free(c);
        return ck_fail_prefix(st, "model '%s': ", m->base.name);
    }
    c->loss_tracker = (ck_metric){.kind = CK_MET_LOSS};
    snprintf(c->loss_tracker.name, sizeof c->loss_tracker.name, "loss");
    if (m->engine_free)
        m->engine_free(m->engine);
    m->engine = c;
    m->engine_free = compiled_free;
    return CK_OK;
}

ck_status ck_model_compile_weighted_metrics(ck_model *m, const char *const *metrics, int n_metrics)
{
    if (!m || n_metrics < 1 || !metrics)
        return ck_fail(CK_ERR_ARG, "ck_model_compile_weighted_metrics: model and metrics are required");
    ck_compiled *c = m->engine;
    if (!c)
        return ck_fail(CK_ERR_STATE, "model '%s': compile() it before adding weighted metrics", m->base.name);
    if (n_metrics != c->n_out)
        return ck_fail(CK_ERR_ARG, "compile: %d weighted metric list(s) for %d outputs; give one per output",
                       n_metrics, c->n_out);
    c->given.n_weighted = n_metrics;
    for (int i = 0; i < c->n_out; i++) {
        ck_free(c->given.weighted[i]);
        c->given.weighted[i] = metrics[i] ? ck_strdup(metrics[i]) : NULL;
        if (metrics[i] && !c->given.weighted[i])
            return ck_fail(CK_ERR_NOMEM, "compile: out of memory");
        ck_status st = parse_metrics(c, &c->out[i], metrics[i],
                                     c->n_out > 1 ? output_name(m, i) : NULL, true);
        if (st != CK_OK)
            return ck_fail_prefix(st, "model '%s': ", m->base.name);
    }
    return CK_OK;
}

ck_status ck_model_compile(ck_model *m, const char *optimizer, const char *loss, const char *metrics)
{
    return ck_model_compile_outputs(m, optimizer, &loss, loss ? 1 : 0, NULL, &metrics, metrics ? 1 : 0);
}

/* ---- the loop's buffers ------------------------------------------------------------ */

typedef struct loop_bufs {
    ck_exec *ex;
    int64_t batch;
    int64_t planned, order_cap; /* the engine's batch, order's length                  */
    uint64_t plan_gen;     /* the model's when planned; ~0: shaped for one call only     */
    float *x[CK_MAX_IO];   /* [batch, in_size] per input                                */
    float *y[CK_MAX_IO], *sw[CK_MAX_IO]; /* per output: [batch, rows*label_width], [batch*rows] */
    float *per_row[CK_MAX_IO], *grad[CK_MAX_IO]; /* [batch*rows], [batch, out_size]      */
    int64_t *order;        /* [n] sample order of the epoch                             */
    ck_data_parallel *dist; /* the model's (data-parallel), or NULL                      */
    double *before;        /* dist: [n_state] the metrics' states before the step       */
    double *sums;          /* dist: [CK_MAX_IO + 1 + n_state] what the ranks add up     */
    int64_t n_state;
} loop_bufs;

static void bufs_free(loop_bufs *b)
{
    ck_exec_free(b->ex);
    for (int i = 0; i < CK_MAX_IO; i++) {
        ck_free(b->x[i]), ck_free(b->y[i]), ck_free(b->sw[i]);
        ck_free(b->per_row[i]), ck_free(b->grad[i]);
    }
    ck_free(b->order), ck_free(b->before), ck_free(b->sums);
    memset(b, 0, sizeof *b);
}

static float *floats(int64_t n) { return ck_malloc((size_t)(n > 0 ? n : 1) * sizeof(float)); }

/* Doubles of every metric's state (data-parallel fit sums them per step). */
static int64_t metric_state_size(const ck_compiled *c)
{
    int64_t n = 0;
    for (int k = 0; k < c->n_out; k++)
        for (int i = 0; i < c->out[k].n_metrics; i++)
            n += ck_metric_state_size(&c->out[k].metrics[i]);
    return n;
}

static ck_status bufs_new(ck_model *m, const ck_compiled *c, int64_t batch, int64_t n, loop_bufs *b)
{
    memset(b, 0, sizeof *b);
    b->batch = batch;
    bool ok = (b->order = ck_malloc((size_t)(n > 0 ? n : 1) * sizeof(int64_t))) != NULL;
    for (int i = 0; i < c->n_in; i++)
        ok = ok && (b->x[i] = floats(batch * c->in_size[i]));
    for (int i = 0; i < c->n_out; i++) {
        const ck_out_spec *o = &c->out[i];
        int64_t r = batch * o->rows;
        ok = ok && (b->y[i] = floats(r * o->label_width)) && (b->sw[i] = floats(r)) &&
             (b->per_row[i] = floats(r)) && (b->grad[i] = floats(batch * o->out_size));
    }
    if ((b->dist = m->data_parallel)) {
        b->n_state = metric_state_size(c);
        ok = ok && (b->before = ck_malloc((size_t)(b->n_state + 1) * sizeof(double))) &&
             (b->sums = ck_malloc((size_t)(CK_MAX_IO + 1 + b->n_state) * sizeof(double)));
    }
    if (!ok) {
        bufs_free(b);
        return ck_fail(CK_ERR_NOMEM, "fit: out of memory for batch %lld", (long long)batch);
    }
    ck_status st = ck_exec_create_shaped(m, batch, c->in_shapes, &b->ex);
    if (st != CK_OK) {
        bufs_free(b);
        return st;
    }
    ck_exec_set_act_regs(b->ex, c->regs.act, c->regs.n_act);
    return CK_OK;
}

static void drop_kept(ck_compiled *c)
{
    if (c->kept)
        bufs_free(c->kept);
    ck_free(c->kept);
    c->kept = NULL;
}

/* fit's buffers: those of the last fit when they fit this call (same planned
 * batch, model not planned again since, no per-call shapes), else new ones,
 * kept with the compiled model for the next call: planning the engine again
 * cost the CNN about 10 ms a call. */
static ck_status fit_bufs(ck_model *m, ck_compiled *c, int64_t batch, int64_t n, loop_bufs **out)
{
    loop_bufs *k = c->kept;
    if (k && !c->in_shapes && k->planned == batch && k->order_cap >= n && k->plan_gen == m->plan_gen &&
        k->dist == m->data_parallel && (!k->dist || k->n_state == metric_state_size(c))) {
        ck_exec_restart(k->ex);
        *out = k;
        return CK_OK;
    }
    drop_kept(c);
    if (!(k = ck_calloc(1, sizeof *k)))
        return ck_fail(CK_ERR_NOMEM, "fit: out of memory");
    ck_status st = bufs_new(m, c, batch, n, k);
    if (st != CK_OK) {
        ck_free(k);
        return st;
    }
    c->fit_plans++;
    k->planned = batch, k->order_cap = n;
    k->plan_gen = c->in_shapes ? ~(uint64_t)0 : m->plan_gen;
    *out = c->kept = k;
    return CK_OK;
}

/* The data of one fit/evaluate call. */
typedef struct dataset {
    const float *x[CK_MAX_IO], *y[CK_MAX_IO], *sw;
    int64_t n;
    const float *class_weight;
    int n_class_weight;
} dataset;

/* Class of a row's label: the index (sparse) or the argmax of a one-hot row. */
static int64_t label_class(const float *t, int64_t width)
{
    if (width == 1)
        return (int64_t)t[0];
    int64_t a = 0;
    for (int64_t j = 1; j < width; j++)
        if (t[j] > t[a])
            a = j;
    return a;
}

static void gather_weights(const ck_out_spec *o, const dataset *ds, int64_t s, int64_t i, const float *yrow,
                           float *sw)
{
    for (int64_t r = 0; r < o->rows; r++) {
        float w = ds->sw ? ds->sw[s] : 1.f;
        if (ds->class_weight) {
            int64_t k = label_class(yrow + r * o->label_width, o->label_width);
            w *= (k >= 0 && k < ds->n_class_weight) ? ds->class_weight[k] : 1.f;
        }
        sw[i * o->rows + r] = w;
    }
}

/* Gathers rows order[first..first+rows) into the batch buffers, with their weights
 * (sample_weight times class_weight, repeated over each sample's loss rows). */
static bool gather(const ck_compiled *c, const dataset *ds, const int64_t *order, int64_t first,
                   int64_t rows, loop_bufs *b)
{
    bool weighted = ds->sw || ds->class_weight;
    for (int64_t i = 0; i < rows; i++) {
        int64_t s = order ? order[first + i] : first + i;
        for (int k = 0; k < c->n_in; k++)
            memcpy(b->x[k] + i * c->in_size[k], ds->x[k] + s * c->in_size[k], (size_t)c->in_size[k] * sizeof(float));
        for (int k = 0; k < c->n_out; k++) {
            const ck_out_spec *o = &c->out[k];
            int64_t yw = o->rows * o->label_width;
            memcpy(b->y[k] + i * yw, ds->y[k] + s * yw, (size_t)yw * sizeof(float));
            if (weighted)
                gather_weights(o, ds, s, i, ds->y[k] + s * yw, b->sw[k]);
        }
    }
    return weighted;
}

static void reset_metrics(ck_compiled *c)
{
    ck_metric_reset(&c->loss_tracker);
    for (int k = 0; k < c->n_out; k++) {
        ck_metric_reset(&c->out[k].loss_tracker);
        for (int i = 0; i < c->out[k].n_metrics; i++)
            ck_metric_reset(&c->out[k].metrics[i]);
    }
}

/* Data-parallel: the metrics' states are put aside and reset, so this step's
 * updates hold only this rank's part, which log_step adds across ranks. */
static void metrics_put_aside(ck_compiled *c, loop_bufs *b)
{
    double *s = b->before;
    for (int k = 0; k < c->n_out; k++)
        for (int i = 0; i < c->out[k].n_metrics; i++) {
            ck_metric_state_get(&c->out[k].metrics[i], s);
            s += ck_metric_state_size(&c->out[k].metrics[i]);
            ck_metric_reset(&c->out[k].metrics[i]);
        }
}

/* parts[0..n) and every rank's metric parts summed over the ranks (in rank
 * order), each metric's state then the one put aside plus the sum. */
static ck_status sum_over_ranks(ck_compiled *c, loop_bufs *b, double *parts, int n)
{
    double *v = b->sums;
    memcpy(v, parts, (size_t)n * sizeof *v);
    int64_t at = n;
    for (int k = 0; k < c->n_out; k++)
        for (int i = 0; i < c->out[k].n_metrics; i++) {
            ck_metric_state_get(&c->out[k].metrics[i], v + at);
            at += ck_metric_state_size(&c->out[k].metrics[i]);
        }
    ck_status st = ck_dist_sum(b->dist, v, (int)at);
    if (st != CK_OK)
        return st;
    memcpy(parts, v, (size_t)n * sizeof *v);
    for (int64_t j = n; j < at; j++)
        v[j] += b->before[j - n];
    at = n;
    for (int k = 0; k < c->n_out; k++)
        for (int i = 0; i < c->out[k].n_metrics; i++) {
            ck_metric_state_set(&c->out[k].metrics[i], v + at);
            at += ck_metric_state_size(&c->out[k].metrics[i]);
        }
    return CK_OK;
}

/* The loss of the last forward over `rows` rows of a global batch of
 * global_rows (equal on one process): parts[k] is output k's share of its
 * "sum_over_batch_size" loss, parts[n_out] the activity penalties; each
 * output's grad (when wanted) is the gradient of its share, scaled by the
 * output's weight. Metrics are updated on these rows. */
static ck_status batch_loss(ck_compiled *c, loop_bufs *b, int64_t rows, int64_t global_rows, bool weighted,
                            bool want_grad, double *parts)
{
    if (b->dist)
        metrics_put_aside(c, b);
    for (int k = 0; k < c->n_out; k++) {
        ck_out_spec *o = &c->out[k];
        parts[k] = 0;
        if (rows == 0)
            continue;
        const float *pred = ck_exec_output(b->ex, k);
        int64_t lr = rows * o->rows;
        float *grad = want_grad ? b->grad[k] : NULL;
        ck_status st = ck_loss_rows(&o->loss, b->y[k], pred, lr, o->d, b->per_row[k], grad);
        if (st != CK_OK)
            return st;
        parts[k] = ck_loss_reduce_share(b->per_row[k], weighted ? b->sw[k] : NULL, lr, global_rows * o->rows,
                                        o->d, grad);
        if (grad && o->weight != 1.0)
            for (int64_t i = 0; i < rows * o->out_size; i++)
                grad[i] *= (float)o->weight;
        /* compile(metrics=...) are unweighted in Keras 3, weighted_metrics see sample weights */
        for (int i = 0; i < o->n_metrics; i++)
            ck_metric_update(&o->metrics[i], b->y[k], pred, lr, o->d, o->label_width,
                             o->weighted[i] && weighted ? b->sw[k] : NULL);
    }
    parts[c->n_out] = c->regs.n_act && rows > 0 ? ck_exec_act_penalty(b->ex) : 0;
    return CK_OK;
}

/* The step's logs from batch_loss's parts (summed over the ranks first when
 * data-parallel): sum over outputs of weight * loss, plus the penalties (the
 * weight penalties now); the loss trackers count global_rows. */
static ck_status log_step(ck_compiled *c, loop_bufs *b, double *parts, int64_t global_rows, double *loss)
{
    ck_status st = b->dist ? sum_over_ranks(c, b, parts, c->n_out + 1) : CK_OK;
    if (st != CK_OK)
        return st;
    double total = 0;
    for (int k = 0; k < c->n_out; k++) {
        total += c->out[k].weight * parts[k];
        ck_metric_add(&c->out[k].loss_tracker, (float)parts[k], (double)global_rows);
    }
    if (c->regs.n_act)
        total += parts[c->n_out];
    if (c->regs.n_w)
        total += ck_regs_weight_penalty(&c->regs, ck_exec_model(b->ex)->weight_block, NULL);
    *loss = total;
    ck_metric_add(&c->loss_tracker, (float)*loss, (double)global_rows);
    return CK_OK;
}

/* One optimizer step on this rank's `rows` of a global batch of global_rows
 * (data-parallel: a rank may have none, and still takes part in the sums). */
static ck_status train_step(ck_model *m, ck_compiled *c, loop_bufs *b, int64_t rows, int64_t global_rows,
                            bool weighted, double *loss)
{
    double parts[CK_MAX_IO + 1];
    ck_status st = rows > 0 ? ck_exec_forward(b->ex, (const float *const *)b->x, rows, true) : CK_OK;
    if (st == CK_OK)
        st = batch_loss(c, b, rows, global_rows, weighted, true, parts);
    if (st == CK_OK && rows > 0)
        st = ck_exec_backward(b->ex, (const float *const *)b->grad);
    if (st == CK_OK && b->dist)
        st = ck_dist_grads_finish(b->dist, rows > 0);
    if (st == CK_OK)
        st = log_step(c, b, parts, global_rows, loss);
    if (st == CK_OK && c->regs.n_w)
        ck_regs_weight_penalty(&c->regs, m->weight_block, m->grad_block);
    if (st == CK_OK)
        st = ck_optimizer_step(&c->opt, m->weight_block, m->grad_block);
    ck_model_weights_changed(m);
    return st;
}

/* Every log of the current results, in Keras's order: per output its metrics,
 * then the per-output losses, then "loss" (the bar's order, before sorting). */
static int current_values(const ck_compiled *c, const char **names, double *vals)
{
    int n = 0;
    for (int k = 0; k < c->n_out; k++)
        for (int i = 0; i < c->out[k].n_metrics; i++)
            names[n] = c->out[k].metrics[i].name, vals[n++] = ck_metric_result(&c->out[k].metrics[i]);
    for (int k = 0; c->n_out > 1 && k < c->n_out; k++)
        names[n] = c->out[k].loss_tracker.name, vals[n++] = ck_metric_result(&c->out[k].loss_tracker);
    names[n] = "loss", vals[n++] = ck_metric_result(&c->loss_tracker);
    return n;
}

/* One pass in inference mode over ds; leaves results in c's metrics. */
static ck_status run_eval(ck_compiled *c, const dataset *ds, loop_bufs *b, ck_progbar *bar)
{
    reset_metrics(c);
    int64_t steps = (ds->n + b->batch - 1) / b->batch;
    for (int64_t s = 0; s < steps; s++) {
        int64_t first = s * b->batch, rows = ds->n - first < b->batch ? ds->n - first : b->batch, lo, mine;
        ck_dist_slice(b->dist, rows, &lo, &mine);
        bool weighted = gather(c, ds, NULL, first + lo, mine, b);
        double loss, parts[CK_MAX_IO + 1];
        ck_status st = mine > 0 ? ck_exec_forward(b->ex, (const float *const *)b->x, mine, false) : CK_OK;
        if (st == CK_OK)
            st = batch_loss(c, b, mine, rows, weighted, false, parts);
        if (st == CK_OK)
            st = log_step(c, b, parts, rows, &loss);
        if (st != CK_OK)
            return st;
        if (bar) {
            const char *names[CK_MAX_LOG_KEYS];
            double vals[CK_MAX_LOG_KEYS];
            int n = current_values(c, names, vals);
            ck_progbar_update(bar, s + 1, names, vals, n, s + 1 == steps);
        }
    }
    return CK_OK;
}

/* Writes the current metric results into a log row (prefix "" or "val_"). */
static void log_results(const ck_compiled *c, ck_history *h, double *row, const char *prefix)
{
    const char *names[CK_MAX_LOG_KEYS];
    double vals[CK_MAX_LOG_KEYS];
    int n = current_values(c, names, vals);
    char key[96];
    for (int i = 0; i < n; i++) {
        snprintf(key, sizeof key, "%s%s", prefix, names[i]);
        int k = ck_history_find(h, key);
        if (k >= 0)
            row[k] = (float)vals[i];
    }
}

static ck_status history_for(const ck_compiled *c, bool val, bool lr, ck_history **out)
{
    char keys_buf[CK_MAX_LOG_KEYS][72];
    const char *keys[CK_MAX_LOG_KEYS];
    const char *cur[CK_MAX_LOG_KEYS];
    double vals[CK_MAX_LOG_KEYS];
    int nc = current_values(c, cur, vals), n = 0;
    if (2 * nc + 1 > CK_MAX_LOG_KEYS)
        return ck_fail(CK_ERR_UNSUPPORTED, "fit: too many logs (%d, at most %d)", 2 * nc + 1, CK_MAX_LOG_KEYS);
    for (int pass = 0; pass < 1 + val; pass++)
        for (int i = 0; i < nc; i++)
            snprintf(keys_buf[n], sizeof keys_buf[n], "%s%s", pass ? "val_" : "", cur[i]), n++;
    if (lr)
        snprintf(keys_buf[n], sizeof keys_buf[n], "learning_rate"), n++;
    for (int i = 0; i < n; i++)
        keys[i] = keys_buf[i];
    return ck_history_new(keys, n, out);
}

/* ---- fit ------------------------------------------------------------------------------ */

ck_fit_opts ck_fit_defaults(void)
{
    return (ck_fit_opts){.epochs = 1, .batch_size = 32, .shuffle = true, .verbose = 1};
}

static ck_status check_data(ck_model *m, const float *const *x, const float *const *y, int64_t n)
{
    if (!m || !x || !y)
        return ck_fail(CK_ERR_ARG, "ck_model_fit: model, x and y are required");
    if (!m->engine)
        return ck_fail(CK_ERR_STATE, "model '%s': compile() it before fit()", m->base.name);
    const ck_compiled *c = m->engine;
    if (!c->has_loss)
        return ck_fail(CK_ERR_STATE, "model '%s': compiled without a loss; compile() it with one before fit()",
                       m->base.name);
    for (int i = 0; i < c->n_in; i++)
        if (!x[i])
            return ck_fail(CK_ERR_ARG, "model '%s': x[%d] is NULL", m->base.name, i);
    for (int i = 0; i < c->n_out; i++)
        if (!y[i])
            return ck_fail(CK_ERR_ARG, "model '%s': y[%d] is NULL", m->base.name, i);
    if (n <= 0)
        return ck_fail(CK_ERR_ARG, "model '%s': fit() needs at least one sample", m->base.name);
    return CK_OK;
}

static ck_status check_fit(ck_model *m, const float *const *x, const float *const *y, int64_t n,
                           const ck_fit_opts *o)
{
    if (!o)
        return ck_fail(CK_ERR_ARG, "ck_model_fit: opts are required");
    ck_status st = m ? ck_compile_gap_check(m) : CK_OK; /* before "compile() it": it says why it is not */
    if (st == CK_OK)
        st = check_data(m, x, y, n);
    if (st == CK_OK && (st = ck_constraints_check(m)))
        st = ck_fail_prefix(st, "model '%s': ", m->base.name);
    if (st != CK_OK)
        return st;
    if (o->epochs < 0 || o->batch_size < 0 || o->initial_epoch < 0)
        return ck_fail(CK_ERR_ARG, "fit: epochs, batch_size and initial_epoch must be >= 0");
    if (!(o->validation_split >= 0 && o->validation_split < 1))
        return ck_fail(CK_ERR_ARG, "fit: validation_split must be in [0, 1)");
    if ((o->val_x == NULL) != (o->val_y == NULL) || (o->val_x && o->n_val <= 0))
        return ck_fail(CK_ERR_ARG, "fit: validation_data needs val_x, val_y and n_val > 0");
    const ck_compiled *c = m->engine;
    if (o->val_x && (c->n_in > 1 || c->n_out > 1))
        return ck_fail(CK_ERR_UNSUPPORTED, "fit: validation_data (val_x, val_y) is for one input and one output; "
                       "use validation_split with several");
    if (o->class_weight && o->sample_weight) /* keras/src/trainers/data_adapters/__init__.py */
        return ck_fail(CK_ERR_ARG, "fit: You cannot `class_weight` and `sample_weight` at the same time.");
    if (o->class_weight && c->n_out > 1)
        return ck_fail(CK_ERR_ARG, "fit: class_weight is only supported for models with a single output "
                       "(as in Keras)");
    return CK_OK;
}

/* Fisher-Yates from the fit seed and the epoch, so runs are reproducible. */
static void shuffle_order(int64_t *order, int64_t n, bool shuffle, uint64_t seed, int epoch)
{
    for (int64_t i = 0; i < n; i++)
        order[i] = i;
    if (!shuffle)
        return;
    ck_rng rng;
    ck_rng_seed(&rng, seed * 1000003u + (uint64_t)epoch);
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(ck_rng_next(&rng) % (uint64_t)(i + 1)), t = order[i];
        order[i] = order[j], order[j] = t;
    }
}

static ck_status run_epoch(ck_fit_ctx *f, const dataset *train, const dataset *val, loop_bufs *b, int epoch)
{
    ck_compiled *c = f->c;
    const ck_fit_opts *o = f->opts;
    int64_t steps = (train->n + b->batch - 1) / b->batch;
    ck_progbar bar;
    ck_progbar_start(&bar, steps, o);
    shuffle_order(b->order, train->n, o->shuffle, o->seed, epoch);
    reset_metrics(c);
    const char *names[CK_MAX_LOG_KEYS];
    double vals[CK_MAX_LOG_KEYS];
    int nv;
    ck_status st = CK_OK;
    for (int64_t s = 0; s < steps && st == CK_OK && !c->stop_training; s++) {
        int64_t first = s * b->batch, rows = train->n - first < b->batch ? train->n - first : b->batch, lo, mine;
        ck_dist_slice(b->dist, rows, &lo, &mine);
        bool weighted = gather(c, train, b->order, first + lo, mine, b);
        double loss;
        st = train_step(f->model, c, b, mine, rows, weighted, &loss);
        if (st == CK_OK)
            st = ck_callbacks_batch_end(f, loss);
        nv = current_values(c, names, vals);
        if (st == CK_OK && s + 1 < steps)
            ck_progbar_update(&bar, s + 1, names, vals, nv, false);
    }
    if (st != CK_OK)
        return st;
    double *row = ck_history_append(f->hist);
    if (!row)
        return ck_fail(CK_ERR_NOMEM, "fit: out of memory");
    log_results(c, f->hist, row, "");
    if (val->n > 0 && (st = run_eval(c, val, b, NULL)) != CK_OK)
        return st;
    if (val->n > 0)
        log_results(c, f->hist, row, "val_");
    int k = ck_history_find(f->hist, "learning_rate");
    if (k >= 0)
        row[k] = ck_optimizer_current_lr(&c->opt);
    nv = 0; /* the final bar shows every log, sorted, like Keras */
    for (int i = 0; i < f->hist->n_keys; i++)
        names[nv] = f->hist->keys[i], vals[nv++] = row[i];
    ck_progbar_update(&bar, steps, names, vals, nv, true);
    return ck_callbacks_epoch_end(f, epoch);
}

static ck_status fit_run(ck_model *m, const float *const *x, const float *const *y, int64_t n,
                         const ck_fit_opts *opts, ck_history **history);

/* NaN or infinity anywhere in x or y: one line naming the array and sample. */
/* Sparse labels are class indices: checked before the first epoch, where the
 * message can name the sample (the loss sees only a shuffled batch's rows). */
static ck_status check_class_indices(const ck_out_spec *o, const char *name, const float *y, int64_t n)
{
    if (o->loss.kind != CK_LOSS_SPARSE_CE || o->d <= 0)
        return CK_OK;
    int64_t per = o->rows * o->label_width;
    for (int64_t k = 0; k < n * per; k++)
        if (!(y[k] >= 0 && y[k] < (float)o->d) || y[k] != floorf(y[k]))
            return ck_fail(CK_ERR_ARG, "%s: label %g of sample %lld is not a class index in [0, %lld) "
                           "(sparse_categorical_crossentropy)", name, (double)y[k], (long long)(k / per),
                           (long long)o->d);
    return CK_OK;
}

static ck_status check_finite_data(const ck_compiled *c, const float *const *x, const float *const *y, int64_t n,
                                   const char *x_name, const char *y_name)
{
    char name[32];
    ck_status st = CK_OK;
    for (int i = 0; st == CK_OK && i < c->n_in; i++) {
        snprintf(name, sizeof name, c->n_in > 1 ? "%s[%d]" : "%s", x_name, i);
        st = ck_check_finite(name, x[i], n, c->in_size[i]);
    }
    for (int i = 0; st == CK_OK && i < c->n_out; i++) {
        snprintf(name, sizeof name, c->n_out > 1 ? "%s[%d]" : "%s", y_name, i);
        st = ck_check_finite(name, y[i], n, c->out[i].rows * c->out[i].label_width);
        if (st == CK_OK)
            st = check_class_indices(&c->out[i], name, y[i], n);
    }
    return st;
}

/* in_shapes NULL: the model's own shapes. The compiled sizes follow the data's
 * shapes for the call; the engine plans for them (variable-length inputs). */
static ck_status fit_shaped(ck_model *m, const ck_shape *in_shapes, const float *const *x, const float *const *y,
                            int64_t n, const ck_fit_opts *opts, ck_history **history)
{
    if (history)
        *history = NULL;
    ck_status st = check_fit(m, x, y, n, opts);
    if (st == CK_OK)
        st = shapes_for_call(m, m->engine, in_shapes);
    if (st == CK_OK)
        st = check_finite_data(m->engine, x, y, n, "x", "y");
    if (st == CK_OK && opts->val_x)
        st = check_finite_data(m->engine, &opts->val_x, &opts->val_y, opts->n_val, "val_x", "val_y");
    if (st == CK_OK)
        st = fit_run(m, x, y, n, opts, history);
    if (m && m->engine)
        ((ck_compiled *)m->engine)->in_shapes = NULL;
    return st;
}

ck_status ck_model_fit_multi(ck_model *m, const float *const *x, const float *const *y, int64_t n,
                             const ck_fit_opts *opts, ck_history **history)
{
    return fit_shaped(m, NULL, x, y, n, opts, history);
}

ck_status ck_model_fit_shaped(ck_model *m, const ck_shape *in_shapes, const float *const *x, const float *const *y,
                              int64_t n, const ck_fit_opts *opts, ck_history **history)
{
    if (!in_shapes)
        return ck_fail(CK_ERR_ARG, "ck_model_fit_shaped: in_shapes is NULL");
    return fit_shaped(m, in_shapes, x, y, n, opts, history);
}

/* A model from a legacy .h5 with optimizer_weights has its optimizer built over
 * no variables, as Keras's load_model leaves it (Keras 3.15 on JAX then refuses
 * to fit). ckeras builds it over the trainable variables and takes the file's
 * saved state when its values are exactly that optimizer's, in Keras's order. */
static int64_t values_in(const ck_shape *s)
{
    int64_t n = 1;
    for (int d = 0; d < s->rank; d++)
        n *= s->dim[d];
    return n;
}

ck_status ck_optimizer_adopt_pending(ck_model *m)
{
    float *saved = m->pending_optimizer;
    ck_compiled *c = m->engine;
    if (!saved || !c)
        return CK_OK;
    m->pending_optimizer = NULL;
    ck_status st = c->opt.n_vars ? CK_OK : build_optimizer(m, c);
    int n = ck_model_optimizer_variable_count(m);
    int64_t total = 0, at = 0;
    for (int i = 0; st == CK_OK && i < n; i++) {
        ck_shape s;
        if ((st = ck_model_optimizer_variable(m, i, &s, NULL)) == CK_OK)
            total += values_in(&s);
    }
    for (int i = 0; st == CK_OK && total == m->pending_optimizer_floats && i < n; i++) {
        ck_shape s;
        if ((st = ck_model_optimizer_variable(m, i, &s, NULL)) == CK_OK)
            st = ck_model_set_optimizer_variable(m, i, &s, saved + at);
        at += values_in(&s);
    }
    ck_free(saved);
    return st;
}

static ck_status fit_run(ck_model *m, const float *const *x, const float *const *y, int64_t n,
                         const ck_fit_opts *opts, ck_history **history)
{
    ck_compiled *c = m->engine;
    ck_status st = ck_optimizer_adopt_pending(m);
    if (st != CK_OK)
        return st;
    m->optimizer_built = true; /* Keras builds the optimizer at the first train step */
    dataset train = {.sw = opts->sample_weight, .n = n, .class_weight = opts->class_weight,
                     .n_class_weight = opts->n_class_weight};
    memcpy(train.x, x, (size_t)c->n_in * sizeof *x);
    memcpy(train.y, y, (size_t)c->n_out * sizeof *y);
    dataset val = {0};
    if (opts->val_x) {
        val = (dataset){.x = {opts->val_x}, .y = {opts->val_y}, .n = opts->n_val};
    } else if (opts->validation_split > 0) { /* Keras holds out the last samples */
        int64_t split = (int64_t)floor((double)n * (1.0 - opts->validation_split));
        if (split <= 0 || split >= n)
            return ck_fail(CK_ERR_ARG, "fit: validation_split %g of %lld samples leaves a side empty",
                           opts->validation_split, (long long)n);
        val.n = n - split;
        for (int i = 0; i < c->n_in; i++)
            val.x[i] = x[i] + split * c->in_size[i];
        for (int i = 0; i < c->n_out; i++)
            val.y[i] = y[i] + split * c->out[i].rows * c->out[i].label_width;
        /* Keras splits sample_weight with x and y (class_weight weighs training only) */
        val.sw = opts->sample_weight ? opts->sample_weight + split : NULL;
        train.n = split;
    }
    int64_t batch = opts->batch_size > 0 ? opts->batch_size : 32;
    int64_t plan = batch < train.n ? batch : train.n;
    if (val.n > plan)
        plan = batch < val.n ? batch : val.n;
    ck_fit_opts mine = *opts; /* data-parallel: only rank 0 prints and writes files */
    if (m->data_parallel && (st = ck_fit_dist_begin(m, x, y, n, train.n, batch, opts)) != CK_OK)
        return st;
    if (!ck_dist_is_root(m->data_parallel))
        mine.verbose = 0;
    loop_bufs *b = NULL;
    if ((st = fit_bufs(m, c, plan, train.n, &b)) != CK_OK)
        return st;
    b->batch = batch < plan ? batch : plan;
    if (m->data_parallel && (st = ck_dist_grads_attach(m->data_parallel, m, b->ex)) != CK_OK)
        return st;
    ck_fit_ctx f = {.model = m, .c = c, .opts = &mine, .initial_epoch = opts->initial_epoch,
                    .draws = &ck_exec_run(b->ex)->rng, .writes_files = ck_dist_is_root(m->data_parallel)};
    st = history_for(c, val.n > 0, ck_callbacks_log_lr(opts), &f.hist);
    c->stop_training = false;
    if (st == CK_OK)
        st = ck_callbacks_train_begin(&f);
    for (int e = f.initial_epoch; st == CK_OK && e < opts->epochs && !c->stop_training; e++) {
        if (mine.verbose == 1 || mine.verbose == 2) {
            char line[64];
            snprintf(line, sizeof line, "Epoch %d/%d\n", e + 1, opts->epochs);
            ck_print(opts, line);
        }
        if ((st = ck_callbacks_epoch_begin(&f, e)) == CK_OK)
            st = run_epoch(&f, &train, &val, b, e);
        if (st == CK_OK && m->data_parallel)
            st = ck_fit_dist_same_weights(m, e);
    }
    if (st == CK_OK)
        ck_callbacks_train_end(&f);
    ck_dist_grads_detach(m->data_parallel);
    if (st != CK_OK) /* a failed step may leave the engine half-way */
        drop_kept(c);
    if (st == CK_OK && history)
        *history = f.hist;
    else
        ck_history_free(f.hist);
    return st;
}

ck_status ck_model_fit(ck_model *m, const float *x, const float *y, int64_t n, const ck_fit_opts *opts,
                       ck_history **history)
{
    if (m && m->engine && (((ck_compiled *)m->engine)->n_in != 1 || ((ck_compiled *)m->engine)->n_out != 1))
        return ck_fail(CK_ERR_ARG, "model '%s' has %d inputs and %d outputs; use ck_model_fit_multi", m->base.name,
                       m->n_inputs, m->n_outputs);
    return ck_model_fit_multi(m, &x, &y, n, opts, history);
}

static ck_status evaluate_run(ck_model *m, const float *const *x, const float *const *y, int64_t n,
                              int64_t batch_size, ck_history **logs);

static ck_status evaluate_shaped(ck_model *m, const ck_shape *in_shapes, const float *const *x,
                                 const float *const *y, int64_t n, int64_t batch_size, ck_history **logs)
{
    if (logs)
        *logs = NULL;
    ck_status st = check_data(m, x, y, n);
    if (st == CK_OK)
        st = shapes_for_call(m, m->engine, in_shapes);
    if (st == CK_OK)
        st = check_finite_data(m->engine, x, y, n, "x", "y");
    if (st == CK_OK)
        st = evaluate_run(m, x, y, n, batch_size, logs);
    if (m && m->engine)
        ((ck_compiled *)m->engine)->in_shapes = NULL;
    return st;
}

ck_status ck_model_evaluate_multi(ck_model *m, const float *const *x, const float *const *y, int64_t n,
                                  int64_t batch_size, ck_history **logs)
{
    return evaluate_shaped(m, NULL, x, y, n, batch_size, logs);
}

ck_status ck_model_evaluate_shaped(ck_model *m, const ck_shape *in_shapes, const float *const *x,
                                   const float *const *y, int64_t n, int64_t batch_size, ck_history **logs)
{
    if (!in_shapes)
        return ck_fail(CK_ERR_ARG, "ck_model_evaluate_shaped: in_shapes is NULL");
    return evaluate_shaped(m, in_shapes, x, y, n, batch_size, logs);
}

static ck_status evaluate_run(ck_model *m, const float *const *x, const float *const *y, int64_t n,
                              int64_t batch_size, ck_history **logs)
{
    ck_status st = CK_OK;
    ck_compiled *c = m->engine;
    int64_t batch = batch_size > 0 ? batch_size : 32;
    if (batch > n)
        batch = n;
    loop_bufs b;
    if ((st = bufs_new(m, c, batch, 0, &b)) != CK_OK)
        return st;
    dataset ds = {.n = n};
    memcpy(ds.x, x, (size_t)c->n_in * sizeof *x);
    memcpy(ds.y, y, (size_t)c->n_out * sizeof *y);
    ck_history *h = NULL;
    st = run_eval(c, &ds, &b, NULL);
    if (st == CK_OK)
        st = history_for(c, false, false, &h);
    double *row = st == CK_OK ? ck_history_append(h) : NULL;
    if (st == CK_OK && !row)
        st = ck_fail(CK_ERR_NOMEM, "evaluate: out of memory");
    if (st == CK_OK)
        log_results(c, h, row, "");
    bufs_free(&b);
    if (st == CK_OK && logs)
        *logs = h;
    else
        ck_history_free(h);
    return st;
}

ck_status ck_model_evaluate(ck_model *m, const float *x, const float *y, int64_t n, int64_t batch_size,
                            ck_history **logs)
{
    if (m && m->engine && (((ck_compiled *)m->engine)->n_in != 1 || ((ck_compiled *)m->engine)->n_out != 1))
        return ck_fail(CK_ERR_ARG, "model '%s' has %d inputs and %d outputs; use ck_model_evaluate_multi",
                       m->base.name, m->n_inputs, m->n_outputs);
    return ck_model_evaluate_multi(m, &x, &y, n, batch_size, logs);
}
