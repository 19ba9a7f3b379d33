/* The table of commands that live in their own files (tools/cmd_*.c). Add one
 * line per command here. */
#include "cli.h"

#include <stddef.h>

const cli_command cli_extra_commands[] = {
    {NULL, NULL},
};
