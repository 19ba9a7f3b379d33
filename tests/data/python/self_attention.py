import keras
from keras import layers

embed_dim = 32
inputs = keras.Input(shape=(20, embed_dim))
attn = layers.MultiHeadAttention(num_heads=2, key_dim=embed_dim)(inputs, inputs)
x = layers.Add()([inputs, attn])
x = layers.LayerNormalization(epsilon=1e-6)(x)
ffn = layers.Dense(64, activation="relu")(x)
ffn = layers.Dense(embed_dim)(ffn)
x = layers.Add()([x, ffn])
x = layers.LayerNormalization(epsilon=1e-6)(x)
x = layers.GlobalAveragePooling1D()(x)
outputs = layers.Dense(2, activation="softmax")(x)
model = keras.Model(inputs=inputs, outputs=outputs)
model.summary()
print(model.count_params())
