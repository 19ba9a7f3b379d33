import keras
from keras import layers

model = keras.Sequential([
    layers.Input(shape=(8,)),
    layers.Dense(4, activation="relu", name="first"),
    layers.Dense(2, name="second"),
])
print(model)
print(model.layers[0])
print(len(model.layers), "layers")
for layer in model.layers:
    print(layer.name, layer.count_params(), len(layer.get_weights()))
print(model.input_shape, model.output_shape)
print(model.get_layer("second").name)
model.summary()
