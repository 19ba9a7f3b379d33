import keras
from keras import layers

left = keras.Input(shape=(32,), name="left")
right = keras.Input(shape=(32,), name="right")
encoder = layers.Dense(16, activation="relu", name="shared_encoder")
el = encoder(left)
er = encoder(right)
distance = layers.Dot(axes=1, normalize=True)([el, er])
output = layers.Dense(1, activation="sigmoid")(distance)
model = keras.Model([left, right], output)
model.summary()
print(model.count_params())
