"""Python peers for bench/run_train.sh: the same MLPs, data sizes and
measurements as bench/bench_train.c, in Keras 3 on JAX, Keras 3 on TensorFlow
("keras-tf") or PyTorch.

Usage: peers_train.py keras|keras-tf|torch THREADS [quick]

Training: one epoch of 8192 samples, no shuffle, best of 3 after a warm-up
epoch (Keras, both backends: model.fit(verbose=0), its own compiled train step;
on TensorFlow that is a tf.function graph without XLA, because Keras's
jit_compile="auto" turns XLA off on a CPU-only machine, and forcing it on was no
faster here: 752 against 702 ms for an mlp128 Adam epoch at batch 32; PyTorch:
the usual zero_grad / forward / cross-entropy / backward / step loop over slices
of a tensor, no DataLoader). Inference: batch-1 latency and batch 256/4096
throughput through each framework's fastest call path (Keras on JAX: the jitted
stateless_call, as bench/peers_predict.py; Keras on TensorFlow: model(x) under
tf.function called as its concrete function, with XLA or as a plain graph,
whichever is faster, bench/peer_tf.py; PyTorch: the module under no_grad). The thread count is passed
to the framework (torch.set_num_threads; for JAX, XLA's single-threaded Eigen
flag at 1 thread; TensorFlow: intra-op = THREADS, inter-op = 1, see
bench/peer_tf.py); run_train.sh also pins the process to that many cores with
taskset. Prints "name value unit" lines with the same names as bench_train.c,
prefixed "keras_", "kerastf_" or "torch_". A missing framework prints
"missing <name>: <reason>" on stderr and exits 3."""
import os
import sys

import peer_timing

N = 8192
NETS = [("mlp512", (784, 512, 256, 10), (64, 256)), ("mlp128", (784, 128, 64, 10), (32, 128))]
OPTS = ("sgd", "adam")


def data(np, dims):
    rng = np.random.default_rng(12345)
    x = rng.random((N, dims[0]), dtype=np.float32)
    y = np.zeros((N, dims[3]), np.float32)
    y[np.arange(N), (np.arange(N) * 7) % dims[3]] = 1
    return x, y


def best(fn, iters, reps=5):
    return peer_timing.best(fn, iters, reps)


def report_train(prefix, name, opt, batch, seconds):
    print("%s_train_%s_%s_b%d_epoch %.2f ms" % (prefix, name, opt, batch, seconds * 1e3))


def report_infer(prefix, name, batch, seconds):
    if batch == 1:
        print("%s_infer_%s_b1_latency %.2f us" % (prefix, name, seconds * 1e6))
    else:
        print("%s_infer_%s_b%d_throughput %.1f ksamples/s" % (prefix, name, batch, batch / seconds / 1e3))


def mlp(keras, dims):
    return keras.Sequential([keras.Input((dims[0],)), keras.layers.Dense(dims[1], activation="relu"),
                             keras.layers.Dense(dims[2], activation="relu"),
                             keras.layers.Dense(dims[3], activation="softmax")])


def train_fit(keras, prefix, name, dims, x, y, batches, epochs):
    """Keras's own compiled fit, the same calls on either backend."""
    for opt in OPTS:
        for batch in batches:
            m = mlp(keras, dims)
            m.compile(optimizer=opt, loss="categorical_crossentropy", metrics=["accuracy"])
            m.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0)
            t = 1e30
            for _ in range(epochs):
                t0 = peer_timing.CLOCK()
                m.fit(x, y, batch_size=batch, epochs=1, shuffle=False, verbose=0)
                t = min(t, peer_timing.CLOCK() - t0)
            report_train(prefix, name, opt, batch, t)
            sys.stdout.flush()


def run_keras_tf(threads, epochs):
    from peer_tf import fastest, setup

    tf, keras = setup(threads)
    import numpy as np

    for name, dims, batches in NETS:
        x, y = data(np, dims)
        train_fit(keras, "kerastf", name, dims, x, y, batches, epochs)
        m = mlp(keras, dims)
        for batch, iters in ((1, 2000), (256, 100), (4096, 10)):
            xb = tf.constant(x[:batch])

            def time_it(f):
                f(xb)  # XLA compiles on the first call
                return best(lambda: f(xb), iters)
            t = fastest(tf, lambda a: m(a, training=False), (xb,), time_it)[0]
            report_infer("kerastf", name, batch, t)


def run_keras(threads, epochs):
    os.environ["KERAS_BACKEND"] = "jax"
    os.environ.setdefault("JAX_PLATFORMS", "cpu")
    if threads == 1:
        os.environ["XLA_FLAGS"] = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    import numpy as np
    import jax
    import jax.numpy as jnp
    import keras

    for name, dims, batches in NETS:
        x, y = data(np, dims)
        train_fit(keras, "keras", name, dims, x, y, batches, epochs)
        m = mlp(keras, dims)
        fwd = jax.jit(lambda v, xb: m.stateless_call(v, [], xb)[0])
        tv = [v.value for v in m.trainable_variables]
        for batch, iters in ((1, 2000), (256, 100), (4096, 10)):
            xb = jnp.asarray(x[:batch])
            fwd(tv, xb).block_until_ready()
            report_infer("keras", name, batch, best(lambda: fwd(tv, xb).block_until_ready(), iters))


def run_torch(threads, epochs):
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    for name, dims, batches in NETS:
        x, y = data(np, dims)
        xt, yt = torch.from_numpy(x), torch.from_numpy(y.argmax(1))

        def model():
            return torch.nn.Sequential(torch.nn.Linear(dims[0], dims[1]), torch.nn.ReLU(),
                                       torch.nn.Linear(dims[1], dims[2]), torch.nn.ReLU(),
                                       torch.nn.Linear(dims[2], dims[3]))
        for opt in OPTS:
            for batch in batches:
                m = model()
                o = torch.optim.SGD(m.parameters(), lr=0.01) if opt == "sgd" else torch.optim.Adam(m.parameters(), lr=1e-3)
                loss_fn = torch.nn.CrossEntropyLoss()

                def epoch():
                    for i in range(0, N, batch):
                        o.zero_grad()
                        loss = loss_fn(m(xt[i:i + batch]), yt[i:i + batch])
                        loss.backward()
                        o.step()
                epoch()
                t = 1e30
                for _ in range(epochs):
                    t0 = peer_timing.CLOCK()
                    epoch()
                    t = min(t, peer_timing.CLOCK() - t0)
                report_train("torch", name, opt, batch, t)
                sys.stdout.flush()
        m = model().eval()
        with torch.no_grad():
            for batch, iters in ((1, 2000), (256, 100), (4096, 10)):
                xb = xt[:batch].clone()
                m(xb)
                report_infer("torch", name, batch, best(lambda: m(xb), iters))


def main():
    runs = {"keras": run_keras, "keras-tf": run_keras_tf, "torch": run_torch, "torch2": run_torch}
    if len(sys.argv) < 3 or sys.argv[1] not in runs:
        sys.exit("usage: peers_train.py keras|keras-tf|torch|torch2 THREADS [quick]")
    threads, epochs = int(sys.argv[2]), 1 if "quick" in sys.argv[3:] else 3
    try:
        runs[sys.argv[1]](threads, epochs)
    except ImportError as e:
        print("missing %s: %s (python %s)" % (sys.argv[1], e, sys.executable), file=sys.stderr)
        sys.exit(3)


if __name__ == "__main__":
    main()
