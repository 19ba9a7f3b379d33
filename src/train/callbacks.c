/*
 * Keras 3 callbacks with their defaults and decisions (keras/src/callbacks/):
 * EarlyStopping, ModelCheckpoint, ReduceLROnPlateau, TerminateOnNaN, CSVLogger,
 * LearningRateScheduler, and a C hook. A callback object is reusable: fit()
 * resets its state at train begin. Files are written atomically.
 */
#include "train/train.h"
#include "graph/config.h"
#include "train/spec.h"

#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* ---- construction ------------------------------------------------------------------ */

static const struct { const char *name; ck_callback_kind kind; } k_kinds[] = {
    {"EarlyStopping", CK_CB_EARLY_STOPPING}, {"ModelCheckpoint", CK_CB_CHECKPOINT},
    {"ReduceLROnPlateau", CK_CB_REDUCE_LR}, {"TerminateOnNaN", CK_CB_TERMINATE_NAN},
    {"CSVLogger", CK_CB_CSV}, {"BackupAndRestore", CK_CB_BACKUP}, {"LearningRateScheduler", CK_CB_LR_SCHEDULER},
};

/* Keras's mode "auto": maximise metrics whose name says accuracy or AUC. */
static bool auto_max(const char *monitor)
{
    return strstr(monitor, "acc") || strstr(monitor, "auc") || strstr(monitor, "precision") ||
           strstr(monitor, "recall");
}

static ck_status set_string(ck_callback *cb, const char *key, json_t *v, const char *spec)
{
    const char *s = json_string_value(v);
    if (strcmp(key, "monitor") == 0)
        snprintf(cb->monitor, sizeof cb->monitor, "%s", s);
    else if (strcmp(key, "filepath") == 0 || strcmp(key, "filename") == 0 || strcmp(key, "backup_dir") == 0)
        snprintf(cb->path, sizeof cb->path, "%s", s);
    else if (strcmp(key, "mode") == 0) {
        if (strcmp(s, "min") && strcmp(s, "max") && strcmp(s, "auto"))
            return ck_fail(CK_ERR_CONFIG, "callback '%s': mode must be 'min', 'max' or 'auto'", spec);
        cb->maximize = strcmp(s, "max") == 0 || (strcmp(s, "auto") == 0 && auto_max(cb->monitor));
    } else if (strcmp(key, "save_freq") == 0 && strcmp(s, "epoch") != 0) {
        return ck_fail(CK_ERR_UNSUPPORTED, "callback '%s': save_freq='%s': only 'epoch' is supported", spec, s);
    } else if (strcmp(key, "separator") == 0) {
        /* Keras hands it to csv.writer as its delimiter */
        if (strlen(s) != 1 || s[0] == '\r' || s[0] == '\n' || s[0] == '"')
            return ck_fail(CK_ERR_CONFIG, "callback '%s': separator must be one character (csv's delimiter)", spec);
        cb->separator = s[0];
    } else if (strcmp(key, "save_freq") != 0)
        return ck_fail(CK_ERR_CONFIG, "callback '%s': unsupported keyword '%s'", spec, key);
    return CK_OK;
}

