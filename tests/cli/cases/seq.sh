# Sequence family: Keras configs of recurrent, wrapper and attention models summarised
# and listed with Keras 3's weight paths; Keras's predictions reproduced by predict.
G=../golden/seq
T=${TMPDIR:-/tmp}/ckeras_cli_seq_$$
mkdir -p "$T"
expect 0 "bidirectional (Bidirectional)   │ (None, 12)             │           720" -- "$CKERAS" summary $G/text_classifier/config.json
expect 0 "sequential/bidirectional/backward_lstm/lstm_cell/recurrent_kernel (4, 16) 64" -- "$CKERAS" weights $G/bidirectional_lstm/config.json
expect 0 "multi_head_attention/attention_output/kernel (2, 4, 6) 48" -- "$CKERAS" weights $G/mha/config.json
expect 0 "float32 (3, 6, 4)" -- "$CKERAS" predict $G/lstm_seq_backwards/config.json --input $G/lstm_seq_backwards/x.npy --output "$T/y.npy"
rm -rf "$T"
