#!/usr/bin/env bash
# Builds and runs bench/bench_cnn.c against build/libckeras.a, then the Python
# peers (Keras 3 on JAX, and PyTorch from whichever python3 can import torch),
# all at the same thread count, and prints a ratio table (peer time / ckeras
# time: above 1x means ckeras is faster).
# Usage: bench/run_cnn.sh [BUILD_DIR] [THREADS] [--quick]   (needs a Release build)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
THREADS=${2:-$(nproc)}
QUICK=${3:-}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS
cc -O2 -std=gnu11 -Iinclude bench/bench_cnn.c "$BUILD/libckeras.a" \
   $(pkg-config --libs jansson libzip) -lhdf5_serial -lz -lopenblas -fopenmp -lm -o "$OUT/bench_cnn"
echo "== ckeras ($THREADS threads)"
"$OUT/bench_cnn" tests/golden/apps/ResNet50/config.json $QUICK | tee "$OUT/ckeras.txt"
run_peer() { # framework, then candidate interpreters: the first that has it runs
  local fw=$1 mod=$2; shift 2
  for py in "$@"; do
    if command -v "$py" >/dev/null && KERAS_BACKEND=jax "$py" -c "import $mod" 2>/dev/null; then
      echo "== $fw ($py, $THREADS threads)"
      "$py" bench/peers_cnn.py "$fw" "$THREADS" $QUICK | tee -a "$OUT/peers.txt" || echo "# $fw peer failed"
      return
    fi
  done
  echo "# missing peer: no python3 here can import $mod ($*)" | tee -a "$OUT/peers.txt"
}
run_peer keras keras python3 /usr/bin/python3
run_peer torch torch python3 /usr/bin/python3
python3 - "$OUT/ckeras.txt" "$OUT/peers.txt" <<'PY'
import sys
def load(p):
    d = {}
    try:
        for line in open(p):
            if line.startswith("#"): continue
            k, v, u = line.split()[:3]; d[k] = float(v)
    except FileNotFoundError:
        pass
    return d
c, p = load(sys.argv[1]), load(sys.argv[2])
nan = float("nan")
print("\n%-24s %12s %12s %12s %10s %10s" % ("ms per call", "ckeras", "keras-jax", "torch", "keras/ck", "torch/ck"))
for key in ["cnn_train_step_b64", "cnn_infer_b1", "cnn_infer_b256", "resnet50_infer_b1", "resnet50_infer_b32"]:
    cv, kv, tv = c.get(key, nan), p.get("keras_" + key, nan), p.get("torch_" + key, nan)
    print("%-24s %12.4g %12.4g %12.4g %9.2fx %9.2fx" % (key, cv, kv, tv, kv / cv, tv / cv))
print("targets (issue 4): torch/ck >= 2x on cnn_train_step_b64 and cnn_infer_b256, >= 1.2x on resnet50")
PY
