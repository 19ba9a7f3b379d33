# The CLI behaves like the tools people know (issue 13): options before or after
# the file and `--`, `-` for stdin and stdout, the output format from the
# extension, every numeric option checked by name, one-line usage errors with
# a pointer to --help (exit 2), help that lists every option of the command
# table with its default and an example, man pages and completion from the same
# table. Each check below failed before that change.
G=../golden/core
Q=../install/data
T=${TMPDIR:-/tmp}/ckeras_cli_usage_$$
mkdir -p "$T"
CLASSIC=$G/classic/config.json

# options anywhere, and -- before a file that starts with '-'
expect 0 "Trainable" -- "$CKERAS" summary --show-trainable $CLASSIC
expect 0 "Trainable" -- "$CKERAS" summary --line-length 100 $CLASSIC --show-trainable
cp $CLASSIC "$T/-m.json"
dashdash() { (cd "$T" && "$CKERAS" summary -- -m.json); }
expect 0 "Total params: 17" -- dashdash

# numeric options: a non-number or a value out of range is a usage error naming the option
for bad in "--epochs abc" "--epochs -1" "--batch-size abc" "--batch-size 0" "--validation-split x" \
           "--validation-split 1" "--seed -3" "--verbose 3" "--initial-epoch x"; do
  opt=${bad%% *}
  expect 2 "ckeras fit: $opt " -- "$CKERAS" fit $CLASSIC --x $Q/x.npy --y $Q/y.npy --loss mse $bad
done
expect 2 "ckeras predict: --batch-size wants an integer, got '1x'" -- "$CKERAS" predict $CLASSIC --input $Q/x.npy --output "$T/y.npy" --batch-size 1x
expect 2 "ckeras summary: --line-length must be between" -- "$CKERAS" summary $CLASSIC --line-length 0
expect 2 "ckeras demo-cnn: --limit wants an integer" -- "$CKERAS" demo-cnn --limit ten
expect 2 "ckeras demo-fashion: --epochs must be between" -- "$CKERAS" demo-fashion --epochs 0

# usage errors: exactly one line, naming the problem, pointing at --help
one_line() { local err; err=$("$@" 2>&1 >/dev/null); [ "$(printf '%s\n' "$err" | wc -l)" -eq 1 ] && echo "$err"; return 2; }
expect 2 "ckeras fit: --loss is required: $CLASSIC records no compile() with a loss (see 'ckeras fit --help')" -- one_line "$CKERAS" fit $CLASSIC --x $Q/x.npy --y $Q/y.npy
expect 2 "ckeras summary: unknown option '--nope' (see 'ckeras summary --help')" -- one_line "$CKERAS" summary $CLASSIC --nope
# a typo gets a suggestion, as git gives one
expect 2 "unknown command 'sumary'; did you mean 'summary'?" -- "$CKERAS" sumary $CLASSIC
expect 2 "unknown option '--ephocs'; did you mean '--epochs'?" -- "$CKERAS" fit $CLASSIC --ephocs 3
expect 2 "unknown command 'xyz' (see" -- "$CKERAS" xyz
expect 0 "ckeras 0." -- "$CKERAS" -V
# stdin is one stream: two inputs cannot both be -
expect 2 "stdin (-) can be read only once" -- bash -c "\"$CKERAS\" fit $CLASSIC --x - --y - --loss mse < /dev/null"
# an unknown letter inside a cluster is named, not the command; a flag given a value says so
expect 2 "ckeras summary: unknown option '-z' (see 'ckeras summary --help')" -- one_line "$CKERAS" summary -zq $CLASSIC
expect 2 "ckeras summary: --show-trainable takes no value" -- one_line "$CKERAS" summary --show-trainable=yes $CLASSIC
expect 2 "ckeras convert: unexpected argument 'c'" -- one_line "$CKERAS" convert a b c
expect 2 "ckeras summary: --style is one of keras3|keras2|json, got 'rich'" -- one_line "$CKERAS" summary $CLASSIC --style rich
expect 2 "ckeras: no command given (see 'ckeras --help')" -- one_line "$CKERAS"
expect 2 "ckeras predict: --output y.txt: the extension sets the format" -- one_line "$CKERAS" predict $CLASSIC --input $Q/x.npy --output y.txt
expect 2 "ckeras fit: --save out.pt: the ending sets the format" -- one_line "$CKERAS" fit $CLASSIC --x $Q/x.npy --y $Q/y.npy --loss mse --save out.pt

