import keras
from keras import layers

inputs = keras.Input(shape=(64, 64, 3))
x = inputs
filters = [16, 32, 64]
for f in filters:
    for j in range(2):
        x = layers.Conv2D(f, (3, 3), padding="same", activation="relu")(x)
    x = layers.MaxPooling2D((2, 2), strides=(2, 2))(x)
x = layers.Flatten()(x)
x = layers.Dense(128, activation="relu")(x)
outputs = layers.Dense(10, activation="softmax")(x)
model = keras.Model(inputs, outputs, name="mini_vgg")
model.summary()
print("params:", model.count_params())
