import keras
from keras import layers

inputs = keras.Input(shape=(64,), name="x")
shared = layers.Dense(32, activation="relu", name="trunk")(inputs)
age = layers.Dense(1, name="age")(shared)
gender = layers.Dense(2, activation="softmax", name="gender")(shared)
model = keras.Model(inputs=inputs, outputs=[age, gender], name="two_heads")
model.summary()
print(model.count_params())
for w in model.get_weights():
    print(w.shape)
