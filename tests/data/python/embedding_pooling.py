from tensorflow import keras
from tensorflow.keras import layers

vocab_size = 10000
model = keras.Sequential([
    layers.Embedding(vocab_size, 16),
    layers.GlobalAveragePooling1D(),
    layers.Dense(16, activation='relu'),
    layers.Dense(1)
])
model.build((None, 100))
model.summary()
