import keras
for i in range(1000):
    for j in range(1000):
        pass
