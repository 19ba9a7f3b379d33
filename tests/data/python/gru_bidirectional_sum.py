import keras
from keras import layers

model = keras.Sequential([
    layers.Input(shape=(25, 6)),
    layers.Bidirectional(layers.GRU(16, return_sequences=True), merge_mode="sum"),
    layers.Bidirectional(layers.GRU(8), merge_mode="ave"),
    layers.Dense(3, activation="softmax"),
])
model.summary()
print(len(model.get_weights()))
