/* model.summary(): turns a model's layers into table rows (name, shape, Param #,
 * Connected to, Trainable) exactly as Keras formats each cell, then hands them to
 * the Keras 3 or tf.keras renderer, or writes them as JSON with FLOPs and memory. */
#include "graph/config.h"
#include "report/table.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

typedef struct row_text {
    char layer[CK_NAME_MAX + 96];
    char shape[256];
    char params[48];
    char *connected;   /* heap: can be long for many inputs */
    char trainable[2];
    int nested_level;
    const ck_layer *src;
} row_text;

typedef struct row_list {
    row_text *rows;
    int n, cap;
} row_list;

static const ck_node *last_node(const ck_layer *l)
{
    for (int i = l->n_nodes - 1; i >= 0; i--)
        if (ck_node_in_model(l->nodes[i])) return l->nodes[i];
    return l->n_nodes ? l->nodes[l->n_nodes - 1] : NULL;
}

static void format_output_shape(const ck_layer *l, bool keras2, char *buf, size_t cap)
{
    const ck_node *node = last_node(l);
    if (!node) {
        snprintf(buf, cap, keras2 ? "multiple" : "?");
        return;
    }
    /* Keras 3 stores node outputs flattened, so a multi-output layer shows a list;
     * tf.keras shows an InputLayer's output as a one-element list. */
    bool list = node->n_outputs > 1 || (keras2 && node->n_inputs == 0);
    size_t len = 0;
    if (list) len += (size_t)snprintf(buf, cap, "[");
    for (int i = 0; i < node->n_outputs && len < cap; i++) {
        char one[160];
        if (keras2) ck_shape_repr(&node->outputs[i].shape, one, sizeof one);
        else ck_shape_format(&node->outputs[i].shape, one, sizeof one);
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? ", " : "", one);
    }
    if (list && len < cap) snprintf(buf + len, cap - len, "]");
}

static char *format_connected(const ck_layer *l, bool keras2)
{
    ck_buf b = {0};
    int count = 0;
    if (keras2) ck_buf_put(&b, "[");
    for (int k = 0; k < l->n_nodes; k++) {
        const ck_node *node = l->nodes[k];
        if (!ck_node_in_model(node)) continue;
        for (int i = 0; i < node->n_inputs; i++) {
            const ck_ktensor *t = node->inputs[i];
            ck_buf_printf(&b, keras2 ? "%s'%s[%d][%d]'" : "%s%s[%d][%d]", count ? ", " : "",
                          t->node->layer->name, t->node->node_index, t->index);
            count++;
        }
    }
    /* Keras lists a call's mask= tensors among its inbound ones */
    for (int k = 0; !keras2 && k < l->n_nodes; k++)
        if (ck_node_in_model(l->nodes[k]) && l->nodes[k]->mask_from)
            ck_buf_printf(&b, "%s%s", count++ ? ", " : "", l->nodes[k]->mask_from);
    if (keras2) ck_buf_put(&b, "]");
    else if (!count) ck_buf_put(&b, "-");
    return ck_buf_take(&b);
}

static int count_weights(const ck_layer *l)
{
    if (!l->model) return l->n_weights;
    int n = 0;
    for (int i = 0; i < l->model->n_layers; i++) n += count_weights(l->model->layers[i]);
    return n;
}

