#!/usr/bin/env bash
# Model files: a published Keras 3 .h5 summarised without reading its weights,
# inspected, converted to a .keras archive and read back; a QKeras file refused
# with the classes named, and its weights still listed straight from the HDF5.
set -uo pipefail
BUILD=${1:-build}
M=tests/data/models
tmp=$(mktemp -d)
"$BUILD/ckeras" summary $M/churn_tanishk_model.h5
"$BUILD/ckeras" inspect $M/sentiment_embedding_h5_named_dot_keras.keras
"$BUILD/ckeras" convert $M/churn_tanishk_model.h5 "$tmp/churn.keras"
"$BUILD/ckeras" weights "$tmp/churn.keras"
"$BUILD/ckeras" summary $M/hls4ml_qkeras-v3_3layer.keras || true
"$BUILD/ckeras" weights $M/hls4ml_qkeras-v3_3layer.keras
rm -rf "$tmp"
