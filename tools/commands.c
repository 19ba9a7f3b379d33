/* The table of commands that live in their own files (tools/cmd_*.c). Add one
 * line per command here. */
#include "cli.h"

#include <stddef.h>

int cmd_predict(int argc, char **argv); /* tools/cmd_predict.c */

const cli_command cli_extra_commands[] = {
    {"predict", cmd_predict},
    {NULL, NULL},
};
