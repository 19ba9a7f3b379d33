/* ckeras run: Keras model code run without Python. Prints what the script's
 * print() and model.summary() calls print (as Python would, up to a failure),
 * then the failure as one line naming file:line:column. */
#include "cli.h"

#include <stdlib.h>

int cmd_run(const cli_args *a)
{
    char *output = NULL;
    ck_status st = ck_python_run(a->pos[0], cli_console_width(), &output, NULL);
    if (output) fputs(output, stdout);
    free(output);
    fflush(stdout);
    return st ? cli_fail(NULL) : 0;
}
