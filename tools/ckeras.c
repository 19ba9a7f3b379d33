/* ckeras: the command-line tool, a thin shell over the public API. It turns
 * statuses into one-line messages on stderr and exit codes (0 ok, 1 error,
 * 2 usage). The commands and their options are the table in tools/commands.c;
 * this file is only main(). */
#include "cli.h"
#include "model_io.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
    if (argc < 2) return cli_usage_error(NULL, "no command given");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--version")) return printf("ckeras %s\n", ck_version()), 0;
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) return cli_print_overview(stdout), 0;
    const cli_command *c = cli_find_command(cmd);
    if (!c) return cli_usage_error(NULL, cmd[0] == '-' ? "unknown option '%s' before the command" : "unknown command '%s'", cmd);
    cli_args a;
    int rc = cli_parse(c, argc - 2, argv + 2, &a);
    if (rc) return rc < 0 ? 0 : rc;
    /* A model file "-" is stdin, kept in a temporary file: the readers detect
     * the format from the content. */
    char stdin_copy[4096] = "";
    bool file_args = c->synopsis && (strstr(c->synopsis, "FILE") || strstr(c->synopsis, "MODEL") ||
                                     strstr(c->synopsis, "IN"));
    for (int i = 0; file_args && i < a.npos && i < 1; i++)
        if (!strcmp(a.pos[i], "-")) {
            if (cli_stdin_to_file(stdin_copy, sizeof stdin_copy, false)) return 1;
            a.pos[i] = stdin_copy;
        }
    rc = c->run(&a);
    if (stdin_copy[0]) unlink(stdin_copy);
    /* Output that could not be written (a full disk, a closed pipe) is an error. */
    if (fflush(stdout) != 0 || ferror(stdout)) return fprintf(stderr, "ckeras: cannot write to stdout\n"), 1;
    return rc;
}
