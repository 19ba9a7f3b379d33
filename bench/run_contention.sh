#!/usr/bin/env bash
# ckeras (and the Python peers) on a busy machine: for each K, starts K busy
# processes on the same CPUs (each ends by itself after BOUND seconds at most,
# and the script stops them when it is done with K), then times the small CNN
# (bench_cnn --quick: training step at batch 64, inference at batch 1 and 256)
# at 1 and 2 threads, and ckeras at 2 threads with its load check off
# (CKERAS_IGNORE_LOAD=1: a fixed team of two, what ckeras did before). Prints
# ms per call and, per row, 2 threads / 1 thread (above 1: the second thread
# hurts) and time / (idle 1-thread time x fair-share factor), where the factor
# is (K + 1) / CPUS when K + 1 > CPUS, else 1 (what one thread can get).
# ROUNDS=n (bench/peers.sh) measures every side n times under each K,
# alternating, and the table takes each side's best.
# Usage: [PEERS="keras torch"] [PIN=cpus] [BOUND=s] [ROUNDS=n] bench/run_contention.sh [build] [K...]
# (K defaults to 0 2 4; PIN, a taskset list, defaults to every cpu; PEERS to
# none: the peers take minutes each on a busy machine)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
shift || true
KS=${*:-0 2 4}
BOUND=${BOUND:-300}
PEERS=${PEERS:-}
PIN=${PIN:-0-$(($(nproc) - 1))}
CPUS=$(taskset -c "$PIN" nproc)
OUT=$(mktemp -d)
busy=()
stop_busy() { for p in "${busy[@]}"; do kill "$p" 2>/dev/null || true; done; busy=(); }
trap 'stop_busy; rm -rf "$OUT"' EXIT
. bench/peers.sh
bench_cc bench/bench_cnn.c "$OUT/bench_cnn"
machine_note "$OUT"
echo "cpus used: $PIN ($CPUS)"
echo "load before: $(cut -d' ' -f1-4 /proc/loadavg)"
# side K threads command...: runs one measurement, appends "side K threads name value" lines
measure() {
  local side=$1 k=$2 threads=$3; shift 3
  OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads taskset -c "$PIN" "$@" 2>/dev/null |
    awk -v s="$side" -v k="$k" -v t="$threads" '!/^#/ && NF >= 3 { print s, k, t, $1, $2 }' >> "$OUT/all.txt"
}
for k in $KS; do
  for i in $(seq "$k"); do
    taskset -c "$PIN" timeout "$BOUND" sh -c 'while :; do :; done' & busy+=($!)
  done
  sleep 1
  echo "== K=$k busy processes (load $(cut -d' ' -f1-4 /proc/loadavg))"
  for round in $(seq "$ROUNDS"); do
    measure ckeras "$k" 1 "$OUT/bench_cnn" - --quick
    measure ckeras "$k" 2 "$OUT/bench_cnn" - --quick
    CKERAS_IGNORE_LOAD=1 measure ckeras-fixed "$k" 2 "$OUT/bench_cnn" - --quick
    for fw in $PEERS; do
      py=$(peer_python "$fw")
      [ -n "$py" ] || { echo "# missing peer $fw: $(peer_missing_note "$fw")"; continue; }
      for t in 1 2; do measure "$fw" "$k" "$t" "$py" bench/peers_cnn.py "$fw" "$t" --quick --no-resnet; done
    done
  done
  stop_busy
done
python3 - "$OUT/all.txt" "$CPUS" <<'PY'
import sys
rows, cpus = {}, int(sys.argv[2])
for line in open(sys.argv[1]):
    side, k, t, name, v = line.split()
    name = name.split("_", 1)[1] if side not in ("ckeras", "ckeras-fixed") else name  # peers prefix their names
    key = (side, int(k), int(t), name)
    rows[key] = min(float(v), rows.get(key, float("inf")))  # best of the rounds
names = ["cnn_train_step_b64", "cnn_infer_b1", "cnn_infer_b256"]
sides = sorted({s for s, _, _, _ in rows}, key=lambda s: (s != "ckeras", s != "ckeras-fixed", s))
ks = sorted({k for _, k, _, _ in rows})
nan = float("nan")
print("\nms per call; 2t/1t: 2 threads over 1 thread under the same load (above 1: the 2nd thread hurts);")
print("/fair: time over (idle 1-thread time x fair share factor (K+1)/%d, at least 1)" % cpus)
print("%-13s %-20s %3s %10s %10s %7s %8s %8s" % ("side", "workload", "K", "1 thread", "2 threads", "2t/1t", "1t/fair",
                                                "2t/fair"))
for s in sides:
    for n in names:
        idle = rows.get((s, 0, 1, n), rows.get(("ckeras", 0, 1, n), nan)) if s != "ckeras-fixed" else \
            rows.get(("ckeras", 0, 1, n), nan)
        for k in ks:
            one, two = rows.get((s, k, 1, n), nan), rows.get((s, k, 2, n), nan)
            if one != one and two != two: continue
            fair = idle * max(1.0, (k + 1) / cpus)
            print("%-13s %-20s %3d %10.4g %10.4g %7.2f %8.2f %8.2f" % (s, n, k, one, two, two / one, one / fair,
                                                                         two / fair))
PY