static ck_status add_row(row_list *list, const ck_layer *l, int level, const ck_summary_opts *o,
                         bool model_built)
{
    ck_status st = ck_grow((void **)&list->rows, &list->cap, list->n + 1, sizeof *list->rows);
    if (st) return st;
    row_text *r = &list->rows[list->n];
    bool keras2 = o->style == CK_SUMMARY_KERAS2;
    char prefix[64] = "";
    if (level > 0 && !keras2) {
        size_t p = 0;
        for (int i = 0; i < level; i++) p += (size_t)snprintf(prefix + p, sizeof prefix - p, "   ");
        snprintf(prefix + p, sizeof prefix - p, "└ ");
    }
    snprintf(r->layer, sizeof r->layer, "%s%s (%s)", prefix, l->name, l->cls->class_name);
    format_output_shape(l, keras2, r->shape, sizeof r->shape);
    if (!l->built || !model_built) {
        snprintf(r->params, sizeof r->params, keras2 ? "0 (unused)" : "0 (unbuilt)");
    } else if (keras2) {
        snprintf(r->params, sizeof r->params, "%lld", (long long)ck_layer_params(l));
    } else {
        ck_format_thousands(ck_layer_params(l), r->params, sizeof r->params);
    }
    /* Nested rows show no connections: their nodes belong to the inner graph. */
    r->connected = level > 0 ? ck_strdup(keras2 ? "[]" : "-") : format_connected(l, keras2);
    if (!r->connected) return CK_ERR_NOMEM;
    if (keras2) snprintf(r->trainable, sizeof r->trainable, "%s", l->trainable ? "Y" : "N");
    else snprintf(r->trainable, sizeof r->trainable, "%s", !count_weights(l) ? "-" : l->trainable ? "Y" : "N");
    r->nested_level = level;
    r->src = l;
    list->n++;
    if (o->expand_nested && l->model) {
        for (int i = 0; i < l->model->n_layers; i++)
            if ((st = add_row(list, l->model->layers[i], level + 1, o, model_built))) return st;
    }
    return CK_OK;
}

static void free_rows(row_list *list)
{
    for (int i = 0; i < list->n; i++) ck_free(list->rows[i].connected);
    ck_free(list->rows);
}

/* Keras's layer_range: rows from the first name matching start to the last
 * matching end (re.match: anchored at the start of the name). */
static ck_status match_indices(const ck_model *m, const char *pattern, int *lo, int *hi)
{
    regex_t re;
    if (regcomp(&re, pattern, REG_EXTENDED | REG_NOSUB) != 0)
        return ck_fail(CK_ERR_ARG, "layer_range: '%s' is not a valid regular expression", pattern);
    char anchored[512];
    regfree(&re);
    snprintf(anchored, sizeof anchored, "^(%s)", pattern);
    if (regcomp(&re, anchored, REG_EXTENDED | REG_NOSUB) != 0)
        return ck_fail(CK_ERR_ARG, "layer_range: '%s' is not a valid regular expression", pattern);
    *lo = -1, *hi = -1;
    for (int i = 0; i < m->n_layers; i++) {
        if (regexec(&re, m->layers[i]->name, 0, NULL, 0) == 0) {
            if (*lo < 0) *lo = i;
            *hi = i;
        }
    }
    regfree(&re);
    return CK_OK;
}

static ck_status layer_range(const ck_model *m, const ck_summary_opts *o, int *first, int *last)
{
    *first = 0, *last = m->n_layers - 1;
    if (!o->layer_range[0] && !o->layer_range[1]) return CK_OK;
    if (!o->layer_range[0] || !o->layer_range[1])
        return ck_fail(CK_ERR_ARG, "layer_range must give both a start and an end pattern");
    int lo1, hi1, lo2, hi2;
    ck_status st = match_indices(m, o->layer_range[0], &lo1, &hi1);
    if (!st) st = match_indices(m, o->layer_range[1], &lo2, &hi2);
    if (st) return st;
    if (lo1 < 0 || lo2 < 0)
        return ck_fail(CK_ERR_ARG, "Passed layer_names do not match the layer names in the model. Received: ['%s', '%s']",
                       o->layer_range[0], o->layer_range[1]);
    if (lo1 > hi2) {
        *first = lo2, *last = hi1;
    } else {
        *first = lo1, *last = hi2;
    }
    return CK_OK;
}

/* A dropped keras.src.ops layer's row (ck_op_row): no layer behind it. */
static ck_status add_op_row(row_list *list, const ck_op_row *op)
{
    ck_status st = ck_grow((void **)&list->rows, &list->cap, list->n + 1, sizeof *list->rows);
    if (st) return st;
    row_text *r = &list->rows[list->n];
    *r = (row_text){.src = NULL};
    snprintf(r->layer, sizeof r->layer, "%s (%s)", op->name, op->class_name);
    snprintf(r->shape, sizeof r->shape, "%s", op->shape);
    snprintf(r->params, sizeof r->params, "0");
    snprintf(r->trainable, sizeof r->trainable, "-");
    if (!(r->connected = ck_strdup(op->connected))) return CK_ERR_NOMEM;
    list->n++;
    return CK_OK;
}

