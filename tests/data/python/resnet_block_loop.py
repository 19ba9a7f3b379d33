# Residual blocks built in a loop, each with batch normalization.
import keras
from keras import layers

inputs = keras.Input(shape=(16, 16, 8))
x = layers.Conv2D(16, 3, padding="same")(inputs)
for i in range(3):
    shortcut = x
    y = layers.Conv2D(16, 3, padding="same", use_bias=False)(x)
    y = layers.BatchNormalization()(y)
    y = layers.Activation("relu")(y)
    y = layers.Conv2D(16, 3, padding="same", use_bias=False)(y)
    y = layers.BatchNormalization()(y)
    x = layers.Add()([shortcut, y])
    x = layers.ReLU()(x)
x = layers.GlobalAveragePooling2D()(x)
outputs = layers.Dense(4, activation="softmax")(x)
model = keras.Model(inputs=inputs, outputs=outputs)
model.summary()
print(model.count_params())
