#!/usr/bin/env python3
"""Goldens for the "core" issue: Dense and the core/reshaping/merging layers,
Sequential and Functional models, summary() text, parameter counts, weights
and predictions, all produced by real Keras 3 (JAX backend).

Run from anywhere:  python3 tests/oracle/core_models.py [--only a,b] [--list]
Writes tests/golden/core/<case>/... and tests/golden/core/VERSIONS.json.
See tests/oracle/README.md for the layout.

Each case gets a fixed seed (keras.utils.set_random_seed) and a fresh
keras.backend.clear_session(), so auto names are those of a fresh process
("sequential", "dense", "dense_1", "functional", "input_layer", ...).
Seeds are fixed per case (not by position) so adding a case never changes
the goldens of the others.
"""

import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle_util as ou  # noqa: E402

ou.setup()

import argparse  # noqa: E402
import json  # noqa: E402
import subprocess  # noqa: E402
import warnings  # noqa: E402

import numpy as np  # noqa: E402
import keras  # noqa: E402
from keras import layers  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
DEFAULT_OUT = os.path.join(REPO, "tests", "golden", "core")
BATCH = 4

# Summary variants.  Every case gets STD; cases add more.
STD = [
    {},
    {"line_length": 100},
    {"line_length": 60},
    {"show_trainable": True},
]
COLS200 = {"columns": 200}
COLS200_T = {"columns": 200, "show_trainable": True}
POS_A = {"positions": [0.5, 0.7, 1.0]}
POS_B = {"positions": [0.4, 0.6, 0.9]}
POS_B_T = {"positions": [0.4, 0.6, 0.9], "show_trainable": True}
FPOS_A = {"positions": [0.25, 0.5, 0.65, 1.0]}
FPOS_B = {"positions": [0.2, 0.5, 0.6, 0.9]}
NESTED = {"expand_nested": True}
NESTED_T = {"expand_nested": True, "show_trainable": True}
NESTED_200 = {"expand_nested": True, "columns": 200}

CASES = []


def case(name, seed, description, extra=(), std=True):
    def deco(fn):
        assert name not in [c["name"] for c in CASES], name
        assert seed not in [c["seed"] for c in CASES], (name, seed)
        CASES.append(
            {
                "name": name,
                "seed": seed,
                "description": description,
                "summaries": (list(STD) if std else []) + list(extra),
                "fn": fn,
            }
        )
        return fn

    return deco


def seq_classic(first_kw=None):
    first_kw = first_kw or {}
    return keras.Sequential(
        [
            keras.Input((2,)),
            layers.Dense(3, activation="relu", **first_kw),
            layers.Dense(2, activation="softmax"),
        ]
    )


# ---------------------------------------------------------------- classic

@case(
    "classic",
    1,
    "KERAS-SPEC 1.12 example: Sequential([Input((2,)), Dense(3, relu), Dense(2, softmax)])",
    extra=[
        COLS200,
        {"columns": 92},
        COLS200_T,
        {"line_length": 100, "columns": 200},
        {"line_length": 120, "show_trainable": True, "columns": 200},
        POS_A,
        POS_B,
        POS_B_T,
        {"positions": [0.5, 0.7, 1.0], "columns": 200},
        {"layer_range": ["dense_1", "dense_1"]},
        {"layer_range": ["dense_1", "dense"]},
        {"line_length": 40},
        {"line_length": 30},
        {"line_length": 200, "columns": 250},
        {"columns": 40},
        {"line_length": 10},
    ],
)
def _classic():
    return {"model": seq_classic()}


@case(
    "classic_input_shape",
    2,
    "classic built with the input_shape= kwarg on the first Dense (Keras warns but accepts it)",
    extra=[COLS200],
)
def _classic_input_shape():
    m = keras.Sequential(
        [
            layers.Dense(3, input_shape=(2,), activation="relu"),
            layers.Dense(2, activation="softmax"),
        ]
    )
    return {"model": m}


