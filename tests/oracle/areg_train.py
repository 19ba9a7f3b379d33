"""Training goldens of the ActivityRegularization layer from real Keras 3 (JAX):
its l1/l2 penalty of its output, divided by the batch size, joins the loss in
fit() and evaluate(). Same case format as tests/oracle/seq_train_cases.py
(whose run_case writes them), under tests/golden/areg_train/; read by
tests/test_train_keras.c.
Run: python3 tests/oracle/areg_train.py
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import seq_train_cases as base  # noqa: E402  (sets up Keras on JAX)
import oracle_util  # noqa: E402

import keras  # noqa: E402
from keras import layers as L  # noqa: E402

T, F = base.T, base.F
CASES = [
    ("areg_dense_adam", lambda: [keras.Input((T, F)), L.Flatten(), L.Dense(5, activation="tanh"),
                                 L.ActivityRegularization(l1=0.01, l2=0.05), L.Dense(1)],
     "reals", "real1", "Adam(learning_rate=0.01)", "mse", ["mae"]),
    ("areg_lstm_seq_l1_sgd", lambda: [keras.Input((T, F)), L.LSTM(3, return_sequences=True),
                                      L.ActivityRegularization(l1=0.02), L.Flatten(),
                                      L.Dense(1, activation="sigmoid")],
     "reals", "binary", "SGD(learning_rate=0.1)", "binary_crossentropy", ["accuracy"]),
]


def main():
    base.OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden", "areg_train")
    for i, case in enumerate(CASES):
        base.run_case(i, case)
    oracle_util.write_case_list(base.OUT, [c[0] for c in CASES])


if __name__ == "__main__":
    main()
