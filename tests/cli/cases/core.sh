# Core CLI behaviour: the example, summaries of JSON configs, bad input.
G=../golden/core
expect 0 " Total params: 17 (68.00 B)" -- "$CKERAS" example
expect 0 "dense_1 (Dense)" -- "$CKERAS" summary $G/classic/config.json
expect 0 '"total_params": 17' -- "$CKERAS" summary $G/classic/config.json --style json
expect 0 "Total params: 17 (68.00 Byte)" -- "$CKERAS" summary $G/classic/config.json --style keras2
expect 1 "cannot open" -- "$CKERAS" summary data/does-not-exist.json
expect 1 "JSON syntax error at line" -- "$CKERAS" summary data/syntax_error.json
expect 1 "unsupported layer class: 'mystery' (NoSuchLayer)" -- "$CKERAS" summary data/unknown_layer.json
expect 1 "field 'units'" -- "$CKERAS" summary data/bad_units.json
expect 1 "too large" -- "$CKERAS" summary data/huge_dim.json
expect 1 "cannot reshape" -- "$CKERAS" summary data/bad_reshape.json
expect 2 "usage" -- "$CKERAS" frobnicate
# every command answers --help on stdout with status 0, and a usage error with 2
for c in summary weights example layers predict fit evaluate convert inspect demo-fashion; do
    expect 0 "usage: ckeras $c" -- "$CKERAS" $c --help
done
expect 0 "  evaluate MODEL" -- "$CKERAS" --help
expect 2 "usage: ckeras predict MODEL --input" -- "$CKERAS" predict
expect 2 "usage: ckeras summary FILE" -- "$CKERAS" summary
expect 2 "unknown command 'nope'" -- "$CKERAS" nope
