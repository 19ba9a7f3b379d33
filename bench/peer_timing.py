"""The one timing rule of every bench/peers_*.py: the best of `reps` rounds,
each `iters` calls of fn, in seconds per call (after one warm-up call when
`warm`: a first call that compiles or allocates is not a measurement).
Imported from the peers' directory."""
import time


def best(fn, iters=1, reps=3, warm=False):
    if warm:
        fn()
    t = 1e30
    for _ in range(reps):
        t0 = time.perf_counter()
        for _ in range(iters):
            fn()
        t = min(t, (time.perf_counter() - t0) / iters)
    return t
