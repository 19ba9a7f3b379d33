from keras.models import Sequential
from keras.layers import SimpleRNN, Dense, Input

model = Sequential()
model.add(Input(shape=(None, 1)))
model.add(SimpleRNN(20, return_sequences=True))
model.add(SimpleRNN(20))
model.add(Dense(1))
model.summary()
for w in model.get_weights():
    print(w.shape)
