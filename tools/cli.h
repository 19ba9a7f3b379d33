/* Shared pieces of the ckeras command-line tool. Each command is a function
 * taking the arguments after its name; it returns the exit status. */
#ifndef CKERAS_CLI_H
#define CKERAS_CLI_H

#include "ckeras.h"

#include <stdio.h>

typedef struct cli_command {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help; /* the lines `ckeras --help` shows for it */
} cli_command;

/* Every command, NULL-terminated (tools/commands.c). */
extern const cli_command cli_commands[];
/* The command called `name`, or NULL (tools/cli.c, as the two below). */
const cli_command *cli_find_command(const char *name);
/* Prints the help lines of command `name` on `out`; returns 2 on stderr (a
 * usage error), 0 on stdout (asked for). */
int cli_usage(const char *name, FILE *out);
/* Prints "ckeras: what: <ck_errmsg()>" on stderr and returns 1. */
int cli_fail(const char *what);
/* Terminal width for Keras's default summary width (0 = not a terminal). */
int cli_console_width(void);

/* Weights straight from a file's HDF5 or TF.js manifest (tools/cmd_files.c):
 * text listing, or an .npz at `out`. For files whose architecture is unsupported. */
int cli_raw_weights(const char *file, const char *layer, const char *format, const char *out);

/* Fashion-MNIST from Debian's IDX files in `dir` ("train" or "t10k"): images
 * scaled to [0, 1] as float32 [n, 28, 28], labels as class indices (tools/cmd_fit.c). */
int cli_load_fashion(const char *dir, const char *prefix, ck_array *x, float **labels, int64_t *n);

#endif
