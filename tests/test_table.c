/* Tests for src/report/table.c, the model.summary() table renderer.
 *
 * Keras 3: every case in tests/golden/table/cases.json (written, with the
 * .txt goldens, only by tests/oracle/table_cases.py from real Keras) is
 * rendered from the same row strings and options, plus the footer, and
 * compared byte for byte with what Keras printed.
 * tf.keras 2.13+: no tf.keras here, so the expected strings are verbatim
 * copies of tf.keras's print_summary output (tf_keras/src/utils/layer_utils.py,
 * and upstream tf-keras's layer_utils_test.py).
 *
 * An optional argument names the golden directory (default: under $CKERAS_ROOT
 * when set, else tests/golden/table relative to the working directory). */
#include "report/table.h"
#include "testutil.h"

#include <jansson.h>

/* A number or a boolean member of a case (Python's json writes True as true). */
static double jnum(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    return json_is_boolean(v) ? (double)json_is_true(v) : json_number_value(v);
}

static const char *jstr(const json_t *v) { return json_is_string(v) ? json_string_value(v) : ""; }

static char *concat(const char *a, const char *b) {
    size_t na = strlen(a), nb = strlen(b);
    char *s = malloc(na + nb + 1);
    memcpy(s, a, na);
    memcpy(s + na, b, nb + 1);
    return s;
}

/* Prints the first differing line of two texts, to make failures readable. */
static void show_diff(const char *name, const char *want, const char *got) {
    int line = 1;
    const char *w = want, *g = got;
    while (*w && *w == *g) {
        if (*w == '\n') line++;
        w++, g++;
    }
    while (w > want && w[-1] != '\n') w--, g--;
    fprintf(stderr, "  %s differs at line %d\n  want: %.*s\n  got:  %.*s\n", name, line,
            (int)strcspn(w, "\n"), w, (int)strcspn(g, "\n"), g);
}

static int expect_text(const char *name, const char *want, const char *got) {
    int ok = got && !strcmp(want, got);
    CHECK(ok, "%s: output differs", name);
    if (!ok && got) show_diff(name, want, got);
    return ok;
}

/* ------------------------------------------------------ Keras 3 goldens */

static ck_table_counts case_counts(const json_t *c) {
    const json_t *f = json_object_get(c, "footer");
    return (ck_table_counts){
        .trainable = (int64_t)jnum(f, "trainable"),
        .non_trainable = (int64_t)jnum(f, "non_trainable"),
        .optimizer = (int64_t)jnum(f, "optimizer"),
        .trainable_bytes = jnum(f, "trainable_bytes"),
        .non_trainable_bytes = jnum(f, "non_trainable_bytes"),
        .optimizer_bytes = jnum(f, "optimizer_bytes"),
        .include_optimizer = jnum(f, "include_optimizer") != 0,
    };
}

static void run_case(const json_t *c, const char *dir) {
    const char *name = jstr(json_object_get(c, "name"));
    const json_t *rows = json_object_get(c, "rows"), *pos = json_object_get(c, "positions");
    size_t n_rows = json_array_size(rows), n_pos = json_array_size(pos);
    ck_table_row *r = calloc(n_rows + 1, sizeof *r);
    for (size_t i = 0; i < n_rows; i++) {
        const json_t *x = json_array_get(rows, i);
        r[i] = (ck_table_row){jstr(json_array_get(x, 0)), jstr(json_array_get(x, 1)), jstr(json_array_get(x, 2)),
                              jstr(json_array_get(x, 3)), jstr(json_array_get(x, 4)), 0};
    }
    double *p = calloc(n_pos + 1, sizeof *p);
    for (size_t i = 0; i < n_pos; i++) p[i] = json_number_value(json_array_get(pos, i));
    ck_table_opts o = {
        .functional = jnum(c, "functional") != 0,
        .show_trainable = jnum(c, "show_trainable") != 0,
        .line_length = (int)jnum(c, "line_length"),
        .positions = json_is_array(pos) ? p : NULL,
        .n_positions = (int)n_pos,
        .console_width = (int)jnum(c, "console_width"),
    };
    const char *err = NULL;
    char *table = ck_table_render_keras3(jstr(json_object_get(c, "model_name")), r, (int)n_rows, &o, &err);
    const json_t *want_err = json_object_get(c, "error");
    if (json_is_string(want_err)) {
        CHECK(!table && err && !strcmp(err, jstr(want_err)), "%s: want error '%s', got '%s'", name, jstr(want_err),
              err ? err : "(none)");
    } else {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, jstr(json_object_get(c, "expected")));
        char *want = test_read_file(path, NULL);
        ck_table_counts counts = case_counts(c);
        char *foot = ck_table_footer_keras3(&counts, o.console_width, &err);
        CHECK(want != NULL, "%s: cannot read %s", name, path);
        CHECK(table && foot, "%s: render failed: %s", name, err ? err : "?");
        if (want && table && foot) {
            char *got = concat(table, foot);
            expect_text(name, want, got);
            free(got);
        }
        free(foot);
        free(want);
    }
    free(table);
    free(p);
    free(r);
}

