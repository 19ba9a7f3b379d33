#!/usr/bin/env bash
# Core: a compiled .keras model's summary with its "Optimizer params" row (as
# keras.models.load_model shows it), the same model as tf.keras 2 would print it,
# and its Keras 3 model.to_json().
set -uo pipefail
BUILD=${1:-build}
F=tests/golden/core_loaded/adam_trained.keras
"$BUILD/ckeras" summary $F
"$BUILD/ckeras" summary $F --style keras2
"$BUILD/ckeras" config $F | head -c 400; echo " ..."
