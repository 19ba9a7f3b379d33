import keras
from keras import layers

model = keras.Sequential()
model.add(keras.Input(shape=(None,)))
model.add(layers.Embedding(input_dim=5000, output_dim=16, mask_zero=True))
model.add(layers.LSTM(32, return_sequences=True))
model.add(layers.LSTM(16))
model.add(layers.Dense(1, activation="sigmoid"))
model.summary()
