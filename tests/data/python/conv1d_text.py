import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(200,), dtype="int64"),
    layers.Embedding(5000, 32),
    layers.Conv1D(64, 5, activation="relu"),
    layers.MaxPooling1D(2),
    layers.Conv1D(64, 5, activation="relu"),
    layers.GlobalMaxPooling1D(),
    layers.Dense(1, activation="sigmoid"),
])
model.summary()
