#!/usr/bin/env bash
# Builds and runs bench/bench_cnn.c against build/libckeras.a, then the peers
# (Keras 3 on JAX and on TensorFlow, PyTorch 1.13 and 2, ONNX Runtime and LiteRT
# for inference: each from the first python that imports it, bench/peers.sh),
# all at the same thread count, and prints a ratio table (best peer's time /
# ckeras's: above 1x means ckeras is faster); a missing peer reads n/a.
# Usage: [ROUNDS=n] [PIN=cpus] bench/run_cnn.sh [BUILD_DIR] [THREADS] [--quick]
# (needs a Release build; ROUNDS and PIN: bench/peers.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
THREADS=${2:-$(nproc)}
QUICK=${3:-}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
export OMP_NUM_THREADS=$THREADS OPENBLAS_NUM_THREADS=$THREADS
. bench/peers.sh
bench_cc bench/bench_cnn.c "$OUT/bench_cnn"
machine_note "$OUT"
for round in $(seq "$ROUNDS"); do
  for isa in $(ckeras_isas "$OUT"); do
    echo "== ckeras ($THREADS threads, kernels $isa, round $round of $ROUNDS${PIN:+, cpus $PIN})"
    CKERAS_ISA=$isa pinned "$OUT/bench_cnn" tests/golden/apps/ResNet50/config.json $QUICK | tee -a "$OUT/ckeras-$isa.txt"
  done
  for fw in $ALL_PEERS; do
    py=$(peer_python $fw)
    if [ -z "$py" ]; then
      [ "$round" = 1 ] && echo "# missing peer $fw: $(peer_missing_note $fw); its column reads n/a" | tee -a "$OUT/peers.txt"
      continue
    fi
    echo "== $fw ($py, $THREADS threads)"
    any_peer "$fw" "$THREADS" bench/peers_cnn.py "$fw" "$THREADS" $QUICK 2> "$OUT/$fw.err" | tee -a "$OUT/peers.txt" ||
      echo "# $fw peer failed: $(tail -1 "$OUT/$fw.err")"
  done
done
python3 - "$OUT/peers.txt" "$OUT"/ckeras-*.txt <<'PY'
import sys
sys.path.insert(0, "bench")
import peer_table as t
keys = ["cnn_train_step_b64", "cnn_infer_b1", "cnn_infer_b256", "resnet50_infer_b1", "resnet50_infer_b32"]
for isa, c, p in t.by_isa(sys.argv[1], sys.argv[2:]):
    t.print_table("ckeras on %s: ms per call (ORT and LiteRT: inference only)" % isa, c, p, [(k, k, False) for k in keys])
PY
