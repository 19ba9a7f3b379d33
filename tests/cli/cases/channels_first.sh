# ckeras on a channels_first model Keras trained and saved (tests/oracle/channels_first_cases.py):
# Conv2D, BatchNormalization(axis=1), pooling, Conv2DTranspose, padding, cropping,
# upsampling and Flatten in channels_first predict as Keras did, and train on.
C=../golden/channels_first/train_2d
T=${TMPDIR:-/tmp}/ckeras_cli_cf_$$
mkdir -p "$T"
expect 0 "max relative error vs" -- "$CKERAS" predict $C/model.keras --input $C/x.npy --output "$T/y.npy" --check $C/predict.npy
expect 0 "(None, 3, 6, 6)" -- "$CKERAS" summary $C/model.keras
expect 0 "saved $T/more.keras" -- "$CKERAS" fit $C/model.keras --x $C/x.npy --y $C/y.npy --epochs 1 --optimizer sgd --loss mse --verbose 0 --save "$T/more.keras"
expect 0 "wrote $T/y2.npy" -- "$CKERAS" predict "$T/more.keras" --input $C/x.npy --output "$T/y2.npy"
rm -rf "$T"
