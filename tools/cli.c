/* What every command shares: the command lookup, one-line error messages and
 * the terminal width. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

const cli_command *cli_find_command(const char *name)
{
    for (const cli_command *c = cli_commands; c->name; c++)
        if (!strcmp(name, c->name)) return c;
    return NULL;
}

int cli_fail(const char *what)
{
    fprintf(stderr, "ckeras: %s%s%s\n", what ? what : "", what && *ck_errmsg() ? ": " : "", ck_errmsg());
    return 1;
}

/* Keras clamps its default width to the terminal; when stdout is not a terminal
 * rich assumes 80 columns unless COLUMNS says otherwise. */
int cli_console_width(void)
{
    const char *env = getenv("COLUMNS");
    if (env && atoi(env) > 0) return atoi(env);
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    return 0;
}
