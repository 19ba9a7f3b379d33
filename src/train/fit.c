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

#include <math.h>
#include <string.h>

/* ---- compile --------------------------------------------------------------------- */

static void compiled_free(void *p)
{
    ck_compiled *c = p;
    if (!c)
        return;
    ck_optimizer_release(&c->opt);
    for (int i = 0; i < c->n_metrics; i++)
        ck_metric_release(&c->metrics[i]);
    ck_free(c);
}

static ck_status parse_metrics(ck_compiled *c, const char *list)
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
        if (c->n_metrics == CK_MAX_METRICS)
            return ck_fail(CK_ERR_UNSUPPORTED, "compile: at most %d metrics", CK_MAX_METRICS);
        char spec[256];
        snprintf(spec, sizeof spec, "%.*s", (int)n, s);
        ck_status st = ck_metric_parse(spec, c->d, c->label_width, &c->metrics[c->n_metrics]);
        if (st != CK_OK)
            return ck_fail_prefix(st, "compile: ");
        c->n_metrics++;
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

static ck_status shapes_of(ck_model *m, ck_compiled *c)
{
    if (m->n_inputs != 1 || m->n_outputs != 1)
        return ck_fail(CK_ERR_UNSUPPORTED, "model '%s': training supports one input and one output "
                       "(it has %d and %d)", m->base.name, m->n_inputs, m->n_outputs);
    const ck_shape *in = ck_model_input_shape(m, 0), *out = ck_model_output_shape(m, 0);
    ck_status st = ck_shape_size_from(in, 1, &c->in_size);
    if (st == CK_OK)
        st = ck_shape_size_from(out, 1, &c->out_size);
    if (st != CK_OK)
        return st;
    if (c->in_size <= 0 || c->out_size <= 0)
        return ck_fail(CK_ERR_SHAPE, "model '%s': training needs every non-batch dimension known",
                       m->base.name);
    c->d = out->dim[out->rank - 1];
    c->rows = c->out_size / c->d;
    c->label_width = ck_loss_label_width(&c->loss, c->d);
    return CK_OK;
}

