/* keras.utils.model_to_dot goldens (tests/oracle/plot_cases.py): every golden
 * model's DOT text under every option set the oracle ran must equal Keras's byte
 * for byte (node ids are layer names on both sides), and ck_model_plot must
 * render each format through libgvc and leave nothing behind when it fails. */
#include "testutil.h"

#include <dirent.h>
#include <jansson.h>
#include <unistd.h>

static ck_plot_opts opts_of(json_t *o)
{
    /* model_to_dot's defaults, which the oracle called, apart from the keys given */
    ck_plot_opts p = {.show_layer_names = true};
    json_t *v;
    if ((v = json_object_get(o, "show_shapes"))) p.show_shapes = json_is_true(v);
    if ((v = json_object_get(o, "show_dtype"))) p.show_dtype = json_is_true(v);
    if ((v = json_object_get(o, "show_layer_names"))) p.show_layer_names = json_is_true(v);
    if ((v = json_object_get(o, "expand_nested"))) p.expand_nested = json_is_true(v);
    if ((v = json_object_get(o, "show_layer_activations"))) p.show_layer_activations = json_is_true(v);
    if ((v = json_object_get(o, "show_trainable"))) p.show_trainable = json_is_true(v);
    if ((v = json_object_get(o, "rankdir"))) p.rankdir = json_string_value(v);
    if ((v = json_object_get(o, "splines"))) p.splines = json_string_value(v);
    if ((v = json_object_get(o, "dpi"))) p.dpi = (int)json_integer_value(v);
    return p;
}

/* The first line where two texts differ, for the failure message. */
static void first_difference(const char *a, const char *b, char *out, size_t cap)
{
    int line = 1, col = 0;
    while (*a && *a == *b) {
        col = *a == '\n' ? 0 : col + 1;
        line += *a == '\n';
        a++, b++;
    }
    int back = col < 60 ? col : 60;
    snprintf(out, cap, "line %d:\n  ours:  %.160s\n  keras: %.160s", line, a - back, b - back);
}

static int check_model(const char *file)
{
    json_t *g = test_load_json("tests/golden/plot/%s", file);
    if (!g) return 0;
    char path[1024];
    ck_model *m = ck_model_load_json_file(test_path(path, sizeof path, "tests/golden/%s",
                                                    json_string_value(json_object_get(g, "source"))));
    CHECK(m != NULL, "%s: %s", file, ck_errmsg());
    size_t i;
    json_t *c;
    int n = 0;
    json_array_foreach(json_object_get(g, "cases"), i, c) {
        if (!m) break;
        ck_plot_opts o = opts_of(json_object_get(c, "options"));
        char *dot = NULL;
        ck_status st = ck_model_to_dot(m, &o, &dot);
        const char *want = json_string_value(json_object_get(c, "dot"));
        if (!want) {
            CHECK(st != CK_OK, "%s case %zu: Keras refused (%s), ckeras drew it", file, i,
                  json_string_value(json_object_get(c, "error")));
        } else if (st != CK_OK) {
            CHECK(st == CK_OK, "%s case %zu: %s", file, i, ck_errmsg());
        } else {
            char diff[800] = "";
            if (strcmp(dot, want)) first_difference(dot, want, diff, sizeof diff);
            CHECK(!strcmp(dot, want), "%s case %zu differs at %s", file, i, diff);
        }
        free(dot);
        n++;
    }
    ck_model_free(m);
    json_decref(g);
    return n;
}

static void check_goldens(void)
{
    char dir[1024];
    DIR *d = opendir(test_path(dir, sizeof dir, "tests/golden/plot"));
    CHECK(d != NULL, "no tests/golden/plot");
    if (!d) return;
    int models = 0, cases = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") || !strcmp(e->d_name, "VERSIONS.json")) continue;
        cases += check_model(e->d_name);
        models++;
    }
    closedir(d);
    CHECK(models >= 150 && cases >= 5 * models, "only %d models, %d cases", models, cases);
}

/* Each format's first bytes, as Graphviz writes it. */
static void check_render(void)
{
    static const struct { const char *ext, *magic; } formats[] = {
        {"png", "\x89PNG"}, {"svg", "<?xml"}, {"pdf", "%PDF"}, {"dot", "digraph G {"}, {"", "\x89PNG"},
    };
    char path[1024];
    ck_model *m =
        ck_model_load_json_file(test_path(path, sizeof path, "tests/golden/core/nested_seq_in_func/config.json"));
    CHECK(m != NULL, "%s", ck_errmsg());
    if (!m) return;
    char tmpl[] = "/tmp/ck_plot_XXXXXX";
    const char *dir = mkdtemp(tmpl);
    CHECK(dir != NULL, "mkdtemp");
    for (size_t i = 0; dir && i < sizeof formats / sizeof *formats; i++) {
        char out[256];
        snprintf(out, sizeof out, "%s/model%s%s", dir, *formats[i].ext ? "." : "", formats[i].ext);
        ck_plot_opts o = {.show_shapes = true, .expand_nested = true};
        CHECK_OK(ck_model_plot(m, out, &o));
        size_t len = 0;
        char *data = test_read_file(out, &len);
        CHECK(data && len > 100 && !memcmp(data, formats[i].magic, strlen(formats[i].magic)), "%s: not %s", out,
              formats[i].ext);
        free(data);
        unlink(out);
    }
    if (dir) {
        char out[256];
        snprintf(out, sizeof out, "%s/model.nosuchformat", dir);
        CHECK(ck_model_plot(m, out, NULL) != CK_OK, "unknown format accepted");
        CHECK(strstr(ck_errmsg(), "nosuchformat") != NULL, "message: %s", ck_errmsg());
        CHECK(access(out, F_OK) != 0, "a failed plot left %s", out);
        ck_plot_opts bad = {.rankdir = "XY"};
        snprintf(out, sizeof out, "%s/model.png", dir);
        CHECK(ck_model_plot(m, out, &bad) != CK_OK && strstr(ck_errmsg(), "rankdir"), "rankdir XY: %s", ck_errmsg());
        CHECK(access(out, F_OK) != 0, "a failed plot left %s", out);
        rmdir(dir);
    }
    ck_model_free(m);
}

int main(void)
{
    check_goldens();
    check_render();
    return test_report("test_plot");
}
