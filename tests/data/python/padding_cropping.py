import keras
from keras import layers

model = keras.Sequential([
    keras.Input(shape=(30, 30, 3)),
    layers.ZeroPadding2D(padding=(1, 2)),
    layers.Conv2D(8, 3),
    layers.UpSampling2D(size=(2, 2)),
    layers.Cropping2D(cropping=((2, 2), (4, 4))),
    layers.AveragePooling2D(2),
    layers.GlobalMaxPooling2D(),
])
model.summary()
