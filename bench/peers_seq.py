"""Python peers for bench/run_seq.sh: the same two sequence models as
bench/bench_seq.c -- LSTM(128) over 100 steps of 32 features + Dense(1), and
Embedding(10000, 64) + Bidirectional(LSTM(64)) + Dense(1, sigmoid) on 100 ids --
at batch 32, inference and one training step (Adam; MSE resp. binary
cross-entropy), in Keras 3 on JAX, Keras 3 on TensorFlow and PyTorch, each
where importable (a missing peer is reported on stderr, not fatal). Keras on
JAX: a jitted stateless call for inference, train_on_batch for a step. Keras on
TensorFlow (bench/peer_tf.py): model(x) and a GradientTape + optimizer.apply
step under tf.function, each called as a concrete function with XLA or as a
plain graph, whichever is faster (a "# kerastf_... via" line says which).
Threads: argv[1] (PyTorch's set_num_threads; TensorFlow's intra-op pool, inter-op
1; JAX uses its own pool); argv[2:] picks peers ("keras", "keras-tf", "torch";
default keras and torch: keras-tf needs its own process, as Keras picks one
backend per process). Prints "name value unit" lines."""
import os
import sys
import peer_timing

os.environ.setdefault("KERAS_BACKEND", "jax")
B, T, F, VOCAB = 32, 100, 32, 10000
THREADS = int(sys.argv[1]) if len(sys.argv) > 1 and sys.argv[1].isdigit() else 0  # imported: any


def best_ms(fn, reps=4):
    return peer_timing.best(fn, 1, reps, warm=True) * 1e3  # warm: compilation


def data(np):
    rng = np.random.default_rng(0)
    x = rng.uniform(-0.5, 0.5, (B, T, F)).astype(np.float32)
    ids = rng.integers(0, VOCAB, (B, T)).astype(np.int32)
    y = (np.arange(B) % 2).astype(np.float32).reshape(B, 1)
    return x, ids, y


def bench_keras():
    try:
        import jax
        import keras
        import numpy as np
    except ImportError as e:
        print("keras peer unavailable: %s" % e, file=sys.stderr)
        return
    x, ids, y = data(np)
    L = keras.layers
    models = {
        "lstm128": (keras.Sequential([keras.Input((T, F)), L.LSTM(128), L.Dense(1)]), x, "mse"),
        "bilstm_text": (keras.Sequential([keras.Input((T,), dtype="int32"), L.Embedding(VOCAB, 64),
                                          L.Bidirectional(L.LSTM(64)), L.Dense(1, activation="sigmoid")]),
                        ids, "binary_crossentropy"),
    }
    for name, (model, xin, loss) in models.items():
        fwd = jax.jit(lambda v, nv, a, m=model: m.stateless_call(v, nv, a)[0])
        tv = [v.value for v in model.trainable_variables]
        nv = [v.value for v in model.non_trainable_variables]
        print("keras_%s_inference %.3f ms" % (name, best_ms(lambda: fwd(tv, nv, xin).block_until_ready())))
        model.compile(optimizer="adam", loss=loss)
        print("keras_%s_train_step %.3f ms" % (name, best_ms(lambda: model.train_on_batch(xin, y))))


def bench_keras_tf():
    try:
        from peer_tf import fastest, setup

        tf, keras = setup(THREADS)
        import numpy as np
    except ImportError as e:
        print("keras-tf peer unavailable: %s" % e, file=sys.stderr)
        return
    x, ids, y = data(np)
    x, ids, y = tf.constant(x), tf.constant(ids), tf.constant(y)
    L = keras.layers
    models = {
        "lstm128": (keras.Sequential([keras.Input((T, F)), L.LSTM(128), L.Dense(1)]), x, "mse"),
        "bilstm_text": (keras.Sequential([keras.Input((T,), dtype="int32"), L.Embedding(VOCAB, 64),
                                          L.Bidirectional(L.LSTM(64)), L.Dense(1, activation="sigmoid")]),
                        ids, "binary_crossentropy"),
    }
    for name, (model, xin, loss) in models.items():
        loss_fn = keras.losses.get(loss)
        opt = keras.optimizers.Adam()
        opt.build(model.trainable_variables)  # its slots exist before tracing

        def step(a, b, model=model, loss_fn=loss_fn, opt=opt):
            with tf.GradientTape() as tape:
                value = tf.reduce_mean(loss_fn(b, model(a, training=True)))
            opt.apply(tape.gradient(value, model.trainable_variables), model.trainable_variables)
            return value

        for what, fn, args in (("inference", lambda a, m=model: m(a, training=False), (xin,)),
                               ("train_step", step, (xin, y))):
            ms, way = fastest(tf, fn, args, lambda f, args=args: best_ms(lambda: f(*args)) / 1e3)
            print("# kerastf_%s_%s via %s" % (name, what, way))
            print("kerastf_%s_%s %.3f ms" % (name, what, ms * 1e3))
            sys.stdout.flush()


def torch_models(torch):
    """The PyTorch peer's two modules (bench/peers_runtime.py exports them to ONNX)."""
    class Lstm(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn, self.out = torch.nn.LSTM(F, 128, batch_first=True), torch.nn.Linear(128, 1)

        def forward(self, a):
            return self.out(self.rnn(a)[1][0][-1])

    class Text(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = torch.nn.Embedding(VOCAB, 64)
            self.rnn = torch.nn.LSTM(64, 64, batch_first=True, bidirectional=True)
            self.out = torch.nn.Linear(128, 1)

        def forward(self, a):
            h = self.rnn(self.emb(a))[1][0]
            return torch.sigmoid(self.out(torch.cat([h[0], h[1]], -1)))

    return {"lstm128": Lstm(), "bilstm_text": Text()}


def bench_torch():
    try:
        import numpy as np
        import torch
    except ImportError as e:
        print("torch peer unavailable: %s" % e, file=sys.stderr)
        return
    if THREADS > 0:
        torch.set_num_threads(THREADS)
    x, ids, y = data(np)
    x, ids, y = torch.from_numpy(x), torch.from_numpy(ids).long(), torch.from_numpy(y)

    models = torch_models(torch)
    for name, model, xin, loss in [("lstm128", models["lstm128"], x, torch.nn.MSELoss()),
                                   ("bilstm_text", models["bilstm_text"], ids, torch.nn.BCELoss())]:
        with torch.no_grad():
            print("torch_%s_inference %.3f ms" % (name, best_ms(lambda: model(xin))))
        opt = torch.optim.Adam(model.parameters())

        def step():
            opt.zero_grad()
            loss(model(xin), y).backward()
            opt.step()
        print("torch_%s_train_step %.3f ms" % (name, best_ms(step)))


if __name__ == "__main__":
    peers = sys.argv[2:] or ["keras", "torch"]
    if "keras" in peers:
        bench_keras()
    if "keras-tf" in peers:
        bench_keras_tf()
    if "torch" in peers or "torch2" in peers:  # run_peer names torch2's lines
        bench_torch()
