from keras import Sequential
from keras.layers import Dense, Input

model = Sequential()
model.add(Input(shape=(64,)))
units = 256
for i in range(4):
    model.add(Dense(units, activation="relu"))
    units = units // 2
model.add(Dense(1, activation="sigmoid"))
model.summary()
for layer in model.layers:
    print(layer.name, layer.count_params())
