import keras
from keras import layers
x = keras.Input((4, 3))
y = layers.MultiHeadAttention(2, 3)(x, x, use_causal_mask=True)
model = keras.Model(x, y)
