"""Keras 3's activation functions on float16 and bfloat16 tensors, as JAX on CPU
computes them: each XLA operation's float32 result is rounded to the half type
(ckeras's ck_act_forward_half, checked bit for bit by tests/test_half_act.c).

For each dtype in float16, bfloat16 the same input x (shape [rows, 16]) goes
through jax.jit(keras.activations.get(name)) for every activation of ckeras's
table (act_names in src/kernels/activations.c, aliases included, so a new
activation gets a golden by being added there).  x holds:
  - a sweep of representable half values over [-12, 12] with |x| >= 2^-6
    (every bfloat16 value there; every 5th float16 bit pattern), ascending,
    so that each row of 16 holds neighbouring values;
  - values at and next to each activation's thresholds (0.5, 1, 2, 3, 6, 20),
    large values (up to the largest finite), tiny and subnormal ones, +-0;
  - rows with +inf, -inf, NaN among ordinary values, a row of -inf, a row of
    +inf, and seeded random rows over [-12, 12] (softmax, log_softmax and
    sparsemax normalise each row).
tests/golden/half_act/<dtype>/x.npy and <name>.npy hold x and y as float32 (the
half values exactly); CASES lists the names, VERSIONS.json the Keras that made
them.  From 4096 rows on XLA hands a bfloat16 softmax (and sparsemax's last
steps) to YNNPACK, which computes them in float32 and rounds once, so
x_large.npy ([4096, 4]: the sweep, then seeded random values) and
<name>_large.npy hold softmax and sparsemax at that size for both dtypes and
log_softmax for float16 (a bfloat16 log_softmax there depends on YNNPACK's SIMD
order of summation).  bfloat16/<name>_f32.npy is the activation read as float32
(.astype(float32) after it, as a float32 layer reads it): XLA drops the convert
pair of the last operation, whose result stays unrounded; for float16 the script
asserts that this equals the rounded output.
Run from the repository root: python3 tests/oracle/half_activation_cases.py
"""
import os
import re
import sys

sys.path.insert(0, os.path.dirname(__file__))
import oracle_util  # noqa: E402

oracle_util.setup()

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import keras  # noqa: E402
import ml_dtypes  # noqa: E402
import numpy as np  # noqa: E402

ROOT = os.path.join(os.path.dirname(__file__), "..", "..")
OUT = os.path.join(ROOT, "tests", "golden", "half_act")
COLS = 16
DTYPES = {"float16": np.float16, "bfloat16": ml_dtypes.bfloat16}
LARGE = {"float16": ["softmax", "log_softmax", "sparsemax"], "bfloat16": ["softmax", "sparsemax"]}


def activation_names():
    src = open(os.path.join(ROOT, "src", "kernels", "activations.c")).read()
    table = src[src.index("act_names[]"):src.index("};", src.index("act_names[]"))]
    return re.findall(r'\{"([a-z_0-9]+)", CK_ACT_', table)


def all_values(dt):
    """Every finite value of the half type, ascending, as float32."""
    bits = np.arange(0, 0x10000, dtype=np.uint32).astype(np.uint16)
    v = bits.view(dt).astype(np.float32)
    v = v[np.isfinite(v)]
    return np.unique(v)


def neighbours(dt, values):
    """Each value, rounded to the half type, with its two neighbours."""
    allv = all_values(dt)
    out = []
    for t in values:
        h = np.float32(np.array(t, np.float32).astype(dt))
        i = int(np.searchsorted(allv, h))
        out.extend(allv[max(i - 1, 0):i + 2])
    return out


def inputs(name):
    dt = DTYPES[name]
    allv = all_values(dt)
    sweep = allv[(np.abs(allv) <= 12) & (np.abs(allv) >= 2.0 ** -6)]
    if name == "float16":
        sweep = sweep[::5]
    info = ml_dtypes.finfo(dt)
    thresholds = [0.5, 1, 2, 3, 6, 20, 0.25, 1e-3]
    special = neighbours(dt, thresholds + [-t for t in thresholds])
    big = [15, 30, 50, 88, 89, 100, 300, 1000, 1e4, 3e4, 6e4, float(info.max)]
    tiny = [float(info.smallest_normal), float(info.smallest_subnormal), 1e-5, 3e-3]
    special += big + [-b for b in big] + tiny + [-t for t in tiny] + [0.0, -0.0]
    rng = np.random.default_rng(20261207)
    rows = [np.concatenate([sweep, np.float32(special)])]
    for bad in (np.inf, -np.inf, np.nan):
        r = rng.uniform(-12, 12, (2, COLS)).astype(np.float32)
        r[0, 3] = bad
        r[1, :: 2] = bad
        rows.append(r.ravel())
    rows.append(np.float32([np.inf, -np.inf, np.nan, 0.0] * (COLS // 4)))
    rows.append(np.full(COLS, -np.inf, np.float32))
    rows.append(np.full(COLS, np.inf, np.float32))
    rows.append(rng.uniform(-12, 12, 8 * COLS).astype(np.float32))
    rows.append(rng.uniform(-1.5, 1.5, 8 * COLS).astype(np.float32))
    flat = np.concatenate(rows)
    flat = np.concatenate([flat, np.zeros((-len(flat)) % COLS, np.float32)])
    return flat.astype(dt).reshape(-1, COLS)


def large_inputs(name):
    dt = DTYPES[name]
    allv = all_values(dt)
    sweep = allv[(np.abs(allv) <= 12) & (np.abs(allv) >= 2.0 ** -6)]
    rng = np.random.default_rng(4096)
    flat = np.concatenate([sweep, rng.uniform(-12, 12, 4 * 4096).astype(np.float32)])[:4 * 4096]
    return flat.astype(dt).reshape(4096, 4)


def main():
    names = activation_names()
    oracle_util.reset_dir(OUT)
    for dname, dt in DTYPES.items():
        d = os.path.join(OUT, dname)
        os.makedirs(d)
        x = inputs(dname)
        np.save(os.path.join(d, "x.npy"), x.astype(np.float32))
        xj = jnp.asarray(x)
        for n in names:
            y = np.asarray(jax.jit(keras.activations.get(n))(xj))
            assert y.dtype == dt, (n, y.dtype)
            np.save(os.path.join(d, n + ".npy"), y.astype(np.float32))
            # read as float32: XLA drops the bfloat16 convert pair of the last op
            y32 = np.asarray(jax.jit(lambda t, f=keras.activations.get(n): f(t).astype(jnp.float32))(xj))
            if dname == "float16":  # f16 operations round anyway
                assert np.array_equal(y32, y.astype(np.float32), equal_nan=True), n
            else:
                np.save(os.path.join(d, n + "_f32.npy"), y32)
        xl = large_inputs(dname)
        np.save(os.path.join(d, "x_large.npy"), xl.astype(np.float32))
        for n in LARGE[dname]:
            y = np.asarray(jax.jit(keras.activations.get(n))(jnp.asarray(xl)))
            np.save(os.path.join(d, n + "_large.npy"), y.astype(np.float32))
        print(dname, x.shape, len(names), "activations")
    oracle_util.write_case_list(OUT, names)


if __name__ == "__main__":
    main()