/* The op rows that sit before layer l's (l NULL: after the last layer). */
static ck_status add_op_rows(row_list *list, const ck_model *m, const ck_layer *l, const ck_summary_opts *o)
{
    ck_status st = CK_OK;
    if (o->style == CK_SUMMARY_KERAS2) return CK_OK; /* tf.keras 2 has no such rows */
    for (int i = 0; !st && i < m->n_op_rows; i++) {
        const char *before = m->op_rows[i].before;
        if (l ? before && !strcmp(before, l->name) : !before) st = add_op_row(list, &m->op_rows[i]);
    }
    return st;
}

static ck_status build_rows(const ck_model *m, const ck_summary_opts *o, row_list *list)
{
    int first, last;
    ck_status st = layer_range(m, o, &first, &last);
    for (int i = first; !st && i <= last; i++) {
        if (i > first) st = add_op_rows(list, m, m->layers[i], o);
        if (!st) st = add_row(list, m->layers[i], 0, o, m->base.built);
    }
    if (!st && last == m->n_layers - 1) st = add_op_rows(list, m, NULL, o);
    return st;
}

static int64_t layer_flops(const ck_layer *l)
{
    if (l->model) {
        int64_t f = 0;
        for (int i = 0; i < l->model->n_layers; i++) f += layer_flops(l->model->layers[i]);
        return f;
    }
    return l->built && l->cls->flops ? l->cls->flops(l) : 0;
}

ck_status ck_model_flops(const ck_model *m, int64_t *flops)
{
    if (!m->base.built) return ck_fail(CK_ERR_STATE, "model '%s' is not built", m->base.name);
    *flops = layer_flops(&m->base);
    return CK_OK;
}

/* Activations kept for one sample: every node output once. */
static int64_t activation_floats(const ck_model *m)
{
    int64_t total = 0;
    for (int i = 0; i < m->n_steps; i++) {
        const ck_node *n = m->steps[i].node;
        for (int k = 0; k < n->n_outputs; k++) {
            int64_t size;
            if (ck_shape_size_from(&n->outputs[k].shape, 1, &size) == CK_OK && size > 0) total += size;
        }
    }
    return total;
}

static void append_flops(const ck_model *m, ck_buf *b)
{
    int64_t f = 0;
    char num[48], bytes[48];
    if (ck_model_flops(m, &f)) return;
    ck_format_thousands(f, num, sizeof num);
    ck_buf_printf(b, " FLOPs per sample (forward): %s\n", num);
    ck_format_bytes((double)activation_floats(m) * 4.0, "B", bytes, sizeof bytes);
    ck_buf_printf(b, " Activation memory per sample: %s\n", bytes);
}

static json_t *summary_json(const ck_model *m, const row_list *rows, const ck_param_counts *c)
{
    json_t *layers = json_array();
    for (int i = 0; i < rows->n; i++) {
        const row_text *r = &rows->rows[i];
        const ck_layer *l = r->src;
        if (!l) continue; /* a dropped keras.src.ops layer: no layer to describe */
        json_t *conn = json_array();
        for (int k = 0; k < l->n_nodes; k++)
            for (int j = 0; ck_node_in_model(l->nodes[k]) && j < l->nodes[k]->n_inputs; j++) {
                const ck_ktensor *t = l->nodes[k]->inputs[j];
                json_array_append_new(conn, json_pack("[s,i,i]", t->node->layer->name, t->node->node_index, t->index));
            }
        json_array_append_new(layers, json_pack("{s:s, s:s, s:s, s:I, s:b, s:o, s:I, s:i}", "name", l->name,
                                                "class_name", l->cls->class_name, "output_shape", r->shape,
                                                "params", (json_int_t)(l->built ? ck_layer_params(l) : 0),
                                                "trainable", l->trainable, "connected_to", conn,
                                                "flops", (json_int_t)layer_flops(l), "nested_level", r->nested_level));
    }
    int64_t flops = 0;
    if (m->base.built) ck_model_flops(m, &flops);
    return json_pack("{s:s, s:s, s:b, s:o, s:I, s:I, s:I, s:I, s:f, s:I, s:I}", "name", m->base.name, "class_name",
                     m->base.cls->class_name, "built", m->base.built, "layers", layers, "total_params",
                     (json_int_t)c->total, "trainable_params", (json_int_t)c->trainable, "non_trainable_params",
                     (json_int_t)c->non_trainable, "optimizer_params", (json_int_t)c->optimizer, "total_bytes",
                     c->total_bytes, "flops_per_sample", (json_int_t)flops, "activation_floats_per_sample",
                     (json_int_t)(m->base.built ? activation_floats(m) : 0));
}

