import keras
with open("x") as f:
    pass
