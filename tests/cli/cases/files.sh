# Model files (issue 6): summaries of every format, inspect, weights listings
# straight from HDF5 (also for unsupported architectures), convert, bad files.
M=../data/models
B=../data/malformed
expect 0 " Total params: 2,947 (11.51 KB)" -- "$CKERAS" summary $M/churn_tanishk_model.h5  # + Optimizer params: 2, as Keras load_model (golden: core_loaded)
expect 0 " Total params: 51,080 (199.53 KB)" -- "$CKERAS" summary $M/flownet_25-06_model.keras  # with Optimizer params, as Keras load_model (golden: core_loaded)
expect 0 " Total params: 3,051 (11.92 KB)" -- "$CKERAS" summary $M/tfjs_abalone/model.json
expect 0 " Total params: 99 (396.00 B)" -- "$CKERAS" summary $M/tfjs_ml5_balance_model1/model.json
expect 0 " Total params: 1,711 (6.68 KB)" -- "$CKERAS" summary $M/creditcard_fraud_model.json
expect 1 "'fc1' (qkeras>QDense)" -- "$CKERAS" summary $M/hls4ml_qkeras-v3_3layer.keras
expect 0 "format:         hdf5-model" -- "$CKERAS" inspect $M/sentiment_embedding_h5_named_dot_keras.keras
expect 0 "keras version:  3.15.1" -- "$CKERAS" inspect $M/mnist_cnn_akshatv25_k3151.keras
expect 0 "optimizer:      present" -- "$CKERAS" inspect $M/churn_tanishk_model.h5
expect 0 "format:         tfjs" -- "$CKERAS" inspect $M/tfjs_abalone/model.json
expect 0 "layers/q_dense_3/vars/0                  (32, 5) 160" -- "$CKERAS" weights $M/hls4ml_qkeras-v3_3layer.keras
expect 0 "total: 4389" -- "$CKERAS" weights $M/hls4ml_qkeras-v3_3layer.keras
expect 0 "total: 225034" -- "$CKERAS" weights $M/mnist_cnn_akshatv25_k3151.keras --format text
expect 0 "total: 832" -- "$CKERAS" weights $M/churn_tanishk_model.h5 --layer dense
expect 2 "needs --output" -- "$CKERAS" weights $M/churn_tanishk_model.h5 --format npz
expect 2 "ckeras convert: OUT /tmp/ckeras-cli-out.txt: the ending sets the format: .keras, .h5, .weights.h5, .json or a folder/ (TF.js) (see 'ckeras convert --help')" -- "$CKERAS" convert $M/churn_tanishk_model.h5 /tmp/ckeras-cli-out.txt
expect 1 "archive member 'model.weights.h5' is missing" -- "$CKERAS" weights $B/missing_weights.keras
expect 1 "not a readable .keras zip archive" -- "$CKERAS" summary $B/truncated.keras
expect 1 "HDF5 file without a model_config attribute" -- "$CKERAS" summary $B/no_model_config.h5
expect 1 "expected shape (4, 5), got (5, 4)" -- "$CKERAS" convert $B/shape_mismatch.h5 /tmp/ckeras-cli-out.keras
expect 1 "holds text, not numbers" -- "$CKERAS" convert $B/wrong_dtype.h5 /tmp/ckeras-cli-out.keras
tmp=$(mktemp -d)
expect 0 "wrote $tmp/m.keras" -- "$CKERAS" convert $M/churn_tanishk_model.h5 $tmp/m.keras
expect 0 "total: 2945" -- "$CKERAS" weights $tmp/m.keras
expect 0 "wrote $tmp/model.json" -- "$CKERAS" convert $tmp/m.keras $tmp/model.json
expect 0 " Total params: 2,945 (11.50 KB)" -- "$CKERAS" summary $tmp/model.json
expect 0 "wrote $tmp/m.h5" -- "$CKERAS" convert $tmp/model.json $tmp/m.h5
expect 0 "format:         hdf5-model" -- "$CKERAS" inspect $tmp/m.h5
# A TF.js output folder, as tensorflowjs_converter's output_path: made when missing
# (with the folders above it), an existing one taken with or without its '/'.
expect 0 "wrote $tmp/web/v1/model.json" -- "$CKERAS" convert $tmp/m.keras $tmp/web/v1/
expect 0 " Total params: 2,945 (11.50 KB)" -- "$CKERAS" summary $tmp/web/v1/model.json
expect 0 "wrote $tmp/web/v1/model.json" -- "$CKERAS" convert $tmp/m.h5 $tmp/web/v1
expect 0 "2 files" -- sh -c "echo \$(ls -A $tmp/web/v1 | wc -l) files"  # the old shard replaced
expect 0 "1 files" -- sh -c "echo \$(ls -A $tmp/web | wc -l) files"  # no temporary folder left
expect 2 "OUT $tmp/web/v2: the ending sets the format" -- "$CKERAS" convert $tmp/m.h5 $tmp/web/v2
rm -rf "$tmp"
