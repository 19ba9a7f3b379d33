# ckeras predict: Keras's own weights (np.savez) and inputs must reproduce Keras's
# predictions; bad files and shapes give one line naming the file.
G=../golden/core
N=../golden/npy
T=${TMPDIR:-/tmp}/ckeras_cli_predict_$$
mkdir -p "$T"
expect 0 "max relative error vs" -- "$CKERAS" predict $G/classic/config.json --weights $N/classic_weights.npz --input $G/classic/x.npy --output "$T/y.npy" --check $G/classic/y.npy
expect 0 "wrote $T/y1.npy: float32 (4, 1)" -- "$CKERAS" predict $G/multi_output/config.json --weights $N/multi_output_weights.npz --input $G/multi_output/x.npy --output "$T/y0.npy" --output "$T/y1.npy" --check $G/multi_output/y0.npy
expect 0 "float32 (4, 10)" -- "$CKERAS" predict $G/mlp_big/config.json --input $G/mlp_big/x.npy --output "$T/y.npy" --batch-size 3
expect 1 "prediction differs from" -- "$CKERAS" predict $G/classic/config.json --input $G/classic/x.npy --output "$T/y.npy" --check $G/classic/y.npy
expect 1 "has 2 arrays, model 'sequential' has 4 weights" -- "$CKERAS" predict $G/classic/config.json --weights $N/named.npz --input $G/classic/x.npy --output "$T/y.npy"
expect 1 "does not fit model input 0" -- "$CKERAS" predict $G/classic/config.json --input $N/f32.npy --output "$T/y.npy"
expect 1 "fortran.npy: fortran_order arrays are not supported" -- "$CKERAS" predict $G/classic/config.json --input $N/fortran.npy --output "$T/y.npy"
expect 1 "dtype '<U2' is not supported" -- "$CKERAS" predict $G/classic/config.json --input $N/unicode.npy --output "$T/y.npy"
expect 1 "missing.npz" -- "$CKERAS" predict $G/classic/config.json --weights $N/missing.npz --input $G/classic/x.npy --output "$T/y.npy"
expect 1 "1 inputs and 1 outputs; got 1 --input and 2 --output" -- "$CKERAS" predict $G/classic/config.json --input $G/classic/x.npy --output "$T/a.npy" --output "$T/b.npy"
expect 2 "ckeras predict: --input is required" -- "$CKERAS" predict $G/classic/config.json
rm -rf "$T"
