# ckeras export: a model becomes C99 code; a class without an emitter is refused
# by class and layer name before any file is written; the code builds and runs
# for aarch64 under qemu-user, and compiles for a Cortex-M4 (tests/export_cross.sh).
T=${TMPDIR:-/tmp}/ckeras_cli_export_$$
mkdir -p "$T/ok" "$T/refused"
expect 0 "layer calls" -- "$CKERAS" export ../data/models/hls4ml_keras_3layer_batch_norm.h5 --c "$T/ok" --name net
expect 0 "#define NET_ARENA_BYTES" -- cat "$T/ok/net.h"
expect 1 "ConvLSTM1D 'conv_lstm1d': cannot be exported to C" -- "$CKERAS" export ../golden/seq/conv_lstm1d/config.json --c "$T/refused"
expect 0 "nothing written" -- sh -c "test -z \"\$(ls -A '$T/refused')\" && echo nothing written"
expect 1 "not a C identifier" -- "$CKERAS" export ../data/models/hls4ml_keras_1layer.h5 --c "$T/ok" --name "bad name"
expect 1 "not a folder" -- "$CKERAS" export ../data/models/hls4ml_keras_1layer.h5 --c "$T/missing"
expect 2 "--c is required" -- "$CKERAS" export ../data/models/hls4ml_keras_1layer.h5
expect 2 "--int8 and --calibrate go together" -- "$CKERAS" export ../data/models/hls4ml_keras_1layer.h5 --c "$T/ok" --int8
expect 0 "max error" -- ../export_cross.sh "$CKERAS"
rm -rf "$T"
