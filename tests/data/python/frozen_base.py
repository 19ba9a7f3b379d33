import keras
from keras import layers

base = keras.Sequential([
    keras.Input(shape=(32,)),
    layers.Dense(64, activation="relu"),
    layers.Dense(64, activation="relu"),
], name="base")
base.trainable = False
model = keras.Sequential([base, layers.Dense(10, activation="softmax")])
model.summary(show_trainable=True)
print(base.trainable)
