#!/usr/bin/env bash
# The main job: the classic Keras example built in C, its summary exactly as
# Keras 3 prints it, and its weights; then the other demos as they exist.
set -euo pipefail
BUILD=${1:-build}
cd "$(dirname "$0")/.."
echo "== Sequential([Dense(3, input_shape=(2,), activation='relu'), Dense(2, activation='softmax')])"
# examples/seed.c: the same model through the C API; `ckeras example` is its CLI twin.
"$BUILD/example_seed"
for d in scripts/demo.d/*.sh; do
  [ -e "$d" ] || continue
  echo
  echo "== $(basename "$d" .sh)"
  bash "$d" "$BUILD"
done
