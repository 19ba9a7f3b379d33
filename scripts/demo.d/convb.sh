#!/usr/bin/env bash
# Keras Applications beyond keras.layers: ConvNeXtTiny (LayerScale) and
# MobileNetV3Small (numpy ops with a constant operand) load with Keras's exact
# counts; then seven Applications (MobileNet, V2, V3Small and reduced ConvNeXt,
# EfficientNet, NASNet, DenseNet builds) predict what Keras predicts.
set -uo pipefail
BUILD=${1:-build}
A=tests/golden/apps
"$BUILD/ckeras" summary $A/ConvNeXtTiny/config.json | tail -5
"$BUILD/ckeras" summary $A/MobileNetV3Small/config.json | tail -5
CKERAS_ROOT=$PWD "$BUILD/test_apps_predict"