# --verbose 0 prints nothing; 2 prints a line per epoch and the final logs
silent_fit() { local out; out=$("$CKERAS" fit $CLASSIC --x $Q/x.npy --y $Q/y.npy --loss sparse_categorical_crossentropy --epochs 2 --verbose 0) && [ -z "$out" ] && echo "silent"; }
expect 0 "silent" -- silent_fit
expect 0 "final - loss:" -- "$CKERAS" fit $CLASSIC --x $Q/x.npy --y $Q/y.npy --loss sparse_categorical_crossentropy --epochs 2 --verbose 2

# the output format follows the extension; - is stdout, and no file named '-' appears
expect 0 "wrote $T/y.csv" -- "$CKERAS" predict $CLASSIC --input $Q/x.npy --output "$T/y.csv"
expect 0 "output_0,output_1" -- head -1 "$T/y.csv"
expect 0 "wrote $T/y.json" -- "$CKERAS" predict $CLASSIC --input $Q/x.npy --output "$T/y.json"
expect 0 "[[" -- cat "$T/y.json"
"$CKERAS" predict $CLASSIC --input $Q/x.npy --output "$T/y.npy" >/dev/null
"$CKERAS" predict $CLASSIC --input $Q/x.npy --output "$T/y.npz" >/dev/null
stdout_npy() { "$CKERAS" predict $CLASSIC --input $Q/x.npy --output - > "$T/stdout.npy" && cmp "$T/stdout.npy" "$T/y.npy" && [ ! -e ./- ] && echo "same bytes"; }
expect 0 "same bytes" -- stdout_npy
stdin_npy() { "$CKERAS" predict $CLASSIC --input - --output - < $Q/x.npy | cmp - "$T/y.npy" && echo "stdin ok"; }
expect 0 "stdin ok" -- stdin_npy
# what predict writes, predict reads: the (64, 2) predictions fit the model's (None, 2)
# input, and each format gives the same next predictions as the .npy
"$CKERAS" predict $CLASSIC --input "$T/y.npy" --output "$T/z.npy" >/dev/null
for f in y.csv y.json y.npz; do
  expect 0 "max relative error vs $T/z.npy: 0" -- "$CKERAS" predict $CLASSIC --input "$T/$f" --output "$T/z2.npy" --check "$T/z.npy"
done

# no --output: the predictions as CSV text on stdout
expect 0 "output_0,output_1" -- "$CKERAS" predict $CLASSIC --input $Q/x.npy
csv_lines() { [ "$("$CKERAS" predict $CLASSIC --input $Q/x.npy | wc -l)" -eq 65 ] && echo "65 lines"; }
expect 0 "65 lines" -- csv_lines

expect 2 "ckeras predict: model 'functional' has 2 outputs: give --output once for each" -- "$CKERAS" predict ../golden/core/multi_output/config.json --input ../golden/core/multi_output/x.npy
# a write error names the file once
path_once() { local err; err=$("$CKERAS" convert $CLASSIC /nonexistent/dir/m.keras 2>&1) && return 1
  [ "$(grep -o /nonexistent/dir/m.keras <<<"$err" | wc -l)" -eq 1 ] && echo "named once: $err"; }
expect 0 "named once: ckeras: /nonexistent/dir/m.keras: cannot write" -- path_once

# a model file - is stdin (the format comes from the content)
expect 0 "Total params: 17" -- bash -c "\"$CKERAS\" summary - < $CLASSIC"
stdin_keras() { "$CKERAS" convert $CLASSIC "$T/m.keras" >/dev/null && "$CKERAS" inspect - < "$T/m.keras"; }
expect 0 "format:         keras-zip" -- stdin_keras
# Keras model code on stdin (`ckeras run -`); messages call it "-", not the temporary copy
printf 'import keras\nm = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])\nm.summary()\n' >"$T/s.py"
expect 0 "Total params: 9" -- bash -c "\"$CKERAS\" run - < $T/s.py"
printf 'import keras\nd = keras.layers.Dense(3, foo=2)\n' >"$T/bad.py"
expect 1 "ckeras: -:2:5: Dense 'dense': unknown keyword argument 'foo'" -- bash -c "\"$CKERAS\" run - < $T/bad.py"
expect 1 "ckeras: -: not a Keras model file" -- bash -c "echo garbage | \"$CKERAS\" summary -"

