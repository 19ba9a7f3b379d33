/* `ckeras version`, `help`, `man` and `completion`: the texts the command table
 * (tools/commands.c) makes, on stdout or, for make install, into files. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

int cmd_version(const cli_args *a)
{
    (void)a;
    printf("ckeras %s\n", ck_version());
    return 0;
}

int cmd_help(const cli_args *a)
{
    if (!a->npos) return cli_print_overview(stdout), 0;
    const cli_command *c = cli_find_command(a->pos[0]);
    if (!c) return cli_usage_error(a->cmd, "no command named '%s'", a->pos[0]);
    cli_print_help(c, stdout);
    return 0;
}

/* Writes text made by `print` into dir/name (atomically), or stdout. */
static int write_text(const char *dir, const char *name, void (*print)(const void *, FILE *), const void *what)
{
    if (!dir) return print(what, stdout), 0;
    char path[4096], tmp[4104];
    if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path)
        return fprintf(stderr, "ckeras: %s: path too long\n", dir), 1;
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return fprintf(stderr, "ckeras: %s: cannot create\n", tmp), 1;
    print(what, f);
    if (fclose(f) || rename(tmp, path)) return remove(tmp), fprintf(stderr, "ckeras: %s: cannot write\n", path), 1;
    return 0;
}

static void print_man(const void *cmd, FILE *out) { cli_print_man(cmd, out); }
static void print_completion(const void *shell, FILE *out) { cli_print_completion(shell, out); }

int cmd_man(const cli_args *a)
{
    const cli_command *c = a->npos ? cli_find_command(a->pos[0]) : NULL;
    if (a->npos && !c) return cli_usage_error(a->cmd, "no command named '%s'", a->pos[0]);
    const char *dir = cli_str(a, "output-dir");
    if (!dir || a->npos) {
        char name[96];
        snprintf(name, sizeof name, "ckeras%s%s.1", c ? "-" : "", c ? c->name : "");
        return write_text(dir, name, print_man, c);
    }
    int rc = write_text(dir, "ckeras.1", print_man, NULL);
    for (c = cli_commands; !rc && c->name; c++) {
        char name[96];
        snprintf(name, sizeof name, "ckeras-%s.1", c->name);
        rc = write_text(dir, name, print_man, c);
    }
    return rc;
}

int cmd_completion(const cli_args *a)
{
    const char *shell = a->pos[0], *out = cli_str(a, "output");
    if (strcmp(shell, "bash") && strcmp(shell, "zsh"))
        return cli_usage_error(a->cmd, "no completion for '%s' (bash or zsh)", shell);
    if (!out || !strcmp(out, "-")) return write_text(NULL, NULL, print_completion, shell);
    const char *slash = strrchr(out, '/');
    char dir[4096];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - out) : 1, slash ? out : ".");
    return write_text(dir, slash ? slash + 1 : out, print_completion, shell);
}
