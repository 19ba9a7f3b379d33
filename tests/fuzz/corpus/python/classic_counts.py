# The classic model, then its counts and weight shapes.
from tensorflow.keras.models import Sequential
from tensorflow.keras.layers import Dense

model = Sequential([
    Dense(units=3, input_shape=(2,), activation='relu'),
    Dense(units=2, activation='softmax')
])
model.summary()
print(model.count_params())
for w in model.get_weights():
    print(w.shape)
