import keras
steps = list(range(1000))
for i in steps:
    for j in steps:
        pass
