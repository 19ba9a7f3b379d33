/* Specs as Python spells them, positional arguments included ("Adam(0.01)",
 * "CSVLogger('log.csv')"), named by Keras's __init__ order
 * (src/train/spec_signatures.c, generated from Keras by
 * scripts/gen_python_signatures.py): each compiles exactly as the same values
 * given by keyword (equal get_compile_config); a keyword given twice, a positional
 * argument after a keyword and more positional arguments than the class takes
 * are errors, as in Python; a schedule and callbacks given positionally work. */
#include "testutil.h"

#include <unistd.h>

static ck_model *small_model(void)
{
    ck_model *m = ck_sequential(NULL);
    CHECK_OK(ck_sequential_add(m, ck_dense(3, "input_shape=(4,), activation='softmax'")));
    CHECK_OK(ck_model_build(m));
    return m;
}

/* compile_config text of a compile with these specs, or NULL with the error. */
static char *compiled(const char *optimizer, const char *loss, const char *metrics)
{
    ck_model *m = small_model();
    char *text = NULL;
    if (!ck_model_compile(m, optimizer, loss, metrics)) ck_model_compile_config(m, &text);
    ck_model_free(m);
    return text;
}

/* positional against keyword: both must compile to the same compile_config */
static void check_positional(const char *family, const char *positional, const char *keyword)
{
    bool opt = !strcmp(family, "optimizer"), loss = !strcmp(family, "loss");
    char *a = compiled(opt ? positional : "sgd", loss ? positional : "mse", !opt && !loss ? positional : NULL);
    CHECK(a != NULL, "%s: %s", positional, ck_errmsg());
    char *b = compiled(opt ? keyword : "sgd", loss ? keyword : "mse", !opt && !loss ? keyword : NULL);
    CHECK(b != NULL, "%s: %s", keyword, ck_errmsg());
    CHECK(a && b && !strcmp(a, b), "%s compiles as\n%s\nbut %s as\n%s", positional, a ? a : "-", keyword, b ? b : "-");
    free(a);
    free(b);
}

static void check_refused(const char *optimizer, const char *loss, const char *message)
{
    char *text = compiled(optimizer, loss, NULL);
    CHECK(text == NULL && strstr(ck_errmsg(), message), "%s / %s: %s (wanted '%s')", optimizer, loss,
          text ? "accepted" : ck_errmsg(), message);
    free(text);
}

static void check_callbacks(void)
{
    char dir[] = "/tmp/ckeras_specs_XXXXXX", log[64], spec[128];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(log, sizeof log, "%s/log.csv", dir);
    snprintf(spec, sizeof spec, "CSVLogger('%s', ';')", log);
    ck_callback *cbs[2] = {ck_callback_new(spec), ck_callback_new("EarlyStopping('loss', 0.0, 1)")};
    CHECK(cbs[0] && cbs[1], "callbacks: %s", ck_errmsg());
    ck_model *m = small_model();
    CHECK_OK(ck_model_compile(m, "Adam(ExponentialDecay(0.1, 10, 0.9))", "SparseCategoricalCrossentropy(False)", NULL));
    float x[8 * 4], y[8];
    for (int i = 0; i < 8 * 4; i++) x[i] = (float)((i * 7) % 5) * 0.25f;
    for (int i = 0; i < 8; i++) y[i] = (float)(i % 3);
    ck_fit_opts o = ck_fit_defaults();
    o.epochs = 2;
    o.verbose = 0;
    o.callbacks = cbs;
    o.n_callbacks = 2;
    ck_history *h = NULL;
    CHECK_OK(ck_model_fit(m, x, y, 8, &o, &h));
    ck_history_free(h);
    FILE *f = fopen(log, "r");
    char head[64] = "";
    CHECK(f && fgets(head, sizeof head, f), "%s not written", log);
    CHECK(!strncmp(head, "epoch;loss", 10), "CSVLogger's separator ';' (positional) not used: %s", head);
    if (f) fclose(f);
    unlink(log);
    rmdir(dir);
    for (int i = 0; i < 2; i++) ck_callback_free(cbs[i]);
    ck_model_free(m);
}

int main(void)
{
    /* as a Keras user writes them (the keyword names are Keras's documented ones) */
    static const char *const cases[][3] = {
        {"optimizer", "SGD(0.05, 0.8)", "SGD(learning_rate=0.05, momentum=0.8)"},
        {"optimizer", "Adam(0.05, 0.8)", "Adam(learning_rate=0.05, beta_1=0.8)"},
        {"optimizer", "AdamW(0.05, 0.01)", "AdamW(learning_rate=0.05, weight_decay=0.01)"},
        {"optimizer", "RMSprop(0.05, 0.8)", "RMSprop(learning_rate=0.05, rho=0.8)"},
        {"optimizer", "Adagrad(0.05, 0.2)", "Adagrad(learning_rate=0.05, initial_accumulator_value=0.2)"},
        {"optimizer", "Nadam(0.05, 0.8)", "Nadam(learning_rate=0.05, beta_1=0.8)"},
        {"optimizer", "adam(0.05)", "adam(learning_rate=0.05)"},
        {"optimizer", "SGD(ExponentialDecay(0.1, 10, 0.9), 0.8)",
         "SGD(learning_rate=ExponentialDecay(initial_learning_rate=0.1, decay_steps=10, decay_rate=0.9), momentum=0.8)"},
        {"loss", "SparseCategoricalCrossentropy(True)", "SparseCategoricalCrossentropy(from_logits=True)"},
        {"loss", "CategoricalCrossentropy(True, 0.1)", "CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)"},
        {"loss", "Huber(2.0)", "Huber(delta=2.0)"},
        {"metric", "SparseCategoricalAccuracy('acc')", "SparseCategoricalAccuracy(name='acc')"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) check_positional(cases[i][0], cases[i][1], cases[i][2]);
    check_refused("Adam(0.01, learning_rate=0.1)", "mse", "keyword argument 'learning_rate' given more than once");
    check_refused("Adam(beta_1=0.8, 0.01)", "mse", "positional argument follows keyword argument");
    check_refused("SGD(0.1, 0.9, False, None, None, None, None, False, 0.99, None, None, None, 'sgd', 7)", "mse",
                  "more positional arguments than the class takes");
    check_refused("sgd", "Huber(1.0, delta=2.0)", "keyword argument 'delta' given more than once");
    check_callbacks();
    return test_report("test_specs");
}
