import keras
s = "ab"
for i in range(40):
    s = s + s
