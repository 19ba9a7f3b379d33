import keras
from keras import layers

model = keras.Sequential()
model.add(layers.Dense(32, activation="relu"))
model.add(layers.Dense(4))
model.summary()
model.build((None, 16))
model.summary()
print(model.count_params())
