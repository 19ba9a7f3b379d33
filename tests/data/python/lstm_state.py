import keras
from keras import layers

inputs = keras.Input(shape=(12, 4))
result = layers.LSTM(8, return_state=True, return_sequences=True)(inputs)
sequence = result[0]
state_h = result[1]
state_c = result[2]
x = layers.LSTM(8)(sequence)
merged = layers.concatenate([x, state_h, state_c])
outputs = layers.Dense(2)(merged)
model = keras.Model(inputs, outputs)
model.summary()
