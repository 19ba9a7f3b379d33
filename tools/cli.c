/* What every command shares: the command lookup, one-line error messages and
 * the terminal width. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* Optimal string alignment distance, capped: enough to catch a typo. */
static int edit_distance(const char *a, const char *b)
{
    size_t n = strlen(a), m = strlen(b);
    if (n > 40 || m > 40) return 99;
    int d[41][41];
    for (size_t i = 0; i <= n; i++) d[i][0] = (int)i;
    for (size_t j = 0; j <= m; j++) d[0][j] = (int)j;
    for (size_t i = 1; i <= n; i++)
        for (size_t j = 1; j <= m; j++) {
            int best = d[i - 1][j - 1] + (a[i - 1] != b[j - 1]);
            if (d[i - 1][j] + 1 < best) best = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < best) best = d[i][j - 1] + 1;
            if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
                best = d[i - 2][j - 2] + 1;
            d[i][j] = best;
        }
    return d[n][m];
}

const char *cli_closest(const char *word, const char *const *candidates, int n)
{
    const char *best = NULL;
    int best_d = 3; /* at most two edits, and fewer than the word's length */
    for (int i = 0; i < n; i++) {
        int dist = edit_distance(word, candidates[i]);
        if (dist < best_d && dist < (int)strlen(word)) best = candidates[i], best_d = dist;
    }
    return best;
}

const cli_command *cli_find_command(const char *name)
{
    for (const cli_command *c = cli_commands; c->name; c++)
        if (!strcmp(name, c->name)) return c;
    return NULL;
}

/* The temporary copy of stdin, if the program made one (one per run): the user
 * typed "-", so messages say "-". */
static char stdin_copy[4096];

void cli_name_stdin(const char *temp_path) { snprintf(stdin_copy, sizeof stdin_copy, "%s", temp_path ? temp_path : ""); }

/* text on stderr with each mention of the stdin copy written as "-" */
static void put_named(const char *text)
{
    size_t n = strlen(stdin_copy);
    for (const char *at; n && (at = strstr(text, stdin_copy)); text = at + n) fprintf(stderr, "%.*s-", (int)(at - text), text);
    fputs(text, stderr);
}

int cli_fail(const char *what)
{
    /* Messages from file readers already start with the file's name. */
    if (what && !strncmp(ck_errmsg(), what, strlen(what))) what = NULL;
    fputs("ckeras: ", stderr);
    if (what) put_named(what);
    if (what && *ck_errmsg()) fputs(": ", stderr);
    put_named(ck_errmsg());
    fputc('\n', stderr);
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
