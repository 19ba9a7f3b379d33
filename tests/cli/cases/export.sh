# ckeras export: a model becomes C99 code; a class without an emitter is refused
# by class and layer name before any file is written; the code builds and runs
# for aarch64 under qemu-user, and compiles for a Cortex-M4 (tests/export_cross.sh).
T=${TMPDIR:-/tmp}/ckeras_cli_export_$$
mkdir -p "$T/ok" "$T/refused"
expect 0 "layer calls" -- "$CKERAS" export ../data/models/hls4ml_keras_3layer_batch_norm.h5 --c "$T/ok" --name net
expect 0 "#define NET_ARENA_BYTES" -- cat "$T/ok/net.h"
# an input of unknown length: a bound is needed, then the code takes the length
expect 1 "only the steps (axis 1) with a bound (--max-steps" -- "$CKERAS" export ../golden/varlen/lstm/config.json --c "$T/refused"
expect 0 "layer calls" -- "$CKERAS" export ../golden/varlen/lstm/config.json --c "$T/ok" --name seq --max-steps 32
expect 0 "int seq_predict_len(const float *in, long steps, float *out, void *arena);" -- cat "$T/ok/seq.h"
expect 0 "#define SEQ_MAX_STEPS 32" -- cat "$T/ok/seq.h"
# what the generated code cannot run is refused by class and layer name, nothing written
# Conv1D and pooling windows change the length: computed per call, 3 when too short
expect 0 "layer calls" -- "$CKERAS" export ../golden/varlen/conv/config.json --c "$T/ok" --name cv --max-steps 32
expect 0 "/* MaxPooling1D 'p1': (None, steps_1, 5) -> (None, steps_2, 5) */" -- cat "$T/ok/cv.c"
expect 0 "if (steps_2 < 1) return 3;" -- cat "$T/ok/cv.c"
expect 1 "Conv1D 'c_valid_d2': cannot be exported to C: its output length would be" -- "$CKERAS" export ../golden/varlen/windows/config.json --c "$T/refused" --max-steps 4
expect 0 "nothing written" -- sh -c "test -z \"\$(ls -A '$T/refused')\" && echo nothing written"
expect 1 "not a C identifier" -- "$CKERAS" export ../data/models/hls4ml_keras_1layer.h5 --c "$T/ok" --name "bad name"
expect 1 "missing: no such folder" -- "$CKERAS" export ../data/models/hls4ml_keras_1layer.h5 --c "$T/missing"
expect 1 "not a folder" -- "$CKERAS" export ../data/models/hls4ml_keras_1layer.h5 --c ../data/models/hls4ml_keras_1layer.h5
expect 2 "--c is required" -- "$CKERAS" export ../data/models/hls4ml_keras_1layer.h5
expect 2 "--int8 and --calibrate go together" -- "$CKERAS" export ../data/models/hls4ml_keras_1layer.h5 --c "$T/ok" --int8
expect 0 "max error" -- ../export_cross.sh "$CKERAS"
rm -rf "$T"
