#!/usr/bin/env bash
# Sequence models: a Keras 3 text classifier (Embedding + Bidirectional(LSTM))
# summarised from its config, then an Embedding(mask_zero) + LSTM trained end to
# end on generated token sequences (examples/seq.c), reaching > 90 % held out.
set -uo pipefail
BUILD=${1:-build}
"$BUILD/ckeras" summary tests/golden/seq/text_classifier/config.json
"$BUILD/example_seq"
