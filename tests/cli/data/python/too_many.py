import keras
from keras import layers
m = keras.Sequential([layers.Dense(3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16)])
