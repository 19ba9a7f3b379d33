import keras
print(f"{keras}")
