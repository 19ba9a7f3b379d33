"""Keras 3 on the TensorFlow CPU backend, set up the same way for every
bench/peers_*.py: the backend chosen and TensorFlow's thread pools sized before
anything imports or runs (tf.config.threading only takes effect before the first
op), so the "keras-tf" peer uses the same thread count as ckeras and the others.
intra-op = THREADS (the threads one op, or one XLA cluster, may use), inter-op =
1 (ops run one after another, as in ckeras's engine), so TensorFlow's op pools
compute on THREADS threads (fit's tf.data pipeline keeps its own small pool;
run_train.sh's taskset bounds the cores all of them get). Imported from the
peers' directory."""
import os


def setup(threads):
    """Returns (tf, keras) with the TensorFlow backend; raises ImportError when
    this python has no TensorFlow or only Keras 2."""
    os.environ["KERAS_BACKEND"] = "tensorflow"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    if threads and threads > 0:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras

    if int(keras.__version__.split(".")[0]) < 3:
        raise ImportError("keras %s is not Keras 3" % keras.__version__)
    if keras.backend.backend() != "tensorflow":
        raise ImportError("keras backend is %s, not tensorflow" % keras.backend.backend())
    return tf, keras


def compiled(tf, fn, *examples, jit=True):
    """fn traced once for the exact shapes and dtypes of examples, with XLA
    when jit, and returned as the concrete function: calling it skips
    tf.function's per-call signature matching, which halves a batch-1 call here
    (about 165 against 320 us for the MLP). TF's CPU kernels have finished when
    the call returns, so timing the call times the work."""
    specs = [tf.TensorSpec(e.shape, e.dtype) for e in examples]
    return tf.function(fn, jit_compile=jit, reduce_retracing=True).get_concrete_function(*specs)


def fastest(tf, fn, args, time_it):
    """Times fn(*args) both with XLA and as a plain graph (TF's own oneDNN
    kernels) and returns (seconds, "xla" | "graph") for the faster. Neither wins
    everywhere: Keras's own compile turns XLA off on a CPU-only machine, and on
    this one the plain graph was faster for the CNN's training step (17.6
    against 38.1 ms) and batch-256 inference (21.9 against 30.3 ms), XLA for its
    batch-1 inference (0.37 against 0.50 ms). time_it(f) returns the best
    seconds per call of f(*args), its first call (compilation) not timed."""
    times = {}
    for jit in (True, False):
        times["xla" if jit else "graph"] = time_it(compiled(tf, fn, *args, jit=jit))
    way = min(times, key=times.get)
    return times[way], way
