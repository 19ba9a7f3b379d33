# Convolutional family in training: a CNN with BatchNormalization fitted from the
# CLI, and demo-cnn's usage and missing-dataset errors.
T=../golden/conv_train/cnn_bn_adam
expect 0 "8/8" -- "$CKERAS" fit $T/config.json --x $T/x.npy --y $T/y.npy --epochs 2 --batch-size 4 --loss categorical_crossentropy --optimizer adam --metrics accuracy --verbose 1
expect 2 "demo-cnn" -- "$CKERAS" demo-cnn --epochs
expect 2 "demo-cnn" -- "$CKERAS" demo-cnn --bogus 1
expect 1 "/nonexistent/train-images-idx3-ubyte.gz" -- "$CKERAS" demo-cnn --dir /nonexistent