static int run_goldens(const char *dir) {
    char path[2048];
    snprintf(path, sizeof path, "%s/cases.json", dir);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    CHECK(root != NULL, "cannot read %s (run from the repository root): %s", path, jerr.text);
    const json_t *cases = json_object_get(root, "cases");
    size_t i;
    const json_t *c;
    json_array_foreach(cases, i, c) run_case(c, dir);
    int n = (int)json_array_size(cases);
    json_decref(root);
    return n;
}

/* ------------------------------------------------- tf.keras expectations */

#define ROW(l, s, p) {l, s, p, "", "", 0}
#define TROW(l, s, p, t, lvl) {l, s, p, "", t, lvl}

static void k2_check(const char *name, const char *model, const ck_table_row *rows, int n,
                     const ck_table_opts *o, const ck_table_counts *c, const char *want) {
    const char *err = NULL;
    char *t = ck_table_render_keras2(model, rows, n, o, &err);
    char *f = ck_table_footer_keras2(c, ck_table_keras2_line_length(o), &err);
    CHECK(t && f, "%s: render failed: %s", name, err ? err : "?");
    if (t && f) {
        char *got = concat(t, f);
        expect_text(name, want, got);
        free(got);
    }
    free(t);
    free(f);
}

/* tf.keras 2.13+ print_summary of a Sequential, verbatim. */
static void k2_spec_example(void) {
    static const ck_table_row rows[] = {ROW("dense (Dense)", "(None, 3)", "9"),
                                        ROW("dense_1 (Dense)", "(None, 2)", "8")};
    ck_table_opts o = {0};
    ck_table_counts c = {.trainable = 17, .trainable_bytes = 68};
    k2_check("k2_spec_seq", "sequential", rows, 2, &o, &c,
             "Model: \"sequential\"\n"
             "_________________________________________________________________\n"
             " Layer (type)                Output Shape              Param #   \n"
             "=================================================================\n"
             " dense (Dense)               (None, 3)                 9         \n"
             "                                                                 \n"
             " dense_1 (Dense)             (None, 2)                 8         \n"
             "                                                                 \n"
             "=================================================================\n"
             "Total params: 17 (68.00 Byte)\n"
             "Trainable params: 17 (68.00 Byte)\n"
             "Non-trainable params: 0 (0.00 Byte)\n"
             "_________________________________________________________________\n");
}

/* tf-keras layer_utils_test.py test_print_summary_format_long_names. */
static void k2_long_names(void) {
    static const ck_table_row rows[] = {
        ROW("Really-Long-name-test (Conv2D)", "(None, 6, 6, 4)", "112"),
        ROW("Another-long-name-test (Conv2D)", "(None, 4, 4, 4)", "148"),
        ROW("flatten (Flatten)", "(None, 64)", "0"),
        ROW("long-name-test-output (Dense)", "(None, 2)", "130")};
    ck_table_opts o = {0};
    ck_table_counts c = {.trainable = 390, .trainable_bytes = 1560};
    k2_check("k2_long_names", "sequential", rows, 4, &o, &c,
             "Model: \"sequential\"\n"
             "_________________________________________________________________\n"
             " Layer (type)                Output Shape              Param #   \n"
             "=================================================================\n"
             " Really-Long-name-test (Con  (None, 6, 6, 4)           112       \n"
             " v2D)                                                            \n"
             "                                                                 \n"
             " Another-long-name-test (Co  (None, 4, 4, 4)           148       \n"
             " nv2D)                                                           \n"
             "                                                                 \n"
             " flatten (Flatten)           (None, 64)                0         \n"
             "                                                                 \n"
             " long-name-test-output (Den  (None, 2)                 130       \n"
             " se)                                                             \n"
             "                                                                 \n"
             "=================================================================\n"
             "Total params: 390 (1.52 KB)\n"
             "Trainable params: 390 (1.52 KB)\n"
             "Non-trainable params: 0 (0.00 Byte)\n"
             "_________________________________________________________________\n");
}