static ck_status set_value(ck_callback *cb, const char *key, json_t *v, const char *spec)
{
    if (json_is_string(v))
        return set_string(cb, key, v, spec);
    if (json_is_boolean(v)) {
        bool b = json_is_true(v);
        if (strcmp(key, "restore_best_weights") == 0) cb->restore_best_weights = b;
        else if (strcmp(key, "save_best_only") == 0) cb->save_best_only = b;
        else if (strcmp(key, "append") == 0) cb->append = b;
        else if (strcmp(key, "save_weights_only") == 0) cb->save_weights_only = b;
        else if (strcmp(key, "delete_checkpoint") == 0) cb->delete_checkpoint = b;
        else if (strcmp(key, "verbose") != 0)
            return ck_fail(CK_ERR_CONFIG, "callback '%s': unknown keyword '%s'", spec, key);
        return CK_OK;
    }
    if (json_is_null(v) && strcmp(key, "baseline") == 0)
        return CK_OK;
    if (!json_is_number(v))
        return ck_fail(CK_ERR_CONFIG, "callback '%s': bad value for '%s'", spec, key);
    double x = json_number_value(v);
    bool counts = !strcmp(key, "patience") || !strcmp(key, "cooldown") || !strcmp(key, "start_from_epoch");
    if (counts && !(fabs(x) <= INT_MAX)) /* epochs: an int (NaN fails this too) */
        return ck_fail(CK_ERR_CONFIG, "callback '%s': '%s' = %g is not an epoch count", spec, key, x);
    if (strcmp(key, "min_delta") == 0) cb->min_delta = fabs(x);
    else if (strcmp(key, "patience") == 0) cb->patience = (int)x;
    else if (strcmp(key, "baseline") == 0) cb->baseline = x;
    else if (strcmp(key, "factor") == 0) cb->factor = x;
    else if (strcmp(key, "min_lr") == 0) cb->min_lr = x;
    else if (strcmp(key, "cooldown") == 0) cb->cooldown = (int)x;
    else if (strcmp(key, "start_from_epoch") == 0) cb->start_from_epoch = (int)x;
    else if (strcmp(key, "verbose") != 0)
        return ck_fail(CK_ERR_CONFIG, "callback '%s': unknown keyword '%s'", spec, key);
    return CK_OK;
}

/* keras/src/callbacks/model_checkpoint.py __init__: the file's ending says what
 * is saved. ckeras also writes the get_weights() arrays as .npz. */
static ck_status checkpoint_path_ok(const ck_callback *cb)
{
    const char *p = cb->path;
    if (ends_with(p, ".npz"))
        return CK_OK;
    if (cb->save_weights_only && !ends_with(p, ".weights.h5"))
        return ck_fail(CK_ERR_CONFIG, "ModelCheckpoint: with save_weights_only=True the filepath must end in "
                       "`.weights.h5` (Keras weights format) or .npz. Received: filepath=%s", p);
    if (!cb->save_weights_only && !ends_with(p, ".keras") && !ends_with(p, ".h5") && !ends_with(p, ".npz"))
        return ck_fail(CK_ERR_CONFIG, "ModelCheckpoint: the filepath must end in `.keras` (Keras model format), "
                       "`.h5` or, with save_weights_only=True, `.weights.h5`. Received: filepath=%s", p);
    return CK_OK;
}

static void set_defaults(ck_callback *cb, ck_callback_kind kind)
{
    *cb = (ck_callback){.kind = kind, .baseline = NAN, .factor = 0.1, .patience = 0, .delete_checkpoint = true,
                        .separator = ','};
    snprintf(cb->monitor, sizeof cb->monitor, "%s", kind == CK_CB_EARLY_STOPPING ? "val_loss" : "val_loss");
    if (kind == CK_CB_REDUCE_LR)
        cb->patience = 10, cb->min_delta = 1e-4;
}

/* "LearningRateScheduler(ExponentialDecay(...))" (or schedule=...): the
 * rate of each epoch is the Keras schedule evaluated at the epoch, as
 * LearningRateScheduler(lambda epoch: float(schedule(epoch))) gives it. */
static ck_callback *lr_scheduler_spec(ck_callback *cb, const char *spec, const char *open)
{
    const char *inner = open ? open + 1 : "";
    while (*inner == ' ')
        inner++;
    if (strncmp(inner, "schedule", 8) == 0) {
        inner += 8;
        while (*inner == ' ' || *inner == '=')
            inner++;
    }
    size_t n = strlen(inner);
    char *text = open && n > 1 && spec[strlen(spec) - 1] == ')' ? ck_strdup(inner) : NULL;
    ck_status st = CK_ERR_CONFIG;
    if (text) {
        text[n - 1] = '\0'; /* the callback's ')' */
        st = ck_schedule_parse(text, &cb->lr_schedule);
    }
    ck_free(text);
    if (st != CK_OK) {
        if (!text)
            ck_fail(CK_ERR_CONFIG, "callback '%s': give a schedule, e.g. LearningRateScheduler("
                    "ExponentialDecay(initial_learning_rate=0.1, decay_steps=1, decay_rate=0.5))", spec);
        else
            ck_fail_prefix(st, "callback '%s': ", spec);
        ck_free(cb);
        return NULL;
    }
    cb->kind = CK_CB_LR_SCHEDULER;
    return cb;
}

