#!/usr/bin/env bash
# Builds and runs bench/bench_predict.c against build/libckeras.a, then the Python
# peers (Keras on JAX, and PyTorch when importable), and prints a ratio table.
# Usage: bench/run_predict.sh [BUILD_DIR]   (run from anywhere; needs a Release build)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
cc -O2 -std=gnu11 -Iinclude bench/bench_predict.c "$BUILD/libckeras.a" \
   $(pkg-config --libs jansson libzip) -lhdf5_serial -lz -lopenblas -fopenmp -lm -o "$OUT/bench_predict"
"$OUT/bench_predict" tests/golden/core/classic/config.json | tee "$OUT/ckeras.txt"
# Keras (pyenv python, JAX backend) and PyTorch (Debian's /usr/bin/python3) may live
# in different pythons: each peer runs under the first one that imports it.
find_python() { # $1: module, $2: env assignment for the import check
  for py in python3 /usr/bin/python3 python; do
    if command -v "$py" >/dev/null && env $2 "$py" -c "import $1" >/dev/null 2>&1; then echo "$py"; return; fi
  done
}
: > "$OUT/peers.txt"
for peer in keras torch; do
  py=$(find_python $peer "$([ $peer = keras ] && echo KERAS_BACKEND=jax || echo X=1)")
  if [ -z "$py" ]; then echo "(peer missing: $peer: no python imports it)"; continue; fi
  if "$py" bench/peers_predict.py $peer >> "$OUT/peers.txt" 2> "$OUT/peers.err"; then :
  else echo "(peer $peer failed under $py: $(tail -1 "$OUT/peers.err"))"; fi
done
cat "$OUT/peers.txt"
python3 - "$OUT/ckeras.txt" "$OUT/peers.txt" <<'PY'
import sys
def load(p):
    d = {}
    try:
        for line in open(p):
            k, v, u = line.split()[:3]; d[k] = (float(v), u)
    except FileNotFoundError:
        pass
    return d
c, p = load(sys.argv[1]), load(sys.argv[2])
print("\n%-34s %14s %14s %14s %10s" % ("measurement", "ckeras", "keras-jax", "torch", "best peer/ckeras"))
for key, unit, lower in [("classic_single_latency", "us", True), ("classic_batch1024_throughput", "Msamples/s", False)]:
    cv = c.get(key, (float("nan"),))[0]
    kv = p.get("keras_" + key, (float("nan"),))[0]
    tv = p.get("torch_" + key, (float("nan"),))[0]
    peers = [v for v in (kv, tv) if v == v]
    best = (min(peers) if lower else max(peers)) if peers else float("nan")
    ratio = (best / cv if lower else cv / best) if peers else float("nan")
    print("%-34s %14.4g %14.4g %14.4g %9.1fx  (%s)" % (key, cv, kv, tv, ratio, unit))
print("dense 4096x4096 @256 vs raw sgemm: %.1f %% (target >= 85 %%)" % c.get("dense4096_ratio", (float("nan"),))[0])
PY
