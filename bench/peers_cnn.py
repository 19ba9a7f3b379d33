"""Python peers for bench/run_cnn.sh, at the thread count given as argv[2]:
  python3 peers_cnn.py keras N      Keras 3 on JAX (XLA CPU)
  python3 peers_cnn.py keras-tf N   Keras 3 on TensorFlow (bench/peer_tf.py:
                                    intra-op N threads, inter-op 1)
  python3 peers_cnn.py torch N      PyTorch (its oneDNN/ATen CPU kernels)
The CNN Conv2D(32, 3x3, relu) -> MaxPooling2D -> Conv2D(64, 3x3, relu) ->
MaxPooling2D -> Flatten -> Dense(128, relu) -> Dense(10) on 28x28x1: one
training step at batch 64 (Adam, sparse categorical crossentropy from logits;
Keras: a jitted stateless train step, the same XLA computation fit() runs;
Keras on TensorFlow: the same step, GradientTape + optimizer.apply, under
tf.function; PyTorch: forward, backward, optimizer step), inference at batch 1
and 256 (TensorFlow: model(x) under tf.function, as a concrete function), and
ResNet50 (random weights) inference at batch 1 and 32 (PyTorch: a plain
bottleneck ResNet50 defined here, torchvision not needed). Every TensorFlow
measurement is timed both with XLA (jit_compile=True) and as a plain graph (TF's
oneDNN kernels; Keras's own compile turns XLA off on a CPU-only machine), and
the faster is reported (bench/peer_tf.py's fastest; a line "# kerastf_... via
xla|graph" says which). Best of a few timed runs; prints "name value unit" lines; a missing framework prints one
"# missing: ..." line and exits 3."""
import os
import sys
import peer_timing

FRAMEWORK = sys.argv[1] if len(sys.argv) > 1 else "keras"
THREADS = int(sys.argv[2]) if len(sys.argv) > 2 and sys.argv[2].isdigit() else os.cpu_count()  # imported: any
QUICK = "--quick" in sys.argv
RESNET = "--no-resnet" not in sys.argv  # bench/run_contention.sh: the small CNN alone
os.environ["KERAS_BACKEND"] = "tensorflow" if FRAMEWORK == "keras-tf" else "jax"
os.environ.setdefault("OMP_NUM_THREADS", str(THREADS))
if THREADS == 1 and FRAMEWORK == "keras":  # XLA's CPU client: one intra-op thread
    os.environ["XLA_FLAGS"] = os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"


def best(fn, iters, reps=3):
    return peer_timing.best(fn, iters, reps, warm=True)


def out(name, seconds):
    print("%s %.4f ms" % (name, seconds * 1e3))
    sys.stdout.flush()


def keras_peer():
    try:
        import jax
        import jax.numpy as jnp
        import keras
        import numpy as np
    except ImportError as e:
        print("# missing: keras/jax (%s)" % e)
        sys.exit(3)
    L = keras.layers
    model = keras.Sequential([keras.Input((28, 28, 1)), L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(),
                              L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(), L.Flatten(),
                              L.Dense(128, activation="relu"), L.Dense(10)])
    opt = keras.optimizers.Adam()
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    opt.build(model.trainable_variables)
    tv = [v.value for v in model.trainable_variables]
    ntv = [v.value for v in model.non_trainable_variables]
    ov = [v.value for v in opt.variables]

    def loss_of(tv, ntv, x, y):
        pred, ntv = model.stateless_call(tv, ntv, x, training=True)
        return loss_fn(y, pred), ntv

    @jax.jit
    def step(tv, ntv, ov, x, y):
        (loss, ntv), grads = jax.value_and_grad(loss_of, has_aux=True)(tv, ntv, x, y)
        tv, ov = opt.stateless_apply(ov, grads, tv)
        return tv, ntv, ov, loss

    rng = np.random.default_rng(0)
    x = jnp.asarray(rng.uniform(size=(64, 28, 28, 1)).astype(np.float32))
    y = jnp.asarray(rng.integers(0, 10, 64))
    state = [tv, ntv, ov]

    def train():
        state[0], state[1], state[2], loss = step(state[0], state[1], state[2], x, y)
        loss.block_until_ready()

    out("keras_cnn_train_step_b64", best(train, 5 if QUICK else 30))
    fwd = jax.jit(lambda v, x: model.stateless_call(v, ntv, x)[0])
    x1, xb = jnp.ones((1, 28, 28, 1)), jnp.ones((256, 28, 28, 1))
    out("keras_cnn_infer_b1", best(lambda: fwd(state[0], x1).block_until_ready(), 50 if QUICK else 500))
    out("keras_cnn_infer_b256", best(lambda: fwd(state[0], xb).block_until_ready(), 3 if QUICK else 20))
    if not RESNET:
        return
    res = keras.applications.ResNet50(weights=None)
    rv = [v.value for v in res.trainable_variables]
    rn = [v.value for v in res.non_trainable_variables]
    rfwd = jax.jit(lambda a, b, x: res.stateless_call(a, b, x)[0])
    for b, it in ((1, 2 if QUICK else 5), (32, 1 if QUICK else 2)):
        xr = jnp.ones((b, 224, 224, 3))
        out("keras_resnet50_infer_b%d" % b, best(lambda: rfwd(rv, rn, xr).block_until_ready(), it, 2))


