import keras
from keras import layers
from keras.utils import plot_model

inputs = keras.Input(shape=(6,), name="features")
x = layers.Dense(12, activation="relu")(inputs)
outputs = layers.Dense(2, activation="softmax")(x)
model = keras.Model(inputs, outputs, name="small")
plot_model(model, to_file="small.png", show_shapes=True, show_layer_names=True)
keras.utils.plot_model(model, "small_lr.pdf", rankdir="LR", dpi=72)
model.save("small.keras")
model.summary()
