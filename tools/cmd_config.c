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
    if (!m) return cli_fail(NULL); /* ck_errmsg() names the file */
    char *text = NULL;
    ck_status st = ck_model_to_json(m, &text);
    ck_model_free(m);
    if (st) return cli_fail(argv[0]);
    if (output) {
        /* Atomic: a full disk or a kill leaves the previous file as it was. */
        size_t n = strlen(text);
        text[n] = '\n'; /* replaces the NUL: written with its length */
        st = ck_file_write(output, text, n + 1);
        free(text);
        return st ? cli_fail(output) : 0;
    }
    bool ok = fputs(text, stdout) >= 0 && putchar('\n') != EOF && fflush(stdout) == 0;
    free(text);
    if (!ok) return fprintf(stderr, "ckeras: stdout: write failed\n"), 1;
    return 0;
}
