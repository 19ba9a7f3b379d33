import keras
from keras import layers

timesteps = 10
features = 3
model = keras.Sequential()
model.add(layers.Input(shape=(timesteps, features)))
model.add(layers.LSTM(32))
model.add(layers.RepeatVector(timesteps))
model.add(layers.LSTM(32, return_sequences=True))
model.add(layers.TimeDistributed(layers.Dense(features)))
model.summary()
for w in model.get_weights():
    print(w.shape)