@case(
    "classic_frozen",
    3,
    "classic with the first Dense trainable=False",
    extra=[
        {"line_length": 100, "show_trainable": True},
        {"line_length": 100, "show_trainable": True, "columns": 200},
        COLS200_T,
        POS_B_T,
    ],
)
def _classic_frozen():
    return {"model": seq_classic({"trainable": False})}


@case(
    "classic_compiled",
    4,
    "classic compiled with Adam but optimizer not built: no Optimizer params line",
)
def _classic_compiled():
    m = seq_classic()
    m.compile(optimizer=keras.optimizers.Adam(), loss="categorical_crossentropy")
    return {"model": m}


def _compiled_built(opt, frozen=False):
    m = seq_classic({"trainable": False} if frozen else None)
    m.compile(optimizer=opt, loss="categorical_crossentropy")
    m.optimizer.build(m.trainable_variables)
    return {"model": m}


@case(
    "classic_adam",
    5,
    "classic compiled with Adam(), optimizer built: Optimizer params line",
    extra=[COLS200, COLS200_T],
)
def _classic_adam():
    return _compiled_built(keras.optimizers.Adam())


@case("classic_sgd", 6, "classic compiled with SGD(), optimizer built (no slots)")
def _classic_sgd():
    return _compiled_built(keras.optimizers.SGD())


@case("classic_sgd_momentum", 7, "classic compiled with SGD(momentum=0.9), optimizer built")
def _classic_sgd_momentum():
    return _compiled_built(keras.optimizers.SGD(momentum=0.9))


@case(
    "classic_frozen_adam",
    8,
    "classic, first Dense frozen, Adam built (slots only for trainable vars)",
    extra=[{"line_length": 100, "show_trainable": True}],
)
def _classic_frozen_adam():
    return _compiled_built(keras.optimizers.Adam(), frozen=True)


@case(
    "frozen_model",
    9,
    "classic with model.trainable = False",
    extra=[{"line_length": 100, "show_trainable": True}],
)
def _frozen_model():
    m = seq_classic()
    m.trainable = False
    return {"model": m}


# ---------------------------------------------------------------- big

