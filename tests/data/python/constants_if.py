import keras
from keras import layers

USE_DROPOUT = True
USE_BATCHNORM = False
DEPTH = 3

model = keras.Sequential()
model.add(keras.Input(shape=(40,)))
for i in range(DEPTH):
    model.add(layers.Dense(32))
    if USE_BATCHNORM:
        model.add(layers.BatchNormalization())
    elif DEPTH > 2:
        model.add(layers.Activation("relu"))
    else:
        model.add(layers.Activation("tanh"))
    if USE_DROPOUT and i < DEPTH - 1:
        model.add(layers.Dropout(0.1 * (i + 1)))
model.add(layers.Dense(5, activation="softmax"))
model.summary()
