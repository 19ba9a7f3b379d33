/* ckeras: the command-line tool, a thin shell over the public API. It turns
 * statuses into one-line messages on stderr and exit codes (0 ok, 1 error,
 * 2 usage). The commands and their options are the table in tools/commands.c;
 * this file is only main() and the process-wide settings it makes first. */
#include "cli.h"
#include "model_io.h"

#include <omp.h>
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

/* Under an address-space limit (ulimit -v) OpenBLAS's threads retry a failed
 * 128 MiB buffer mmap for ever, and exit() waits for them: so the kernels get
 * only the threads the limit leaves room for, a limit too small for one is one
 * line of error, and the process ends with _exit (stdio flushed) rather than
 * joining threads that may never finish. Returns 0, or the exit status. */
#define BLAS_BUFFER ((rlim_t)128 << 20)
#define BASE_NEED ((rlim_t)256 << 20)
static bool address_limited;

static int fit_threads_to_limit(void)
{
    struct rlimit r;
    if (getrlimit(RLIMIT_AS, &r) || r.rlim_cur == RLIM_INFINITY) return 0;
    address_limited = true;
    if (r.rlim_cur < BASE_NEED + BLAS_BUFFER)
        return fprintf(stderr, "ckeras: the address-space limit (ulimit -v %llu) is below the %llu KiB ckeras needs\n",
                       (unsigned long long)(r.rlim_cur >> 10), (unsigned long long)((BASE_NEED + BLAS_BUFFER) >> 10)),
               1;
    int fit = (int)((r.rlim_cur - BASE_NEED) / BLAS_BUFFER), want = omp_get_max_threads();
    ck_set_num_threads(fit < want ? fit : want);
    return 0;
}

static int finish(int rc)
{
    if (!address_limited) return rc;
    fflush(stdout);
    fflush(stderr);
    _exit(rc);
}

static int run(int argc, char **argv)
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
    int rc = limits_from_env();
    if (!rc) rc = fit_threads_to_limit();
    return finish(rc ? rc : run(argc, argv));
}
