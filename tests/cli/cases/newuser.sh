# A new user's path through the CLI (README, then what one tries next): every
# command that reads a model file, given a missing file, a file that is not a
# model and a config Keras would refuse, says so in one line naming the file
# once; data errors of fit/evaluate say which file each array came from; the
# man page's synopsis is --help's; completion offers what a positional takes.
# Each check below failed before its fix.
Q=../install/data
BAD=data/core/add_mismatch.json
CLASSIC=../golden/core/classic/config.json
T=${TMPDIR:-/tmp}/ckeras_cli_newuser_$$
mkdir -p "$T"

# The commands that take a model file, from `ckeras --help`, with the options
# each needs besides the file.
model_commands() {
  local c
  for c in $("$CKERAS" --help | awk '/^commands:/{f=1;next} f&&/^  [a-z]/{print $1}'); do
    "$CKERAS" "$c" --help | head -1 | grep -qE ' (FILE|MODEL|IN OUT)$' && echo "$c"
  done
}
extra_args() { # extra_args COMMAND
  case $1 in
    convert) echo "$T/out.keras" ;;
    predict) echo "--input $Q/x.npy" ;;
    export) echo "--c $T" ;;
    fit | evaluate) echo "--x $Q/x.npy --y $Q/y.npy --loss mse" ;;
  esac
}
# one_line_naming FILE COMMAND...: exit 1, one line on stderr, FILE in it once
one_line_naming() {
  local file=$1 err rc; shift
  err=$("$@" 2>&1 >/dev/null); rc=$?
  [ "$rc" -eq 1 ] && [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] &&
    [ "$(grep -oF -- "$file" <<<"$err" | wc -l)" -eq 1 ] && echo "one line: $err"
}
cmds=$(model_commands)
[ "$(wc -w <<<"$cmds")" -ge 8 ] || { echo "FAIL: model_commands found only: $cmds"; fails=$((fails+1)); }
for c in $cmds; do
  for f in "$T/missing.keras" "$Q/x.npy" "$BAD"; do
    # inspect describes a config it cannot build ("layers: (not built: ...)", exit 0)
    [ "$c" = inspect ] && [ "$f" = "$BAD" ] && continue
    expect 0 "one line: ckeras: $f: " -- one_line_naming "$f" "$CKERAS" "$c" "$f" $(extra_args "$c")
  done
done

# a TF.js model handed over as its folder: the line points at its model.json
mkdir -p "$T/tfjs"
for c in $cmds; do
  expect 1 "ckeras: $T/tfjs/: a directory; give the model file in it (for TF.js, $T/tfjs/model.json)" -- \
    "$CKERAS" "$c" "$T/tfjs/" $(extra_args "$c")
done
# a count mismatch names the model file
expect 1 "ckeras: $CLASSIC: model 'sequential' has 1 inputs and 1 outputs; got 1 --input and 2 --output" -- \
  "$CKERAS" predict $CLASSIC --input $Q/x.npy --output "$T/a.npy" --output "$T/b.npy"
expect 1 "ckeras: $CLASSIC: model 'sequential' has 1 inputs and 1 outputs; got 2 --x, 1 --y" -- \
  "$CKERAS" fit $CLASSIC --x $Q/x.npy --x $Q/x.npy --y $Q/y.npy --loss mse

# convert with one file names what is missing
expect 2 "ckeras convert: missing OUT (see 'ckeras convert --help')" -- "$CKERAS" convert $Q/x.npy

# predict on an empty array fails, as Keras's does, instead of writing nothing
python3 -c "import numpy as np; np.save('$T/x0.npy', np.zeros((0, 2), 'float32'))"
expect 1 "ckeras: $T/x0.npy: no samples (its first axis is 0)" -- "$CKERAS" predict $CLASSIC --input "$T/x0.npy"

# a summary option the model cannot take names the file
expect 1 "ckeras: $CLASSIC: Passed layer_names do not match" -- "$CKERAS" summary $CLASSIC --layer-range dense nope

# convert to stdout or to an unknown ending: a usage error before the model is read
expect 2 "ckeras convert: OUT -: the ending sets the format: .keras, .h5, .weights.h5, .json or a folder/ (TF.js); stdout has none, so name a file" -- \
  "$CKERAS" convert $CLASSIC -
expect 2 "ckeras convert: OUT $T/m.onnx: the ending sets the format" -- "$CKERAS" convert $T/missing.keras $T/m.onnx

# a Keras JSON config and its weights file, kept apart, become one .keras file
# whose predictions are Keras's (y.npy, written by tests/oracle/files_cases.py)
F=../golden/files/seq_mlp
expect 0 "wrote $T/mlp.keras" -- "$CKERAS" convert $F/config.json --weights $F/model.weights.h5 "$T/mlp.keras"
expect 0 "max relative error vs $F/y.npy: " -- "$CKERAS" predict "$T/mlp.keras" --input $F/x0.npy --output "$T/mlp.npy" --check $F/y.npy
no_half_file() { "$CKERAS" convert $F/config.json --weights "$T/none.h5" "$T/none.keras" 2>&1; [ ! -e "$T/none.keras" ]; }
expect 0 "ckeras: $T/none.h5: cannot open" -- no_half_file