/* tf-keras test_print_summary_expand_nested. */
static void k2_expand_nested(void) {
    static const ck_table_row rows[] = {
        TROW("input_3 (InputLayer)", "[(None, None, None, 3)]", "0", "", 0),
        TROW("model_1 (Functional)", "(None, None, None, 3)", "24", "", 0),
        TROW("input_1 (InputLayer)", "[(None, None, None, 3)]", "0", "", 1),
        TROW("model (Functional)", "(None, None, None, 3)", "24", "", 1),
        TROW("input_2 (InputLayer)", "[(None, None, None, 3)]", "0", "", 2),
        TROW("conv2d (Conv2D)", "(None, None, None, 3)", "12", "", 2),
        TROW("batch_normalization (BatchNormalization)", "(None, None, None, 3)", "12", "", 2)};
    ck_table_opts o = {0};
    ck_table_counts c = {.trainable = 18, .trainable_bytes = 72, .non_trainable = 6,
                         .non_trainable_bytes = 24};
    k2_check("k2_expand_nested", "model_2", rows, 7, &o, &c,
             "Model: \"model_2\"\n"
             "_________________________________________________________________\n"
             " Layer (type)                Output Shape              Param #   \n"
             "=================================================================\n"
             " input_3 (InputLayer)        [(None, None, None, 3)]   0         \n"
             "                                                                 \n"
             " model_1 (Functional)        (None, None, None, 3)     24        \n"
             "|¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯|\n"
             "| input_1 (InputLayer)       [(None, None, None, 3)]   0        |\n"
             "|                                                               |\n"
             "| model (Functional)         (None, None, None, 3)     24       |\n"
             "||¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯||\n"
             "|| input_2 (InputLayer)      [(None, None, None, 3)]   0       ||\n"
             "||                                                             ||\n"
             "|| conv2d (Conv2D)           (None, None, None, 3)     12      ||\n"
             "||                                                             ||\n"
             "|| batch_normalization (Bat  (None, None, None, 3)     12      ||\n"
             "|| chNormalization)                                            ||\n"
             "|¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯|\n"
             "¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯\n"
             "=================================================================\n"
             "Total params: 24 (96.00 Byte)\n"
             "Trainable params: 18 (72.00 Byte)\n"
             "Non-trainable params: 6 (24.00 Byte)\n"
             "_________________________________________________________________\n");
}

/* tf-keras test_print_summary_show_trainable. Upstream's expected text has one
 * more '_' line than print_summary writes (the test only asserts containment),
 * so the real output is that text minus the last line. */
static void k2_show_trainable(void) {
    static const ck_table_row rows[] = {TROW("conv (Conv2D)", "(None, 2, 3, 2)", "62", "N", 0),
                                        TROW("flat (Flatten)", "(None, 12)", "0", "Y", 0),
                                        TROW("dense (Dense)", "(None, 5)", "65", "Y", 0)};
    ck_table_opts o = {.show_trainable = 1};
    ck_table_counts c = {.trainable = 65, .trainable_bytes = 260, .non_trainable = 62,
                         .non_trainable_bytes = 248};
    k2_check("k2_show_trainable", "trainable", rows, 3, &o, &c,
             "Model: \"trainable\"\n"
             "____________________________________________________________________________\n"
             " Layer (type)                Output Shape              Param #   Trainable  \n"
             "============================================================================\n"
             " conv (Conv2D)               (None, 2, 3, 2)           62        N          \n"
             "                                                                            \n"
             " flat (Flatten)              (None, 12)                0         Y          \n"
             "                                                                            \n"
             " dense (Dense)               (None, 5)                 65        Y          \n"
             "                                                                            \n"
             "============================================================================\n"
             "Total params: 127 (508.00 Byte)\n"
             "Trainable params: 65 (260.00 Byte)\n"
             "Non-trainable params: 62 (248.00 Byte)\n"
             "____________________________________________________________________________\n");
}

