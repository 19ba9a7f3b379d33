/* keras.utils.plot_model and model_to_dot: the model's graph as DOT text with
 * Keras 3's HTML-table labels, node order, edges and clusters
 * (keras/src/utils/model_visualization.py), rendered to PNG, SVG, PDF or laid-out
 * DOT by Graphviz's own library (libgvc), never by spawning a program. Node ids
 * are layer names (Keras uses Python object ids, which mean nothing outside one
 * process). */
#include "graph/config.h"

#include <graphviz/gvc.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_DPI 200 /* model_to_dot(dpi=200) */

/* The edges already drawn in one graph or cluster: pydot's get_edge() check
 * makes each (source, destination) pair appear once per graph. */
typedef struct edge_set {
    const ck_layer **pairs; /* [2 * n] */
    int n, cap;
} edge_set;

typedef struct plot_ctx {
    const ck_plot_opts *o;
    ck_buf *out;
} plot_ctx;

static bool is_nested_model(const ck_layer *l) { return l->model != NULL; }

/* Node ids: a layer name, bare when it is a plain DOT identifier, else quoted. */
static void put_id(ck_buf *b, const char *name)
{
    static const char *const keywords[] = {"node", "edge", "graph", "digraph", "subgraph", "strict"};
    bool plain = (name[0] < '0' || name[0] > '9') && name[0] != '\0';
    for (const char *p = name; plain && *p; p++)
        plain = (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_';
    for (int i = 0; plain && i < CK_N_OF(keywords); i++)
        plain = strcasecmp(name, keywords[i]) != 0;
    if (plain) {
        ck_buf_put(b, name);
        return;
    }
    ck_buf_put(b, "\"");
    for (const char *p = name; *p; p++) {
        if (*p == '"' || *p == '\\') ck_buf_put(b, "\\");
        ck_buf_putn(b, p, 1);
    }
    ck_buf_put(b, "\"");
}

/* An attribute value as pydot quotes it (quote_attr_if_necessary): bare when all
 * digits or letters and digits not starting with a digit, quoted otherwise. */
static void put_attr(ck_buf *b, const char *value)
{
    bool digits = *value != '\0', alnum = *value != '\0';
    for (const char *p = value; *p; p++) {
        bool digit = *p >= '0' && *p <= '9';
        digits = digits && digit;
        alnum = alnum && (digit || (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'));
    }
    static const char *const keywords[] = {"node", "edge", "graph", "digraph", "subgraph", "strict"};
    bool keyword = false;
    for (int i = 0; i < CK_N_OF(keywords); i++)
        keyword = keyword || !strcasecmp(value, keywords[i]);
    if (!keyword && (digits || (alnum && !(value[0] >= '0' && value[0] <= '9')))) {
        ck_buf_put(b, value);
        return;
    }
    ck_buf_put(b, "\"");
    for (const char *p = value; *p; p++) {
        if (*p == '"' || *p == '\\') ck_buf_put(b, "\\");
        ck_buf_putn(b, p, 1);
    }
    ck_buf_put(b, "\"");
}

/* Keras classes whose call() takes `mask`: Layer.__call__ fills it in from the
 * input's Keras mask, so the node's input tensors (what layer.input shows) end
 * with that mask (keras/src/layers/layer.py, _call_has_mask_arg). */
static bool call_takes_mask(const ck_layer *l)
{
    static const char *const classes[] = {"SimpleRNN", "LSTM", "GRU", "ConvLSTM1D", "ConvLSTM2D", "ConvLSTM3D",
                                          "Bidirectional", "TimeDistributed", "GlobalAveragePooling1D"};
    for (int i = 0; i < CK_N_OF(classes); i++)
        if (!strcmp(l->cls->class_name, classes[i])) return true;
    return false;
}

/* f"{shape}" of layer.input / layer.output: one tensor prints as a Python tuple,
 * several (Keras flattens a node's tensors) as a list of tuples. */
static void put_shapes(ck_buf *b, ck_ktensor *const *many, const ck_ktensor *one, int n)
{
    if (n != 1) ck_buf_put(b, "[");
    for (int i = 0; i < n; i++) {
        char s[200];
        ck_shape_repr(many ? &many[i]->shape : &one[i].shape, s, sizeof s);
        ck_buf_printf(b, "%s%s", i ? ", " : "", s);
    }
    if (n != 1) ck_buf_put(b, "]");
}

/* layer.input: the call's tensors, then the mask Keras passed to call() (the
 * data's shape without its last axis). */
static void put_input_shapes(ck_buf *b, const ck_layer *l, const ck_node *node)
{
    bool mask = node->n_inputs == 1 && call_takes_mask(l) && ck_ktensor_has_mask(node->inputs[0]);
    if (!mask) {
        put_shapes(b, node->inputs, NULL, node->n_inputs);
        return;
    }
    char s[200];
    ck_shape_repr(&node->inputs[0]->shape, s, sizeof s);
    ck_shape m = node->inputs[0]->shape;
    m.rank--;
    ck_buf_printf(b, "[%s, ", s);
    ck_shape_repr(&m, s, sizeof s);
    ck_buf_printf(b, "%s]", s);
}

static void put_dtypes(ck_buf *b, const ck_node *node)
{
    /* map_structure(lambda x: x.dtype, layer.output): a list prints its items'
     * reprs. Outputs carry the layer's compute dtype (an InputLayer's own). */
    if (node->n_outputs == 1) {
        ck_buf_put(b, ck_layer_compute_dtype(node->layer));
        return;
    }
    ck_buf_put(b, "[");
    for (int i = 0; i < node->n_outputs; i++) ck_buf_printf(b, "%s'%s'", i ? ", " : "", ck_layer_compute_dtype(node->layer));
    ck_buf_put(b, "]");
}

/* layer.activation's name when the Keras class has that attribute (the classes
 * whose config has an `activation` field); NULL otherwise. */
static const char *activation_name(const ck_layer *l)
{
    for (int i = 0; i < l->cls->n_fields; i++) {
        const ck_field *f = &l->cls->fields[i];
        if (f->type == CK_FT_ACT && !strcmp(f->name, "activation"))
            return ck_act_function_name(((const ck_act *)((const char *)l->config + f->offset))->kind);
    }
    return NULL;
}

static bool has_weights(const ck_layer *l)
{
    if (!l->model) return l->n_weights > 0;
    for (int i = 0; i < l->model->n_layers; i++)
        if (has_weights(l->model->layers[i])) return true;
    return false;
}

static const char *const CELL = "<td bgcolor=\"white\"><font point-size=\"14\">";

/* make_layer_label(): the HTML table Keras puts in each node. */
static void put_label(ck_buf *b, const ck_layer *l, const ck_plot_opts *o)
{
    const char *cls = ck_layer_class_name(l);
    int colspan = (int)o->show_dtype + (int)o->show_trainable + (o->show_shapes ? 2 : 0);
    if (colspan < 1) colspan = 1;
    ck_buf_put(b, "<<table border=\"0\" cellborder=\"1\" bgcolor=\"black\" cellpadding=\"10\">");
    ck_buf_printf(b, "<tr><td colspan=\"%d\" bgcolor=\"black\"><font point-size=\"16\" color=\"white\">", colspan);
    if (o->show_layer_names) ck_buf_printf(b, "<b>%s</b> (%s)", l->name, cls);
    else ck_buf_printf(b, "<b>%s</b>", cls);
    ck_buf_put(b, "</font></td></tr>");
    const char *act = o->show_layer_activations ? activation_name(l) : NULL;
    if (act)
        ck_buf_printf(b, "<tr><td bgcolor=\"white\" colspan=\"%d\"><font point-size=\"14\">"
                         "Activation: <b>%s</b></font></td></tr>", colspan, act);
    /* layer.input and layer.output read the layer's first call. */
    const ck_node *node = l->n_nodes ? l->nodes[0] : NULL;
    ck_buf cols = {0};
    if (o->show_shapes) {
        if (strcmp(cls, "InputLayer")) {
            ck_buf_printf(&cols, "%sInput shape: <b>", CELL);
            if (node) put_input_shapes(&cols, l, node);
            else ck_buf_put(&cols, "?");
            ck_buf_put(&cols, "</b></font></td>");
        }
        ck_buf_printf(&cols, "%sOutput shape: <b>", CELL);
        if (node) put_shapes(&cols, NULL, node->outputs, node->n_outputs);
        else ck_buf_put(&cols, "?");
        ck_buf_put(&cols, "</b></font></td>");
    }
    if (o->show_dtype) {
        ck_buf_printf(&cols, "%sOutput dtype: <b>", CELL);
        if (node) put_dtypes(&cols, node);
        else ck_buf_put(&cols, "?");
        ck_buf_put(&cols, "</b></font></td>");
    }
    if (o->show_trainable && has_weights(l))
        ck_buf_printf(&cols, "<td bgcolor=\"%s\"><font point-size=\"14\" color=\"white\"><b>%s</b></font></td>",
                      l->trainable ? "forestgreen" : "firebrick", l->trainable ? "Trainable" : "Non-trainable");
    if (cols.len) ck_buf_printf(b, "<tr>%s</tr>", cols.data);
    ck_buf_free(&cols);
    ck_buf_put(b, "</table>>");
}

static void put_node(plot_ctx *c, const ck_layer *l)
{
    put_id(c->out, l->name);
    ck_buf_put(c->out, " [label=");
    put_label(c->out, l, c->o);
    ck_buf_put(c->out, ", fontname=Helvetica, border=0, margin=0];\n");
}

static ck_status add_edge(plot_ctx *c, edge_set *s, const ck_layer *src, const ck_layer *dst)
{
    for (int i = 0; i < s->n; i++)
        if (s->pairs[2 * i] == src && s->pairs[2 * i + 1] == dst) return CK_OK;
    int cap2 = s->cap * 2;
    ck_status st = ck_grow((void **)&s->pairs, &cap2, 2 * (s->n + 1), sizeof *s->pairs);
    if (st) return st;
    s->cap = cap2 / 2;
    s->pairs[2 * s->n] = src;
    s->pairs[2 * s->n + 1] = dst;
    s->n++;
    put_id(c->out, src->name);
    ck_buf_put(c->out, " -> ");
    put_id(c->out, dst->name);
    ck_buf_put(c->out, " [penwidth=2];\n");
    return CK_OK;
}

/* The first box inside a nested model an edge into it points at. */
static const ck_layer *resolve_destination(const ck_layer *dst, int input_index)
{
    while (dst->model) {
        const ck_model *m = dst->model;
        if (m->kind == CK_FUNCTIONAL && input_index < m->n_inputs) dst = m->inputs[input_index]->node->layer;
        else if (m->kind == CK_SEQUENTIAL && m->n_layers) dst = m->layers[0];
        else break;
    }
    return dst;
}

/* The box inside a nested model that makes the output an edge leaves from. */
static const ck_layer *resolve_source(const ck_layer *src, int output_index)
{
    while (src->model && output_index < src->model->n_outputs) {
        const ck_ktensor *t = src->model->outputs[output_index];
        src = t->node->layer;
        output_index = t->index;
    }
    return src;
}

static ck_status put_graph(plot_ctx *c, const ck_model *m, bool subgraph);

static ck_status put_cluster(plot_ctx *c, const ck_model *m)
{
    ck_buf_put(c->out, "subgraph ");
    char name[CK_NAME_MAX + 16];
    snprintf(name, sizeof name, "cluster_%s", m->base.name);
    put_id(c->out, name);
    ck_buf_put(c->out, " {\nstyle=dashed;\nlabel=");
    put_attr(c->out, m->base.name);
    ck_buf_put(c->out, ";\nlabeljust=l;\n");
    ck_status st = put_graph(c, m, true);
    ck_buf_put(c->out, "}\n");
    return st;
}

/* model_to_dot's body for one (sub)graph: nodes (nested models as clusters with
 * expand_nested), then the edges, drawn from each layer's inbound calls. */
static ck_status put_graph(plot_ctx *c, const ck_model *m, bool subgraph)
{
    (void)subgraph;
    ck_status st = CK_OK;
    for (int i = 0; !st && i < m->n_layers; i++) {
        const ck_layer *l = m->layers[i];
        if (c->o->expand_nested && is_nested_model(l)) st = put_cluster(c, l->model);
        else put_node(c, l);
    }
    edge_set edges = {0};
    if (m->kind == CK_SEQUENTIAL && !c->o->expand_nested) {
        for (int i = 0; !st && i + 1 < m->n_layers; i++) st = add_edge(c, &edges, m->layers[i], m->layers[i + 1]);
        ck_free(edges.pairs);
        return st;
    }
    /* A Sequential's first layer is fed by its hidden InputLayer, which has no box:
     * the edge into the Sequential itself is drawn by the outer graph. */
    for (int i = m->kind == CK_SEQUENTIAL ? 1 : 0; !st && i < m->n_layers; i++) {
        const ck_layer *l = m->layers[i];
        for (int k = 0; !st && k < l->n_nodes; k++) {
            const ck_node *node = l->nodes[k];
            if (m->kind == CK_FUNCTIONAL && !ck_node_in_model(node)) continue;
            for (int j = 0; !st && j < node->n_inputs; j++) {
                const ck_ktensor *t = node->inputs[j];
                const ck_layer *src = t->node->layer, *dst = l;
                if (c->o->expand_nested) {
                    src = resolve_source(src, t->index);
                    dst = resolve_destination(dst, j);
                }
                st = add_edge(c, &edges, src, dst);
            }
        }
    }
    ck_free(edges.pairs);
    return st;
}

static ck_plot_opts resolved_opts(const ck_plot_opts *o)
{
    ck_plot_opts r = o ? *o : (ck_plot_opts){0};
    if (!r.rankdir) r.rankdir = "TB";
    if (!r.splines) r.splines = "ortho";
    if (r.dpi <= 0) r.dpi = DEFAULT_DPI;
    return r;
}

static ck_status check_opts(const ck_model *m, const ck_plot_opts *o)
{
    /* Keras's empty Sequential is not built either. */
    if (!m->base.built || (m->kind == CK_SEQUENTIAL && m->n_layers == 0))
        return ck_fail(CK_ERR_STATE, "model '%s': This model has not yet been built. Build the model first by "
                       "calling `build()` or by calling the model on a batch of data.", m->base.name);
    if (strcmp(o->rankdir, "TB") && strcmp(o->rankdir, "LR") && strcmp(o->rankdir, "BT") && strcmp(o->rankdir, "RL"))
        return ck_fail(CK_ERR_ARG, "plot: rankdir must be 'TB' or 'LR' (or 'BT', 'RL'), not '%s'", o->rankdir);
    static const char *const splines[] = {"ortho", "curved", "polyline", "spline", "line", "true", "false", "none"};
    for (int i = 0; i < CK_N_OF(splines); i++)
        if (!strcmp(o->splines, splines[i])) return CK_OK;
    return ck_fail(CK_ERR_ARG, "plot: unknown splines '%s' (ortho, curved, polyline, spline, line)", o->splines);
}

ck_status ck_model_to_dot(const ck_model *m, const ck_plot_opts *opts, char **dot)
{
    if (!m || !dot) return ck_fail(CK_ERR_ARG, "ck_model_to_dot: NULL argument");
    *dot = NULL;
    ck_plot_opts o = resolved_opts(opts);
    ck_status st = check_opts(m, &o);
    if (st) return st;
    ck_buf b = {0};
    ck_buf_printf(&b, "digraph G {\nrankdir=%s;\nconcentrate=true;\ndpi=%d;\nsplines=%s;\nnode [shape=record];\n",
                  o.rankdir, o.dpi, o.splines);
    plot_ctx c = {.o = &o, .out = &b};
    st = put_graph(&c, m, false);
    ck_buf_put(&b, "}\n");
    if (st) {
        ck_buf_free(&b);
        return st;
    }
    *dot = ck_buf_take(&b);
    return *dot ? CK_OK : CK_ERR_NOMEM;
}

/* plot_model's format: the path's extension, "png" when it has none. */
static const char *format_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(slash ? slash : path, '.');
    return dot && dot[1] ? dot + 1 : "png";
}

/* One Graphviz context for the process, never freed: Graphviz 2.42's pango
 * plugin remembers the last font name in a static pointer into the context's
 * font cache, so a second context made after gvFreeContext compares against
 * freed memory (AddressSanitizer shows it). Graphviz is not thread-safe either,
 * hence the lock. This is the library's one piece of process-wide state, and it
 * belongs to Graphviz. */
static pthread_once_t gvc_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t gvc_lock = PTHREAD_MUTEX_INITIALIZER;
static GVC_t *gvc_shared;

static void gvc_start(void)
{
    /* Graphviz prints its errors on stderr unless told to keep them (the library
     * never prints): they are left for aglasterr and reported as a status. */
    agseterr(AGMAX);
    gvc_shared = gvContext();
}

/* Graphviz renders into memory, so a failed layout leaves no half-written file. */
static ck_status render(const char *dot_text, const char *format, const char *path, char **data, unsigned *len)
{
    pthread_once(&gvc_once, gvc_start);
    if (!gvc_shared) return ck_fail(CK_ERR_NOMEM, "%s: cannot start Graphviz", path);
    pthread_mutex_lock(&gvc_lock);
    Agraph_t *g = agmemread(dot_text);
    ck_status st = CK_OK;
    if (!g) st = ck_fail(CK_ERR_FORMAT, "%s: Graphviz could not read the model's graph", path);
    else if (gvLayout(gvc_shared, g, "dot") != 0) st = ck_fail(CK_ERR_UNSUPPORTED, "%s: Graphviz layout failed", path);
    else if (gvRenderData(gvc_shared, g, format, data, len) != 0)
        st = ck_fail(CK_ERR_UNSUPPORTED, "%s: Graphviz cannot write format '%s' (png, svg, pdf, dot)", path, format);
    if (g) {
        gvFreeLayout(gvc_shared, g);
        agclose(g);
    }
    pthread_mutex_unlock(&gvc_lock);
    return st;
}

ck_status ck_model_plot(const ck_model *m, const char *path, const ck_plot_opts *opts)
{
    if (!m || !path) return ck_fail(CK_ERR_ARG, "ck_model_plot: NULL argument");
    char *dot;
    ck_status st = ck_model_to_dot(m, opts, &dot);
    if (st) return ck_fail_prefix(st, "%s: ", path);
    char *data = NULL;
    unsigned len = 0;
    st = render(dot, format_of(path), path, &data, &len);
    free(dot);
    if (!st) st = ck_write_file_atomic(path, data, len);
    if (data) gvFreeRenderData(data);
    return st;
}
