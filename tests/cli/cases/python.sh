# ckeras run (issue 16): every Keras model script of tests/data/python/ prints
# exactly what real Keras printed for it (tests/golden/python/, written by
# tests/oracle/python_corpus.py), in an empty working directory as the oracle ran
# them; .py files load through the common loader (summary, plot, config); code
# outside the subset stops with file:line:column and runs nothing after.
PYC=../data/python
PYB=data/python
run_matches_keras() {
  local script=$1 d rc
  d=$(mktemp -d)
  (cd "$d" && "$CKERAS" run "$OLDPWD/$PYC/$script.py" > out.txt); rc=$?
  cmp -s "$d/out.txt" "../golden/python/$script.txt" && [ $rc -eq 0 ] && echo "$script matches Keras"
  rm -rf "$d"
}
pyn=0
for pyfile in $PYC/*.py; do
  pyname=$(basename "$pyfile" .py)
  expect 0 "$pyname matches Keras" -- run_matches_keras "$pyname"
  pyn=$((pyn+1))
done
# the script's last model drawn with every plot option (expand_nested off where
# Keras's own model_to_dot fails with it): Keras's model_to_dot text
plot_matches_keras() {
  local script=$1 want got flags
  want=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["dot"], end="")' "../golden/python/$script.dot.json") || return 1
  flags=$(python3 -c 'import json,sys; print(" ".join(json.load(open(sys.argv[1]))["flags"]))' "../golden/python/$script.dot.json") || return 1
  # shellcheck disable=SC2086
  got=$("$CKERAS" plot "$PYC/$script.py" --output - $flags) || return 1
  [ "$got" = "$want" ] && echo "$script drawn as Keras draws it"
}
for pyfile in $PYC/*.py; do
  pyname=$(basename "$pyfile" .py)
  expect 0 "$pyname drawn as Keras draws it" -- plot_matches_keras "$pyname"
done
corpus_is_large() { [ $pyn -ge 40 ] && [ "$(ls ../golden/python/*.txt | wc -l)" -eq $pyn ] &&
  [ "$(ls ../golden/python/*.dot.json | wc -l)" -eq $pyn ] && echo "corpus of $pyn"; }
expect 0 "corpus of" -- corpus_is_large
py_summary_matches() { "$CKERAS" summary $PYC/classic_tutorial.py | cmp - ../golden/python/classic_tutorial.txt && echo "summary of .py matches"; }
expect 0 "summary of .py matches" -- py_summary_matches
expect 0 "dense_5 -> dense_4" -- "$CKERAS" plot $PYC/two_models.py --output - --show-layer-names
expect 0 '"class_name": "Sequential"' -- "$CKERAS" config $PYC/classic_tutorial.py
py_saved() { d=$(mktemp -d); (cd "$d" && "$CKERAS" run "$OLDPWD/$PYC/plot_and_save.py" >/dev/null && "$CKERAS" summary small.keras | grep -q '"small"' && head -c 4 small.png | grep -q PNG && head -c 4 small_lr.pdf | grep -q PDF && echo "saved and plotted"); rm -rf "$d"; }
expect 0 "saved and plotted" -- py_saved
expect 1 "def.py:2:1: unsupported Python: 'def' statements" -- "$CKERAS" run $PYB/def.py
expect 1 "comprehension.py:3:22: unsupported Python: comprehensions" -- "$CKERAS" run $PYB/comprehension.py
expect 1 "os_call.py:2:1: unsupported Python: os.system (module 'os' is not Keras)" -- "$CKERAS" run $PYB/os_call.py
expect 1 "while.py:2:1: unsupported Python: 'while' statements" -- "$CKERAS" run $PYB/while.py
expect 1 "bad_kwarg.py:3:23: Dense" -- "$CKERAS" run $PYB/bad_kwarg.py
# compile() specs with positional arguments (Keras's __init__ order): SGD(0.05, 0.9) is
# learning_rate=0.05, momentum=0.9 in the saved compile_config
positional_compile() {
  local d; d=$(mktemp -d)
  printf 'import keras\nm = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3)])\nm.compile(keras.optimizers.SGD(0.05, 0.9), keras.losses.SparseCategoricalCrossentropy(True))\nm.save("m.keras")\n' > "$d/c.py"
  (cd "$d" && "$CKERAS" run c.py) &&
    python3 -c 'import json,sys,zipfile; c=json.loads(zipfile.ZipFile(sys.argv[1]).read("config.json"))["compile_config"]; print("momentum", c["optimizer"]["config"]["momentum"], "from_logits", c["loss"]["config"]["from_logits"])' "$d/m.keras"
  rm -rf "$d"
}
expect 0 "momentum 0.9 from_logits True" -- positional_compile
# call arguments are not recorded by this reader: use_causal_mask is refused, not dropped
expect 1 "causal_call.py:4:59: unsupported Python: the call argument 'use_causal_mask'" -- "$CKERAS" run $PYB/causal_call.py
expect 1 "bogus" -- "$CKERAS" run $PYB/bad_kwarg.py
expect 1 "too_many.py:3:23: TypeError: Dense takes 13 positional arguments (14 given)" -- "$CKERAS" run $PYB/too_many.py
expect 1 "fstring.py:2:7: unsupported Python: string prefixes" -- "$CKERAS" run $PYB/fstring.py
expect 1 "name_error.py:2:5: NameError: name 'undefined_name' is not defined" -- "$CKERAS" run $PYB/name_error.py
expect 1 "after_output.py:5:1: unsupported Python: the attribute 'fit' of a model" -- "$CKERAS" run $PYB/after_output.py
expect 1 "before" -- "$CKERAS" run $PYB/after_output.py
expect 1 "indent.py:3:1: expected an indented block" -- "$CKERAS" run $PYB/indent.py
expect 1 "with.py:2:1: unsupported Python: 'with' statements" -- "$CKERAS" run $PYB/with.py
expect 1 "print_fn.py:4:1: unsupported Python: summary(print_fn=...)" -- "$CKERAS" run $PYB/print_fn.py
expect 1 "call_on_number.py:3:5: unsupported Python: calling a layer on a int" -- "$CKERAS" run $PYB/call_on_number.py
expect 1 "unterminated.py:2:7: unterminated string literal" -- "$CKERAS" run $PYB/unterminated.py
expect 1 "no_model.py: the script makes no Keras model" -- "$CKERAS" summary $PYB/no_model.py
py_nothing_ran() { local o; o=$("$CKERAS" run $PYB/os_call.py 2>&1); [[ $o == *hacked* ]] && echo "ran" || echo "nothing ran"; }
expect 0 "nothing ran" -- py_nothing_ran
py_hostile() { # deep nesting and long chains stop at a bound instead of the stack
  local d; d=$(mktemp -d)
  printf 'x = %s1%s\n' "$(printf '(%.0s' {1..5000})" "$(printf ')%.0s' {1..5000})" > "$d/deep.py"
  printf 'x = 1%s\n' "$(printf '+1%.0s' {1..5000})" > "$d/long.py"
  local a b
  a=$("$CKERAS" run "$d/deep.py" 2>&1); b=$("$CKERAS" run "$d/long.py" 2>&1)
  [[ $a == *"deep.py:1:205: unsupported Python: expressions nested this deep" ]] &&
    [[ $b == *"unsupported Python: expressions this long" ]] && echo "bounded"
  rm -rf "$d"
}
expect 0 "bounded" -- py_hostile
