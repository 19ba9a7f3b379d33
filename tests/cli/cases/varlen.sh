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
rm -rf "$vtmp"
