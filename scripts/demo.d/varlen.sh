#!/usr/bin/env bash
# Variable-length inputs: the published sentiment model (Embedding on (None, None),
# a tf.keras 2.11 HDF5 file) predicts token-id batches of two lengths, each
# checked against real Keras 3's predictions (tests/golden/varlen).
set -uo pipefail
BUILD=${1:-build}
M=tests/data/models/sentiment_embedding_h5_named_dot_keras.keras
G=tests/golden/varlen/sentiment
tmp=$(mktemp -d)
for t in 7 13; do
  "$BUILD/ckeras" predict "$M" --input "$G/x$t.npy" --output "$tmp/y$t.npy" --check "$G/y$t.npy"
done
rm -rf "$tmp"