/* tf-keras test_print_summary_expand_nested_show_trainable. */
static void k2_nested_trainable(void) {
    static const ck_table_row rows[] = {
        TROW("input3 (InputLayer)", "[(None, None, None, 3)]", "0", "Y", 0),
        TROW("model_1 (Functional)", "(None, None, None, 3)", "24", "Y", 0),
        TROW("input1 (InputLayer)", "[(None, None, None, 3)]", "0", "Y", 1),
        TROW("model (Functional)", "(None, None, None, 3)", "24", "Y", 1),
        TROW("input2 (InputLayer)", "[(None, None, None, 3)]", "0", "Y", 2),
        TROW("conv2d (Conv2D)", "(None, None, None, 3)", "12", "N", 2),
        TROW("batch_normalization (BatchNormalization)", "(None, None, None, 3)", "12", "Y", 2)};
    ck_table_opts o = {.show_trainable = 1};
    ck_table_counts c = {.trainable = 6, .trainable_bytes = 24, .non_trainable = 18,
                         .non_trainable_bytes = 72};
    k2_check("k2_nested_trainable", "model_2", rows, 7, &o, &c,
             "Model: \"model_2\"\n"
             "____________________________________________________________________________\n"
             " Layer (type)                Output Shape              Param #   Trainable  \n"
             "============================================================================\n"
             " input3 (InputLayer)         [(None, None, None, 3)]   0         Y          \n"
             "                                                                            \n"
             " model_1 (Functional)        (None, None, None, 3)     24        Y          \n"
             "|¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯|\n"
             "| input1 (InputLayer)        [(None, None, None, 3)]   0         Y         |\n"
             "|                                                                          |\n"
             "| model (Functional)         (None, None, None, 3)     24        Y         |\n"
             "||¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯||\n"
             "|| input2 (InputLayer)       [(None, None, None, 3)]   0         Y        ||\n"
             "||                                                                        ||\n"
             "|| conv2d (Conv2D)           (None, None, None, 3)     12        N        ||\n"
             "||                                                                        ||\n"
             "|| batch_normalization (Bat  (None, None, None, 3)     12        Y        ||\n"
             "|| chNormalization)                                                       ||\n"
             "|¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯|\n"
             "¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯\n"
             "============================================================================\n"
             "Total params: 24 (96.00 Byte)\n"
             "Trainable params: 6 (24.00 Byte)\n"
             "Non-trainable params: 18 (72.00 Byte)\n"
             "____________________________________________________________________________\n");
}

/* tf-keras test_print_summary_layer_range_with_expand_nested: the sliced rows
 * start at a nested model. */
static void k2_layer_range_nested(void) {
    static const ck_table_row rows[] = {
        TROW("1st_inner (Functional)", "(None, None, None, 3)", "24", "", 0),
        TROW("input_1 (InputLayer)", "[(None, None, None, 3)]", "0", "", 1),
        TROW("2nd_inner (Functional)", "(None, None, None, 3)", "24", "", 1),
        TROW("input_2 (InputLayer)", "[(None, None, None, 3)]", "0", "", 2),
        TROW("conv2d (Conv2D)", "(None, None, None, 3)", "12", "", 2),
        TROW("batch_normalization (BatchNormalization)", "(None, None, None, 3)", "12", "", 2)};
    ck_table_opts o = {0};
    ck_table_counts c = {.trainable = 18, .trainable_bytes = 72, .non_trainable = 6,
                         .non_trainable_bytes = 24};
    k2_check("k2_layer_range_nested", "model", rows, 6, &o, &c,
             "Model: \"model\"\n"
             "_________________________________________________________________\n"
             " Layer (type)                Output Shape              Param #   \n"
             "=================================================================\n"
             " 1st_inner (Functional)      (None, None, None, 3)     24        \n"
             "|¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯|\n"
             "| input_1 (InputLayer)       [(None, None, None, 3)]   0        |\n"
             "|                                                               |\n"
             "| 2nd_inner (Functional)     (None, None, None, 3)     24       |\n"
             "||¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯||\n"
             "|| input_2 (InputLayer)      [(None, None, None, 3)]   0       ||\n"
             "||                                                             ||\n"
             "|| conv2d (Conv2D)           (None, None, None, 3)     12      ||\n"
             "||                                                             ||\n"
             "|| batch_normalization (Bat  (None, None, None, 3)     12      ||\n"
             "|| chNormalization)                                            ||\n"
             "|¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯|\n"
             "¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯¯\n"
             "=================================================================\n"
             "Total params: 24 (96.00 Byte)\n"
             "Trainable params: 18 (72.00 Byte)\n"
             "Non-trainable params: 6 (24.00 Byte)\n"
             "_________________________________________________________________\n");
}

