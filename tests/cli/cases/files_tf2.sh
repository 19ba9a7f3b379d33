# tf.keras 2.15 and TF.js converter files (tests/golden/tf2, tests/oracle/tf2_cases.py), a
# subclassed Keras 3 model (weights listed, architecture refused), TF.js write and read back.
T=../golden/tf2
expect 0 "lstm (LSTM)                     │ (None, 4)              │           128" -- "$CKERAS" summary $T/lstm/model.keras
expect 0 "keras version:  2.15.0" -- "$CKERAS" inspect $T/nested/model.keras
expect 0 "params:         68 (12 non-trainable)" -- "$CKERAS" inspect $T/bn/tfjs/model.json
expect 0 "layers/dense_1/vars/0                    (3, 2) 6" -- "$CKERAS" weights ../golden/files/subclassed/model.keras
expect 0 "total: 31" -- "$CKERAS" weights ../golden/files/subclassed/model.keras
expect 1 "model class 'TwoTower' is not Sequential or Functional" -- "$CKERAS" summary ../golden/files/subclassed/model.keras
tf2tmp=$(mktemp -d)
expect 0 "wrote $tf2tmp/model.json" -- "$CKERAS" convert $T/nested/model.h5 $tf2tmp/model.json
expect 0 "params:         29 (0 non-trainable)" -- "$CKERAS" inspect $tf2tmp/model.json
expect 0 "wrote $tf2tmp/back.keras" -- "$CKERAS" convert $tf2tmp/model.json $tf2tmp/back.keras
rm -rf "$tf2tmp"