# per-command help: every option of the table with its default, and an example
expect 0 "--dir DIR" -- "$CKERAS" demo-fashion --help
expect 0 "(default: 10)" -- "$CKERAS" demo-fashion --help
expect 0 "--loss SPEC" -- "$CKERAS" fit --help
expect 0 "(required) (repeatable)" -- "$CKERAS" predict --help
expect 0 "usage: ckeras predict --input FILE [options] MODEL" -- "$CKERAS" predict --help
expect 0 "it, the compile() a .keras file recorded" -- "$CKERAS" fit --help
expect 0 "examples:" -- "$CKERAS" evaluate --help
expect 0 "exit status: 0 success, 1 error" -- "$CKERAS" predict --help
expect 0 "usage: ckeras fit" -- "$CKERAS" help fit
help_lists_every_option() { # each --option the bash completion knows (the table) is in --help and the man page
  local c o
  for c in $("$CKERAS" --help | awk '/^commands:/{f=1;next} f&&/^  [a-z]/{print $1}'); do
    for o in $("$CKERAS" completion bash | awk -v c="  $c)" '$0==c{f=1;next} f&&/opts=/{gsub(/.*opts="|"/,"");print;exit}'); do
      # grep reads all (no -q): quitting at the first match would end a page longer
      # than the pipe's first write with SIGPIPE, which pipefail reports as a failure
      "$CKERAS" $c --help | grep -- "$o" >/dev/null || { echo "$c --help lacks $o"; return 1; }
      "$CKERAS" man $c | grep -- "${o//-/\\\\-}" >/dev/null || { echo "man ckeras-$c lacks $o"; return 1; }
    done
  done
  echo "all listed"
}
expect 0 "all listed" -- help_lists_every_option
expect 0 ".TH CKERAS-FIT 1" -- "$CKERAS" man fit
expect 0 "ckeras\\-predict" -- "$CKERAS" man
man_renders() { "$CKERAS" man fit > "$T/ckeras-fit.1" && MANWIDTH=100 man -l "$T/ckeras-fit.1" 2>&1 | grep -q "validation-split" && echo "renders"; }
expect 0 "renders" -- man_renders
bash_completes() {
  source <("$CKERAS" completion bash)
  COMP_WORDS=(ckeras fit model.json --epo); COMP_CWORD=3; _ckeras; [ "${COMPREPLY[*]}" = "--epochs" ] || return 1
  COMP_WORDS=(ckeras summary m --style ""); COMP_CWORD=4; _ckeras; [ "${COMPREPLY[*]}" = "keras3 keras2 json" ] || return 1
  COMP_WORDS=(ckeras pre); COMP_CWORD=1; _ckeras; [ "${COMPREPLY[*]}" = "predict" ] && echo "completes"
}
expect 0 "completes" -- bash_completes
expect 0 "#compdef ckeras" -- "$CKERAS" completion zsh
zsh_parses() { "$CKERAS" completion zsh > "$T/_ckeras" && zsh -n "$T/_ckeras" && grep -q "'\*--x\[" "$T/_ckeras" && echo "zsh ok"; }
expect 0 "zsh ok" -- zsh_parses
expect 2 "no completion for 'fish'" -- "$CKERAS" completion fish

# the weights-only file error speaks to a shell user too
expect 1 "ckeras predict, evaluate, fit and export take it as --weights FILE" -- "$CKERAS" summary ../golden/files/seq_activation/model.weights.h5
# ckeras weights lists a weights-only file's arrays as stored
expect 0 "total: " -- "$CKERAS" weights ../golden/files/seq_activation/model.weights.h5
expect 0 "ckeras 0." -- "$CKERAS" --version
rm -rf "$T"

# What `weights` writes, `--weights` reads: get_weights() order, also from a legacy
# .h5 whose groups store bias before kernel (issue 13: it wrote the stored order).
F=../golden/files/seq_activation
T=${TMPDIR:-/tmp}/ckeras_cli_usage_w_$$
mkdir -p "$T"
weights_roundtrip() { # $1: --format npz or nothing
  "$CKERAS" weights $F/model.h5 $1 --output "$T/w.npz" >/dev/null &&
  "$CKERAS" predict $F/model.h5 --input $F/x0.npy --output "$T/own.npy" >/dev/null &&
  "$CKERAS" predict $F/config.json --weights "$T/w.npz" --input $F/x0.npy --output "$T/y.npy" --check "$T/own.npy"
}
expect 0 "max relative error vs $T/own.npy: 0" -- weights_roundtrip "--format npz"
expect 0 "max relative error vs $T/own.npy: 0" -- weights_roundtrip ""
expect 2 "--format npz needs --output FILE.npz" -- "$CKERAS" weights $F/model.h5 --format npz
# a model without weights writes an empty .npz, as np.savez() of nothing does, and reads it back
no_weights_npz() { local d; d=$(mktemp -d)
  printf 'import keras\nm = keras.Sequential([keras.Input((3,)), keras.layers.Rescaling(0.5)])\nm.save("r.keras")\n' > "$d/r.py"
  (cd "$d" && "$CKERAS" run r.py) && "$CKERAS" weights "$d/r.keras" --output "$d/w.npz" >/dev/null &&
    python3 -c 'import numpy as np,sys; sys.exit(len(np.load(sys.argv[1]).files))' "$d/w.npz" &&
    "$CKERAS" convert "$d/r.keras" "$d/r2.keras" --weights "$d/w.npz" >/dev/null && echo "empty npz read back"; rm -rf "$d"; }
