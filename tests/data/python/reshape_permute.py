import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(784,)),
    layers.Reshape((28, 28, 1)),
    layers.Conv2D(8, 3, padding="same"),
    layers.Permute((2, 1, 3)),
    layers.Reshape((28, 28 * 8)),
    layers.SimpleRNN(16),
    layers.Dense(10),
])
model.summary()
