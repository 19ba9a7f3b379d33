import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(32, 32, 3)),
    layers.Rescaling(1.0 / 255),
    layers.GaussianNoise(0.1),
    layers.Conv2D(16, 3, padding="same"),
    layers.GroupNormalization(groups=4),
    layers.Activation("gelu"),
    layers.SpatialDropout2D(0.1),
    layers.Conv2D(16, 3, padding="same"),
    layers.LayerNormalization(),
    layers.GlobalAveragePooling2D(),
    layers.UnitNormalization(),
    layers.Dense(10),
])
model.summary()
