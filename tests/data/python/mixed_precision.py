# Mixed precision as Keras's guide sets it up: a global dtype policy, taken by
# every layer made after it that names no dtype of its own.
import keras
from keras import layers

keras.mixed_precision.set_global_policy("bfloat16")
half = keras.Sequential([
    keras.Input((6,)),
    layers.Dense(8, activation="relu"),
    layers.Dense(4, dtype="float32"),
])
half.summary()

keras.mixed_precision.set_global_policy("float32")
plain = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
plain.summary()

keras.config.set_dtype_policy("mixed_float16")
inputs = keras.Input((16,))
x = layers.Dense(32, activation="relu")(inputs)
x = layers.Dense(10)(x)
outputs = layers.Activation("softmax", dtype="float32")(x)
model = keras.Model(inputs, outputs)
model.summary()
