import keras
from keras import layers

s = keras.Sequential([layers.Dense(3, input_shape=(3,))])
t = keras.Sequential([s])
s.add(t)