ck_callback *ck_callback_from_spec(const char *spec, ck_model_saver save_model)
{
    if (!spec) {
        ck_fail(CK_ERR_ARG, "ck_callback_new: spec is NULL");
        return NULL;
    }
    const char *open = strchr(spec, '(');
    size_t n = open ? (size_t)(open - spec) : strlen(spec);
    int kind = -1;
    for (int i = 0; i < CK_N_OF(k_kinds); i++)
        if (strlen(k_kinds[i].name) == n && strncmp(spec, k_kinds[i].name, n) == 0)
            kind = (int)k_kinds[i].kind;
    if (kind < 0) {
        ck_fail(CK_ERR_CONFIG, "unknown callback '%s'", spec);
        return NULL;
    }
    ck_callback *cb = ck_calloc(1, sizeof *cb);
    if (!cb) {
        ck_fail(CK_ERR_NOMEM, "callback: out of memory");
        return NULL;
    }
    set_defaults(cb, (ck_callback_kind)kind);
    cb->save_model = save_model;
    if (kind == CK_CB_LR_SCHEDULER)
        return lr_scheduler_spec(cb, spec, open);
    ck_status st = CK_OK;
    bool mode_given = false;
    if (open) {
        const char *close = strrchr(open, ')');
        char *kw = close && close[1] == '\0' ? ck_strdup(open + 1) : NULL;
        json_t *obj = NULL;
        if (!kw)
            st = ck_fail(CK_ERR_CONFIG, "callback '%s': missing closing parenthesis", spec);
        else {
            kw[close - open - 1] = '\0';
            st = ck_kwargs_parse_args(kw, ck_spec_positional("callback", spec, strcspn(spec, " (")), &obj);
        }
        json_t *mv = obj ? json_object_get(obj, "monitor") : NULL;
        if (st == CK_OK && mv && json_is_string(mv)) /* monitor first: mode "auto" reads it */
            snprintf(cb->monitor, sizeof cb->monitor, "%s", json_string_value(mv));
        const char *key;
        json_t *v;
        if (st == CK_OK)
            json_object_foreach(obj, key, v) {
                mode_given |= strcmp(key, "mode") == 0;
                if ((st = set_value(cb, key, v, spec)) != CK_OK)
                    break;
            }
        json_decref(obj);
        ck_free(kw);
    }
    if (!mode_given)
        cb->maximize = auto_max(cb->monitor);
    if (st == CK_OK && (kind == CK_CB_CSV || kind == CK_CB_CHECKPOINT || kind == CK_CB_BACKUP) && !cb->path[0])
        st = ck_fail(CK_ERR_CONFIG, "callback '%s': a %s is required", spec,
                     kind == CK_CB_BACKUP ? "backup_dir" : "file name");
    if (st == CK_OK && kind == CK_CB_CHECKPOINT)
        st = checkpoint_path_ok(cb);
    if (st == CK_OK && kind == CK_CB_REDUCE_LR && !(cb->factor < 1))
        st = ck_fail(CK_ERR_CONFIG, "callback '%s': factor must be < 1", spec);
    if (st != CK_OK) {
        ck_free(cb);
        return NULL;
    }
    return cb;
}

ck_callback *ck_callback_lr_scheduler(double (*schedule)(int, double, void *), void *user)
{
    ck_callback *cb = schedule ? ck_calloc(1, sizeof *cb) : NULL;
    if (!cb) {
        ck_fail(schedule ? CK_ERR_NOMEM : CK_ERR_ARG, "LearningRateScheduler: no schedule function");
        return NULL;
    }
    cb->kind = CK_CB_LR_SCHEDULER, cb->schedule = schedule, cb->user = user;
    return cb;
}

