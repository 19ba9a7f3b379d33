#!/usr/bin/env python3
"""Predictions of real sequence models from tests/data/models (published Keras
files with LSTM, GRU, Embedding layers), by real Keras 3 (JAX): for each model,
x.npy (ids in range for an Embedding input, else standard normal; batch 3) and
y.npy under tests/golden/seq_models/<file stem>/ (unknown lengths: 8 steps), for
tests/test_seq_models.c.
Run: python3 tests/oracle/seq_models.py
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle_util as ou  # noqa: E402

ou.setup()

import shutil  # noqa: E402
import tempfile  # noqa: E402
import zipfile  # noqa: E402

import numpy as np  # noqa: E402
import keras  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODELS = os.path.join(ROOT, "tests", "data", "models")
OUT = os.path.join(ROOT, "tests", "golden", "seq_models")
# (fdeep_temp_stateless.h5, a Keras 2 GRU with time_major=, does not load in Keras 3)
FILES = ["stock_lstm_adjoapanyin_k341.keras", "sentiment_embedding_h5_named_dot_keras.keras"]
STEPS = 8  # for inputs of unknown length


def main():
    os.makedirs(OUT, exist_ok=True)
    done = []
    for i, f in enumerate(FILES):
        path = os.path.join(MODELS, f)
        if f.endswith(".keras") and not zipfile.is_zipfile(path):
            # an HDF5 file named .keras: Keras reads it only under its real suffix
            tmp = os.path.join(tempfile.mkdtemp(), "model.h5")
            shutil.copy(path, tmp)
            path = tmp
        model = keras.saving.load_model(path, compile=False)
        rng = np.random.default_rng(500 + i)
        shape = (3,) + tuple(STEPS if d is None else d for d in model.inputs[0].shape[1:])
        first = [l for l in model.layers if not isinstance(l, keras.layers.InputLayer)][0]
        if isinstance(first, keras.layers.Embedding):
            x = rng.integers(0, first.input_dim, size=shape).astype(np.float32)
        else:
            x = rng.standard_normal(shape).astype(np.float32)
        y = model.predict(x, verbose=0)
        stem = os.path.splitext(f)[0]
        d = os.path.join(OUT, stem)
        os.makedirs(d, exist_ok=True)
        np.save(os.path.join(d, "x.npy"), x)
        np.save(os.path.join(d, "y.npy"), np.asarray(y, dtype=np.float32))
        ou.write_json(os.path.join(d, "case.json"), {"file": f, "classes": [l.__class__.__name__ for l in model.layers]})
        done.append(f)
        print(f, "ok", [l.__class__.__name__ for l in model.layers])
    ou.write_json(os.path.join(OUT, "index.json"), done)
    ou.write_json(os.path.join(OUT, "VERSIONS.json"), ou.versions())


if __name__ == "__main__":
    main()
