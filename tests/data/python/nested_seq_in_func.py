import keras
from keras import layers

features = keras.Sequential(
    [layers.Dense(32, activation="relu"), layers.Dense(16, activation="relu")],
    name="features",
)
inputs = keras.Input(shape=(10,))
x = features(inputs)
outputs = layers.Dense(3, activation="softmax")(x)
model = keras.Model(inputs, outputs)
model.summary(expand_nested=True)
model.summary()
print(model.count_params())
