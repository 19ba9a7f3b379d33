import keras
from keras import layers, regularizers

model = keras.Sequential([
    layers.Dense(64, activation="relu", kernel_regularizer=regularizers.l2(0.001), input_shape=(20,)),
    layers.Dense(64, activation="relu", kernel_regularizer=regularizers.L1L2(l1=1e-5, l2=1e-4)),
    layers.Dense(1, kernel_initializer="he_normal", bias_initializer="zeros"),
])
model.summary()
print(model.count_params())
