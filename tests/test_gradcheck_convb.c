/* Finite-difference gradient checks of the backward passes added on branch convb:
 * LayerNormalization (axes, no center/scale, Keras's rms_scaling), GroupNormalization
 * (channels last, axis 1, instance-like, groups=-1), UnitNormalization,
 * RMSNormalization, Rescaling,
 * Normalization, Resizing (every interpolation, crop/pad to the aspect ratio),
 * CenterCrop (crop and smart_resize), LayerScale and the numpy operations with a
 * constant operand. The harness is test_gradcheck.c's (same loss, step and
 * tolerances), copied so the two branches merge without touching each other. */
#include "gradcheck.h"

#include "engine/exec.h"

/* keras.src.ops numpy operations with a constant operand, as Keras saves them
 * (MobileNetV3's hard sigmoid): x -> 2 - ((x + 3) * 0.5) / 4 -> max(., -0.2) ->
 * min(., 1.1) -> 1.5 / . */
#define KT(src) "{\"class_name\": \"__keras_tensor__\", \"config\": {\"shape\": [null, 4], \"keras_history\": [\"" src "\", 0, 0]}}"
#define OP(cls, name, args) \
    "{\"module\": \"keras.src.ops.numpy\", \"class_name\": \"" cls "\", \"config\": {\"name\": \"" name "\"}, " \
    "\"name\": \"" name "\", \"inbound_nodes\": [{\"args\": " args ", \"kwargs\": {}}]}"
static const char scalar_ops_json[] =
    "{\"class_name\": \"Functional\", \"config\": {\"name\": \"ops\", \"layers\": ["
    "{\"class_name\": \"InputLayer\", \"config\": {\"batch_shape\": [null, 4], \"name\": \"x\"}, \"name\": \"x\", \"inbound_nodes\": []},"
    OP("Add", "add", "[" KT("x") ", 3.0]") ","
    OP("Multiply", "mul", "[" KT("add") ", 0.5]") ","
    OP("Divide", "div", "[" KT("mul") ", 4.0]") ","
    OP("Subtract", "sub", "[2.0, " KT("div") "]") ","
    OP("Maximum", "max", "[" KT("sub") ", -0.2]") ","
    OP("Minimum", "min", "[" KT("max") ", 1.1]") ","
    OP("TrueDivide", "tdiv", "[1.5, " KT("min") "]")
    "], \"input_layers\": [[\"x\", 0, 0]], \"output_layers\": [[\"tdiv\", 0, 0]]}}";

int main(void)
{
    /* normalization: x2 keeps the variances well away from epsilon */
    gradcheck("LayerNormalization", gc_seq("(2, 5)", "LayerNormalization", ""), 2.0f, false);
    gradcheck("LayerNormalization axes", gc_seq("(3, 2, 4)", "LayerNormalization", "axis=[1, 2]"), 2.0f, false);
    gradcheck("LayerNormalization middle", gc_seq("(3, 2, 4)", "LayerNormalization", "axis=1"), 2.0f, false);
    gradcheck("LayerNormalization plain", gc_seq("(6,)", "LayerNormalization", "center=False, scale=False"), 2.0f,
              false);
    gradcheck("LayerNormalization rms", gc_seq("(2, 5)", "LayerNormalization", "rms_scaling=True"), 2.0f, false);
    gradcheck("GroupNormalization", gc_seq("(2, 2, 6)", "GroupNormalization", "groups=3"), 2.0f, false);
    gradcheck("GroupNormalization axis1", gc_seq("(4, 3, 2)", "GroupNormalization", "groups=2, axis=1"), 2.0f, false);
    gradcheck("GroupNormalization instance", gc_seq("(3, 4)", "GroupNormalization", "groups=4, scale=False"), 2.0f,
              false);
    gradcheck("GroupNormalization groups=-1", gc_seq("(2, 3)", "GroupNormalization", "groups=-1"), 2.0f, false);
    gradcheck("RMSNormalization", gc_seq("(2, 5)", "RMSNormalization", ""), 2.0f, false);
    gradcheck("RMSNormalization axes", gc_seq("(3, 2, 4)", "RMSNormalization", "axis=[1, 2], epsilon=0.01"), 2.0f, false);
    gradcheck("UnitNormalization", gc_seq("(2, 5)", "UnitNormalization", ""), 2.0f, false);
    gradcheck("UnitNormalization axes", gc_seq("(2, 3, 2)", "UnitNormalization", "axis=[1, 2]"), 2.0f, false);
    /* preprocessing */
    gradcheck("Rescaling", gc_seq("(2, 3)", "Rescaling", "scale=[1.0, -2.0, 0.5], offset=0.3"), 1.0f, false);
    gradcheck("Normalization given", gc_seq("(2, 3)", "Normalization", "mean=[0.5, 1.0, -1.0], variance=[1.0, 4.0, 0.25]"),
              1.0f, false);
    gradcheck("Normalization invert", gc_seq("(2, 3)", "Normalization", "axis=None, mean=2.0, variance=9.0, invert=True"),
              1.0f, false);
    static const char *const interps[] = {"bilinear", "nearest", "bicubic", "lanczos3", "lanczos5"};
    for (int i = 0; i < 5; i++) {
        char kw[128], label[128];
        snprintf(kw, sizeof kw, "height=5, width=3, interpolation='%s'", interps[i]);
        snprintf(label, sizeof label, "Resizing %s", interps[i]);
        gradcheck(label, gc_seq("(3, 4, 2)", "Resizing", kw), 1.0f, false);
        snprintf(kw, sizeof kw, "size=(2, 3), interpolation='%s'", interps[i]);
        snprintf(label, sizeof label, "UpSampling2D %s", interps[i]);
        gradcheck(label, gc_seq("(3, 2, 2)", "UpSampling2D", kw), 1.0f, false);
    }
    gradcheck("Resizing antialias", gc_seq("(6, 5, 1)", "Resizing", "height=2, width=3, antialias=True"), 1.0f, false);
    gradcheck("Resizing crop", gc_seq("(4, 6, 1)", "Resizing", "height=3, width=3, crop_to_aspect_ratio=True"), 1.0f,
              false);
    gradcheck("Resizing pad", gc_seq("(4, 6, 1)", "Resizing", "height=3, width=3, pad_to_aspect_ratio=True"), 1.0f,
              false);
    gradcheck("CenterCrop", gc_seq("(5, 4, 2)", "CenterCrop", "height=3, width=2"), 1.0f, false);
    gradcheck("Resizing channels_first",
              gc_seq("(2, 3, 4)", "Resizing", "height=5, width=3, interpolation='bicubic', data_format='channels_first'"),
              1.0f, false);
    gradcheck("CenterCrop channels_first", gc_seq("(2, 3, 5)", "CenterCrop", "height=4, width=4, data_format='channels_first'"),
              1.0f, false);
    gradcheck("CenterCrop smart_resize", gc_seq("(3, 5, 1)", "CenterCrop", "height=4, width=4"), 1.0f, false);
    gradcheck("LayerScale", gc_seq("(2, 3)", "LayerScale", "init_values=0.5, projection_dim=3"), 1.0f, false);
    ck_model *ops = ck_model_from_json(scalar_ops_json, "scalar ops");
    CHECK(ops != NULL, "scalar ops: %s", ck_errmsg());
    if (ops) gradcheck("numpy ops with a constant", ops, 1.0f, false);
    return test_report("test_gradcheck_convb");
}
