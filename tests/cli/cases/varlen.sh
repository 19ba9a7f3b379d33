# Variable-length sequence models (inputs with None dims) predict on the data's
# shape (goldens: tests/oracle/varlen_cases.py -> tests/golden/varlen).
M=../data/models
G=../golden/varlen
S=$M/sentiment_embedding_h5_named_dot_keras.keras
vtmp=$(mktemp -d)
expect 0 "wrote $vtmp/y7.npy: float32 (3, 1)" -- "$CKERAS" predict $S --input $G/sentiment/x7.npy --output $vtmp/y7.npy --check $G/sentiment/y7.npy
expect 0 "max relative error vs $G/sentiment/y13.npy" -- "$CKERAS" predict $S --input $G/sentiment/x13.npy --output $vtmp/y13.npy --check $G/sentiment/y13.npy --batch-size 2
expect 0 "wrote $vtmp/l9.npy: float32 (2, 2)" -- "$CKERAS" predict $G/lstm/config.json --input $G/lstm/x9.npy --output $vtmp/l9.npy
expect 1 "shape (2, 5, 3) does not fit model input 0 (None, None)" -- "$CKERAS" predict $S --input $G/lstm/x5.npy --output $vtmp/bad.npy
expect 0 "evaluate - accuracy: 0.6667 - loss: 5.3727" -- "$CKERAS" evaluate $S --x $G/sentiment/x13.npy --y $G/sentiment/eval_y.npy --loss binary_crossentropy --metrics accuracy --batch-size 2
expect 0 "final - loss:" -- "$CKERAS" fit $G/lstm/config.json --x $G/lstm/fit_x.npy --y $G/lstm/fit_y.npy --loss mse --epochs 2 --batch-size 2 --verbose 2
expect 1 "input 0 has shape (4, 2), which does not fit the built shape (None, None, 3)" -- "$CKERAS" fit $G/lstm/config.json --x $G/lstm/fit_y.npy --y $G/lstm/fit_y.npy --loss mse
rm -rf "$vtmp"
