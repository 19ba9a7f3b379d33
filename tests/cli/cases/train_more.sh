# ckeras fit/evaluate on CSV data (tests/oracle/train_more.py): the same losses
# and accuracy Keras 3 reports after fitting on the same file; bad CSV and bad
# option combinations give one line naming the file, line and column.
G=../golden/train_more/csv_classes
T=${TMPDIR:-/tmp}/ckeras_cli_train_more_$$
mkdir -p "$T"
FITCSV=("$CKERAS" fit $G/config.json --weights $G/weights.npz --epochs 3 --batch-size 8 --no-shuffle --verbose 2
        --optimizer "Adam(learning_rate=0.01)" --loss sparse_categorical_crossentropy --metrics accuracy)
expect 0 "$(cat $G/cli_expect.txt)" -- "${FITCSV[@]}" --csv $G/data.csv --label-column label
expect 0 "$(cat $G/cli_expect.txt)" -- "${FITCSV[@]}" --x $G/data.csv --label-column label --save "$T/w.npz"
expect 0 "evaluate - accuracy:" -- "$CKERAS" evaluate $G/config.json --weights "$T/w.npz" --csv $G/data.csv --label-column label --loss sparse_categorical_crossentropy --metrics accuracy
expect 1 "no column named 'species' (columns: 'sepal length', 'sepal_width', 'label', 'petal', 'extra')" -- "${FITCSV[@]}" --csv $G/data.csv --label-column species
printf 'a,b,c,d,label\n1,2,3,4,0\n1,2,x3,4,1\n' > "$T/bad.csv"
expect 1 "bad.csv:3:5: 'x3' in column 'c' is not a number" -- "${FITCSV[@]}" --csv "$T/bad.csv" --label-column label
expect 1 "--label-column needs one CSV file" -- "${FITCSV[@]}" --x ../golden/train/adam_cce/x.npy --label-column label
expect 1 "give either --y or --label-column" -- "${FITCSV[@]}" --csv $G/data.csv --y ../golden/train/adam_cce/y.npy --label-column label
expect 2 "ckeras fit: --y (or --label-column with a CSV file) is required" -- "${FITCSV[@]}" --csv $G/data.csv
# several inputs and outputs: --x/--y/--loss/--metrics repeated per input/output
M=../golden/train_more/multi_io
FITM=("$CKERAS" fit $M/config.json --weights $M/weights.npz --epochs 3 --batch-size 4 --no-shuffle --verbose 2
      --optimizer "SGD(learning_rate=0.05)" --x $M/x0.npy --x $M/x1.npy --y $M/y0.npy --y $M/y1.npy)