@case(
    "mlp_big",
    10,
    "MNIST MLP 784-128-64-10: thousands separators and KB",
    extra=[COLS200, COLS200_T],
)
def _mlp_big():
    m = keras.Sequential(
        [
            keras.Input((784,)),
            layers.Dense(128, activation="relu"),
            layers.Dense(64, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )
    return {"model": m}


@case(
    "mlp_huge",
    11,
    "Dense(1000) on 1000 inputs (1,001,000 params, MB sizes). Weights are not "
    "saved (4 MB); they are Constant initializers fully given by config.json",
    extra=[COLS200, COLS200_T],
)
def _mlp_huge():
    m = keras.Sequential(
        [
            keras.Input((1000,)),
            layers.Dense(
                1000,
                activation="relu",
                kernel_initializer=keras.initializers.Constant(0.001),
                bias_initializer=keras.initializers.Constant(0.01),
            ),
            layers.Dense(
                3,
                kernel_initializer=keras.initializers.Constant(-0.002),
                bias_initializer=keras.initializers.Constant(0.5),
            ),
        ]
    )
    return {"model": m, "save_weights": False}


# ---------------------------------------------------------------- activations

ACTIVATIONS = [
    "relu", "sigmoid", "softmax", "tanh", "linear", "elu", "selu", "gelu",
    "silu", "swish", "softplus", "softsign", "relu6", "leaky_relu",
    "hard_sigmoid", "hard_silu", "mish", "log_softmax", "exponential",
]
ACTIVATIONS_EXTRA = [
    "hard_swish", "celu", "hard_tanh", "hard_shrink", "soft_shrink",
    "tanh_shrink", "log_sigmoid", "sparse_plus", "squareplus", "sparsemax",
    "sparse_sigmoid",
]


def _activation_branches(names, dense):
    inp = keras.Input((8,))
    outs = []
    for a in names:
        if dense:
            outs.append(layers.Dense(4, activation=a)(inp))
        else:
            outs.append(layers.Activation(a)(inp))
    return keras.Model(inp, outs)


@case(
    "activations",
    20,
    "one Activation layer per branch on one (None, 8) input, outputs in the "
    "order " + ", ".join(ACTIVATIONS) + "; x is scaled by 3",
    extra=[COLS200],
)
def _activations():
    return {
        "model": _activation_branches(ACTIVATIONS, False),
        "x_scale": 3.0,
        "notes": ["'swish' serializes as 'silu' in config.json."],
    }


@case(
    "activations_extra",
    21,
    "Activation layers for the less common activations, outputs in the order "
    + ", ".join(ACTIVATIONS_EXTRA)
    + "; x is scaled by 3",
)
def _activations_extra():
    return {
        "model": _activation_branches(ACTIVATIONS_EXTRA, False),
        "x_scale": 3.0,
        "notes": [
            "Activation('glu') is left out: it halves the last axis at call time "
            "(predict gives (4, 4)) while Activation.compute_output_shape returns "
            "the input shape, so summary() says (None, 8); ckeras refuses it.",
            "Activation('threshold') is left out: it needs threshold/default_value "
            "arguments and fails when called through Activation.",
            "'hard_swish' serializes as 'hard_silu' (and 'swish' as 'silu') in config.json.",
        ],
    }


@case(
    "dense_activations",
    22,
    "Dense(4, activation=a) per branch on one (None, 8) input, outputs in the order "
    + ", ".join(ACTIVATIONS),
)
def _dense_activations():
    return {"model": _activation_branches(ACTIVATIONS, True), "x_scale": 2.0}


@case(
    "activation_layers",
    23,
    "advanced activation layers on (None, 3, 4): ReLU, ReLU(max_value=6, "
    "negative_slope=0.1, threshold=0.5), LeakyReLU(0.2), Softmax(axis=-1), "
    "Softmax(axis=1), ELU(0.5), PReLU(random_uniform alpha), "
    "PReLU(shared_axes=[1])",
)
def _activation_layers():
    inp = keras.Input((3, 4))
    outs = [
        layers.ReLU()(inp),
        layers.ReLU(max_value=6.0, negative_slope=0.1, threshold=0.5)(inp),
        layers.LeakyReLU(negative_slope=0.2)(inp),
        layers.Softmax(axis=-1)(inp),
        layers.Softmax(axis=1)(inp),
        layers.ELU(alpha=0.5)(inp),
        layers.PReLU(alpha_initializer="random_uniform")(inp),
        layers.PReLU(alpha_initializer="random_uniform", shared_axes=[1])(inp),
    ]
    return {"model": keras.Model(inp, outs), "x_scale": 4.0}


# ---------------------------------------------------------------- core layers

def _seq(*ls, **kw):
    return keras.Sequential(list(ls), **kw)


@case("dropout", 30, "Dense, Dropout(0.5), Dense (Dropout is identity at inference)")
def _dropout():
    return {
        "model": _seq(
            keras.Input((5,)),
            layers.Dense(4, activation="relu"),
            layers.Dropout(0.5),
            layers.Dense(2),
        )
    }


@case("flatten", 31, "Flatten on (None, 3, 4) then Dense")
def _flatten():
    return {"model": _seq(keras.Input((3, 4)), layers.Flatten(), layers.Dense(2))}


@case("reshape", 32, "Reshape((3, -1)) on (None, 12), Dense(2), Reshape((-1,))")
def _reshape():
    return {
        "model": _seq(
            keras.Input((12,)),
            layers.Reshape((3, -1)),
            layers.Dense(2),
            layers.Reshape((-1,)),
        )
    }


@case("permute", 33, "Permute((2, 1)) on (None, 3, 4) then Dense(2)")
def _permute():
    return {"model": _seq(keras.Input((3, 4)), layers.Permute((2, 1)), layers.Dense(2))}


@case("permute_4d", 34, "Permute((3, 1, 2)) on (None, 2, 3, 4) then Dense(2)")
def _permute_4d():
    return {
        "model": _seq(keras.Input((2, 3, 4)), layers.Permute((3, 1, 2)), layers.Dense(2))
    }


@case("repeat_vector", 35, "RepeatVector(4) on (None, 3) then Dense(2)")
def _repeat_vector():
    return {"model": _seq(keras.Input((3,)), layers.RepeatVector(4), layers.Dense(2))}


@case("identity", 36, "Identity then Dense(2)")
def _identity():
    return {"model": _seq(keras.Input((3,)), layers.Identity(), layers.Dense(2))}


@case("activation_layer", 37, "Dense(4) then Activation('tanh') in a Sequential")
def _activation_layer():
    return {
        "model": _seq(keras.Input((3,)), layers.Dense(4), layers.Activation("tanh"))
    }


@case("dense_3d", 38, "Dense(3) on (None, 5, 4)")
def _dense_3d():
    return {"model": _seq(keras.Input((5, 4)), layers.Dense(3, activation="relu"))}


@case("dense_4d", 39, "Dense(3, use_bias=False) on (None, 2, 3, 4)")
def _dense_4d():
    return {"model": _seq(keras.Input((2, 3, 4)), layers.Dense(3, use_bias=False))}


@case(
    "dense_options",
    40,
    "Dense config variety: use_bias=False, he_normal/ones initializers, "
    "lecun_uniform with seed, explicit dtype float32",
)
def _dense_options():
    return {
        "model": _seq(
            keras.Input((6,)),
            layers.Dense(5, use_bias=False, activation="tanh"),
            layers.Dense(4, kernel_initializer="he_normal", bias_initializer="ones"),
            layers.Dense(
                3,
                kernel_initializer=keras.initializers.LecunUniform(seed=7),
                bias_initializer=keras.initializers.Constant(0.1),
                dtype="float32",
                activation="sigmoid",
            ),
        )
    }


@case(
    "core_all",
    41,
    "every core layer chained in one Sequential on (None, 3, 4)",
    extra=[COLS200_T, {"layer_range": ["flatten_1", "repeat"]}],
)
def _core_all():
    return {
        "model": _seq(
            keras.Input((3, 4)),
            layers.Flatten(),
            layers.Dense(8, activation="relu"),
            layers.Dropout(0.25),
            layers.Reshape((2, 4)),
            layers.Permute((2, 1)),
            layers.Flatten(),
            layers.Identity(),
            layers.RepeatVector(2),
            layers.Dense(3, activation="tanh"),
            layers.Activation("softmax"),
        )
    }


@case(
    "unbuilt_sequential",
    42,
    "Sequential([Dense(3), Dense(2)]) without an input: '?' shapes and '0 (unbuilt)'; "
    "no weights, inputs or predictions",
    extra=[COLS200],
)
def _unbuilt():
    m = _seq(layers.Dense(3), layers.Dense(2))
    return {"model": m, "save_weights": False, "predict": False}


@case(
    "empty_sequential",
    43,
    "Sequential([Input((3,))]) with no layers: header then bottom rule; no predictions "
    "(Keras 3.15 predict() raises on it)",
)
def _empty():
    return {"model": _seq(keras.Input((3,))), "predict": False}


# ---------------------------------------------------------------- functional

@case(
    "functional_spec",
    50,
    "KERAS-SPEC 1.12 functional example: in_a and an unnamed input, d1, dense, add, "
    "concatenate, dense_1",
    extra=[
        COLS200,
        COLS200_T,
        {"line_length": 100, "columns": 200},
        FPOS_A,
        FPOS_B,
        dict(FPOS_B, show_trainable=True),
        {"layer_range": ["d1", "add"]},
        {"layer_range": ["concatenate", "in_a"]},
        {"line_length": 40},
        {"columns": 60},
    ],
)
def _functional_spec():
    a = keras.Input((4,), name="in_a")
    b = keras.Input((4,))
    x1 = layers.Dense(8, name="d1")(a)
    x2 = layers.Dense(8)(b)
    s = layers.Add()([x1, x2])
    c = layers.Concatenate()([x1, s])
    out = layers.Dense(1)(c)
    return {"model": keras.Model(inputs=[a, b], outputs=out)}


@case(
    "multi_output",
    51,
    "one input, shared trunk Dense(8, relu), two heads head_a Dense(2, softmax) "
    "and head_b Dense(1)",
    extra=[COLS200],
)
def _multi_output():
    inp = keras.Input((4,), name="features")
    h = layers.Dense(8, activation="relu", name="trunk")(inp)
    a = layers.Dense(2, activation="softmax", name="head_a")(h)
    b = layers.Dense(1, name="head_b")(h)
    return {"model": keras.Model(inp, [a, b])}


def _merge_model(merge_layer, shapes, dense_units=3):
    ins = [keras.Input(s, name="in_%d" % i) for i, s in enumerate(shapes)]
    m = merge_layer(ins)
    out = layers.Dense(dense_units)(m)
    return keras.Model(ins, [m, out])


for _i, (_cls, _n) in enumerate(
    [
        ("Add", 2),
        ("Subtract", 2),
        ("Multiply", 2),
        ("Average", 2),
        ("Maximum", 2),
        ("Minimum", 2),
        ("Add", 3),
        ("Multiply", 3),
        ("Average", 3),
        ("Maximum", 3),
        ("Minimum", 3),
    ]
):

    def _make(cls=_cls, n=_n):
        def fn():
            return {"model": _merge_model(getattr(layers, cls)(), [(4,)] * n)}

        return fn

    case(
        "merge_%s%s" % (_cls.lower(), "" if _n == 2 else str(_n)),
        60 + _i,
        "%s() of %d (None, 4) inputs; outputs [merge, Dense(3)(merge)]" % (_cls, _n),
    )(_make())


@case(
    "concatenate",
    80,
    "Concatenate(axis=-1) of (None, 3) and (None, 5); outputs [concat, Dense(3)(concat)]",
)
def _concatenate():
    return {"model": _merge_model(layers.Concatenate(axis=-1), [(3,), (5,)])}


@case(
    "concatenate_axis1",
    81,
    "Concatenate(axis=1) of (None, 2, 4) and (None, 3, 4) -> (None, 5, 4); "
    "outputs [concat, Dense(3)(concat)]",
)
def _concatenate_axis1():
    return {"model": _merge_model(layers.Concatenate(axis=1), [(2, 4), (3, 4)])}


@case("dot", 82, "Dot(axes=1) of two (None, 4); outputs [dot, Dense(3)(dot)]")
def _dot():
    return {"model": _merge_model(layers.Dot(axes=1), [(4,), (4,)])}


@case(
    "dot_normalize",
    83,
    "Dot(axes=1, normalize=True) (cosine similarity) of two (None, 4)",
)
def _dot_normalize():
    return {"model": _merge_model(layers.Dot(axes=1, normalize=True), [(4,), (4,)])}


@case("dot_3d", 84, "Dot(axes=2) of (None, 3, 4) and (None, 5, 4) -> (None, 3, 5)")
def _dot_3d():
    return {"model": _merge_model(layers.Dot(axes=2), [(3, 4), (5, 4)])}


@case(
    "shared_layer",
    85,
    "one Dense(3) called on two inputs (node indices [1][0]), concatenated, Dense(1)",
    extra=[COLS200, COLS200_T],
)
def _shared_layer():
    a = keras.Input((4,), name="left")
    b = keras.Input((4,), name="right")
    shared = layers.Dense(3, activation="relu")
    c = layers.Concatenate()([shared(a), shared(b)])
    out = layers.Dense(1)(c)
    return {"model": keras.Model([a, b], out)}


@case(
    "shared_sequential_like",
    86,
    "one Dense(4) called twice in a chain Input -> dense -> dense (shared layer "
    "makes the model non-sequential-like)",
)
def _shared_chain():
    inp = keras.Input((4,))
    d = layers.Dense(4, activation="tanh")
    out = d(d(inp))
    return {"model": keras.Model(inp, out)}


@case(
    "sequential_like_functional",
    87,
    "Functional Input -> Dense(4, relu) -> Dense(2): 3-column layout with an InputLayer row",
    extra=[COLS200, COLS200_T],
)
def _seq_like_functional():
    inp = keras.Input((3,))
    x = layers.Dense(4, activation="relu")(inp)
    out = layers.Dense(2)(x)
    return {"model": keras.Model(inp, out)}


NAME_NOTE = (
    "Every built Sequential creates an internal Functional that takes the next "
    "'functional' auto name (and its Input an 'input_layer' name), so a Functional "
    "built after it is named 'functional_1' (or later) even in a fresh process."
)

@case(
    "nested_seq_in_func",
    88,
    "Functional: Input(4) -> Dense(4) -> Sequential([Input(4), Dense(3, relu), Dense(2)]) -> Dense(1)",
    extra=[NESTED, NESTED_T, NESTED_200, dict(NESTED, line_length=100)],
)
def _nested_seq_in_func():
    inner = keras.Sequential(
        [keras.Input((4,)), layers.Dense(3, activation="relu"), layers.Dense(2)]
    )
    inp = keras.Input((4,))
    x = layers.Dense(4)(inp)
    x = inner(x)
    out = layers.Dense(1)(x)
    return {"model": keras.Model(inp, out), "notes": [NAME_NOTE]}


@case(
    "nested_seq_input_shape",
    93,
    "Sequential([Dense(3, input_shape=(4,), relu), Dense(2)]) nested in a Functional: its InputLayer "
    "is made when the first layer is added (input_layer), so the outer Input is input_layer_1 and "
    "the model functional_1",
    extra=[NESTED],
)
def _nested_seq_input_shape():
    inner = keras.Sequential([layers.Dense(3, input_shape=(4,), activation="relu"), layers.Dense(2)])
    inp = keras.Input((4,))
    out = layers.Dense(1)(inner(layers.Dense(4)(inp)))
    return {"model": keras.Model(inp, out), "notes": [NAME_NOTE]}


@case(
    "nested_seq_in_seq",
    89,
    "Sequential([Input(4), Dense(3), Sequential([Dense(3, relu), Dense(2)]), Dense(1)])",
    extra=[NESTED, NESTED_T, NESTED_200, dict(NESTED, line_length=100)],
)
def _nested_seq_in_seq():
    inner = keras.Sequential([layers.Dense(3, activation="relu"), layers.Dense(2)])
    m = keras.Sequential([keras.Input((4,)), layers.Dense(3), inner, layers.Dense(1)])
    return {"model": m}


@case(
    "nested_func_in_func",
    90,
    "Functional containing a Functional (name 'encoder') with two Denses",
    extra=[NESTED, NESTED_T, NESTED_200],
)
def _nested_func_in_func():
    ii = keras.Input((5,))
    h = layers.Dense(4, activation="relu")(ii)
    h = layers.Dense(3)(h)
    enc = keras.Model(ii, h, name="encoder")
    inp = keras.Input((5,))
    z = enc(inp)
    out = layers.Dense(2, activation="softmax")(z)
    return {"model": keras.Model(inp, out)}


@case(
    "nested_deep",
    91,
    "Functional > Sequential 'outer_seq' > Sequential 'inner_seq' (two nesting levels), "
    "plus a second input branch",
    extra=[NESTED, NESTED_T, NESTED_200, dict(NESTED, line_length=120, columns=200)],
)
def _nested_deep():
    inner = keras.Sequential(
        [layers.Dense(4, activation="relu"), layers.Dense(3)], name="inner_seq"
    )
    outer = keras.Sequential([layers.Dense(5), inner], name="outer_seq")
    a = keras.Input((6,), name="a")
    b = keras.Input((3,), name="b")
    x = outer(a)
    y = layers.Add()([x, b])
    out = layers.Dense(2)(y)
    return {"model": keras.Model([a, b], out), "notes": [NAME_NOTE]}


@case(
    "nested_frozen",
    92,
    "Sequential containing a frozen Sequential (inner.trainable = False)",
    extra=[NESTED, NESTED_T, dict(NESTED_T, columns=200)],
)
def _nested_frozen():
    inner = keras.Sequential(
        [layers.Dense(4, activation="relu"), layers.Dropout(0.1), layers.Dense(3)],
        name="frozen_block",
    )
    m = keras.Sequential([keras.Input((5,)), inner, layers.Dense(2)])
    inner.trainable = False
    return {"model": m}


# ---------------------------------------------------------------- names

LONG = "a_very_long_layer_name_that_surely_exceeds_the_column_width_ok"


@case(
    "long_names",
    100,
    "long layer names: ellipsis of a single long word, wrapping at spaces, and a long model name",
    extra=[COLS200, COLS200_T, POS_B, {"line_length": 40}],
)
def _long_names():
    m = keras.Sequential(
        [
            keras.Input((3,)),
            layers.Dense(4, name=LONG),
            layers.Dense(4, name="medium_sized_name_wraps"),
            layers.Dense(4, name="name with several spaces that must wrap around"),
            layers.Dropout(0.1, name="exactly_thirty_one_chars_ab"),
            layers.Dense(2, name="x"),
        ],
        name="a_sequential_model_with_a_rather_long_name_to_see_how_the_title_line_wraps_or_not",
    )
    return {"model": m}


@case(
    "long_names_functional",
    101,
    "functional with long input/layer names: Connected to cells ellipsize and wrap",
    extra=[COLS200, FPOS_A],
)
def _long_names_functional():
    a = keras.Input((3,), name="first_input_with_a_long_name")
    b = keras.Input((3,), name="second_input_with_an_even_longer_name_xyz")
    x = layers.Dense(4, name="projection_of_first_input_to_four")(a)
    y = layers.Dense(4, name="projection of second input")(b)
    c = layers.Concatenate(name="concatenate_the_two_projections_together")([x, y, x])
    out = layers.Dense(1, name="o")(c)
    return {"model": keras.Model([a, b], out, name="model_with_long_names")}


@case(
    "unicode_names",
    102,
    "non-ASCII names: accented Latin (1 cell per char) and CJK (2 cells per char)",
    extra=[COLS200],
)
def _unicode_names():
    m = keras.Sequential(
        [
            keras.Input((2,)),
            layers.Dense(3, name="ünïcödé"),
            layers.Dense(3, name="名前"),
            layers.Dense(2, name="層の名前がとても長い場合はどうなるでしょうか"),
        ]
    )
    return {"model": m}


# ---------------------------------------------------------------- runner

def make_inputs(model, seed, scale):
    rng = np.random.default_rng(10_000 + seed)
    xs = []
    for t in model.inputs:
        shape = (BATCH,) + tuple(int(d) for d in t.shape[1:])
        xs.append((rng.standard_normal(shape) * scale).astype(np.float32))
    return xs


def run_case(c, out_root):
    name = c["name"]
    keras.backend.clear_session()
    keras.utils.set_random_seed(c["seed"])
    with warnings.catch_warnings(record=True) as wlist:
        warnings.simplefilter("always")
        r = c["fn"]()
    model = r["model"]
    d = os.path.join(out_root, name)
    ou.reset_dir(d)

    meta = {
        "name": name,
        "seed": c["seed"],
        "description": c["description"],
        "model_name": model.name,
        "model_class": model.__class__.__name__,
        "warnings": sorted({str(w.message) for w in wlist}),
        "notes": r.get("notes", []),
    }

    # config.json: exactly model.to_json()
    ou.write_text(os.path.join(d, "config.json"), model.to_json())

    # summaries
    entries, errors, used = [], [], set()
    for spec in c["summaries"]:
        spec = ou.norm_spec(spec)
        try:
            text, cells = ou.capture_summary(model, spec)
        except ValueError as e:
            errors.append(dict(spec, error="ValueError", message=str(e)))
            continue
        fname = ou.summary_filename(spec, used)
        ou.write_text(os.path.join(d, fname), text)
        entry = {"file": fname}
        entry.update(spec)
        entry["header"] = cells.get("header")
        entry["requested_widths"] = cells.get("widths")
        entry["rows"] = cells.get("rows")
        entries.append(entry)
    ou.write_json(os.path.join(d, "summaries.json"), entries)
    if errors:
        meta["summary_errors"] = errors

    # counts
    ou.write_json(os.path.join(d, "counts.json"), ou.counts(model))

    # weights
    save_weights = r.get("save_weights", True)
    meta["weights_saved"] = save_weights
    meta["weights"] = []
    if save_weights:
        ws = model.get_weights()
        if ws:
            os.makedirs(os.path.join(d, "weights"))
        for i, w in enumerate(ws):
            assert w.dtype == np.float32, (name, i, w.dtype)
            fn = "weights/%d.npy" % i
            np.save(os.path.join(d, fn), w)
            meta["weights"].append(fn)

    # inputs and predictions
    meta["inputs"], meta["outputs"] = [], []
    if r.get("predict", True):
        xs = make_inputs(model, c["seed"], r.get("x_scale", 1.0))
        meta["x_scale"] = r.get("x_scale", 1.0)
        xnames = ["x.npy"] if len(xs) == 1 else ["x%d.npy" % i for i in range(len(xs))]
        for fn, x in zip(xnames, xs):
            np.save(os.path.join(d, fn), x)
        ys = model.predict(xs[0] if len(xs) == 1 else xs, verbose=0, batch_size=BATCH)
        multi = isinstance(ys, (list, tuple))
        if not multi:
            ys = [ys]
        ynames = ["y.npy"] if not multi else ["y%d.npy" % i for i in range(len(ys))]
        for fn, y in zip(ynames, ys):
            y = np.asarray(y)
            assert y.dtype == np.float32, (name, y.dtype)
            np.save(os.path.join(d, fn), y)
        meta["inputs"], meta["outputs"] = xnames, ynames
        meta["output_shapes"] = [list(np.asarray(y).shape) for y in ys]
    ou.write_json(os.path.join(d, "case.json"), meta)
    return meta


CLASSIC_SUBPROCESS = r"""
import os
os.environ["KERAS_BACKEND"] = "jax"
import keras
from keras import layers
keras.utils.set_random_seed(1)
m = keras.Sequential([keras.Input((2,)), layers.Dense(3, activation="relu"),
                      layers.Dense(2, activation="softmax")])
m.summary()
"""


def selfcheck_classic(out_root):
    """The in-process capture must equal what a fresh process prints to a pipe."""
    env = dict(os.environ)
    env.pop("COLUMNS", None)
    p = subprocess.run(
        [sys.executable, "-c", CLASSIC_SUBPROCESS],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
        check=True,
    )
    with open(os.path.join(out_root, "classic", "summary.txt"), "rb") as f:
        golden = f.read()
    if p.stdout != golden:
        raise SystemExit("selfcheck: classic summary differs from a piped fresh process")
    print("selfcheck: classic/summary.txt == fresh process piped stdout (%d bytes)" % len(golden))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", default=DEFAULT_OUT)
    ap.add_argument("--only", default="", help="comma-separated case names")
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()
    if args.list:
        for c in CASES:
            print("%-28s seed %-4d %s" % (c["name"], c["seed"], c["description"]))
        return
    only = [s for s in args.only.split(",") if s]
    unknown = set(only) - {c["name"] for c in CASES}
    if unknown:
        raise SystemExit("unknown cases: %s" % ", ".join(sorted(unknown)))
    os.makedirs(args.out, exist_ok=True)
    todo = [c for c in CASES if not only or c["name"] in only]
    for c in todo:
        meta = run_case(c, args.out)
        print("%-28s %s" % (c["name"], "ok" + (" (%d summary errors)" % len(meta.get("summary_errors", [])) if meta.get("summary_errors") else "")))
    if not only:
        # drop case directories of cases that no longer exist
        names = {c["name"] for c in CASES}
        for entry in sorted(os.listdir(args.out)):
            p = os.path.join(args.out, entry)
            if os.path.isdir(p) and entry not in names and os.path.exists(os.path.join(p, "case.json")):
                ou.reset_dir(p)
                os.rmdir(p)
                print("removed stale case", entry)
    # The index lists CASES, whatever ran, so a new case can be made with --only.
    ou.write_json(
        os.path.join(args.out, "index.json"),
        [{"name": c["name"], "seed": c["seed"], "description": c["description"]} for c in CASES],
    )
    ou.write_json(os.path.join(args.out, "VERSIONS.json"), ou.versions())
    if not only or "classic" in only:
        selfcheck_classic(args.out)


if __name__ == "__main__":
    main()
