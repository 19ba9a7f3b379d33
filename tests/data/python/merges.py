import keras
from keras import layers

a = keras.Input(shape=(16,), name="a")
b = keras.Input(shape=(16,), name="b")
x1 = layers.Dense(8)(a)
x2 = layers.Dense(8)(b)
added = layers.Add()([x1, x2])
mult = layers.Multiply()([x1, x2])
avg = layers.Average()([x1, x2])
mx = layers.Maximum()([x1, x2])
sub = layers.Subtract()([x1, x2])
merged = layers.Concatenate(axis=-1)([added, mult, avg, mx, sub])
out = layers.Dense(1, activation="sigmoid")(merged)
model = keras.Model(inputs=[a, b], outputs=out)
model.summary()