expect 0 "empty npz read back" -- no_weights_npz
# a config without weights predicts with the initializers' values, and says so; not with --weights
expect 0 "config.json stores no weights: using the initializers' values" -- "$CKERAS" predict $F/config.json --input $F/x0.npy --output "$T/y.npy"
no_note() { "$CKERAS" predict $F/config.json --weights "$T/w.npz" --input $F/x0.npy --output "$T/y.npy" 2>&1 | grep -c "note:"; }
expect 1 "0" -- no_note
rm -rf "$T"

# Errors where Keras raises them, before any epoch: labels against the loss, the
# samples of x and y, and (ckeras's own check) NaN in the data
G=../golden/core
Q=../install/data
T=${TMPDIR:-/tmp}/ckeras_cli_usage_e_$$
mkdir -p "$T"
FIT=("$CKERAS" fit $G/classic/config.json --x $Q/x.npy --epochs 1)
expect 1 "ckeras: fit (x = $Q/x.npy, y = $Q/y.npy): y: shape (64,) does not fit categorical_crossentropy on output 'dense_1' (None, 2): it wants one-hot rows of shape (64, 2); class indices go with sparse_categorical_crossentropy" -- "${FIT[@]}" --y $Q/y.npy --loss categorical_crossentropy
expect 1 "y: shape (64, 2) does not fit sparse_categorical_crossentropy on output 'dense_1' (None, 2): it wants class indices of shape (64,)" -- "${FIT[@]}" --y $Q/x.npy --loss sparse_categorical_crossentropy
expect 1 "Data cardinality is ambiguous: x has 64 samples, y has 4" -- "${FIT[@]}" --y $G/classic/y.npy --loss mse
# no --loss: the compile() a Keras-written .keras file recorded (categorical_crossentropy here)
K=../golden/core_loaded/adam_trained.keras
expect 1 "y: shape (64,) does not fit categorical_crossentropy" -- "$CKERAS" fit $K --x $Q/x.npy --y $Q/y.npy --epochs 1
"$CKERAS" predict $K --input $Q/x.npy --output "$T/p.npy" >/dev/null
expect 0 "final - loss:" -- "$CKERAS" fit $K --x $Q/x.npy --y "$T/p.npy" --epochs 1 --verbose 2
expect 2 "ckeras fit: --loss is required: $G/classic/config.json records no compile() with a loss" -- "$CKERAS" fit $G/classic/config.json --x $Q/x.npy --y $Q/y.npy
expect 2 "--optimizer, --metrics, --loss-weights and --weighted-metrics compile the model anew: give --loss with them" -- "$CKERAS" fit $K --x $Q/x.npy --y "$T/p.npy" --optimizer sgd
printf 'a,b\n1,nan\n2,3\n' > "$T/nan.csv"; printf 'y\n1\n0\n' > "$T/y.csv"
expect 1 "ckeras: evaluate (x = $T/nan.csv, y = $T/y.csv): x: NaN at sample 0" -- "$CKERAS" evaluate $G/classic/config.json --x "$T/nan.csv" --y "$T/y.csv" --loss sparse_categorical_crossentropy
printf 'y\n1\n2\n' > "$T/y2.csv"; printf 'a,b\n1,2\n2,3\n' > "$T/x2.csv"
expect 1 "y: label 2 of sample 1 is not a class index in [0, 2)" -- "$CKERAS" evaluate $G/classic/config.json --x "$T/x2.csv" --y "$T/y2.csv" --loss sparse_categorical_crossentropy
# fit finds a bad label before its first epoch, naming the sample (not a shuffled batch's row)
printf 'y
0
1
1
5
' > "$T/y4.csv"; printf 'a,b
1,2
2,3
3,4
4,5
' > "$T/x4.csv"
label_before_epoch() { local out; out=$("$CKERAS" fit $G/classic/config.json --x "$T/x4.csv" --y "$T/y4.csv" --loss sparse_categorical_crossentropy 2>&1)
  grep -q "Epoch" <<<"$out" && return 1; echo "$out"; }
expect 0 "y: label 5 of sample 3 is not a class index in [0, 2)" -- label_before_epoch
rm -rf "$T"
