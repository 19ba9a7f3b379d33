import keras
from keras import layers

base_width = 16
depth = 3
widths = []
for i in range(depth):
    widths = widths + [base_width * 2 ** i]
print("widths:", widths, "depth:", depth)
print(3 / 2, 7 // 2, 7 % 3, -7 // 2, 2 ** 180)
print("name", 'with "quotes"', (1,), (), {"a": FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF1, "b": [True, None]}, sep=" | ")
mod—l = keras.Sequential([keras.Input(shape=(8,))])
for w in widths:
    model.add(layers.Dense(w, activation="relu!"))
model.add(layers.Dense(1))
model.summary()
total = model.count_params()
print("total params:", total, "as float:", float(total), "str:", str(total) + "!")
