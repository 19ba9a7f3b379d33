"""NumPy .npy/.npz goldens for ckeras's reader and writer (tests/test_npy.c).

Writes tests/golden/npy/: arrays of every supported dtype saved by numpy itself,
files ckeras must refuse (Fortran order, big-endian, strings, bool), a version
2.0 header, np.savez and np.savez_compressed archives, and manifest.json with
each good file's dtype, shape and values so the C test needs no Python. Run:
    python3 tests/oracle/npy_cases.py
"""
import json
import os
import sys

import numpy as np

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "npy")


def main():
    os.makedirs(OUT, exist_ok=True)
    rng = np.random.default_rng(5)
    good = {
        "f32": rng.normal(size=(2, 3)).astype(np.float32),
        "f64": rng.normal(size=(4,)).astype(np.float64),
        "i32": np.arange(-3, 9, dtype=np.int32).reshape(3, 2, 2),
        "i64": np.array([[1, -2], [3, 2**40]], dtype=np.int64),
        "u8": np.array([0, 1, 255, 7], dtype=np.uint8),
        "scalar": np.array(2.5, dtype=np.float32),
        "empty": np.zeros((0, 3), dtype=np.float32),
    }
    manifest = {"numpy": np.__version__, "python": sys.version.split()[0], "good": {}, "bad": {}}
    for name, a in good.items():
        np.save(os.path.join(OUT, name + ".npy"), a)
        manifest["good"][name] = {"dtype": a.dtype.name, "shape": list(a.shape),
                                  "values": [float(v) for v in a.ravel()]}
    # Version 2.0 header (numpy writes it for headers over 64 KiB; forced here).
    with open(os.path.join(OUT, "v2.npy"), "wb") as f:
        np.lib.format.write_array(f, good["f32"], version=(2, 0))
    manifest["good"]["v2"] = manifest["good"]["f32"]
    bad = {
        "fortran": (np.asfortranarray(rng.normal(size=(2, 3)).astype(np.float32)), "fortran_order"),
        "big_endian": (np.arange(4, dtype=">f4"), "dtype '>f4'"),
        "unicode": (np.array(["ab", "c"]), "dtype '<U2'"),
        "bool": (np.array([True, False]), "dtype '|b1'"),
    }
    for name, (a, msg) in bad.items():
        np.save(os.path.join(OUT, name + ".npy"), a)
        manifest["bad"][name] = msg
    with open(os.path.join(OUT, "truncated.npy"), "wb") as f:
        f.write(open(os.path.join(OUT, "f32.npy"), "rb").read()[:-5])
    manifest["bad"]["truncated"] = "data is"
    np.savez(os.path.join(OUT, "arrays.npz"), good["f32"], good["i32"], good["u8"])
    np.savez_compressed(os.path.join(OUT, "named.npz"), kernel=good["f32"], bias=good["f64"])
    manifest["npz"] = {"arrays": ["arr_0:f32", "arr_1:i32", "arr_2:u8"], "named": ["kernel:f32", "bias:f64"]}
    # Keras's own weights of the classic and multi_output cases as np.savez writes
    # them, for `ckeras predict --weights` (tests/cli/cases/predict.sh).
    core = os.path.join(OUT, "..", "core")
    for case in ("classic", "multi_output"):
        meta = json.load(open(os.path.join(core, case, "case.json")))
        ws = [np.load(os.path.join(core, case, w)) for w in meta["weights"]]
        np.savez(os.path.join(OUT, case + "_weights.npz"), *ws)
    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