static ck_status render(const ck_model *m, const ck_summary_opts *o, const row_list *list,
                        const ck_param_counts *c, ck_buf *out)
{
    if (o->style == CK_SUMMARY_JSON) {
        json_t *j = summary_json(m, list, c);
        char *s = j ? json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER) : NULL;
        json_decref(j);
        if (!s) return ck_fail(CK_ERR_NOMEM, "out of memory writing the summary JSON");
        ck_buf_put(out, s);
        ck_buf_put(out, "\n");
        free(s);
        return CK_OK;
    }
    ck_table_row *rows = ck_calloc((size_t)list->n + 1, sizeof *rows);
    if (!rows) return CK_ERR_NOMEM;
    for (int i = 0; i < list->n; i++) {
        const row_text *r = &list->rows[i];
        rows[i] = (ck_table_row){r->layer, r->shape, r->params, r->connected, r->trainable, r->nested_level};
    }
    ck_table_opts t = {.functional = !ck_model_is_sequential_like(m), .show_trainable = o->show_trainable,
                       .line_length = o->line_length, .positions = o->positions, .n_positions = o->n_positions,
                       .console_width = o->console_width};
    ck_table_counts tc = {.trainable = c->trainable, .non_trainable = c->non_trainable, .optimizer = c->optimizer,
                          .trainable_bytes = c->trainable_bytes, .non_trainable_bytes = c->non_trainable_bytes,
                          .optimizer_bytes = c->optimizer_bytes, .include_optimizer = m->optimizer_built};
    const char *err = NULL;
    bool keras2 = o->style == CK_SUMMARY_KERAS2;
    char *table = keras2 ? ck_table_render_keras2(m->base.name, rows, list->n, &t, &err)
                         : ck_table_render_keras3(m->base.name, rows, list->n, &t, &err);
    char *footer = !table ? NULL
                   : keras2 ? ck_table_footer_keras2(&tc, ck_table_keras2_line_length(&t), &err)
                            : ck_table_footer_keras3(&tc, o->console_width, &err);
    ck_free(rows);
    if (!table || !footer) {
        free(table);
        return ck_fail(CK_ERR_ARG, "summary of model '%s': %s", m->base.name, err ? err : "out of memory");
    }
    ck_buf_put(out, table);
    ck_buf_put(out, footer);
    free(table);
    free(footer);
    if (o->show_flops && m->base.built) append_flops(m, out);
    return CK_OK;
}

ck_status ck_model_summary(const ck_model *m, const ck_summary_opts *opts, char **text)
{
    ck_summary_opts o = opts ? *opts : (ck_summary_opts){0};
    if (!m || !text) return ck_fail(CK_ERR_ARG, "ck_model_summary: NULL argument");
    ck_param_counts c;
    ck_status st = ck_model_count_params(m, &c);
    if (st) return st;
    row_list list = {0};
    ck_buf out = {0};
    st = build_rows(m, &o, &list);
    if (!st) st = render(m, &o, &list, &c, &out);
    free_rows(&list);
    if (st) {
        ck_buf_free(&out);
        return st;
    }
    *text = ck_buf_take(&out);
    return *text ? CK_OK : CK_ERR_NOMEM;
}
