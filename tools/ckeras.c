/* ckeras: the command-line tool, a thin shell over the public API. It turns
 * statuses into one-line messages on stderr and exit codes (0 ok, 1 error,
 * 2 usage). The commands are listed in tools/commands.c. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

static int usage(FILE *out)
{
    fputs("usage: ckeras COMMAND [ARGS]   (ckeras COMMAND --help for one command)\n\ncommands:\n", out);
    for (const cli_command *c = cli_commands; c->name; c++) fputs(c->help, out);
    fputs("  version                   print the version\n", out);
    return out == stderr ? 2 : 0;
}

int main(int argc, char **argv)
{
    if (argc < 2) return usage(stderr);
    const char *cmd = argv[1];
    const cli_command *c = cli_find_command(cmd);
    if (c && argc >= 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) return cli_usage(cmd, stdout);
    if (c) return c->run(argc - 2, argv + 2);
    if (!strcmp(cmd, "version")) return puts("ckeras " CKERAS_VERSION), 0;
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) return usage(stdout);
    fprintf(stderr, "ckeras: unknown command '%s'\n", cmd);
    return usage(stderr);
}
