import keras
from keras import layers

x = keras.Input(shape=(3,))
y = layers.Dense(2)(x)
inner = keras.Model(x, y, name="inner")
a = keras.Input(shape=(3,))
outer = keras.Model(a, inner(a), name="outer")
z = outer(y)
