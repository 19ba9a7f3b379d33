# Two models in one script: Keras's name counters run on.
import keras
from keras import layers

first = keras.Sequential([keras.Input(shape=(4,)), layers.Dense(8), layers.Dense(2)])
second = keras.Sequential([keras.Input(shape=(6,)), layers.Dense(8), layers.Dense(3)])
first.summary()
second.summary()
inputs = keras.Input(shape=(5,))
outputs = layers.Dense(1)(layers.Dense(7)(inputs))
third = keras.Model(inputs, outputs)
third.summary()
