#!/usr/bin/env bash
# Training: an MLP (784-256-128-10, Adam) learns Fashion-MNIST from Debian's
# dataset-fashion-mnist for 10 epochs with Keras's progress bar, then is
# evaluated on the test set; the command fails below 88% test accuracy.
set -euo pipefail
BUILD=${1:-build}
"$BUILD/ckeras" demo-fashion
