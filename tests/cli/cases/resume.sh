# Training resumes from a .keras file (issue 12): `ckeras fit` keeps the file's
# compile config and optimizer state unless options compile anew, and says which.
R=../golden/resume/adam
RT=$(mktemp -d)
expect 0 "compile: the file's compile config (Adam, its optimizer state)" -- "$CKERAS" fit $R/epoch2.keras --x $R/x.npy --y $R/y.npy --epochs 1 --batch-size 4 --no-shuffle --verbose 2 --save $RT/a.keras
expect 0 "Optimizer params: 54" -- "$CKERAS" summary $RT/a.keras
# a legacy .h5's training_config compiles it (Keras's load_model), and its optimizer_weights resume the state
expect 0 "compile: the file's compile config (Adam, its optimizer state)" -- "$CKERAS" fit $R/epoch2.h5 --x $R/x.npy --y $R/y.npy --epochs 1 --batch-size 4 --no-shuffle --verbose 2
# a schedule and a loss object with arguments travel in the file's compile config
S=../golden/resume/sgd_loss_args
expect 0 "compile: the file's compile config (SGD, its optimizer state)" -- "$CKERAS" fit $S/epoch2.keras --x $S/x.npy --y $S/y.npy --epochs 1 --batch-size 4 --no-shuffle --verbose 2
expect 0 "compile: from the options (sgd)" -- "$CKERAS" fit $R/epoch2.keras --x $R/x.npy --y $R/y.npy --optimizer sgd --loss mse --verbose 2
# compile(metrics=[...]) travels with the file: evaluate reports them as Keras does
C=../golden/core/classic Q=../install/data
expect 0 "saved" -- "$CKERAS" fit $C/config.json --x $Q/x.npy --y $Q/y.npy --loss sparse_categorical_crossentropy --metrics accuracy --epochs 1 --verbose 0 --save $RT/m.keras
expect 0 "evaluate - accuracy: " -- "$CKERAS" evaluate $RT/m.keras --x $Q/x.npy --y $Q/y.npy
M=../golden/matrix/dense
expect 2 "--loss is required" -- "$CKERAS" fit $M/config.json --x $M/x0.npy --y $M/y0.npy
rm -rf "$RT"
