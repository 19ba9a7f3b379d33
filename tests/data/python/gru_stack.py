from keras import Sequential, layers

model = Sequential()
model.add(layers.Input(shape=(30, 8)))
model.add(layers.GRU(32, return_sequences=True))
model.add(layers.GRU(16))
model.add(layers.Dense(1))
model.summary()
print(model.count_params())
