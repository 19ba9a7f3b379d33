import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(16,)),
    layers.Dense(16),
    layers.LeakyReLU(negative_slope=0.1),
    layers.Dense(16),
    layers.PReLU(),
    layers.Dense(16),
    layers.ELU(),
    layers.Dense(4),
    layers.Softmax(),
])
model.summary()
print(model.count_params())
