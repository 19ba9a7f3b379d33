/* Shared pieces of the ckeras command-line tool. Every command is one table
 * entry (tools/commands.c): its arguments, options with their kinds, ranges,
 * defaults and help, and examples. From that one entry come the parser
 * (getopt_long: options anywhere, `--` ends them), `ckeras COMMAND --help`, the
 * man page (`ckeras man COMMAND`) and the shell completion (`ckeras completion
 * bash|zsh`), so none of them can drift from the others. Exit statuses: 0 success,
 * 1 error, 2 usage error. */
#ifndef CKERAS_CLI_H
#define CKERAS_CLI_H

#include "ckeras.h"

#include <stdbool.h>
#include <stdio.h>

#define CLI_MAX_OPTIONS 32
#define CLI_MAX_REPEAT 16
#define CLI_MAX_POSITIONAL 4

typedef enum cli_kind {
    CLI_FLAG,   /* no value                                 */
    CLI_TEXT,   /* any text                                 */
    CLI_FILE,   /* a path (completion offers files)         */
    CLI_INT,    /* an integer within [min, max]             */
    CLI_NUMBER, /* a finite number within [min, max]        */
    CLI_CHOICE  /* one of `choices` ("keras3|keras2|json")  */
} cli_kind;

enum { CLI_REPEAT = 1, CLI_REQUIRED = 2, CLI_TWO_VALUES = 4 };

typedef struct cli_option {
    const char *name;     /* "epochs" for --epochs                        */
    cli_kind kind;
    const char *metavar;  /* "N"; NULL for a flag                         */
    const char *def;      /* the default as --help shows it, or NULL      */
    const char *help;
    unsigned flags;       /* CLI_REPEAT, CLI_REQUIRED, CLI_TWO_VALUES      */
    double min, max;      /* CLI_INT / CLI_NUMBER range (both 0: any)      */
    const char *choices;  /* CLI_CHOICE                                   */
} cli_option;

typedef struct cli_args cli_args;

typedef struct cli_command {
    const char *name;
    int (*run)(const cli_args *a);
    const char *synopsis;      /* positional arguments: "FILE", "IN OUT"          */
    int min_pos, max_pos;
    const char *summary;       /* one line, for `ckeras --help`                   */
    const char *description;   /* paragraphs for --help and the man page          */
    const cli_option *options; /* ended by an entry with a NULL name              */
    const char *examples;      /* one command per line                            */
} cli_command;

/* What the parser found: positional arguments and each option's values. */
struct cli_args {
    const cli_command *cmd;
    const char *pos[CLI_MAX_POSITIONAL];
    int npos;
    const char *val[CLI_MAX_OPTIONS][CLI_MAX_REPEAT * 2];
    int n[CLI_MAX_OPTIONS];
};

/* Every command, NULL-terminated (tools/commands.c). */
extern const cli_command cli_commands[];
const cli_command *cli_find_command(const char *name);

/* Parses argv (after the command's name) against cmd's table; on a usage error
 * prints one line naming it, with a pointer to --help, and returns 2; returns
 * -1 after printing help (exit 0); 0 when a holds the arguments. */
int cli_parse(const cli_command *cmd, int argc, char **argv, cli_args *a);
/* The last value of --name, or NULL. */
const char *cli_str(const cli_args *a, const char *name);
/* How many times --name was given, and the i-th value. */
int cli_count(const cli_args *a, const char *name);
const char *cli_at(const cli_args *a, const char *name, int i);
bool cli_flag(const cli_args *a, const char *name);
/* --name's value (already checked by cli_parse), or def when absent. */
long long cli_int(const cli_args *a, const char *name, long long def);
double cli_number(const cli_args *a, const char *name, double def);
/* A usage error found after parsing: "ckeras CMD: <what> (see ...)", returns 2. */
int cli_usage_error(const cli_command *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Help texts: `ckeras --help`, `ckeras CMD --help`, man pages, completion. */
void cli_print_overview(FILE *out);
void cli_print_help(const cli_command *cmd, FILE *out);
void cli_print_man(const cli_command *cmd, FILE *out); /* cmd NULL: ckeras(1) */
int cli_print_completion(const char *shell, FILE *out);

/* The candidate within two edits of word (a typo), or NULL: "did you mean". */
const char *cli_closest(const char *word, const char *const *candidates, int n);
/* Prints "ckeras: what: <ck_errmsg()>" on stderr and returns 1; the temporary
 * copy of stdin named by cli_name_stdin is called "-" there. */
int cli_fail(const char *what);
void cli_name_stdin(const char *temp_path);
/* Terminal width for Keras's default summary width (0 = not a terminal). */
int cli_console_width(void);

/* Weights straight from a file's HDF5 or TF.js manifest (tools/cmd_files.c):
 * text listing, or an .npz at `out`. For files whose architecture is unsupported. */
int cli_raw_weights(const char *file, const char *layer, const char *format, const char *out);

/* Fashion-MNIST from Debian's IDX files in `dir` ("train" or "t10k"): images
 * scaled to [0, 1] as float32 [n, 28, 28], labels as class indices (tools/cmd_fit.c). */
int cli_load_fashion(const char *dir, const char *prefix, ck_array *x, float **labels, int64_t *n);

#endif
