#!/usr/bin/env bash
# Builds and runs bench/bench_predict.c against build/libckeras.a, then the
# peers (Keras 3 on JAX and on TensorFlow, PyTorch 1.13 and 2, ONNX Runtime,
# LiteRT: each when some python imports it, bench/peers.sh), and prints a ratio
# table with best-peer/ckeras; a missing peer reads n/a. bench_predict.c runs
# at ckeras's default thread count (all cores), and so do the peers.
# Usage: bench/run_predict.sh [BUILD_DIR]   (run from anywhere; needs a Release build)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
. bench/peers.sh
bench_cc bench/bench_predict.c "$OUT/bench_predict"
machine_note "$OUT"
for isa in $(ckeras_isas "$OUT"); do
  echo "== ckeras, kernels $isa"
  CKERAS_ISA=$isa "$OUT/bench_predict" tests/golden/core/classic/config.json | tee "$OUT/ckeras-$isa.txt"
done
# The peers live in different pythons: each runs under the first one that imports it.
: > "$OUT/peers.txt"
for peer in $ALL_PEERS; do
  py=$(peer_python $peer)
  if [ -z "$py" ]; then echo "(peer missing: $peer: $(peer_missing_note $peer); its column reads n/a)"; continue; fi
  if any_peer $peer "$(nproc)" bench/peers_predict.py "$peer" >> "$OUT/peers.txt" 2> "$OUT/peers.err"; then :
  else echo "(peer $peer failed under $py: $(tail -1 "$OUT/peers.err"))"; fi
done
cat "$OUT/peers.txt"
python3 - "$OUT/peers.txt" "$OUT"/ckeras-*.txt <<'PY'
import sys
sys.path.insert(0, "bench")
import peer_table as t
for isa, c, p in t.by_isa(sys.argv[1], sys.argv[2:]):
    t.print_table("ckeras on %s: classic 2-3-2 model (us per sample at batch 1; Msamples/s at batch 1024)" % isa,
                  c, p, [(k, k, t.higher(k)) for k in ("classic_single_latency", "classic_batch1024_throughput")])
    print("dense 4096x4096 @256 vs raw sgemm: %.1f %% (target >= 85 %%)" % c.get("dense4096_ratio", float("nan")))
PY
