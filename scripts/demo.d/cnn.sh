#!/usr/bin/env bash
# Convolutional networks: the LeNet-style example with its summary and parameter
# arithmetic, then a CNN trained on Fashion-MNIST (Debian's dataset-fashion-mnist)
# with Keras's progress bar: 6 epochs of Conv2D(32) -> MaxPool -> Conv2D(64) ->
# MaxPool -> Dense(128) -> Dense(10), batch 64, to >= 90% test accuracy (about
# 12-16 s per epoch on two cores). Skipped when the dataset is not installed.
set -uo pipefail
BUILD=${1:-build}
"$BUILD/example_cnn"
if [ -e /usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz ]; then
  "$BUILD/ckeras" demo-cnn
else
  echo "(dataset-fashion-mnist not installed: apt-get install dataset-fashion-mnist)"
fi
