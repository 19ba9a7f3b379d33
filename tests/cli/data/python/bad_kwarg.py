import keras
from keras import layers
m = keras.Sequential([layers.Dense(3, input_shape=(2,), bogus=1)])
