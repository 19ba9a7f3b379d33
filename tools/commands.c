/* The table of commands that live in their own files (tools/cmd_*.c). Add one
 * line per command here. */
#include "cli.h"

#include <stddef.h>

int cmd_predict(int argc, char **argv); /* tools/cmd_predict.c */
int cmd_files_convert(int argc, char **argv);
int cmd_files_inspect(int argc, char **argv);
int cmd_fit(int argc, char **argv), cmd_evaluate(int argc, char **argv), cmd_demo_fashion(int argc, char **argv); /* tools/cmd_fit.c */

const cli_command cli_extra_commands[] = {
    {"predict", cmd_predict},
    {"convert", cmd_files_convert},
    {"inspect", cmd_files_inspect},
    {"fit", cmd_fit}, {"evaluate", cmd_evaluate}, {"demo-fashion", cmd_demo_fashion},
    {NULL, NULL},
};
