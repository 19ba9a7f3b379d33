/* Finite-difference gradient checks of the convolutional family's backward
 * passes: every convolution class (strides, dilation, groups, same/valid/causal,
 * output_padding, depth multipliers, fused activations with and without a kept
 * pre-activation), pooling, global pooling, padding/cropping/upsampling,
 * BatchNormalization in training and inference, the activation layers and the
 * noise layers in training, and a small CNN end to end. The harness is
 * test_gradcheck.c's: L = sum <output, R> for fixed random R, central
 * differences of the float32 forward, the same tolerances and kink rule. */
#include "gradcheck.h"

#include "engine/exec.h"

int main(void)
{
    /* Convolutions */
    gradcheck("Conv1D valid", gc_seq("(5, 2)", "Conv1D", "filters=3, kernel_size=3"), 1.0f, false);
    gradcheck("Conv1D same s2 tanh", gc_seq("(6, 2)", "Conv1D", "filters=2, kernel_size=3, strides=2, padding='same', activation='tanh'"), 1.0f, false);
    gradcheck("Conv1D causal d2", gc_seq("(6, 2)", "Conv1D", "filters=2, kernel_size=2, dilation_rate=2, padding='causal'"), 1.0f, false);
    gradcheck("Conv1D groups", gc_seq("(4, 4)", "Conv1D", "filters=4, kernel_size=2, groups=2, use_bias=False"), 1.0f, false);
    gradcheck("Conv2D valid relu", gc_seq("(4, 4, 2)", "Conv2D", "filters=3, kernel_size=3, activation='relu'"), 1.0f, false);
    gradcheck("Conv2D same s2 sigmoid", gc_seq("(5, 5, 2)", "Conv2D", "filters=2, kernel_size=3, strides=2, padding='same', activation='sigmoid'"), 1.0f, false);
    gradcheck("Conv2D dilated", gc_seq("(5, 5, 1)", "Conv2D", "filters=2, kernel_size=2, dilation_rate=2, padding='same'"), 1.0f, false);
    gradcheck("Conv2D groups", gc_seq("(3, 3, 4)", "Conv2D", "filters=2, kernel_size=(2, 1), groups=2"), 1.0f, false);
    gradcheck("Conv2D 1x1", gc_seq("(2, 3, 3)", "Conv2D", "filters=2, kernel_size=1, activation='relu6'"), 1.0f, false);
    gradcheck("Conv2D 1x1 s2", gc_seq("(3, 3, 2)", "Conv2D", "filters=2, kernel_size=1, strides=2"), 1.0f, false);
    gradcheck("Conv3D same s2", gc_seq("(3, 3, 2, 2)", "Conv3D", "filters=2, kernel_size=2, strides=2, padding='same'"), 1.0f, false);
    gradcheck("Conv1DTranspose same s2", gc_seq("(3, 2)", "Conv1DTranspose", "filters=2, kernel_size=3, strides=2, padding='same'"), 1.0f, false);
    gradcheck("Conv1DTranspose output_padding", gc_seq("(3, 2)", "Conv1DTranspose", "filters=2, kernel_size=3, strides=2, output_padding=1, activation='elu'"), 1.0f, false);
    gradcheck("Conv2DTranspose valid s2", gc_seq("(2, 3, 2)", "Conv2DTranspose", "filters=2, kernel_size=3, strides=2"), 1.0f, false);
    gradcheck("Conv2DTranspose dilated", gc_seq("(3, 3, 1)", "Conv2DTranspose", "filters=2, kernel_size=2, dilation_rate=2, padding='same'"), 1.0f, false);
    gradcheck("Conv3DTranspose", gc_seq("(2, 2, 1, 2)", "Conv3DTranspose", "filters=1, kernel_size=2, strides=2, use_bias=False"), 1.0f, false);
    gradcheck("DepthwiseConv1D", gc_seq("(5, 3)", "DepthwiseConv1D", "kernel_size=3, depth_multiplier=2, padding='same'"), 1.0f, false);
    gradcheck("DepthwiseConv2D s2 relu", gc_seq("(4, 4, 2)", "DepthwiseConv2D", "kernel_size=3, depth_multiplier=2, strides=2, padding='same', activation='relu'"), 1.0f, false);
    gradcheck("SeparableConv1D", gc_seq("(5, 3)", "SeparableConv1D", "filters=2, kernel_size=3, depth_multiplier=2"), 1.0f, false);
    gradcheck("SeparableConv2D elu", gc_seq("(4, 4, 2)", "SeparableConv2D", "filters=3, kernel_size=3, padding='same', activation='elu'"), 1.0f, false);
    /* Pooling: distinct values (scale < 0), so no two in a window tie */
    gradcheck("MaxPooling1D", gc_seq("(5, 2)", "MaxPooling1D", "pool_size=2"), -1.0f, false);
    gradcheck("MaxPooling2D same s1", gc_seq("(3, 3, 2)", "MaxPooling2D", "pool_size=2, strides=1, padding='same'"), -1.0f, false);
    gradcheck("MaxPooling2D 2x2, odd extents", gc_seq("(5, 4, 3)", "MaxPooling2D", ""), -1.0f, false);
    gradcheck("MaxPooling3D", gc_seq("(2, 2, 2, 2)", "MaxPooling3D", "pool_size=2"), -1.0f, false);
    gradcheck("AveragePooling1D same", gc_seq("(5, 2)", "AveragePooling1D", "pool_size=2, padding='same'"), 1.0f, false);
    gradcheck("AveragePooling2D s1", gc_seq("(3, 3, 2)", "AveragePooling2D", "pool_size=2, strides=1, padding='same'"), 1.0f, false);
    gradcheck("AveragePooling3D", gc_seq("(2, 3, 2, 1)", "AveragePooling3D", "pool_size=2, padding='same'"), 1.0f, false);
    gradcheck("GlobalMaxPooling1D", gc_seq("(4, 2)", "GlobalMaxPooling1D", ""), -1.0f, false);
    gradcheck("GlobalMaxPooling2D keepdims", gc_seq("(2, 3, 2)", "GlobalMaxPooling2D", "keepdims=True"), -1.0f, false);
    gradcheck("GlobalMaxPooling3D", gc_seq("(2, 2, 2, 2)", "GlobalMaxPooling3D", ""), -1.0f, false);
    gradcheck("GlobalAveragePooling1D", gc_seq("(4, 2)", "GlobalAveragePooling1D", ""), 1.0f, false);
    gradcheck("GlobalAveragePooling2D", gc_seq("(2, 3, 2)", "GlobalAveragePooling2D", ""), 1.0f, false);
    gradcheck("GlobalAveragePooling3D keepdims", gc_seq("(2, 2, 2, 2)", "GlobalAveragePooling3D", "keepdims=True"), 1.0f, false);
    /* Reshaping */
    gradcheck("ZeroPadding1D", gc_seq("(3, 2)", "ZeroPadding1D", "padding=(1, 2)"), 1.0f, false);
    gradcheck("ZeroPadding2D", gc_seq("(2, 3, 2)", "ZeroPadding2D", "padding=((1, 0), (0, 2))"), 1.0f, false);
    gradcheck("ZeroPadding3D", gc_seq("(2, 2, 1, 1)", "ZeroPadding3D", "padding=1"), 1.0f, false);
    gradcheck("Cropping1D", gc_seq("(5, 2)", "Cropping1D", "cropping=(1, 2)"), 1.0f, false);
    gradcheck("Cropping2D", gc_seq("(4, 4, 1)", "Cropping2D", "cropping=((1, 0), (1, 2))"), 1.0f, false);
    gradcheck("Cropping3D", gc_seq("(3, 3, 3, 1)", "Cropping3D", "cropping=1"), 1.0f, false);
    gradcheck("UpSampling1D", gc_seq("(3, 2)", "UpSampling1D", "size=2"), 1.0f, false);
    gradcheck("UpSampling2D", gc_seq("(2, 2, 2)", "UpSampling2D", "size=(2, 3)"), 1.0f, false);
    gradcheck("UpSampling2D bilinear", gc_seq("(2, 3, 2)", "UpSampling2D", "size=2, interpolation='bilinear'"), 1.0f, false);
    gradcheck("UpSampling3D", gc_seq("(2, 1, 2, 1)", "UpSampling3D", "size=2"), 1.0f, false);
    /* Normalization */
    gradcheck("BatchNormalization training", gc_seq("(4, 3)", "BatchNormalization", "gamma_initializer='random_normal', beta_initializer='random_normal'"), 1.0f, true);
    gradcheck("BatchNormalization training 4d", gc_seq("(2, 2, 3)", "BatchNormalization", "gamma_initializer='random_normal'"), 1.0f, true);
    gradcheck("BatchNormalization training axis=1 no affine", gc_seq("(3, 2)", "BatchNormalization", "axis=1, center=False, scale=False"), 1.0f, true);
    gradcheck("BatchNormalization inference", gc_seq("(4, 3)", "BatchNormalization", "moving_mean_initializer='random_normal', gamma_initializer='random_normal'"), 1.0f, false);
    /* Activation layers: x4 reaches the threshold, clip and negative regions */
    gradcheck("ReLU", gc_seq("(2, 3)", "ReLU", ""), 4.0f, false);
    gradcheck("ReLU max/threshold/slope", gc_seq("(2, 3)", "ReLU", "max_value=1.5, threshold=0.5, negative_slope=0.2"), 4.0f, false);
    gradcheck("LeakyReLU", gc_seq("(2, 3)", "LeakyReLU", "negative_slope=0.2"), 4.0f, false);
    gradcheck("PReLU", gc_seq("(2, 3)", "PReLU", "alpha_initializer='random_uniform'"), 4.0f, false);
    gradcheck("PReLU shared_axes", gc_seq("(2, 2, 3)", "PReLU", "alpha_initializer='random_uniform', shared_axes=(1, 2)"), 4.0f, false);
    gradcheck("ELU", gc_seq("(2, 3)", "ELU", "alpha=0.7"), 4.0f, false);
    gradcheck("Softmax", gc_seq("(2, 3)", "Softmax", ""), 2.0f, false);
    gradcheck("Softmax axis=1", gc_seq("(3, 2)", "Softmax", "axis=1"), 2.0f, false);
    /* Noise layers in training (the engine's RNG is reseeded every pass) */
    gradcheck("SpatialDropout1D", gc_seq("(3, 4)", "SpatialDropout1D", "rate=0.5"), 1.0f, true);
    gradcheck("SpatialDropout2D", gc_seq("(2, 2, 4)", "SpatialDropout2D", "rate=0.5"), 1.0f, true);
    gradcheck("SpatialDropout3D", gc_seq("(2, 1, 2, 3)", "SpatialDropout3D", "rate=0.3"), 1.0f, true);
    gradcheck("GaussianNoise", gc_seq("(2, 3)", "GaussianNoise", "stddev=0.5"), 1.0f, true);
    gradcheck("GaussianDropout", gc_seq("(2, 3)", "GaussianDropout", "rate=0.3"), 1.0f, true);
    gradcheck("AlphaDropout", gc_seq("(2, 3)", "AlphaDropout", "rate=0.4"), 1.0f, true);
    gradcheck("AlphaDropout noise_shape", gc_seq("(2, 3)", "AlphaDropout", "rate=0.4, noise_shape=(None, 1, 3)"), 1.0f, true);
    gradcheck("ActivityRegularization inference", gc_seq("(2, 3)", "ActivityRegularization", ""), 1.0f, false);
    /* A small CNN end to end: conv, BN in training, pooling, flatten, dense */
    {
        ck_model *m = ck_sequential(NULL);
        ck_sequential_add(m, ck_layer_new("InputLayer", "input_shape=(6, 6, 1)"));
        ck_sequential_add(m, ck_layer_new("Conv2D", "filters=3, kernel_size=3, activation='relu'"));
        ck_sequential_add(m, ck_layer_new("BatchNormalization", ""));
        ck_sequential_add(m, ck_layer_new("MaxPooling2D", ""));
        ck_sequential_add(m, ck_layer_new("Flatten", ""));
        ck_sequential_add(m, ck_dense(2, "activation='softmax'"));
        gradcheck("CNN training", m, 1.0f, true);
    }
    /* channels_first pooling (transposed to channels-last and back); last, so the
     * models above keep their random data */
    gradcheck("MaxPooling2D channels_first", gc_seq("(2, 4, 5)", "MaxPooling2D", "data_format='channels_first'"), -1.0f, false);
    gradcheck("AveragePooling1D channels_first same",
              gc_seq("(2, 5)", "AveragePooling1D", "pool_size=2, padding='same', data_format='channels_first'"), 1.0f, false);
    gradcheck("GlobalMaxPooling2D channels_first", gc_seq("(2, 3, 2)", "GlobalMaxPooling2D", "data_format='channels_first'"),
              -1.0f, false);
    gradcheck("GlobalAveragePooling1D channels_first",
              gc_seq("(3, 4)", "GlobalAveragePooling1D", "data_format='channels_first'"), 1.0f, false);
    printf("conv gradcheck: %d models checked\n", gradcheck_models());
    CHECK(gradcheck_models() == 68, "expected 68 models, checked %d", gradcheck_models());
    return test_report("test_conv_gradcheck");
}
