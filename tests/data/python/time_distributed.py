import keras
from keras import layers

inputs = keras.Input(shape=(10, 16))
x = layers.TimeDistributed(layers.Dense(8, activation="relu"))(inputs)
x = layers.LSTM(12, return_sequences=True)(x)
outputs = layers.TimeDistributed(layers.Dense(3, activation="softmax"))(x)
model = keras.Model(inputs, outputs)
model.summary()
