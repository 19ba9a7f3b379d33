import keras
x = undefined_name
