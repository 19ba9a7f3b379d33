import keras
print("unterminated)
