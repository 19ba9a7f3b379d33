/* The clock of the bench programs: wall time, or with BENCH_CLOCK=cpu the
 * process's CPU time (all its threads), which a machine whose cores other
 * processes keep busy inflates far less than wall time (time waiting for a core
 * is not counted); meaningful for one-thread runs, where it is the work done.
 * bench/peer_timing.py reads the same variable for the Python peers. */
#ifndef CK_BENCH_CLOCK_H
#define CK_BENCH_CLOCK_H

#include <stdlib.h>
#include <string.h>
#include <time.h>

static double now(void)
{
    static int cpu = -1;
    if (cpu < 0) cpu = getenv("BENCH_CLOCK") && !strcmp(getenv("BENCH_CLOCK"), "cpu");
    struct timespec t;
    clock_gettime(cpu ? CLOCK_PROCESS_CPUTIME_ID : CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#endif
