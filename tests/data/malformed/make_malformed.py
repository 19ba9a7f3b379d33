"""Builds the malformed-file corpus for tests/test_files.c from good files that
real Keras wrote (tests/golden/files/seq_mlp/).  Each output is damaged in one
way; test_files.c expects one clear line of error for each.  Run from the
repository root: python3 tests/data/malformed/make_malformed.py
"""
import io
import json
import os
import zipfile

import h5py
import numpy as np

SRC = os.path.join("tests", "golden", "files", "seq_mlp")
OUT = os.path.join("tests", "data", "malformed")


def members(path):
    with zipfile.ZipFile(path) as z:
        return {n: z.read(n) for n in z.namelist()}


def write_zip(path, items):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as z:
        for n, data in items.items():
            z.writestr(n, data)


def main():
    good = open(os.path.join(SRC, "model.keras"), "rb").read()
    # A download cut short: the central directory is gone.
    open(os.path.join(OUT, "truncated.keras"), "wb").write(good[: len(good) // 2])
    m = members(os.path.join(SRC, "model.keras"))
    write_zip(os.path.join(OUT, "missing_weights.keras"), {k: v for k, v in m.items() if k != "model.weights.h5"})
    write_zip(os.path.join(OUT, "missing_config.keras"), {k: v for k, v in m.items() if k != "config.json"})
    bad = dict(m)
    bad["config.json"] = m["config.json"][:-5]
    write_zip(os.path.join(OUT, "syntax_error.keras"), bad)
    cfg = json.loads(m["config.json"])
    cfg["config"]["layers"][1]["config"]["units"] = 10**15
    bad = dict(m)
    bad["config.json"] = json.dumps(cfg).encode()
    write_zip(os.path.join(OUT, "absurd_units.keras"), bad)
    cfg = json.loads(m["config.json"])
    cfg["config"]["layers"][1]["config"]["units"] = 6
    bad = dict(m)
    bad["config.json"] = json.dumps(cfg).encode()
    write_zip(os.path.join(OUT, "shape_mismatch.keras"), bad)

    # Legacy HDF5 without its model_config attribute.
    with h5py.File(os.path.join(SRC, "model.h5"), "r") as src, h5py.File(os.path.join(OUT, "no_model_config.h5"), "w") as dst:
        for k, v in src.attrs.items():
            if k != "model_config":
                dst.attrs[k] = v
        src.copy("model_weights", dst)
    # A kernel stored as text, and a kernel of the wrong shape.
    for name, fix in (("wrong_dtype.h5", "text"), ("shape_mismatch.h5", "shape")):
        path = os.path.join(OUT, name)
        with h5py.File(os.path.join(SRC, "model.h5"), "r") as src, h5py.File(path, "w") as dst:
            for k, v in src.attrs.items():
                dst.attrs[k] = v
            src.copy("model_weights", dst)
            g = dst["model_weights/dense"]
            wn = [n.decode() if isinstance(n, bytes) else n for n in g.attrs["weight_names"]]
            kernel = wn[0]
            del g[kernel]
            if fix == "text":
                g.create_dataset(kernel, data=np.array([b"not", b"numbers"]))
            else:
                g.create_dataset(kernel, data=np.zeros((5, 4), "float32"))
    # A weights-only file whose kernel disagrees with config.json.
    with h5py.File(os.path.join(SRC, "model.weights.h5"), "r") as src, h5py.File(os.path.join(OUT, "shape_mismatch.weights.h5"), "w") as dst:
        for k in src:
            src.copy(k, dst)
        del dst["layers/dense/vars/0"]
        dst["layers/dense/vars/0"] = np.zeros((3, 5), "float32")
    open(os.path.join(OUT, "not_a_model.keras"), "wb").write(b"hello, this is text\n")
    # TF.js: a shard cut short, and a shard that is missing (tfjs-layers 1.3.2 file).
    tfjs = os.path.join("tests", "data", "models", "tfjs_abalone")
    for name in ("tfjs_short_shard", "tfjs_missing_shard"):
        os.makedirs(os.path.join(OUT, name), exist_ok=True)
        open(os.path.join(OUT, name, "model.json"), "wb").write(open(os.path.join(tfjs, "model.json"), "rb").read())
    open(os.path.join(OUT, "tfjs_short_shard", "weights.bin"), "wb").write(open(os.path.join(tfjs, "weights.bin"), "rb").read()[:1000])


if __name__ == "__main__":
    main()
