# Core CLI behaviour: the example, summaries of JSON configs, bad input.
G=../golden/core
expect 0 " Total params: 17 (68.00 B)" -- "$CKERAS" example
expect 0 "dense_1 (Dense)" -- "$CKERAS" summary $G/classic/config.json
expect 0 '"total_params": 17' -- "$CKERAS" summary $G/classic/config.json --style json
expect 0 "Total params: 17 (68.00 Byte)" -- "$CKERAS" summary $G/classic/config.json --style keras2
expect 1 "data/does-not-exist.json: cannot open: No such file or directory" -- "$CKERAS" summary data/does-not-exist.json
expect 1 "JSON syntax error at line" -- "$CKERAS" summary data/syntax_error.json
expect 1 "unsupported layer class: 'mystery' (NoSuchLayer)" -- "$CKERAS" summary data/unknown_layer.json
expect 1 "field 'units'" -- "$CKERAS" summary data/bad_units.json
expect 1 "too large" -- "$CKERAS" summary data/huge_dim.json
expect 1 "cannot reshape" -- "$CKERAS" summary data/bad_reshape.json
expect 2 "ckeras: unknown command 'frobnicate' (see 'ckeras --help')" -- "$CKERAS" frobnicate
# every command answers --help on stdout with status 0, and a usage error with 2
for c in summary weights example layers predict fit evaluate convert inspect demo-fashion; do
    expect 0 "usage: ckeras $c" -- "$CKERAS" $c --help
done
expect 0 "  evaluate       model.evaluate() on arrays" -- "$CKERAS" --help
expect 2 "ckeras predict: missing MODEL (see 'ckeras predict --help')" -- "$CKERAS" predict
expect 2 "ckeras summary: missing FILE (see 'ckeras summary --help')" -- "$CKERAS" summary
expect 2 "unknown command 'nope'" -- "$CKERAS" nope
# Bad JSON configs (data/core/): one line naming the file, the layer and the field, exit 1.
B=data/core
expect 1 "$B/empty.json: not a Keras model file" -- "$CKERAS" summary $B/empty.json
expect 1 "$B/truncated.json: JSON syntax error at line 2" -- "$CKERAS" summary $B/truncated.json
expect 1 "$B/not_object.json: not a Keras model file" -- "$CKERAS" summary $B/not_object.json
expect 1 "$B/layers_not_list.json: Sequential config has no 'layers' list" -- "$CKERAS" summary $B/layers_not_list.json
expect 1 "$B/bad_activation.json: Dense 'd', field 'activation': unknown activation 'nope'" -- "$CKERAS" summary $B/bad_activation.json
expect 1 "$B/bad_initializer.json: Dense 'd', field 'kernel_initializer': unknown initializer 'NoSuchInit'" -- "$CKERAS" summary $B/bad_initializer.json
expect 1 "$B/missing_units.json: Dense 'd': missing required argument 'units'" -- "$CKERAS" summary $B/missing_units.json
expect 1 "$B/negative_units.json: Dense 'd': field 'units' must be positive, got -2" -- "$CKERAS" summary $B/negative_units.json
expect 1 "$B/rank_too_high.json: InputLayer 'in', field 'batch_shape': shape has rank 10" -- "$CKERAS" summary $B/rank_too_high.json
expect 1 "$B/dense_kernel_overflow.json: Dense 'big', weight 'kernel': shape size overflows int64" -- "$CKERAS" summary $B/dense_kernel_overflow.json
expect 1 "$B/flatten_overflow.json: Flatten 'flat': shape size overflows int64" -- "$CKERAS" summary $B/flatten_overflow.json
expect 1 "$B/dense_no_features.json: Dense 'd': input must have rank >= 2" -- "$CKERAS" summary $B/dense_no_features.json
expect 1 "$B/bad_permute.json: Permute 'p': field 'dims' must be a permutation of 1..2" -- "$CKERAS" summary $B/bad_permute.json
expect 1 "$B/add_mismatch.json: Add 'add': inputs (None, 3) and (None, 4) cannot be broadcast" -- "$CKERAS" summary $B/add_mismatch.json
expect 1 "$B/merge_mismatch.json: Concatenate 'cat': field 'axis' is out of range" -- "$CKERAS" summary $B/merge_mismatch.json
expect 1 "$B/dangling_ref.json: Concatenate 'cat', field 'inbound_nodes': input 'ghost' is not a layer of the model" -- "$CKERAS" summary $B/dangling_ref.json
# every bad config gives exactly one line on stderr and nothing on stdout
one_line_each() {
  local f out
  for f in $B/*.json data/*.json; do
    out=$("$CKERAS" summary "$f" 2>&1)
    [ $? -eq 1 ] && [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || { echo "not one line: $f: $out"; return 1; }
  done
  echo "one line each"
}
expect 0 "one line each" -- one_line_each
# ckeras config: Keras 3 model.to_json() of any readable model
expect 0 '"compile_config": {}' -- "$CKERAS" config $G/classic/config.json
expect 1 "$B/bad_activation.json: Dense 'd'" -- "$CKERAS" config $B/bad_activation.json
# tf.keras 2.15's summary of a Keras 2 JSON config, byte for byte (tests/oracle/keras2_summaries.py)
keras2_matches() { cmp <("$CKERAS" summary ../golden/keras2/functional_multi_io/config.json --style keras2) ../golden/keras2/functional_multi_io/summary.txt && echo "keras2 matches"; }
expect 0 "keras2 matches" -- keras2_matches
# a compiled .keras shows its optimizer as keras.models.load_model does
loaded_matches() { cmp <("$CKERAS" summary ../golden/core_loaded/adam_trained.keras) ../golden/core_loaded/adam_trained.txt && echo "load_model matches"; }
expect 0 "load_model matches" -- loaded_matches
