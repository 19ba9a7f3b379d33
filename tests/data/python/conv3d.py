import keras
from keras import layers

inputs = keras.Input((16, 16, 8, 1))
x = layers.Conv3D(filters=8, kernel_size=3, activation="relu")(inputs)
x = layers.MaxPool3D(pool_size=2)(x)
x = layers.BatchNormalization()(x)
x = layers.GlobalAveragePooling3D()(x)
x = layers.Dense(units=32, activation="relu")(x)
outputs = layers.Dense(units=1, activation="sigmoid")(x)
model = keras.Model(inputs, outputs, name="3dcnn")
model.summary()
