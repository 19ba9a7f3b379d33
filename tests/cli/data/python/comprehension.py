import keras
from keras import layers
x = [layers.Dense(i) for i in range(3)]
