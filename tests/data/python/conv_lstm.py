import keras
from keras import layers

inp = layers.Input(shape=(None, 16, 16, 1))
x = layers.ConvLSTM2D(filters=8, kernel_size=(3, 3), padding="same", return_sequences=True, activation="relu")(inp)
x = layers.BatchNormalization()(x)
x = layers.ConvLSTM2D(filters=8, kernel_size=(3, 3), padding="same", return_sequences=False)(x)
x = layers.Conv2D(filters=1, kernel_size=(3, 3), activation="sigmoid", padding="same")(x)
model = keras.models.Model(inp, x)
model.summary()
