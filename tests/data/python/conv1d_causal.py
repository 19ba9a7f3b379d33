import keras
from keras import layers

inputs = keras.Input(shape=(100, 1))
x = inputs
for rate in (1, 2, 4, 8):
    x = layers.Conv1D(filters=20, kernel_size=2, padding="causal", activation="relu", dilation_rate=rate)(x)
x = layers.Conv1D(filters=10, kernel_size=1)(x)
model = keras.Model(inputs=[inputs], outputs=[x])
model.summary()
