# examples/seed.c (issue 2, item 10): the classic model built with the C API prints
# summary() byte for byte as Keras 3 does (golden from tests/oracle/core_models.py),
# then its counts and its four weight arrays in Keras's order.
SEED=$(dirname "$CKERAS")/example_seed
seed_summary_matches() { cmp <("$SEED" | sed "/Non-trainable params/q") ../golden/core/classic_input_shape/summary.txt && echo "summary matches Keras"; }
expect 0 "summary matches Keras" -- seed_summary_matches
expect 0 "counts: total 17, trainable 17, non-trainable 0" -- "$SEED"
expect 0 "sequential/dense_1/bias  shape (2,)" -- "$SEED"
seed_is_seeded() { [ "$("$SEED" 7)" = "$("$SEED" 7)" ] && [ "$("$SEED" 7)" != "$("$SEED" 8)" ] && echo "seeded"; }
expect 0 "seeded" -- seed_is_seeded
