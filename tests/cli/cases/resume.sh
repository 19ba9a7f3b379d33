# Training resumes from a .keras file (issue 12): `ckeras fit` keeps the file's
# compile config and optimizer state unless options compile anew, and says which.
R=../golden/resume/adam
RT=$(mktemp -d)
expect 0 "compile: the file's compile config (Adam, its optimizer state)" -- "$CKERAS" fit $R/epoch2.keras --x $R/x.npy --y $R/y.npy --epochs 1 --batch-size 4 --no-shuffle --verbose 2 --save $RT/a.keras
expect 0 "Optimizer params: 54" -- "$CKERAS" summary $RT/a.keras
expect 0 "compile: from the options (sgd)" -- "$CKERAS" fit $R/epoch2.keras --x $R/x.npy --y $R/y.npy --optimizer sgd --loss mse --verbose 2
M=../golden/matrix/dense
expect 2 "--loss is required" -- "$CKERAS" fit $M/config.json --x $M/x0.npy --y $M/y0.npy
rm -rf "$RT"
