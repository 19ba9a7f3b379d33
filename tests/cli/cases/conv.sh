# Convolutional family: summaries of Keras configs and clear errors for bad CNN configs.
G=../golden/conv
expect 0 "conv2d (Conv2D)" -- "$CKERAS" summary $G/lenet/config.json
expect 0 " Total params: 61,706 (241.04 KB)" -- "$CKERAS" summary $G/lenet/config.json
expect 0 " Total params: 138,357,544" -- "$CKERAS" summary ../golden/apps/VGG16/config.json
expect 1 "Conv2D 'bad': field 'kernel_size' (5) is larger than the input (3)" -- "$CKERAS" summary data/conv/kernel_too_large.json
expect 1 "Conv2D 'bad': field 'groups' (3) must divide field 'filters' (4)" -- "$CKERAS" summary data/conv/groups.json
expect 1 "MaxPooling2D 'bad': field 'pool_size' (4) is larger than the input (3)" -- "$CKERAS" summary data/conv/pool_too_large.json
expect 1 "Cropping1D 'bad': field 'cropping' removes all 4 elements" -- "$CKERAS" summary data/conv/crop_all.json
expect 1 "field 'output_padding' (2) must be smaller than field 'strides' (2)" -- "$CKERAS" summary data/conv/transpose_outpad.json
expect 1 "GroupNormalization 'bad': field 'groups' (4) must divide the 6 channels" -- "$CKERAS" summary data/conv/groupnorm.json