/* Behaviour read from tf-keras print_row (no upstream string for these): the
 * "]," cut of the Connected-to list, functional positions [29, 58, 68, 98] and
 * absolute positions. Expected text obtained by running a line-for-line Python
 * transcription of tf-keras print_row on these fields. */
static void k2_functional_cuts(void) {
    static const ck_table_row rows[] = {
        {"input_1 (InputLayer)", "[(None, 4)]", "0", "[]", "", 0},
        {"add (Add)", "(None, 4)", "0", "['input_1[0][0]', 'input_2[0][0]']", "", 0}};
    ck_table_opts o = {.functional = 1};
    const char *err = NULL;
    char *t = ck_table_render_keras2("model", rows, 2, &o, &err);
    const char *want =
        "Model: \"model\"\n"
        "__________________________________________________________________________________________________\n"
        " Layer (type)                Output Shape                 Param #   Connected to                  \n"
        "==================================================================================================\n"
        " input_1 (InputLayer)        [(None, 4)]                  0         []                            \n"
        "                                                                                                  \n"
        " add (Add)                   (None, 4)                    0         ['input_1[0][0]',             \n"
        "                                                                     'input_2[0][0]']             \n"
        "                                                                                                  \n"
        "==================================================================================================\n";
    CHECK(t != NULL, "k2 functional: %s", err ? err : "?");
    if (t) expect_text("k2_functional_cuts", want, t);
    free(t);

    static const double abs_pos[] = {10, 20, 30};
    ck_table_opts a = {.positions = abs_pos, .n_positions = 3, .line_length = 30};
    static const ck_table_row one[] = {ROW("d (Dense)", "(None, 3)", "9")};
    t = ck_table_render_keras2("m", one, 1, &a, &err);
    if (t) {
        expect_text("k2_absolute_positions", "Model: \"m\"\n"
                    "______________________________\n"
                    " Layer (  Output    Param #   \n"
                    " type)    Shape               \n"
                    "==============================\n"
                    " d (Dens  (None,    9         \n"
                    " e)       3)                  \n"
                    "                              \n"
                    "==============================\n", t);
    }
    CHECK(t != NULL, "k2 absolute positions: %s", err ? err : "?");
    free(t);
}

/* ------------------------------------------------------- small units */

static void unit_formatting(void) {
    static const struct { int64_t v; const char *s; } th[] = {
        {0, "0"}, {9, "9"}, {999, "999"}, {1000, "1,000"}, {54090, "54,090"},
        {1001000, "1,001,000"}, {-1234, "-1,234"},
        {INT64_MIN, "-9,223,372,036,854,775,808"}};
    char buf[64];
    for (size_t i = 0; i < sizeof th / sizeof th[0]; i++) {
        ck_format_thousands(th[i].v, buf, sizeof buf);
        CHECK(!strcmp(buf, th[i].s), "thousands %lld: got %s", (long long)th[i].v, buf);
    }
    /* tf-keras test_readable_weight_memory_size parameters, plus Keras 3 units. */
    static const struct { double b; const char *u, *s; } by[] = {
        {0, "Byte", "0.00 Byte"}, {1000, "Byte", "1000.00 Byte"}, {1024, "Byte", "1.00 KB"},
        {2047, "Byte", "2.00 KB"}, {2049, "Byte", "2.00 KB"}, {1048577, "Byte", "1.00 MB"},
        {1073741823, "Byte", "1024.00 MB"}, {1073741824, "Byte", "1.00 GB"},
        {1099511627776.0, "Byte", "1.00 TB"}, {1125899906842624.0, "Byte", "1.00 PB"},
        {1125899906842624.0 * 1.41415, "Byte", "1.41 PB"}, {68, "B", "68.00 B"},
        {1023, "B", "1023.00 B"}, {218152, "B", "213.04 KB"},
        /* Keras divides once more even at PB: 2**61 B prints as "2.00 PB". */
        {1152921504606846976.0 * 2, "B", "2.00 PB"}};
    for (size_t i = 0; i < sizeof by / sizeof by[0]; i++) {
        ck_format_bytes(by[i].b, by[i].u, buf, sizeof buf);
        CHECK(!strcmp(buf, by[i].s), "bytes %.1f: got %s want %s", by[i].b, buf, by[i].s);
    }
}

