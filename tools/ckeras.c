/* ckeras: the command-line tool, a thin shell over the public API. It turns
 * statuses into one-line messages on stderr and exit codes (0 ok, 1 error,
 * 2 usage). The commands and their options are the table in tools/commands.c;
 * this file is only main() and the process-wide settings it makes first. */
#include "cli.h"
#include "model_io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <unistd.h>

/* ck_set_limits from the environment: a damaged HDF5 file is refused after
 * CKERAS_HDF5_SECONDS (default 1; a slow disk may need more, a test less). */
static int limits_from_env(void)
{
    const char *s = getenv("CKERAS_HDF5_SECONDS");
    if (!s || !*s) return 0;
    ck_limits lim;
    ck_get_limits(&lim);
    char *end;
    lim.hdf5_seconds = strtod(s, &end);
    if (*end || ck_set_limits(&lim))
        return fprintf(stderr, "ckeras: CKERAS_HDF5_SECONDS='%s' is not a positive number\n", s), 2;
    return 0;
}

/* OpenBLAS starts its own threads when it is loaded, before main, and each
 * maps a 128 MiB buffer, trying again for ever when an address-space limit
 * (ulimit -v) leaves no room; exit then waits for them. ckeras runs OpenBLAS
 * on one thread anyway (ck_set_num_threads), so under a limit the command
 * runs itself again with OPENBLAS_NUM_THREADS=1, which OpenBLAS reads as it
 * loads. (The library keeps its own threads and buffers within the limit.) */
static void without_blas_threads(char **argv)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_AS, &r) || r.rlim_cur == RLIM_INFINITY) return;
    const char *n = getenv("OPENBLAS_NUM_THREADS");
    if ((n && !strcmp(n, "1")) || setenv("OPENBLAS_NUM_THREADS", "1", 1)) return;
    execv("/proc/self/exe", argv); /* where that fails, as before */
}

static int run(int argc, char **argv)
{
    if (argc < 2) return cli_usage_error(NULL, "no command given");
    const char *cmd = argv[1];
    if (!strcmp(cmd, "--version") || !strcmp(cmd, "-V") || !strcmp(cmd, "-v")) /* -v as git, -V as most */
        return printf("ckeras %s\n", ck_version()), 0;
    if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) return cli_print_overview(stdout), 0;
    const cli_command *c = cli_find_command(cmd);
    if (!c && cmd[0] == '-') return cli_usage_error(NULL, "unknown option '%s' before the command", cmd);
    if (!c) {
        const char *names[64];
        int n = 0;
        for (const cli_command *k = cli_commands; k->name && n < 64; k++) names[n++] = k->name;
        const char *near = cli_closest(cmd, names, n);
        if (near) return cli_usage_error(NULL, "unknown command '%s'; did you mean '%s'?", cmd, near);
        return cli_usage_error(NULL, "unknown command '%s'", cmd);
    }
    cli_args a;
    int rc = cli_parse(c, argc - 2, argv + 2, &a);
    if (rc) return rc < 0 ? 0 : rc;
    /* A model file "-" is stdin, kept in a temporary file: the readers detect
     * the format from the content, except Python code, which has no signature. */
    char stdin_copy[4096] = "";
    bool script = c->synopsis && strstr(c->synopsis, "SCRIPT.py");
    bool file_args = c->synopsis && (strstr(c->synopsis, "FILE") || strstr(c->synopsis, "MODEL") ||
                                     strstr(c->synopsis, "IN") || script);
    for (int i = 0; file_args && i < a.npos && i < 1; i++)
        if (!strcmp(a.pos[i], "-")) {
            if (cli_stdin_to_file(stdin_copy, sizeof stdin_copy, script ? "-stdin.py" : "-stdin")) return 1;
            a.pos[i] = stdin_copy;
        }
    /* A TF.js model is often handed over as its folder: point at the file. */
    struct stat st;
    if (file_args && a.npos > 0 && stat(a.pos[0], &st) == 0 && S_ISDIR(st.st_mode)) {
        int len = (int)strlen(a.pos[0]);
        while (len > 1 && a.pos[0][len - 1] == '/') len--;
        return fprintf(stderr, "ckeras: %s: a directory; give the model file in it (for TF.js, %.*s/model.json)\n",
                       a.pos[0], len, a.pos[0]), 1;
    }
    rc = c->run(&a);
    if (stdin_copy[0]) unlink(stdin_copy);
    /* Output that could not be written (a full disk, a closed pipe) is an error. */
    if (fflush(stdout) != 0 || ferror(stdout)) return fprintf(stderr, "ckeras: cannot write to stdout\n"), 1;
    return rc;
}

int main(int argc, char **argv)
{
    without_blas_threads(argv);
    int rc = limits_from_env();
    return rc ? rc : run(argc, argv);
}