ck_callback *ck_callback_hook(bool (*fn)(int, const ck_history *, void *), void *user)
{
    ck_callback *cb = fn ? ck_calloc(1, sizeof *cb) : NULL;
    if (!cb) {
        ck_fail(fn ? CK_ERR_NOMEM : CK_ERR_ARG, "callback hook: no function");
        return NULL;
    }
    cb->kind = CK_CB_HOOK, cb->hook = fn, cb->user = user;
    return cb;
}

void ck_callback_free(ck_callback *cb)
{
    if (!cb)
        return;
    ck_free(cb->best_weights);
    ck_free(cb);
}

bool ck_callbacks_log_lr(const ck_fit_opts *o)
{
    for (int i = 0; i < o->n_callbacks; i++)
        if (o->callbacks[i]->kind == CK_CB_REDUCE_LR || o->callbacks[i]->kind == CK_CB_LR_SCHEDULER)
            return true;
    return false;
}

/* ---- events ----------------------------------------------------------------------------- */

ck_status ck_callbacks_train_begin(ck_fit_ctx *f)
{
    for (int i = 0; i < f->opts->n_callbacks; i++) {
        ck_callback *cb = f->opts->callbacks[i];
        cb->wait = 0, cb->cooldown_counter = 0, cb->best_epoch = 0, cb->csv_header_done = false, cb->warned = false;
        cb->best = cb->maximize ? -INFINITY : INFINITY;
        ck_free(cb->best_weights);
        cb->best_weights = NULL;
        if (cb->restore_best_weights) {
            cb->best_weights = ck_malloc((size_t)(f->model->weight_block_size + 1) * sizeof(float));
            if (!cb->best_weights)
                return ck_fail(CK_ERR_NOMEM, "EarlyStopping: out of memory");
        }
        ck_status st = cb->kind == CK_CB_BACKUP ? ck_backup_restore(f, cb) : CK_OK;
        if (st != CK_OK)
            return st;
    }
    return CK_OK;
}

static void set_lr(ck_compiled *c, double lr)
{
    c->opt.schedule.kind = CK_SCHED_NONE; /* the callback now owns the rate */
    c->opt.learning_rate = (float)lr;
}

ck_status ck_callbacks_epoch_begin(ck_fit_ctx *f, int epoch)
{
    for (int i = 0; i < f->opts->n_callbacks; i++) {
        ck_callback *cb = f->opts->callbacks[i];
        if (cb->kind != CK_CB_LR_SCHEDULER)
            continue;
        double lr = cb->schedule ? cb->schedule(epoch, ck_optimizer_current_lr(&f->c->opt), cb->user)
                                 : ck_schedule_value(&cb->lr_schedule, epoch);
        if (!isfinite(lr))
            return ck_fail(CK_ERR_NUMERIC, "LearningRateScheduler: the schedule returned %g at epoch %d",
                           lr, epoch);
        set_lr(f->c, lr);
    }
    return CK_OK;
}

ck_status ck_callbacks_batch_end(ck_fit_ctx *f, double loss)
{
    for (int i = 0; i < f->opts->n_callbacks; i++)
        if (f->opts->callbacks[i]->kind == CK_CB_TERMINATE_NAN && !isfinite(loss)) {
            f->c->stop_training = true;
            if (f->opts->verbose)
                ck_print(f->opts, "Batch: Invalid loss, terminating training\n");
        }
    return CK_OK;
}

/* Keras's _is_improvement with min_delta folded in by mode. */
static bool improves(const ck_callback *cb, double current, double reference)
{
    return cb->maximize ? current - cb->min_delta > reference : current + cb->min_delta < reference;
}

/* Keras's warning when the monitored metric is not in the logs (early_stopping.py
 * get_monitor_value), once per fit, through the progress output. */