static void unit_footers(void) {
    const char *err = NULL;
    ck_table_counts c = {.trainable = 17, .trainable_bytes = 68, .optimizer = 36,
                         .optimizer_bytes = 144, .include_optimizer = 1};
    char *f = ck_table_footer_keras3(&c, 0, &err);
    if (f)
        expect_text("k3_footer_optimizer", " Total params: 53 (212.00 B)\n"
                    " Trainable params: 17 (68.00 B)\n"
                    " Non-trainable params: 0 (0.00 B)\n"
                    " Optimizer params: 36 (144.00 B)\n", f);
    CHECK(f != NULL, "footer: %s", err ? err : "?");
    free(f);
    /* tf.keras never counts the optimizer and writes no thousands separators. */
    c = (ck_table_counts){.trainable = 1234567, .trainable_bytes = 4938268, .optimizer = 9,
                          .include_optimizer = 1};
    f = ck_table_footer_keras2(&c, 3, &err);
    if (f)
        expect_text("k2_footer", "Total params: 1234567 (4.71 MB)\n"
                    "Trainable params: 1234567 (4.71 MB)\n"
                    "Non-trainable params: 0 (0.00 Byte)\n___\n", f);
    free(f);
}

static void unit_errors(void) {
    const char *err = NULL;
    static const ck_table_row one[] = {ROW("d (Dense)", "(None, 3)", "9")};
    static const double two[] = {0.5, 1.0};
    ck_table_opts o = {.functional = 1, .positions = two, .n_positions = 2};
    char *t = ck_table_render_keras3("m", one, 1, &o, &err);
    CHECK(!t && err && strstr(err, "positions"), "too few positions: %s", err ? err : "none");
    free(t);
    err = NULL;
    t = ck_table_render_keras2("m", one, 1, &o, &err);
    CHECK(!t && err && strstr(err, "positions"), "k2 too few positions: %s", err ? err : "none");
    free(t);
    static const double frac_abs[] = {10.5, 20, 30};
    ck_table_opts a = {.positions = frac_abs, .n_positions = 3};
    err = NULL;
    t = ck_table_render_keras2("m", one, 1, &a, &err);
    CHECK(!t && err, "k2 non-integer absolute positions must fail");
    free(t);
    /* tf.keras loops forever when no column can take a character. */
    ck_table_opts tiny = {.line_length = 3};
    err = NULL;
    t = ck_table_render_keras2("m", one, 1, &tiny, &err);
    CHECK(!t && err && strstr(err, "Insufficient"), "k2 tiny line: %s", err ? err : "none");
    free(t);
    err = NULL;
    t = ck_table_render_keras3("m", NULL, 1, &(ck_table_opts){0}, &err);
    CHECK(!t && err, "NULL rows with n_rows > 0 must fail");
    free(t);
    t = ck_table_render_keras3(NULL, NULL, 0, &(ck_table_opts){0}, &err);
    CHECK(t && !strncmp(t, "Model: \"\"\n", 10), "NULL model name renders as empty");
    free(t);
}

/* Invalid UTF-8 passes through byte for byte, one cell per stray byte. */
static void unit_raw_bytes(void) {
    const ck_table_row r[] = {ROW("\xff\xfe (Dense)", "(None, 3)", "9")};
    const char *err = NULL;
    char *t = ck_table_render_keras3("m", r, 1, &(ck_table_opts){.line_length = 40}, &err);
    CHECK(t && strstr(t, "\xe2\x94\x82 \xff\xfe (Dense)      \xe2\x94\x82"),
          "raw bytes should survive: %s", t ? t : err);
    free(t);
}

int main(int argc, char **argv) {
    /* ctest sets CKERAS_ROOT; by hand, run from the repository root. */
    char root_dir[1024];
    const char *root = getenv("CKERAS_ROOT"), *dir = "tests/golden/table";
    if (root && *root) {
        snprintf(root_dir, sizeof root_dir, "%s/tests/golden/table", root);
        dir = root_dir;
    }
    if (argc > 1) dir = argv[1];
    int cases = run_goldens(dir);
    k2_spec_example();
    k2_long_names();
    k2_expand_nested();
    k2_show_trainable();
    k2_nested_trainable();
    k2_layer_range_nested();
    k2_functional_cuts();
    unit_formatting();
    unit_footers();
    unit_errors();
    unit_raw_bytes();
    CHECK(cases >= 30, "only %d Keras 3 golden cases", cases);
    printf("test_table: %d Keras 3 golden cases\n", cases);
    return test_report("test_table");
}
