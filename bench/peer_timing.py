"""The one timing rule of every bench/peers_*.py: the best of `reps` rounds,
each `iters` calls of fn, in seconds per call (after one warm-up call when
`warm`: a first call that compiles or allocates is not a measurement). With
BENCH_CLOCK=cpu, the process's CPU time (all threads) instead of wall time, as
bench/bench_clock.h does for ckeras's side. Imported from the peers' directory."""
import os
import time

CLOCK = time.process_time if os.environ.get("BENCH_CLOCK") == "cpu" else time.perf_counter


def best(fn, iters=1, reps=3, warm=False):
    if warm:
        fn()
    t = 1e30
    for _ in range(reps):
        t0 = CLOCK()
        for _ in range(iters):
            fn()
        t = min(t, (CLOCK() - t0) / iters)
    return t