# fit/evaluate data errors: the library names the array (x, y), the CLI its file
python3 -c "import numpy as np; np.save('$T/y10.npy', np.zeros(10, 'int64'))"
expect 1 "ckeras: fit (x = $Q/x.npy, y = $T/y10.npy): Data cardinality is ambiguous" -- \
  "$CKERAS" fit $CLASSIC --x $Q/x.npy --y "$T/y10.npy" --loss sparse_categorical_crossentropy
expect 1 "ckeras: evaluate (x = $Q/x.npy, y = $Q/y.npy): y: shape (64,) does not fit mean_squared_error" -- \
  "$CKERAS" evaluate $CLASSIC --x $Q/x.npy --y $Q/y.npy --loss mse
printf 'a,b,label\n0.1,0.2,0\n0.3,0.4,1\n' > "$T/d.csv"
expect 1 "ckeras: fit (x, y = $T/d.csv): y: shape (2,) does not fit" -- \
  "$CKERAS" fit $CLASSIC --csv "$T/d.csv" --label-column label --loss mse

# weights --output says what it wrote, as convert and predict do (stdout gets only the bytes)
expect 0 "wrote $T/w.npz (4 arrays)" -- "$CKERAS" weights $CLASSIC --output "$T/w.npz"
expect 0 "wrote $T/w1.npz (2 arrays)" -- "$CKERAS" weights $CLASSIC --layer dense_1 --output "$T/w1.npz"
npz_on_stdout() { # the same arrays (a zip's member times may differ by a second)
  "$CKERAS" weights $CLASSIC --output - > "$T/stdout.npz" &&
  cmp <(unzip -p "$T/stdout.npz") <(unzip -p "$T/w.npz") && echo "only the bytes"; }
expect 0 "only the bytes" -- npz_on_stdout

# a legacy .h5 that records a compile() (training_config) is compiled from it, as Keras's load_model does
expect 1 "compile: the file's compile config (Adam, its optimizer state)" -- \
  "$CKERAS" fit ../data/models/churn_tanishk_model.h5 --x $Q/x.npy --y $Q/y.npy

# ... but a callback's own file is not the data's
expect 1 "ckeras: fit: $T/nodir/log.csv: cannot write" -- "$CKERAS" fit $CLASSIC --x $Q/x.npy --y $Q/y.npy \
  --loss sparse_categorical_crossentropy --verbose 0 --callback "CSVLogger(filename='$T/nodir/log.csv')"

# the demos without their dataset say where it comes from
for c in demo-fashion demo-cnn; do
  expect 1 "ckeras: $T/nodir/train-images-idx3-ubyte.gz: cannot open (Fashion-MNIST: apt-get install dataset-fashion-mnist, or --dir DIR)" -- \
    "$CKERAS" $c --dir "$T/nodir"
done

# man ckeras-COMMAND's synopsis is --help's usage line (required options included)
man_synopsis_is_usage() {
  local c usage syn
  for c in $("$CKERAS" --help | awk '/^commands:/{f=1;next} f&&/^  [a-z]/{print $1}'); do
    usage=$("$CKERAS" "$c" --help | head -1 | sed 's/^usage: //')
    syn=$("$CKERAS" man "$c" | MANWIDTH=200 man -l - 2>/dev/null | awk '/^SYNOPSIS/{getline; print; exit}' | sed 's/^ *//')
    [ "$usage" = "$syn" ] || { echo "$c: man '$syn', --help '$usage'"; return 1; }
  done
  echo "same synopsis"
}
expect 0 "same synopsis" -- man_synopsis_is_usage

# a file written for make install names the user's path, not a temporary one
expect 1 "ckeras: $T/nodir/ckeras-fit.1: cannot create: No such file or directory" -- "$CKERAS" man fit --output-dir "$T/nodir"
expect 1 "ckeras: $T/nodir/_ckeras: cannot create: No such file or directory" -- "$CKERAS" completion zsh --output "$T/nodir/_ckeras"

# completion of positional words: commands after help/man, the shells after completion
bash_completes_words() {
  source <("$CKERAS" completion bash)
  COMP_WORDS=(ckeras help f); COMP_CWORD=2; _ckeras; [ "${COMPREPLY[*]}" = "fit" ] || return 1
  COMP_WORDS=(ckeras man pre); COMP_CWORD=2; _ckeras; [ "${COMPREPLY[*]}" = "predict" ] || return 1
  COMP_WORDS=(ckeras completion ""); COMP_CWORD=2; _ckeras; [ "${COMPREPLY[*]}" = "bash zsh" ] && echo "words complete"
}
expect 0 "words complete" -- bash_completes_words
zsh_words() { "$CKERAS" completion zsh > "$T/_ckeras" && zsh -n "$T/_ckeras" && grep -q "'\*:argument:(bash zsh)'" "$T/_ckeras" && echo "zsh words"; }
expect 0 "zsh words" -- zsh_words
rm -rf "$T"