static void warn_missing_monitor(ck_fit_ctx *f, ck_callback *cb)
{
    if (cb->warned || !f->opts->verbose || ck_history_find(f->hist, cb->monitor) >= 0)
        return;
    ck_buf b = {0};
    ck_buf_printf(&b, "Warning: %s conditioned on metric `%s` which is not available. Available metrics are: ",
                  cb->kind == CK_CB_EARLY_STOPPING ? "Early stopping" : "Learning rate reduction", cb->monitor);
    for (int i = 0; i < f->hist->n_keys; i++)
        ck_buf_printf(&b, "%s%s", i ? "," : "", f->hist->keys[i]);
    ck_buf_put(&b, "\n");
    if (!b.failed)
        ck_print(f->opts, b.data);
    ck_buf_free(&b);
    cb->warned = true;
}

static void early_stopping(ck_fit_ctx *f, ck_callback *cb, int epoch)
{
    warn_missing_monitor(f, cb);
    double current = ck_history_last(f->hist, cb->monitor);
    if (isnan(current) || epoch < cb->start_from_epoch)
        return;
    cb->wait++;
    if (improves(cb, current, cb->best)) {
        cb->best = current, cb->best_epoch = epoch;
        if (cb->best_weights)
            memcpy(cb->best_weights, f->model->weight_block,
                   (size_t)f->model->weight_block_size * sizeof(float));
        if (isnan(cb->baseline) || improves(cb, current, cb->baseline)) {
            cb->wait = 0;
            return;
        }
    }
    if (cb->wait >= cb->patience && epoch > 0) {
        f->c->stop_training = true;
        if (cb->best_weights && !isinf(cb->best)) {
            memcpy(f->model->weight_block, cb->best_weights,
                   (size_t)f->model->weight_block_size * sizeof(float));
            ck_model_weights_changed(f->model);
        }
    }
}

static void reduce_lr(ck_fit_ctx *f, ck_callback *cb, double *lr_log)
{
    warn_missing_monitor(f, cb);
    double current = ck_history_last(f->hist, cb->monitor);
    if (isnan(current))
        return;
    if (cb->cooldown_counter > 0)
        cb->cooldown_counter--, cb->wait = 0;
    if (cb->maximize ? current > cb->best + cb->min_delta : current < cb->best - cb->min_delta) {
        cb->best = current, cb->wait = 0;
    } else if (cb->cooldown_counter <= 0 && ++cb->wait >= cb->patience) {
        double old = ck_optimizer_current_lr(&f->c->opt);
        if (old > (float)cb->min_lr) {
            set_lr(f->c, fmax(old * cb->factor, cb->min_lr));
            cb->cooldown_counter = cb->cooldown, cb->wait = 0;
        }
    }
    (void)lr_log;
}

/* Python's repr of a float: the shortest text that reads back the same double. */
static void repr_double(char *buf, size_t cap, double v)
{
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, cap, "%.*g", p, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    if (!strchr(buf, '.') && !strchr(buf, 'e') && !strchr(buf, 'n') && !strchr(buf, 'i'))
        strncat(buf, ".0", cap - strlen(buf) - 1);
}

static ck_status csv_row(ck_fit_ctx *f, ck_callback *cb, int epoch)
{
    const ck_history *h = f->hist;
    ck_buf b = {0};
    char *old = NULL;
    size_t old_len = 0;
    if (cb->csv_header_done || cb->append) /* rewrite old + new: the write stays atomic */
        if (ck_read_file(cb->path, &old, &old_len) != CK_OK)
            old = NULL, old_len = 0;
    if (old)
        ck_buf_putn(&b, old, old_len);
    if (!cb->csv_header_done && !(cb->append && old_len > 0)) {
        ck_buf_put(&b, "epoch");
        for (int i = 0; i < h->n_keys; i++)
            ck_buf_printf(&b, "%c%s", cb->separator, h->keys[i]);
        ck_buf_put(&b, "\r\n");
    }
    ck_buf_printf(&b, "%d", epoch);
    for (int i = 0; i < h->n_keys; i++) {
        char num[40];
        repr_double(num, sizeof num, h->values[(size_t)(h->n_epochs - 1) * (size_t)h->n_keys + (size_t)i]);
        ck_buf_printf(&b, "%c%s", cb->separator, num);
    }
    ck_buf_put(&b, "\r\n");
    ck_free(old);
    cb->csv_header_done = true;
    if (b.failed) {
        ck_buf_free(&b);
        return ck_fail(CK_ERR_NOMEM, "CSVLogger: out of memory");
    }
    ck_status st = ck_write_file_atomic(cb->path, b.data, b.len);
    ck_buf_free(&b);
    return st;
}