ck_status ck_model_compile(ck_model *m, const char *optimizer, const char *loss, const char *metrics)
{
    if (!m || !optimizer)
        return ck_fail(CK_ERR_ARG, "ck_model_compile: model and optimizer are required");
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
    c->has_loss = loss != NULL;
    st = loss ? ck_loss_parse(loss, &c->loss) : CK_OK;
    if (st == CK_OK)
        st = ck_optimizer_parse(optimizer, &c->opt);
    if (st == CK_OK && loss)
        st = shapes_of(m, c);
    if (st == CK_OK && loss)
        st = parse_metrics(c, metrics);
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

/* ---- the loop's buffers ------------------------------------------------------------ */

typedef struct loop_bufs {
    ck_exec *ex;
    int64_t batch;
    float *x, *y, *sw;     /* [batch, in_size], [batch, rows*label_width], [batch*rows] */
    float *per_row, *grad; /* [batch*rows], [batch, out_size]                           */
    int64_t *order;        /* [n] sample order of the epoch                             */
} loop_bufs;

static void bufs_free(loop_bufs *b)
{
    ck_exec_free(b->ex);
    ck_free(b->x), ck_free(b->y), ck_free(b->sw), ck_free(b->per_row), ck_free(b->grad);
    ck_free(b->order);
    memset(b, 0, sizeof *b);
}

static ck_status bufs_new(ck_model *m, const ck_compiled *c, int64_t batch, int64_t n, loop_bufs *b)
{
    memset(b, 0, sizeof *b);
    b->batch = batch;
    int64_t r = batch * c->rows;
    b->x = ck_malloc((size_t)(batch * c->in_size) * sizeof(float));
    b->y = ck_malloc((size_t)(r * c->label_width) * sizeof(float));
    b->sw = ck_malloc((size_t)r * sizeof(float));
    b->per_row = ck_malloc((size_t)r * sizeof(float));
    b->grad = ck_malloc((size_t)(batch * c->out_size) * sizeof(float));
    b->order = ck_malloc((size_t)(n > 0 ? n : 1) * sizeof(int64_t));
    if (!b->x || !b->y || !b->sw || !b->per_row || !b->grad || !b->order) {
        bufs_free(b);
        return ck_fail(CK_ERR_NOMEM, "fit: out of memory for batch %lld", (long long)batch);
    }
    ck_status st = ck_exec_create(m, batch, &b->ex);
    if (st != CK_OK)
        bufs_free(b);
    return st;
}

/* The data of one fit/evaluate call. */
typedef struct dataset {
    const float *x, *y, *sw;
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

/* Gathers rows order[first..first+rows) into the batch buffers, with their weights
 * (sample_weight times class_weight, repeated over each sample's loss rows). */
static bool gather(const ck_compiled *c, const dataset *ds, const int64_t *order, int64_t first,
                   int64_t rows, loop_bufs *b)
{
    int64_t yw = c->rows * c->label_width;
    bool weighted = ds->sw || ds->class_weight;
    for (int64_t i = 0; i < rows; i++) {
        int64_t s = order ? order[first + i] : first + i;
        memcpy(b->x + i * c->in_size, ds->x + s * c->in_size, (size_t)c->in_size * sizeof(float));
        memcpy(b->y + i * yw, ds->y + s * yw, (size_t)yw * sizeof(float));
        for (int64_t r = 0; r < c->rows && weighted; r++) {
            float w = ds->sw ? ds->sw[s] : 1.f;
            if (ds->class_weight) {
                int64_t k = label_class(ds->y + s * yw + r * c->label_width, c->label_width);
                w *= (k >= 0 && k < ds->n_class_weight) ? ds->class_weight[k] : 1.f;
            }
            b->sw[i * c->rows + r] = w;
        }
    }
    return weighted;
}

static void reset_metrics(ck_compiled *c)
{
    ck_metric_reset(&c->loss_tracker);
    for (int i = 0; i < c->n_metrics; i++)
        ck_metric_reset(&c->metrics[i]);
}

/* Loss of the last forward: per-row losses, reduced; grad (when wanted) scaled. */
static ck_status batch_loss(ck_compiled *c, loop_bufs *b, int64_t rows, bool weighted, bool want_grad,
                            double *loss)
{
    const float *pred = ck_exec_output(b->ex, 0);
    int64_t lr = rows * c->rows;
    ck_status st = ck_loss_rows(&c->loss, b->y, pred, lr, c->d, b->per_row, want_grad ? b->grad : NULL);
    if (st != CK_OK)
        return st;
    *loss = ck_loss_reduce(b->per_row, weighted ? b->sw : NULL, lr, c->d, want_grad ? b->grad : NULL);
    ck_metric_add(&c->loss_tracker, (float)*loss, (double)rows);
    /* compile(metrics=...) are unweighted in Keras 3 (weighted_metrics are not) */
    for (int i = 0; i < c->n_metrics; i++)
        ck_metric_update(&c->metrics[i], b->y, pred, lr, c->d, c->label_width, NULL);
    return CK_OK;
}

static ck_status train_step(ck_model *m, ck_compiled *c, loop_bufs *b, int64_t rows, bool weighted,
                            double *loss)
{
    const float *xin = b->x;
    ck_status st = ck_exec_forward(b->ex, &xin, rows, true);
    if (st == CK_OK)
        st = batch_loss(c, b, rows, weighted, true, loss);
    const float *g = b->grad;
    if (st == CK_OK)
        st = ck_exec_backward(b->ex, &g);
    if (st == CK_OK)
        st = ck_optimizer_step(&c->opt, m->weight_block, m->grad_block);
    return st;
}

/* One pass in inference mode over ds; leaves results in c's metrics. */
static ck_status run_eval(ck_compiled *c, const dataset *ds, loop_bufs *b, ck_progbar *bar)
{
    reset_metrics(c);
    int64_t steps = (ds->n + b->batch - 1) / b->batch;
    for (int64_t s = 0; s < steps; s++) {
        int64_t first = s * b->batch, rows = ds->n - first < b->batch ? ds->n - first : b->batch;
        bool weighted = gather(c, ds, NULL, first, rows, b);
        const float *xin = b->x;
        double loss;
        ck_status st = ck_exec_forward(b->ex, &xin, rows, false);
        if (st == CK_OK)
            st = batch_loss(c, b, rows, weighted, false, &loss);
        if (st != CK_OK)
            return st;
        if (bar) {
            const char *names[CK_MAX_METRICS + 1];
            double vals[CK_MAX_METRICS + 1];
            int n = 0;
            for (int i = 0; i < c->n_metrics; i++)
                names[n] = c->metrics[i].name, vals[n++] = ck_metric_result(&c->metrics[i]);
            names[n] = "loss", vals[n++] = ck_metric_result(&c->loss_tracker);
            ck_progbar_update(bar, s + 1, names, vals, n, s + 1 == steps);
        }
    }
    return CK_OK;
}

/* Writes the current metric results into a log row (prefix "" or "val_"). */
static void log_results(const ck_compiled *c, ck_history *h, double *row, const char *prefix)
{
    char key[96];
    snprintf(key, sizeof key, "%sloss", prefix);
    int k = ck_history_find(h, key);
    if (k >= 0)
        row[k] = (float)ck_metric_result(&c->loss_tracker);
    for (int i = 0; i < c->n_metrics; i++) {
        snprintf(key, sizeof key, "%s%s", prefix, c->metrics[i].name);
        if ((k = ck_history_find(h, key)) >= 0)
            row[k] = (float)ck_metric_result(&c->metrics[i]);
    }
}

static ck_status history_for(const ck_compiled *c, bool val, bool lr, ck_history **out)
{
    char names[CK_MAX_LOG_KEYS][72];
    const char *keys[CK_MAX_LOG_KEYS];
    int n = 0;
    for (int pass = 0; pass < 1 + val; pass++) {
        const char *pre = pass ? "val_" : "";
        snprintf(names[n], sizeof names[n], "%sloss", pre), n++;
        for (int i = 0; i < c->n_metrics; i++)
            snprintf(names[n], sizeof names[n], "%s%s", pre, c->metrics[i].name), n++;
    }
    if (lr)
        snprintf(names[n], sizeof names[n], "learning_rate"), n++;
    for (int i = 0; i < n; i++)
        keys[i] = names[i];
    return ck_history_new(keys, n, out);
}

/* ---- fit ------------------------------------------------------------------------------ */

ck_fit_opts ck_fit_defaults(void)
{
    return (ck_fit_opts){.epochs = 1, .batch_size = 32, .shuffle = true, .verbose = 1};
}

static ck_status check_fit(ck_model *m, const float *x, const float *y, int64_t n, const ck_fit_opts *o)
{
    if (!m || !x || !y || !o)
        return ck_fail(CK_ERR_ARG, "ck_model_fit: model, x, y and opts are required");
    if (!m->engine)
        return ck_fail(CK_ERR_STATE, "model '%s': compile() it before fit()", m->base.name);
    if (!((ck_compiled *)m->engine)->has_loss)
        return ck_fail(CK_ERR_STATE, "model '%s': compiled without a loss; compile() it with one before fit()",
                       m->base.name);
    if (n <= 0)
        return ck_fail(CK_ERR_ARG, "model '%s': fit() needs at least one sample", m->base.name);
    if (o->epochs < 0 || o->batch_size < 0 || o->initial_epoch < 0)
        return ck_fail(CK_ERR_ARG, "fit: epochs, batch_size and initial_epoch must be >= 0");
    if (!(o->validation_split >= 0 && o->validation_split < 1))
        return ck_fail(CK_ERR_ARG, "fit: validation_split must be in [0, 1)");
    if ((o->val_x == NULL) != (o->val_y == NULL) || (o->val_x && o->n_val <= 0))
        return ck_fail(CK_ERR_ARG, "fit: validation_data needs val_x, val_y and n_val > 0");
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

static void epoch_bar_values(const ck_compiled *c, const char **names, double *vals, int *n)
{
    *n = 0;
    for (int i = 0; i < c->n_metrics; i++)
        names[*n] = c->metrics[i].name, vals[(*n)++] = ck_metric_result(&c->metrics[i]);
    names[*n] = "loss", vals[(*n)++] = ck_metric_result(&c->loss_tracker);
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
        int64_t first = s * b->batch, rows = train->n - first < b->batch ? train->n - first : b->batch;
        bool weighted = gather(c, train, b->order, first, rows, b);
        double loss;
        st = train_step(f->model, c, b, rows, weighted, &loss);
        if (st == CK_OK)
            st = ck_callbacks_batch_end(f, loss);
        epoch_bar_values(c, names, vals, &nv);
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

ck_status ck_model_fit(ck_model *m, const float *x, const float *y, int64_t n,
                       const ck_fit_opts *opts, ck_history **history)
{
    if (history)
        *history = NULL;
    ck_status st = check_fit(m, x, y, n, opts);
    if (st != CK_OK)
        return st;
    ck_compiled *c = m->engine;
    m->optimizer_built = true; /* Keras builds the optimizer at the first train step */
    int64_t yw = c->rows * c->label_width;
    dataset train = {x, y, opts->sample_weight, n, opts->class_weight, opts->n_class_weight};
    dataset val = {0};
    if (opts->val_x) {
        val = (dataset){opts->val_x, opts->val_y, NULL, opts->n_val, NULL, 0};
    } else if (opts->validation_split > 0) { /* Keras holds out the last samples */
        int64_t split = (int64_t)floor((double)n * (1.0 - opts->validation_split));
        if (split <= 0 || split >= n)
            return ck_fail(CK_ERR_ARG, "fit: validation_split %g of %lld samples leaves a side empty",
                           opts->validation_split, (long long)n);
        val = (dataset){x + split * c->in_size, y + split * yw, NULL, n - split, NULL, 0};
        train.n = split;
    }
    int64_t batch = opts->batch_size > 0 ? opts->batch_size : 32;
    int64_t plan = batch < train.n ? batch : train.n;
    if (val.n > plan)
        plan = batch < val.n ? batch : val.n;
    loop_bufs b;
    if ((st = bufs_new(m, c, plan, train.n, &b)) != CK_OK)
        return st;
    b.batch = batch < plan ? batch : plan;
    ck_fit_ctx f = {.model = m, .c = c, .opts = opts};
    st = history_for(c, val.n > 0, ck_callbacks_log_lr(opts), &f.hist);
    c->stop_training = false;
    if (st == CK_OK)
        st = ck_callbacks_train_begin(&f);
    for (int e = opts->initial_epoch; st == CK_OK && e < opts->epochs && !c->stop_training; e++) {
        if (opts->verbose == 1 || opts->verbose == 2) {
            char line[64];
            snprintf(line, sizeof line, "Epoch %d/%d\n", e + 1, opts->epochs);
            ck_print(opts, line);
        }
        if ((st = ck_callbacks_epoch_begin(&f, e)) == CK_OK)
            st = run_epoch(&f, &train, &val, &b, e);
    }
    if (st == CK_OK)
        ck_callbacks_train_end(&f);
    bufs_free(&b);
    if (st == CK_OK && history)
        *history = f.hist;
    else
        ck_history_free(f.hist);
    return st;
}

ck_status ck_model_evaluate(ck_model *m, const float *x, const float *y, int64_t n, int64_t batch_size,
                            ck_history **logs)
{
    if (logs)
        *logs = NULL;
    ck_fit_opts o = ck_fit_defaults();
    ck_status st = check_fit(m, x, y, n, &o);
    if (st != CK_OK)
        return st;
    ck_compiled *c = m->engine;
    int64_t batch = batch_size > 0 ? batch_size : 32;
    if (batch > n)
        batch = n;
    loop_bufs b;
    if ((st = bufs_new(m, c, batch, 0, &b)) != CK_OK)
        return st;
    dataset ds = {x, y, NULL, n, NULL, 0};
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
