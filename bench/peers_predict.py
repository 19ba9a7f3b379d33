"""Python peers for bench/run_predict.sh: the classic 2-3-2 model (Dense(3, relu),
Dense(2, softmax)) in Keras 3 on JAX, Keras 3 on TensorFlow ("keras-tf") and
PyTorch, each when it is importable. Single-sample latency uses each
framework's fastest per-call path (Keras on JAX: the jitted stateless call on a
jnp array; Keras on TensorFlow: model(x) under tf.function called as its
concrete function, with XLA or as a plain graph, whichever is faster,
bench/peer_tf.py; neither model.predict, which
adds a data pipeline); throughput is one batch of 1024. bench_predict.c runs at
ckeras's default thread count (all cores), so the TensorFlow peer gets
intra-op = os.cpu_count() (env BENCH_THREADS overrides). Prints "name value
unit" lines. Usage: peers_predict.py [keras|keras-tf|torch] (all when omitted); a
framework that does not import is reported on stderr as "missing <name>: ..."
(exit 3 when every one asked for is missing), since the peers may live in
different pythons (run_predict.sh finds them)."""
import os
import sys
import peer_timing

os.environ.setdefault("KERAS_BACKEND", "jax")


def best(fn, iters, reps=5):
    return peer_timing.best(fn, iters, reps)


def bench_keras():
    import jax
    import jax.numpy as jnp
    import keras

    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    fwd = jax.jit(lambda v, x: model.stateless_call(v, [], x)[0])
    tv = [v.value for v in model.trainable_variables]
    x1, xb = jnp.ones((1, 2)), jnp.ones((1024, 2))
    fwd(tv, x1).block_until_ready(); fwd(tv, xb).block_until_ready()
    t1 = best(lambda: fwd(tv, x1).block_until_ready(), 2000)
    tb = best(lambda: fwd(tv, xb).block_until_ready(), 200)
    print("keras_classic_single_latency %.4f us" % (t1 * 1e6))
    print("keras_classic_batch1024_throughput %.3f Msamples/s" % (1024 / tb / 1e6))


def bench_keras_tf():
    from peer_tf import fastest, setup

    tf, keras = setup(int(os.environ.get("BENCH_THREADS", os.cpu_count())))
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3, activation="relu"),
                              keras.layers.Dense(2, activation="softmax")])
    fwd = lambda a: model(a, training=False)

    def timer(x, iters):
        def time_it(f):
            f(x)  # XLA compiles on the first call
            return best(lambda: f(x), iters)
        return time_it
    x1, xb = tf.ones((1, 2)), tf.ones((1024, 2))
    t1 = fastest(tf, fwd, (x1,), timer(x1, 2000))[0]
    tb = fastest(tf, fwd, (xb,), timer(xb, 200))[0]
    print("kerastf_classic_single_latency %.4f us" % (t1 * 1e6))
    print("kerastf_classic_batch1024_throughput %.3f Msamples/s" % (1024 / tb / 1e6))


def bench_torch():
    import torch

    torch.set_grad_enabled(False)
    model = torch.nn.Sequential(torch.nn.Linear(2, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2), torch.nn.Softmax(-1))
    x1, xb = torch.ones(1, 2), torch.ones(1024, 2)
    t1 = best(lambda: model(x1), 5000)
    tb = best(lambda: model(xb), 500)
    print("torch_classic_single_latency %.4f us" % (t1 * 1e6))
    print("torch_classic_batch1024_throughput %.3f Msamples/s" % (1024 / tb / 1e6))


if __name__ == "__main__":
    runs = {"keras": bench_keras, "keras-tf": bench_keras_tf, "torch": bench_torch, "torch2": bench_torch}
    which = sys.argv[1:] or list(runs)
    if not set(which) <= set(runs):
        sys.exit("usage: peers_predict.py [keras|keras-tf|torch]...")
    missing = 0
    for name in which:
        try:
            runs[name]()
        except ImportError as e:
            print("missing %s: %s (python %s)" % (name, e, sys.executable), file=sys.stderr)
            missing += 1
    sys.exit(3 if missing == len(which) else 0)