/* The get_weights() arrays as an .npz (np.savez order, as `ckeras predict
 * --weights` reads them), written to a temporary name, then renamed. */
static ck_status save_npz(const ck_model *m, const char *path)
{
    int n = ck_model_weight_count(m);
    ck_array *arrays = ck_calloc((size_t)(n ? n : 1), sizeof *arrays);
    if (!arrays)
        return ck_fail(CK_ERR_NOMEM, "out of memory");
    for (int i = 0; i < n; i++) {
        ck_weight_info w;
        if (ck_model_weight(m, i, &w) == CK_OK)
            arrays[i] = (ck_array){.dtype = CK_FLOAT32, .shape = w.shape, .data = (void *)w.data};
    }
    ck_status st = ck_npz_write(path, NULL, arrays, n);
    ck_free(arrays);
    return st;
}

/* One {field} or {field:spec} of a ModelCheckpoint filepath, as Python's
 * str.format writes it: epoch is an int (d), logs are floats (f, e, g, or
 * repr when there is no spec). */
static ck_status format_field(ck_buf *b, const char *field, size_t n, int epoch, const ck_history *h,
                              const char *template)
{
    const char *colon = memchr(field, ':', n);
    size_t name_len = colon ? (size_t)(colon - field) : n;
    char name[72], spec[32] = "";
    snprintf(name, sizeof name, "%.*s", (int)name_len, field);
    if (colon)
        snprintf(spec, sizeof spec, "%.*s", (int)(n - name_len - 1), colon + 1);
    bool is_epoch = strcmp(name, "epoch") == 0;
    double v = is_epoch ? epoch + 1 : ck_history_last(h, name);
    if (!is_epoch && ck_history_find(h, name) < 0)
        return ck_fail(CK_ERR_CONFIG, "Failed to format this callback filepath: \"%s\". Reason: '%s' is not "
                       "in the logs", template, name);
    size_t len = strlen(spec);
    char type = len ? spec[len - 1] : '\0', fmt[40];
    if (!len) {
        if (is_epoch)
            return ck_buf_printf(b, "%d", epoch + 1), CK_OK;
        repr_double(fmt, sizeof fmt, v);
        return ck_buf_put(b, fmt), CK_OK;
    }
    if (!strchr("dfeEgG", type) || strspn(spec, "0123456789.") != len - 1 || (type == 'd' && !is_epoch))
        return ck_fail(CK_ERR_CONFIG, "Failed to format this callback filepath: \"%s\". Reason: format spec "
                       "'%s' of '%s' is not supported", template, spec, name);
    snprintf(fmt, sizeof fmt, "%%%s", spec);
    if (type == 'd')
        ck_buf_printf(b, fmt, epoch + 1);
    else
        ck_buf_printf(b, fmt, v);
    return CK_OK;
}

