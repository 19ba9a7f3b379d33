#!/usr/bin/env bash
# Generated code off x86 (issue 15): exports models with `ckeras export`, builds
# them for aarch64 (gcc-aarch64-linux-gnu) and runs them under qemu-user against
# `ckeras predict`'s outputs (1e-6), and compiles them for a Cortex-M4
# (gcc-arm-none-eabi, -mcpu=cortex-m4 -mfloat-abi=hard) to report code, weight
# and arena bytes. Usage: tests/export_cross.sh [CKERAS]; exit status 1 on a
# mismatch or a build failure, 0 otherwise.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
CKERAS=$(realpath "${1:-$root/build/ckeras}")
T=$(mktemp -d "${TMPDIR:-/tmp}/ckeras_cross_XXXXXX")
trap 'rm -rf "$T"' EXIT
CFLAGS="-std=c99 -Wall -Wextra -Werror -pedantic -O2"
# model file | input .npy | export options
models=(
  "tests/data/models/mnist_cnn_akshatv25_k3151.keras|tests/golden/conv/lenet/x.npy"
  "tests/data/models/mnist_cnn_akshatv25_k3151.keras|tests/golden/conv/lenet/x.npy|--int8"
  "tests/data/models/stock_lstm_adjoapanyin_k341.keras|tests/golden/seq_models/stock_lstm_adjoapanyin_k341/x.npy"
  "tests/data/models/hls4ml_keras_3layer_batch_norm.h5|"
)
printf '%-40s %10s %10s %10s %s\n' "model (Cortex-M4, -O2; bytes)" "code" "weights" "arena" "aarch64 under qemu"
for entry in "${models[@]}"; do
  IFS='|' read -r file x opt <<<"$entry"
  name=$(basename "${file%.*}")${opt:+ $opt}
  d="$T/${name// /_}"; mkdir -p "$d"
  if [ "$opt" = --int8 ]; then
    "$CKERAS" export "$root/$file" --c "$d" --name m --int8 --calibrate "$root/$x" >/dev/null
  else
    "$CKERAS" export "$root/$file" --c "$d" --name m >/dev/null
  fi
  arena=$(sed -n 's/^#define M_ARENA_BYTES //p' "$d/m.h")
  # Cortex-M4: .text is code, .rodata the weights (and the kernels' few constants)
  arm-none-eabi-gcc $CFLAGS -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -c "$d/m.c" -o "$d/m_m4.o"
  read -r code rodata < <(arm-none-eabi-size -A "$d/m_m4.o" | awk '$1 ~ /^\.text/ {t += $2} $1 ~ /^\.rodata/ {r += $2} END {print t + 0, r + 0}')
  run="(no input)"; [ -n "$opt" ] && run="(sizes only)"
  if [ -n "$x" ] && [ -z "$opt" ]; then
    "$CKERAS" predict "$root/$file" --input "$root/$x" --output "$d/ref.npy" >/dev/null
    aarch64-linux-gnu-gcc $CFLAGS -I"$d" "$root/tests/export_driver.c" "$d/m.c" -lm -o "$d/run"
    run=$(qemu-aarch64 -L /usr/aarch64-linux-gnu "$d/run" "$root/$x" "$d/out.bin" "$d/ref.npy" 1e-6)
  fi
  printf '%-40s %10s %10s %10s %s\n' "$name" "$code" "$rodata" "$arena" "$run"
done
