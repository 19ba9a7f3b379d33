"""Unit goldens for ckeras's losses and optimizers, from real Keras 3 (JAX).

losses.json: for each loss (by the same spec string ckeras parses), fixed y_true,
y_pred and sample weights, Keras's reduced loss value and jax.grad of it with
respect to y_pred.  optimizers.json: for each optimizer spec, two small
variables with fixed initial values, three steps with fixed gradients through
optimizer.apply(), and the variables after each step plus the optimizer's
variable count.  Run: python3 tests/oracle/train_units.py
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle_util  # noqa: E402

oracle_util.setup()

import json  # noqa: E402

import jax  # noqa: E402
import keras  # noqa: E402
import numpy as np  # noqa: E402
from keras.src.losses.loss import Loss as _Loss  # noqa: E402,F401
from keras.src.losses.losses import LossFunctionWrapper  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "train")


def loss_obj(spec):
    """Evaluates a spec like 'CategoricalCrossentropy(from_logits=True)' or 'mse'."""
    if "(" in spec:
        return eval("keras.losses." + spec)
    fn = keras.losses.get(spec)
    if not isinstance(fn, keras.losses.Loss):  # compile() wraps functions the same way
        fn = LossFunctionWrapper(fn)
    return fn


def lst(a):
    return np.asarray(a, dtype=np.float32).ravel().tolist()


def loss_cases():
    rng = np.random.default_rng(7)
    n, d = 4, 3
    probs = rng.uniform(0.05, 1.0, (n, d)).astype(np.float32)
    probs_n = probs / probs.sum(-1, keepdims=True)
    onehot = np.eye(d, dtype=np.float32)[[0, 2, 1, 2]]
    binary = rng.integers(0, 2, (n, d)).astype(np.float32)
    reals = rng.normal(size=(n, d)).astype(np.float32)
    reals2 = rng.normal(size=(n, d)).astype(np.float32) * 2
    pos = rng.uniform(0.1, 3.0, (n, d)).astype(np.float32)
    pos2 = rng.uniform(0.1, 3.0, (n, d)).astype(np.float32)
    sparse = np.array([0, 2, 1, 2], dtype=np.float32)
    sw = np.array([1.0, 0.5, 2.0, 0.0], dtype=np.float32)
    pm1 = np.where(binary > 0, 1.0, -1.0).astype(np.float32)
    probs_clip = probs_n.copy()
    probs_clip[0, 0] = 0.0  # exercises the epsilon clipping
    cases = [
        ("mse", reals, reals2), ("mean_squared_error", reals, reals2),
        ("MeanSquaredError", reals, reals2),
        ("mae", reals, reals2), ("mape", reals, reals2), ("msle", pos, pos2),
        ("binary_crossentropy", binary, probs),
        ("BinaryCrossentropy(from_logits=True)", binary, reals2),
        ("BinaryCrossentropy(label_smoothing=0.2)", binary, probs),
        ("categorical_crossentropy", onehot, probs),
        ("categorical_crossentropy", onehot, probs_clip),
        ("CategoricalCrossentropy(from_logits=True)", onehot, reals2),
        ("CategoricalCrossentropy(label_smoothing=0.1)", onehot, probs_n),
        ("sparse_categorical_crossentropy", sparse, probs_n),
        ("SparseCategoricalCrossentropy(from_logits=True)", sparse, reals2),
        ("hinge", binary, reals2), ("hinge", pm1, reals2),
        ("squared_hinge", binary, reals2), ("categorical_hinge", onehot, reals2),
        ("huber", reals, reals2), ("Huber(delta=0.5)", reals, reals2),
        ("log_cosh", reals, reals2), ("kl_divergence", probs_n, probs),
        ("poisson", pos, pos2), ("cosine_similarity", reals, reals2),
    ]
    out = []
    for spec, yt, yp in cases:
        fn = loss_obj(spec)
        for w in (None, sw):
            def f(p, yt=yt, w=w, fn=fn):
                return fn(yt, p, sample_weight=w)
            val = float(f(jax.numpy.asarray(yp)))
            grad = np.asarray(jax.grad(f)(jax.numpy.asarray(yp)))
            out.append({
                "spec": spec, "rows": n, "d": d, "label_width": 1 if yt.ndim == 1 else d,
                "y_true": lst(yt), "y_pred": lst(yp),
                "sample_weight": None if w is None else lst(w),
                "loss": val, "grad": lst(grad),
            })
    return out


OPT_SPECS = [
    "sgd", "SGD(learning_rate=0.1, momentum=0.9)",
    "SGD(learning_rate=0.1, momentum=0.9, nesterov=True)",
    "adam", "Adam(learning_rate=0.01, amsgrad=True)", "AdamW(learning_rate=0.01)",
    "rmsprop", "RMSprop(learning_rate=0.01, momentum=0.5, centered=True)",
    "RMSprop(learning_rate=0.01, centered=True)",
    "adagrad", "Adadelta(learning_rate=1.0)", "adamax", "nadam", "lion",
    "SGD(learning_rate=0.1, clipnorm=0.5)", "SGD(learning_rate=0.1, clipvalue=0.3)",
    "SGD(learning_rate=0.1, global_clipnorm=0.5)", "Adam(weight_decay=0.1, learning_rate=0.01)",
    "SGD(learning_rate=ExponentialDecay(initial_learning_rate=0.1, decay_steps=2, decay_rate=0.5))",
    "SGD(learning_rate=InverseTimeDecay(initial_learning_rate=0.1, decay_steps=1, decay_rate=0.5, staircase=True))",
    "SGD(learning_rate=CosineDecay(initial_learning_rate=0.1, decay_steps=3, alpha=0.1))",
    "SGD(learning_rate=PiecewiseConstantDecay(boundaries=[0, 1], values=[0.1, 0.05, 0.01]))",
]


def make_optimizer(spec):
    ns = {"keras": keras}
    for s in ("ExponentialDecay", "InverseTimeDecay", "CosineDecay", "PiecewiseConstantDecay"):
        ns[s] = getattr(keras.optimizers.schedules, s)
    if "(" not in spec:
        return keras.optimizers.get(spec)
    return eval("keras.optimizers." + spec, ns)


def optimizer_cases():
    rng = np.random.default_rng(11)
    w0 = [rng.normal(size=(2, 3)).astype(np.float32), rng.normal(size=(3,)).astype(np.float32)]
    grads = [[rng.normal(size=w.shape).astype(np.float32) for w in w0] for _ in range(3)]
    out = []
    for spec in OPT_SPECS:
        opt = make_optimizer(spec)
        vs = [keras.Variable(w) for w in w0]
        opt.build(vs)
        steps = []
        for g in grads:
            opt.apply(g, vs)
            steps.append([lst(v.numpy()) for v in vs])
        out.append({
            "spec": spec, "sizes": [int(w.size) for w in w0],
            "initial": [lst(w) for w in w0],
            "grads": [[lst(x) for x in g] for g in grads],
            "after": steps,
            "variables": int(sum(int(np.prod(v.shape)) for v in opt.variables)),
        })
    return out


def main():
    os.makedirs(OUT, exist_ok=True)
    with open(os.path.join(OUT, "losses.json"), "w") as f:
        json.dump(loss_cases(), f, indent=0)
    with open(os.path.join(OUT, "optimizers.json"), "w") as f:
        json.dump(optimizer_cases(), f, indent=0)
    with open(os.path.join(OUT, "VERSIONS.json"), "w") as f:
        json.dump({"keras": keras.__version__, "jax": jax.__version__,
                   "numpy": np.__version__, "backend": "jax"}, f, indent=1)


if __name__ == "__main__":
    main()
