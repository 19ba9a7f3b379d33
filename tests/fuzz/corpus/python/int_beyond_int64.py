import keras
n = int(1e300)
m = keras.Sequential([keras.layers.Dense(int(-1e19), input_shape=(2,))])