/* model_checkpoint.py _get_file_path: filepath.format(epoch=epoch + 1, **logs). */
static ck_status checkpoint_path(const char *template, int epoch, const ck_history *h, char *out, size_t cap)
{
    ck_buf b = {0};
    ck_status st = CK_OK;
    for (const char *p = template; *p && st == CK_OK; p++) {
        if ((*p == '{' && p[1] == '{') || (*p == '}' && p[1] == '}')) {
            ck_buf_putn(&b, p++, 1);
        } else if (*p == '{') {
            const char *close = strchr(p, '}');
            if (!close)
                st = ck_fail(CK_ERR_CONFIG, "Failed to format this callback filepath: \"%s\". Reason: "
                             "unclosed '{'", template);
            else
                st = format_field(&b, p + 1, (size_t)(close - p - 1), epoch, h, template), p = close;
        } else {
            ck_buf_putn(&b, p, 1);
        }
    }
    if (st == CK_OK && (b.failed || b.len >= cap))
        st = ck_fail(CK_ERR_CONFIG, "ModelCheckpoint: filepath too long");
    if (st == CK_OK)
        snprintf(out, cap, "%.*s", (int)b.len, b.data);
    ck_buf_free(&b);
    return st;
}

/* The folders above `path`, made as Keras's _save_model makes them (makedirs). */
static ck_status make_parents(const char *path)
{
    char dir[sizeof ((ck_callback *)0)->path];
    snprintf(dir, sizeof dir, "%s", path);
    for (char *p = dir + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(dir, 0777) != 0 && errno != EEXIST)
            return ck_fail(CK_ERR_IO, "%s: cannot create folder %s: %s", path, dir, strerror(errno));
        *p = '/';
    }
    return CK_OK;
}

/* Keras's ModelCheckpoint at an epoch end: the file's ending says what is
 * written (.keras: the model; .h5: the legacy full model; .weights.h5: the
 * weights; .npz: the get_weights() arrays), every save atomic. */
static ck_status checkpoint(ck_fit_ctx *f, ck_callback *cb, int epoch)
{
    if (cb->save_best_only) {
        double current = ck_history_last(f->hist, cb->monitor);
        /* Keras saves anyway when the monitor is missing (with a warning). */
        if (!isnan(current) && !(cb->maximize ? current > cb->best : current < cb->best))
            return CK_OK;
        if (!isnan(current))
            cb->best = current;
    }
    char path[sizeof cb->path];
    ck_status st = checkpoint_path(cb->path, epoch, f->hist, path, sizeof path);
    if (st == CK_OK)
        st = make_parents(path);
    if (st == CK_OK)
        st = ends_with(path, ".npz") ? save_npz(f->model, path)
             : cb->save_model      ? cb->save_model(f->model, path)
                                   : ck_fail(CK_ERR_UNSUPPORTED, "%s: only .npz can be written here", path);
    return st == CK_OK ? CK_OK : ck_fail_prefix(st, "ModelCheckpoint: ");
}

ck_status ck_callbacks_epoch_end(ck_fit_ctx *f, int epoch)
{
    ck_status st = CK_OK;
    for (int i = 0; i < f->opts->n_callbacks && st == CK_OK; i++) {
        ck_callback *cb = f->opts->callbacks[i];
        switch (cb->kind) {
        case CK_CB_EARLY_STOPPING: early_stopping(f, cb, epoch); break;
        case CK_CB_REDUCE_LR: reduce_lr(f, cb, NULL); break;
        case CK_CB_CSV: st = f->writes_files ? csv_row(f, cb, epoch) : CK_OK; break;
        case CK_CB_CHECKPOINT: st = f->writes_files ? checkpoint(f, cb, epoch) : CK_OK; break;
        case CK_CB_BACKUP: st = f->writes_files ? ck_backup_save(f, cb, epoch) : CK_OK; break;
        case CK_CB_HOOK:
            if (!cb->hook(epoch, f->hist, cb->user))
                f->c->stop_training = true;
            break;
        default: break;
        }
    }
    return st;
}

void ck_callbacks_train_end(ck_fit_ctx *f)
{
    for (int i = 0; i < f->opts->n_callbacks; i++)
        if (f->writes_files && f->opts->callbacks[i]->kind == CK_CB_BACKUP && f->opts->callbacks[i]->delete_checkpoint)
            ck_backup_delete(f->opts->callbacks[i]);
}
