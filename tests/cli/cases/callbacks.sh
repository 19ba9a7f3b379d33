# Keras callbacks from the shell (issue 13): --callback "Class(keywords)", repeatable.
# ModelCheckpoint writes what the file's ending says ({epoch:02d} templating);
# BackupAndRestore: a fit killed with SIGKILL and run again with the same
# command resumes after its last finished epoch and ends with the weights of a
# run that was never interrupted; LearningRateScheduler logs the schedule's rate.
G=../golden/core
Q=../install/data
T=${TMPDIR:-/tmp}/ckeras_cli_callbacks_$$
mkdir -p "$T"
FIT=("$CKERAS" fit $G/classic/config.json --x $Q/x.npy --y $Q/y.npy --loss sparse_categorical_crossentropy)
ckpt() { "${FIT[@]}" --epochs 3 --verbose 0 --validation-split 0.25 \
           --callback "ModelCheckpoint(filepath='$T/c-{epoch:02d}.keras')" \
           --callback "ModelCheckpoint(filepath='$T/best.weights.h5', save_weights_only=True, save_best_only=True)" \
         && (cd "$T" && ls c-01.keras c-02.keras c-03.keras best.weights.h5) && "$CKERAS" inspect "$T/c-03.keras"; }
expect 0 "format:         keras-zip" -- ckpt
# Keras makes the checkpoint's folders
ckpt_dirs() { "${FIT[@]}" --epochs 1 --verbose 0 --callback "ModelCheckpoint(filepath='$T/sub/dir/e{epoch}.h5')" && ls "$T/sub/dir/e1.h5"; }
expect 0 "$T/sub/dir/e1.h5" -- ckpt_dirs
expect 1 "ckeras: --callback ModelCheckpoint(filepath='best.npy'): ModelCheckpoint: the filepath must end in \`.keras\`" -- "${FIT[@]}" --callback "ModelCheckpoint(filepath='best.npy')"
expect 1 "unknown callback 'Nope(a=1)'" -- "${FIT[@]}" --callback "Nope(a=1)"
expect 0 "learning_rate: 0.0500" -- "${FIT[@]}" --epochs 2 --verbose 2 --callback "LearningRateScheduler(ExponentialDecay(initial_learning_rate=0.1, decay_steps=1, decay_rate=0.5))"
expect 0 "Epoch 2/9" -- "${FIT[@]}" --epochs 9 --verbose 2 --callback "EarlyStopping(monitor='loss', patience=0, min_delta=10)"

expect 0 "Warning: Early stopping conditioned on metric \`val_loss\` which is not available. Available metrics are: loss" -- "${FIT[@]}" --epochs 2 --callback "EarlyStopping(patience=1)"

# BackupAndRestore across a real kill: MODEL X Y LOSS (the Dropout model draws
# masks on every step, so it resumes exactly only if the random stream does)
LONG=(--epochs 400 --batch-size 1 --verbose 2 --save)
backup_resumes() {
  local model=$1 x=$2 y=$3 loss=$4 bk="$T/bk" run
  local fit=("$CKERAS" fit "$model" --x "$x" --y "$y" --loss "$loss" "${LONG[@]}")
  rm -f "$T/whole.npz" "$T/resumed.npz"
  "${fit[@]}" "$T/whole.npz" > /dev/null || return 1
  "${fit[@]}" "$T/resumed.npz" --callback "BackupAndRestore(backup_dir='$bk')" > "$T/first.log" 2>&1 &
  run=$!
  for _ in $(seq 1 2000); do [ -e "$bk/training_state.ckeras" ] && break; sleep 0.005; done
  kill -9 $run 2>/dev/null; wait $run 2>/dev/null
  [ -e "$bk/training_state.ckeras" ] && [ ! -e "$T/resumed.npz" ] || { echo "not killed mid-training"; return 1; }
  "${fit[@]}" "$T/resumed.npz" --callback "BackupAndRestore(backup_dir='$bk')" > "$T/second.log" || return 1
  head -1 "$T/second.log" | grep -qv '^Epoch 1/400$' || { echo "started over"; return 1; }
  [ ! -e "$bk" ] || { echo "backup_dir left behind"; return 1; }
  # the same weights: the same predictions, to the bit
  "$CKERAS" predict "$model" --weights "$T/whole.npz" --input "$x" --output "$T/whole.npy" >/dev/null &&
  "$CKERAS" predict "$model" --weights "$T/resumed.npz" --input "$x" --output "$T/resumed.npy" >/dev/null &&
  cmp "$T/whole.npy" "$T/resumed.npy" && echo "resumed at $(head -1 "$T/second.log"), same weights"
}
expect 0 "same weights" -- backup_resumes $G/classic/config.json $Q/x.npy $Q/y.npy sparse_categorical_crossentropy
expect 0 "same weights" -- backup_resumes $G/dropout/config.json $G/dropout/x.npy $G/dropout/y.npy mse
rm -rf "$T"