def keras_tf_peer():
    try:
        from peer_tf import fastest, setup

        tf, keras = setup(THREADS)
        import numpy as np
    except ImportError as e:
        print("# missing: keras-tf (%s)" % e)
        sys.exit(3)
    L = keras.layers
    model = keras.Sequential([keras.Input((28, 28, 1)), L.Conv2D(32, 3, activation="relu"), L.MaxPooling2D(),
                              L.Conv2D(64, 3, activation="relu"), L.MaxPooling2D(), L.Flatten(),
                              L.Dense(128, activation="relu"), L.Dense(10)])
    opt = keras.optimizers.Adam()
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    opt.build(model.trainable_variables)  # its slots exist before tracing

    def step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, model(x, training=True))
        opt.apply(tape.gradient(loss, model.trainable_variables), model.trainable_variables)
        return loss

    rng = np.random.default_rng(0)
    x = tf.constant(rng.uniform(size=(64, 28, 28, 1)).astype(np.float32))
    y = tf.constant(rng.integers(0, 10, 64))

    def timed(name, fn, args, iters):
        t, way = fastest(tf, fn, args, lambda f: best(lambda: f(*args), iters))
        print("# kerastf_%s via %s" % (name, way))
        out("kerastf_" + name, t)

    timed("cnn_train_step_b64", step, (x, y), 5 if QUICK else 30)
    fwd = lambda a: model(a, training=False)
    timed("cnn_infer_b1", fwd, (tf.ones((1, 28, 28, 1)),), 50 if QUICK else 500)
    timed("cnn_infer_b256", fwd, (tf.ones((256, 28, 28, 1)),), 3 if QUICK else 20)
    if not RESNET:
        return
    res = keras.applications.ResNet50(weights=None)
    for b, it in ((1, 2 if QUICK else 5), (32, 1 if QUICK else 2)):
        xr = tf.ones((b, 224, 224, 3))
        t, way = fastest(tf, lambda a: res(a, training=False), (xr,),
                         lambda f, xr=xr, it=it: best(lambda: f(xr), it, 2))
        print("# kerastf_resnet50_infer_b%d via %s" % (b, way))
        out("kerastf_resnet50_infer_b%d" % b, t)


def torch_resnet50(nn):
    class Bottleneck(nn.Module):
        def __init__(self, cin, mid, stride):
            super().__init__()
            cout = mid * 4
            self.body = nn.Sequential(
                nn.Conv2d(cin, mid, 1, stride, bias=False), nn.BatchNorm2d(mid), nn.ReLU(inplace=True),
                nn.Conv2d(mid, mid, 3, 1, 1, bias=False), nn.BatchNorm2d(mid), nn.ReLU(inplace=True),
                nn.Conv2d(mid, cout, 1, bias=False), nn.BatchNorm2d(cout))
            self.short = (nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout))
                          if stride != 1 or cin != cout else nn.Identity())
            self.relu = nn.ReLU(inplace=True)

        def forward(self, x):
            return self.relu(self.body(x) + self.short(x))

    layers = [nn.Conv2d(3, 64, 7, 2, 3, bias=False), nn.BatchNorm2d(64), nn.ReLU(inplace=True), nn.MaxPool2d(3, 2, 1)]
    cin = 64
    for mid, n, stride in ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)):
        for i in range(n):
            layers.append(Bottleneck(cin, mid, stride if i == 0 else 1))
            cin = mid * 4
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(2048, 1000)]
    return nn.Sequential(*layers).eval()


def torch_peer():
    try:
        import torch
        import torch.nn as nn
    except ImportError as e:
        print("# missing: torch (%s)" % e)
        sys.exit(3)
    torch.set_num_threads(THREADS)
    model = nn.Sequential(nn.Conv2d(1, 32, 3), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3), nn.ReLU(),
                          nn.MaxPool2d(2), nn.Flatten(), nn.Linear(1600, 128), nn.ReLU(), nn.Linear(128, 10))
    opt = torch.optim.Adam(model.parameters())
    loss_fn = nn.CrossEntropyLoss()
    x, y = torch.rand(64, 1, 28, 28), torch.randint(0, 10, (64,))

    def train():
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

    out("torch_cnn_train_step_b64", best(train, 5 if QUICK else 30))
    with torch.no_grad():
        x1, xb = torch.ones(1, 1, 28, 28), torch.ones(256, 1, 28, 28)
        out("torch_cnn_infer_b1", best(lambda: model(x1), 50 if QUICK else 500))
        out("torch_cnn_infer_b256", best(lambda: model(xb), 3 if QUICK else 20))
        if not RESNET:
            return
        res = torch_resnet50(nn)
        for b, it in ((1, 2 if QUICK else 5), (32, 1 if QUICK else 2)):
            xr = torch.ones(b, 3, 224, 224)
            out("torch_resnet50_infer_b%d" % b, best(lambda: res(xr), it, 2))


if __name__ == "__main__":
    peers = {"keras": keras_peer, "keras-tf": keras_tf_peer, "torch": torch_peer, "torch2": torch_peer}
    if FRAMEWORK not in peers:
        sys.exit("usage: peers_cnn.py keras|keras-tf|torch THREADS [--quick]")
    peers[FRAMEWORK]()
