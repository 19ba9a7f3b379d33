#!/usr/bin/env bash
# Builds and runs bench/bench_predict.c against build/libckeras.a, then the Python
# peers (Keras 3 on JAX, Keras 3 on TensorFlow, PyTorch: each when some python
# imports it, bench/peers.sh), and prints a ratio table; a missing peer reads n/a.
# Usage: bench/run_predict.sh [BUILD_DIR]   (run from anywhere; needs a Release build)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
. bench/peers.sh
bench_cc bench/bench_predict.c "$OUT/bench_predict"
machine_note "$OUT"
"$OUT/bench_predict" tests/golden/core/classic/config.json | tee "$OUT/ckeras.txt"
# The peers live in different pythons: each runs under the first one that imports it.
: > "$OUT/peers.txt"
for peer in keras keras-tf torch; do
  py=$(peer_python $peer)
  if [ -z "$py" ]; then echo "(peer missing: $peer: $(peer_missing_note $peer); its column reads n/a)"; continue; fi
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
nan = float("nan")
def fmt(v, w=12, f="%.4g"):
    return ("%" + str(w) + "s") % (f % v if v == v else "n/a")
print("\n%-30s %12s %12s %12s %12s %10s" % ("measurement", "ckeras", "keras-jax", "keras-tf", "torch", "best peer/ckeras"))
for key, unit, lower in [("classic_single_latency", "us", True), ("classic_batch1024_throughput", "Msamples/s", False)]:
    cv = c.get(key, (nan,))[0]
    vals = [p.get(pre + key, (nan,))[0] for pre in ("keras_", "kerastf_", "torch_")]
    peers = [v for v in vals if v == v]
    best = (min(peers) if lower else max(peers)) if peers else nan
    ratio = (best / cv if lower else cv / best) if peers else nan
    print("%-30s %s %s %s  (%s)" % (key, fmt(cv), " ".join(fmt(v) for v in vals), fmt(ratio, 9, "%.1fx"), unit))
print("dense 4096x4096 @256 vs raw sgemm: %.1f %% (target >= 85 %%)" % c.get("dense4096_ratio", (float("nan"),))[0])
PY
