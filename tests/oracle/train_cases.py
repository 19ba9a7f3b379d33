"""Training-agreement goldens: small MLPs trained by real Keras 3 (JAX).

Each case under tests/golden/train/<name>/ holds the model's config.json,
its initial weights (weights/<i>.npy, get_weights() order), the data
(x.npy, y.npy, optional sw.npy), case.json with the compile/fit arguments
ckeras must use (optimizer and loss as spec strings ckeras parses, metrics,
epochs, batch_size, validation_split, shuffle=False), and Keras's per-epoch
history plus evaluate() of the trained model.
Run: python3 tests/oracle/train_cases.py
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle_util  # noqa: E402

oracle_util.setup()

import json  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "train")
N, F = 20, 4


def data(kind, rng, d):
    x = rng.normal(size=(N, F)).astype(np.float32)
    if kind == "onehot":
        y = np.eye(d, dtype=np.float32)[rng.integers(0, d, N)]
    elif kind == "sparse":
        y = rng.integers(0, d, N).astype(np.float32)
    elif kind == "binary":
        y = rng.integers(0, 2, (N, d)).astype(np.float32)
    elif kind == "probs":
        y = rng.uniform(0.1, 1, (N, d)).astype(np.float32)
        y /= y.sum(-1, keepdims=True)
    elif kind == "positive":
        y = rng.uniform(0.1, 3, (N, d)).astype(np.float32)
    else:
        y = rng.normal(size=(N, d)).astype(np.float32)
    return x, y


# name, optimizer spec, loss spec, output activation, labels, width, metrics, extra
CASES = [
    ("sgd_cce", "sgd", "categorical_crossentropy", "softmax", "onehot", 3, ["accuracy"], {}),
    ("sgd_momentum_cce", "SGD(learning_rate=0.05, momentum=0.9)", "categorical_crossentropy",
     "softmax", "onehot", 3, ["accuracy"], {}),
    ("sgd_nesterov_mse", "SGD(learning_rate=0.05, momentum=0.9, nesterov=True)", "mse", "linear",
     "real", 2, ["mae"], {}),
    ("adam_cce", "adam", "categorical_crossentropy", "softmax", "onehot", 3, ["accuracy"], {}),
    ("rmsprop_cce", "rmsprop", "categorical_crossentropy", "softmax", "onehot", 3, ["accuracy"], {}),
    ("adam_sparse", "Adam(learning_rate=0.01)", "sparse_categorical_crossentropy", "softmax",
     "sparse", 3, ["accuracy"], {"validation_split": 0.25}),
    ("adam_sparse_logits", "Adam(learning_rate=0.01)",
     "SparseCategoricalCrossentropy(from_logits=True)", "linear", "sparse", 3, [], {}),
    ("adam_cce_logits_ls", "Adam(learning_rate=0.01)",
     "CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)", "linear", "onehot", 3, [], {}),
    ("adam_bce", "Adam(learning_rate=0.01)", "binary_crossentropy", "sigmoid", "binary", 2,
     ["accuracy"], {}),
    ("adam_bce_logits", "Adam(learning_rate=0.01)", "BinaryCrossentropy(from_logits=True)",
     "linear", "binary", 1, [], {}),
    ("adam_mse_sw", "Adam(learning_rate=0.01)", "mse", "linear", "real", 2, ["mae"],
     {"sample_weight": True}),
    ("adam_mae", "Adam(learning_rate=0.01)", "mae", "linear", "real", 2, [], {}),
    ("adam_mape", "Adam(learning_rate=0.01)", "mape", "linear", "positive", 2, [], {}),
    ("adam_msle", "Adam(learning_rate=0.01)", "msle", "softplus", "positive", 2, [], {}),
    ("adam_hinge", "Adam(learning_rate=0.01)", "hinge", "linear", "binary", 2, [], {}),
    ("adam_squared_hinge", "Adam(learning_rate=0.01)", "squared_hinge", "linear", "binary", 2, [], {}),
    ("adam_categorical_hinge", "Adam(learning_rate=0.01)", "categorical_hinge", "linear", "onehot",
     3, [], {}),
    ("adam_huber", "Adam(learning_rate=0.01)", "huber", "linear", "real", 2, [], {}),
    ("adam_log_cosh", "Adam(learning_rate=0.01)", "log_cosh", "linear", "real", 2, [], {}),
    ("adam_kld", "Adam(learning_rate=0.01)", "kl_divergence", "softmax", "probs", 3, [], {}),
    ("adam_poisson", "Adam(learning_rate=0.01)", "poisson", "softplus", "positive", 2, [], {}),
    ("adam_cosine", "Adam(learning_rate=0.01)", "cosine_similarity", "linear", "real", 2, [], {}),
    # Keras splits sample_weight with x and y: val_loss is weighted too
    ("adam_mse_sw_val", "Adam(learning_rate=0.01)", "mse", "linear", "real", 2, ["mae"],
     {"sample_weight": True, "validation_split": 0.25}),
    # a metric given twice: Keras logs "mae" and "mae_1"
    ("adam_mse_same_metrics", "Adam(learning_rate=0.01)", "mse", "linear", "real", 2, ["mae", "mae"], {}),
    # class_weight weighs the training loss (not validation's), with weighted metrics
    ("adam_sparse_class_weight", "Adam(learning_rate=0.01)", "sparse_categorical_crossentropy", "softmax",
     "sparse", 3, ["accuracy"], {"class_weight": [1.0, 2.5, 0.5], "validation_split": 0.25}),
]


def make_opt(spec):
    return keras.optimizers.get(spec) if "(" not in spec else eval("keras.optimizers." + spec)


def make_loss(spec):
    return spec if "(" not in spec else eval("keras.losses." + spec)


def run_case(i, case):
    name, opt, loss, act, labels, d, metrics, extra = case
    rng = np.random.default_rng(100 + i)
    keras.utils.set_random_seed(100 + i)
    model = keras.Sequential([
        keras.Input((F,)),
        keras.layers.Dense(8, activation="relu"),
        keras.layers.Dense(d, activation=act),
    ])
    x, y = data(labels, rng, d)
    d_dir = os.path.join(OUT, name)
    oracle_util.write_training_start(d_dir, model, x, y)
    fit_kw = {"epochs": 3, "batch_size": 8, "shuffle": False, "verbose": 0}
    if extra.get("validation_split"):
        fit_kw["validation_split"] = extra["validation_split"]
    if extra.get("class_weight"):
        fit_kw["class_weight"] = dict(enumerate(extra["class_weight"]))
    if extra.get("sample_weight"):
        sw = rng.uniform(0, 2, N).astype(np.float32)
        np.save(os.path.join(d_dir, "sw.npy"), sw)
        fit_kw["sample_weight"] = sw
    model.compile(optimizer=make_opt(opt), loss=make_loss(loss), metrics=metrics)
    hist = model.fit(x, y, **fit_kw)
    ev = model.evaluate(x, y, batch_size=8, verbose=0, return_dict=True)
    info = {
        "optimizer": opt, "loss": loss, "metrics": metrics,
        "epochs": 3, "batch_size": 8, "shuffle": False,
        "validation_split": extra.get("validation_split", 0.0),
        "sample_weight": bool(extra.get("sample_weight")),
        "class_weight": extra.get("class_weight"),
        "history": oracle_util.history_of(hist),
        "evaluate": {k: float(v) for k, v in ev.items()},
        "optimizer_params": int(sum(int(np.prod(v.shape)) for v in model.optimizer.variables)),
    }
    with open(os.path.join(d_dir, "case.json"), "w") as f:
        json.dump(info, f, indent=1)


def main():
    only = set(sys.argv[1:])  # named cases only, so the other goldens are not rewritten
    for i, case in enumerate(CASES):
        if not only or case[0] in only:
            run_case(i, case)
    oracle_util.write_case_list(OUT, [c[0] for c in CASES])


if __name__ == "__main__":
    main()
