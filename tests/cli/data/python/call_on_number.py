import keras
from keras import layers
x = layers.Dense(2)(3)
