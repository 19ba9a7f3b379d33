/* ckeras: the command-line tool, a thin shell over the public API. It turns
 * statuses into one-line messages on stderr and exit codes (0 ok, 1 error,
 * 2 usage). The commands are listed in tools/commands.c. */
#include "cli.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static int usage(FILE *out)
{
    fputs("usage: ckeras COMMAND [ARGS]   (ckeras COMMAND --help for one command)\n\ncommands:\n", out);
    for (const cli_command *c = cli_commands; c->name; c++) fputs(c->help, out);
    fputs("  version                   print the version\n", out);
    fputs("\nenvironment:\n  CKERAS_HDF5_SECONDS=S     time libhdf5 may take to read an HDF5 file (default 1)\n", out);
    return out == stderr ? 2 : 0;
}

/* ck_set_limits from the environment: a damaged HDF5 file is refused after
 * CKERAS_HDF5_SECONDS (a slow disk may need more, a test less). */
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

static int run_command(int argc, char **argv)
{
    const char *cmd = argv[1];
    const cli_command *c = cli_find_command(cmd);
    if (c && argc >= 3 && (!strcmp(argv[2], "--help") || !strcmp(argv[2], "-h"))) return cli_usage(cmd, stdout);
    if (c) return c->run(argc - 2, argv + 2);
    if (!strcmp(cmd, "version")) return puts("ckeras " CKERAS_VERSION), 0;
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) return usage(stdout);
    fprintf(stderr, "ckeras: unknown command '%s'\n", cmd);
    return usage(stderr);
}

int main(int argc, char **argv)
{
    if (argc < 2) return usage(stderr);
    int rc = limits_from_env();
    if (!rc) rc = fit_threads_to_limit();
    if (rc) return finish(rc);
    return finish(run_command(argc, argv));
}