expect 0 "$(cat $M/cli_expect.txt)" -- "${FITM[@]}" --loss mse --loss sparse_categorical_crossentropy --loss-weights 1,0.5 --metrics mae --metrics accuracy --validation-split 0.2
expect 1 "model 'functional' has 2 inputs and 2 outputs; got 2 --x, 2 --y, 3 --loss" -- "${FITM[@]}" --loss mse --loss mse --loss mse
expect 1 "output 'cls': unknown loss 'nonsense'" -- "${FITM[@]}" --loss mse --loss nonsense
expect 2 "ckeras fit: --loss-weights wants numbers like 1,0.5, got '1,x'" -- "${FITM[@]}" --loss mse --loss-weights 1,x
expect 1 "got 2 --x, 2 --y, 1 --loss, 1 --metrics" -- "${FITM[@]}" --loss mse --metrics mae
expect 1 "2 weighted metric list(s) for 1 outputs" -- "${FITCSV[@]}" --csv $G/data.csv --label-column label --weighted-metrics mae --weighted-metrics mae
# kernel/bias/activity regularizers from the config: the logged loss includes them
R=../golden/train_more/reg_l1_l2
expect 0 "$(cat $R/cli_expect.txt)" -- "$CKERAS" fit $R/config.json --weights $R/weights.npz --epochs 3 --batch-size 8 --no-shuffle --verbose 2 --optimizer "Adam(learning_rate=0.01)" --loss categorical_crossentropy --metrics accuracy --validation-split 0.25 --x $R/x0.npy --y $R/y0.npy
rm -rf "$T"
# fit(sample_weight=...) with compile(weighted_metrics=...)
W=../golden/train_more/weighted_metrics
expect 0 "$(cat $W/cli_expect.txt)" -- "$CKERAS" fit $W/config.json --weights $W/weights.npz --epochs 3 --batch-size 8 --no-shuffle --verbose 2 --optimizer "Adam(learning_rate=0.02)" --loss categorical_crossentropy --metrics accuracy --weighted-metrics "accuracy, mse" --sample-weight $W/sw.npy --x $W/x0.npy --y $W/y0.npy
expect 1 "x0.npy: 80 sample weights for 20 samples" -- "$CKERAS" fit $W/config.json --loss categorical_crossentropy --sample-weight $W/x0.npy --x $W/x0.npy --y $W/y0.npy
# every model format in and out: fit from a JSON config + .npz, save as .keras,
# .h5, .weights.h5 and .npz; each must predict exactly what the others do
T=${TMPDIR:-/tmp}/ckeras_cli_formats_$$
mkdir -p "$T"
expect 0 "saved $T/m.keras" -- "${FITCSV[@]}" --csv $G/data.csv --label-column label --save "$T/m.keras"
expect 0 "saved $T/m.h5" -- "${FITCSV[@]}" --csv $G/data.csv --label-column label --save "$T/m.h5"
expect 0 "saved $T/w.weights.h5" -- "${FITCSV[@]}" --csv $G/data.csv --label-column label --save "$T/w.weights.h5"
expect 0 "saved $T/w.npz" -- "${FITCSV[@]}" --csv $G/data.csv --label-column label --save "$T/w.npz"
printf 'f1,f2,f3,f4\n0.5,-1,2,0.25\n1,1,1,1\n' > "$T/x.csv"
mkdir -p "$T/tfjs"
expect 0 "wrote $T/p.npy: float32 (2, 3)" -- "$CKERAS" predict "$T/m.keras" --input "$T/x.csv" --output "$T/p.npy"
expect 0 "max relative error vs $T/p.npy: 0" -- "$CKERAS" predict "$T/m.h5" --input "$T/x.csv" --output "$T/q.npy" --check "$T/p.npy"
expect 0 "max relative error vs $T/p.npy: 0" -- "$CKERAS" predict $G/config.json --weights "$T/w.weights.h5" --input "$T/x.csv" --output "$T/q.npy" --check "$T/p.npy"
expect 0 "max relative error vs $T/p.npy: 0" -- "$CKERAS" predict $G/config.json --weights "$T/w.npz" --input "$T/x.csv" --output "$T/q.npy" --check "$T/p.npy"
expect 0 "max relative error vs $T/p.npy: 0" -- "$CKERAS" predict $G/config.json --weights "$T/m.keras" --input "$T/x.csv" --output "$T/q.npy" --check "$T/p.npy"
expect 0 "saved $T/tfjs/model.json" -- "$CKERAS" fit "$T/m.keras" --csv $G/data.csv --label-column label --epochs 0 --verbose 2 --loss sparse_categorical_crossentropy --save "$T/tfjs/model.json"
expect 0 "max relative error vs $T/p.npy: 0" -- "$CKERAS" predict "$T/tfjs/model.json" --input "$T/x.csv" --output "$T/q.npy" --check "$T/p.npy"
expect 0 "evaluate - accuracy:" -- "$CKERAS" evaluate "$T/m.keras" --csv $G/data.csv --label-column label --loss sparse_categorical_crossentropy --metrics accuracy
expect 0 "saved $T/m2.keras" -- "$CKERAS" fit "$T/m.h5" --csv $G/data.csv --label-column label --epochs 1 --verbose 2 --loss sparse_categorical_crossentropy --save "$T/m2.keras"
expect 2 "out.txt: the ending sets the format: .keras, .h5, .weights.h5, .json or a folder/ (TF.js), or .npz" -- "${FITCSV[@]}" --csv $G/data.csv --label-column label --save "$T/out.txt"
# specs with positional arguments, in Keras's __init__ order, as a Keras user writes them
positional_specs() { "$CKERAS" fit $G/config.json --weights $G/weights.npz --epochs 2 --batch-size 8 --no-shuffle --verbose 2 \
    --csv $G/data.csv --label-column label --loss "SparseCategoricalCrossentropy(False)" --optimizer "SGD(0.05, 0.9)" \
    --callback "CSVLogger('$T/pos.csv', ';')" >/dev/null && head -1 "$T/pos.csv"; }
expect 0 "epoch;loss" -- positional_specs
expect 1 "positional argument follows keyword argument" -- "$CKERAS" fit $G/config.json --csv $G/data.csv --label-column label --loss sparse_categorical_crossentropy --optimizer "SGD(momentum=0.9, 0.1)"
# a folder/ is TF.js, as convert takes it
expect 0 "saved $T/tfjs2/model.json" -- "$CKERAS" fit "$T/m.keras" --csv $G/data.csv --label-column label --epochs 0 --verbose 2 --loss sparse_categorical_crossentropy --save "$T/tfjs2/"
expect 0 "max relative error vs $T/p.npy: 0" -- "$CKERAS" predict "$T/tfjs2/model.json" --input "$T/x.csv" --output "$T/q.npy" --check "$T/p.npy"
expect 1 "$T/missing/m.keras" -- "${FITCSV[@]}" --csv $G/data.csv --label-column label --save "$T/missing/m.keras"
expect 1 "w.npz: has 4 arrays, model 'functional' has 6 weights" -- "$CKERAS" predict ../golden/train_more/multi_io/config.json --weights "$T/w.npz" --input "$T/x.csv" --input "$T/x.csv" --output "$T/a.npy" --output "$T/b.npy"
expect 0 "saved $T/mm.keras" -- "${FITM[@]}" --loss mse --loss sparse_categorical_crossentropy --save "$T/mm.keras"
expect 0 "wrote $T/b.npy: float32 (20, 3)" -- "$CKERAS" predict "$T/mm.keras" --input $M/x0.npy --input $M/x1.npy --output "$T/a.npy" --output "$T/b.npy"
ls "$T" | grep -q tmp && { n=$((n+1)); fails=$((fails+1)); echo "FAIL: a temporary file was left in $T"; }
rm -rf "$T"
