/* ckeras config FILE [--output OUT]: the model's Keras 3 model.to_json(), the text
 * keras.models.model_from_json reads back (tests/oracle/check_to_json.py checks
 * that real Keras loads it and writes the same config again). FILE is any model
 * file ckeras reads; only its architecture is needed. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

int cmd_config(const cli_args *a)
{
    const char *const *argv = a->pos;
    const char *output = cli_str(a, "output");
    if (output && !strcmp(output, "-")) output = NULL;
    ck_model *m = ck_model_load_config(argv[0]);
    if (!m) return cli_fail(argv[0]);
    char *text = NULL;
    ck_status st = ck_model_to_json(m, &text);
    ck_model_free(m);
    if (st) return cli_fail(argv[0]);
    FILE *f = output ? fopen(output, "w") : stdout;
    if (!f) {
        free(text);
        fprintf(stderr, "ckeras: %s: cannot write\n", output);
        return 1;
    }
    bool ok = fputs(text, f) >= 0 && fputc('\n', f) != EOF;
    if (output) ok = fclose(f) == 0 && ok;
    free(text);
    if (!ok) return fprintf(stderr, "ckeras: %s: write failed\n", output ? output : "stdout"), 1;
    return 0;
}
