import keras
from keras import layers

model = keras.Sequential(name="options_demo")
model.add(keras.Input(shape=(12,)))
model.add(layers.Dense(24, activation="tanh", name="hidden_one"))
model.add(layers.Dense(24, activation="tanh", name="hidden_two"))
model.add(layers.Dense(3, name="logits"))
model.summary(line_length=100)
model.summary(positions=[0.4, 0.7, 1.0])
model.summary(show_trainable=True, line_length=90)
model.summary(layer_range=["hidden_two", "logits"])
