#!/usr/bin/env bash
# Training (issue 3): an MLP learns Fashion-MNIST from Debian's
# dataset-fashion-mnist with Keras's progress bar (>= 88 % test accuracy or the
# step fails), then fit on a CSV file with a label column, saved as .keras and
# predicted back, and a two-input two-output functional model with a loss and
# metrics per output.
set -euo pipefail
BUILD=${1:-build}
G=tests/golden/train_more
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$BUILD/ckeras" demo-fashion --epochs 10
echo
"$BUILD/ckeras" fit $G/csv_classes/config.json --csv $G/csv_classes/data.csv --label-column label \
  --optimizer adam --loss sparse_categorical_crossentropy --metrics accuracy --epochs 5 --batch-size 8 \
  --verbose 2 --save "$tmp/csv_model.keras"
printf 'a,b,c,d\n0.5,-1,2,0.25\n' > "$tmp/x.csv"
"$BUILD/ckeras" predict "$tmp/csv_model.keras" --input "$tmp/x.csv" --output "$tmp/p.npy"
echo
M=$G/multi_io
"$BUILD/ckeras" fit $M/config.json --x $M/x0.npy --x $M/x1.npy --y $M/y0.npy --y $M/y1.npy \
  --loss mse --loss sparse_categorical_crossentropy --loss-weights 1,0.5 --metrics mae --metrics accuracy \
  --optimizer adam --epochs 3 --batch-size 4 --validation-split 0.2 --verbose 2
