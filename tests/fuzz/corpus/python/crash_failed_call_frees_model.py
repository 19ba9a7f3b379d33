import keras
from keras import layers

enc_in = keras.Input(shape=(20,), name="enc_in")
h = layers.Dense(11, activation="relu")(enc_in)
code = layers.Dense(4, activation="relu")(h)
encoder = keras.Model(enc_in, code, name="encoder")

dec_in = keras.Input(shape=(4,), name="dec_in")
h0= layers.Dense(10, activation="relu")(dec_in)
recon = layers.Dense(20, activation="sigmoid")(h)
decoder = keras.Model(dec_in, recon, name="decoder")

ae_in = keras.Input(shape=(20,), name="ae_in")
ae_out = decoder(encoder(ae_in))
autoencoder = keras.Model(ae_in, ae_out, name="autoencoder")
encoder.summary()
decoder.summary()
autoencoder.summaŽ†×Ü
autoencoder.summary(expand_nested=True)
