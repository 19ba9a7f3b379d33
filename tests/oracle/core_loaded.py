#!/usr/bin/env python3
"""Goldens for summary() after keras.models.load_model of a compiled model:
Keras compiles it from the compile_config in config.json, which builds the
optimizer, so the summary ends with an "Optimizer params" row, also for a model
saved before any training.

Writes tests/golden/core_loaded/:
  <name>.keras  small compiled models saved here (untrained and trained, several
                optimizers; two legacy .h5 too), and
  <name>.txt    summary() of load_model(<file>) for those and for the published
                .keras files of tests/data/models/ that ckeras reads;
  and the UNTRAINABLE models (no summary).
index.json lists {"file": path of the model, "summary": golden}.
"""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle_util as ou  # noqa: E402

ou.setup()

import warnings  # noqa: E402

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
OUT = os.path.join(REPO, "tests", "golden", "core_loaded")
PUBLISHED = ["flownet_25-06_model.keras", "flownet_final_model.keras", "mnist_cnn_akshatv25_k3151.keras",
             "stock_lstm_adjoapanyin_k341.keras",
             # legacy HDF5 with a training_config: Keras builds the optimizer over
             # model._trainable_variables (none), so only its scalars show
             "churn_tanishk_model.h5", "alphabets_keras36_model.h5"]

# name, optimizer, trained?
SMALL = [
    ("adam_untrained", lambda: keras.optimizers.Adam(), False),
    ("adam_trained", lambda: keras.optimizers.Adam(learning_rate=0.01), True),
    ("sgd_momentum_trained", lambda: keras.optimizers.SGD(momentum=0.9), True),
    ("rmsprop_centered", lambda: keras.optimizers.RMSprop(centered=True), True),
    ("adam_schedule", lambda: keras.optimizers.Adam(
        keras.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.9)), True),
    ("nadam_frozen", lambda: keras.optimizers.Nadam(), True),
]


# Compiled with what ckeras cannot train as Keras does (no summary golden: ckeras's
# optimizer row differs by design); tests/test_core_api.c checks fit refuses them.
UNTRAINABLE = [
    ("sgd_ema_trained", lambda: keras.optimizers.SGD(0.05, use_ema=True), True),
    ("ftrl_trained", lambda: keras.optimizers.Ftrl(), True),
]


def untrainable_files():
    for i, (n, o, t) in enumerate(UNTRAINABLE):
        print("%-44s ok" % small_model(n, o, t, 400 + i))


def small_model(name, opt, trained, seed, ext=".keras", include_optimizer=True):
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    m = keras.Sequential([keras.Input((2,)), layers.Dense(3, activation="relu"),
                          layers.Dense(2, activation="softmax")])
    if name.endswith("frozen"):
        m.layers[0].trainable = False
    m.compile(optimizer=opt(), loss="categorical_crossentropy")
    if trained:
        m.fit(np.zeros((4, 2), "float32"), np.full((4, 2), 0.5, "float32"), epochs=1, verbose=0)
    path = os.path.join(OUT, name + ext)
    if ext == ".h5":
        m.save(path, include_optimizer=include_optimizer)
    else:
        m.save(path)
    return os.path.relpath(path, REPO)


def loaded_summary(path):
    keras.backend.clear_session()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "Skipping variable loading for optimizer" (untrained)
        m = keras.models.load_model(os.path.join(REPO, path))
    return ou.capture_summary(m, ou.norm_spec({}))[0]


def main():
    os.makedirs(OUT, exist_ok=True)
    index = []
    files = [(n, small_model(n, o, t, 200 + i)) for i, (n, o, t) in enumerate(SMALL)]
    files.append(("adam_trained_legacy", small_model("adam_trained_legacy", SMALL[1][1], True, 300, ".h5")))
    files.append(("adam_legacy_no_optimizer",
                  small_model("adam_legacy_no_optimizer", SMALL[1][1], True, 301, ".h5", include_optimizer=False)))
    files += [(os.path.splitext(f)[0], os.path.join("tests", "data", "models", f)) for f in PUBLISHED]
    for name, path in files:
        ou.write_text(os.path.join(OUT, name + ".txt"), loaded_summary(path))
        index.append({"file": path, "summary": "tests/golden/core_loaded/%s.txt" % name})
        print("%-44s ok" % name)
    ou.write_json(os.path.join(OUT, "index.json"), index)
    untrainable_files()
    ou.write_json(os.path.join(OUT, "VERSIONS.json"), ou.versions())


if __name__ == "__main__":
    main()
