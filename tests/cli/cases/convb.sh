# Convolutional family, branch convb: the Applications that need LayerScale and
# numpy operations with a constant operand load; bad preprocessing and
# normalization configs give one line naming the layer and the field.
D=data/convb
expect 0 " Total params: 28,589,128" -- "$CKERAS" summary ../golden/apps/ConvNeXtTiny/config.json
expect 0 "(LayerScale)" -- "$CKERAS" summary ../golden/apps/ConvNeXtTiny/config.json
expect 0 " Total params: 2,554,968" -- "$CKERAS" summary ../golden/apps/MobileNetV3Small/config.json
expect 1 "Resizing 'bad': field 'interpolation' ('area') is not one Keras's JAX backend can resize with" -- "$CKERAS" summary $D/resizing_area.json
expect 1 "Resizing 'bad': fields 'crop_to_aspect_ratio' and 'pad_to_aspect_ratio' cannot both be true" -- "$CKERAS" summary $D/resizing_both.json
expect 1 "Resizing 'bad': fields 'height' and 'width' must be positive" -- "$CKERAS" summary $D/resizing_zero.json
expect 1 "Resizing 'bad': field 'fill_mode' ('reflect') must be 'constant'" -- "$CKERAS" summary $D/resizing_fill.json
expect 1 "Rescaling 'bad': field 'scale' has 2 values; expected 1 or 3 (the channels)" -- "$CKERAS" summary $D/rescaling_count.json
expect 1 "Rescaling 'bad': field 'scale' must be a number or a list" -- "$CKERAS" summary $D/rescaling_text.json
expect 1 "Normalization 'bad': fields 'mean' and 'variance' must be given together" -- "$CKERAS" summary $D/normalization_half.json
expect 1 "Normalization 'bad': field 'mean' has 2 values; expected 1 or 3 (the kept axes)" -- "$CKERAS" summary $D/normalization_count.json
expect 1 "LayerNormalization 'bad': field 'axis' (5) is out of range for an input of rank 3" -- "$CKERAS" summary $D/layernorm_axis.json
expect 1 "LayerScale 'bad': field 'projection_dim' (4) does not match the input's last dimension (3)" -- "$CKERAS" summary $D/layerscale_dim.json
expect 1 "'pow' (Power from keras.src.ops.numpy)" -- "$CKERAS" summary $D/op_power.json
