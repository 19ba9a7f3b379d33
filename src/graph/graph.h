/*
 * The model graph: layer classes (one table entry per Keras class), layers with
 * their configs and weights, nodes of a functional graph, and models. Everything
 * else (counts, summary, engine, files) reads these structures; nothing re-derives
 * a layer's parameters by a separate formula.
 */
#ifndef CK_GRAPH_H
#define CK_GRAPH_H

#include "core/core.h"

#include <stdatomic.h>
#include "kernels/activations.h"

typedef struct ck_run ck_run; /* what a layer hook sees of the pass that runs it (engine/run.h) */
struct ck_tensor;

/* ---- config values ---------------------------------------------------------- */
#define CK_STR_MAX 64
#define CK_NAME_MAX 256 /* layer and model names (Keras allows long ones) */
#define CK_INT_NULL INT64_MIN /* a nullable int field holding Keras's None */

typedef struct ck_ints {   /* a tuple such as kernel_size=(3, 3); null when is_null */
    int n;
    bool is_null;
    int64_t v[CK_MAX_RANK];
} ck_ints;

typedef enum ck_init_kind {
    CK_INIT_ZEROS, CK_INIT_ONES, CK_INIT_CONSTANT, CK_INIT_RANDOM_UNIFORM,
    CK_INIT_RANDOM_NORMAL, CK_INIT_TRUNCATED_NORMAL, CK_INIT_VARIANCE_SCALING,
    CK_INIT_GLOROT_UNIFORM, CK_INIT_GLOROT_NORMAL, CK_INIT_HE_UNIFORM, CK_INIT_HE_NORMAL,
    CK_INIT_LECUN_UNIFORM, CK_INIT_LECUN_NORMAL, CK_INIT_ORTHOGONAL, CK_INIT_IDENTITY,
    CK_INIT_COUNT
} ck_init_kind;

typedef enum ck_fan_mode { CK_FAN_IN, CK_FAN_OUT, CK_FAN_AVG } ck_fan_mode;
typedef enum ck_distribution { CK_DIST_UNIFORM, CK_DIST_TRUNCATED_NORMAL, CK_DIST_NORMAL } ck_distribution;

typedef struct ck_init {   /* an initializer with its Keras config */
    ck_init_kind kind;
    double a, b;            /* minval/maxval, mean/stddev, value (a), gain (a), scale (a) */
    ck_fan_mode mode;       /* VarianceScaling                                          */
    ck_distribution distribution;
    bool has_seed;
    int64_t seed;
    /* values [ones_begin, ones_end) become 1 after filling: an LSTM bias with
     * unit_forget_bias (Keras concatenates init(u), ones(u), init(2u)) */
    int64_t ones_begin, ones_end;
} ck_init;

/* ---- the field table: one codec reads kwargs and JSON and writes JSON --------- */
typedef enum ck_field_type {
    CK_FT_INT,    /* int64_t; CK_INT_NULL when nullable and None                 */
    CK_FT_FLOAT,  /* double; NAN when nullable and None                          */
    CK_FT_BOOL,   /* bool                                                        */
    CK_FT_STR,    /* char[CK_STR_MAX]; "" when nullable and None                 */
    CK_FT_INTS,   /* ck_ints; a bare int is repeated `arity` times               */
    CK_FT_SHAPE,  /* ck_shape of a tuple whose items may be None                 */
    CK_FT_ACT,    /* ck_act                                               */
    CK_FT_INIT,   /* ck_init                                                     */
    CK_FT_JSON    /* char *: raw JSON kept for the round trip (regularizers...)  */
} ck_field_type;

enum {
    CK_FF_NULLABLE = 1, /* accepts None                                         */
    CK_FF_REQUIRED = 2, /* no default: the user must give it                    */
    CK_FF_SERIALIZE_INT = 4, /* INTS written as a bare int (Keras keeps an int) */
    CK_FF_OMIT_NULL = 8, /* written only when set: Keras's base Layer.get_config adds
                            activity_regularizer only when it is not None        */
    CK_FF_MINUS1 = 16,   /* SHAPE: an unknown dim is written -1 (Reshape keeps it) */
    CK_FF_NONE_ITEMS = 32, /* INTS: items may be None (CK_NONE), as EinsumDense's
                              output_shape=(None, 4) keeps the input's size there */
};

typedef struct ck_field {
    const char *name;             /* Keras's keyword, also the JSON key          */
    ck_field_type type;
    size_t offset;                /* into the class's config struct             */
    const char *def;              /* default as a Python/JSON literal; NULL = required */
    int arity;                    /* INTS: tuple length, 0 = any                 */
    unsigned flags;
    const char *const *choices;   /* STR: allowed values, NULL-terminated        */
} ck_field;

/* CK_FIELD(struct, member, type, default[, arity, flags, choices]) */
#define CK_FIELD(type_, member, ftype, def_, ...) \
    {.name = #member, .type = ftype, .offset = offsetof(type_, member), .def = def_, __VA_ARGS__}

/* ---- layer classes ------------------------------------------------------------ */
/* Keras's timestep masks, [rows, steps] of 0/1 floats: none, input 0's mask passed
 * through, or a new one the layer writes (Embedding(mask_zero), Masking). The
 * merges write one only when their inputs have masks (keras/src/layers/merging/):
 * CK_MASK_ALL when every input has one (Merge.compute_mask: None if any is None),
 * CK_MASK_ANY when at least one has (Concatenate.compute_mask: None if all are). */
typedef enum ck_mask_mode { CK_MASK_NONE, CK_MASK_PASS, CK_MASK_NEW, CK_MASK_ALL, CK_MASK_ANY } ck_mask_mode;

/* A child of a layer in Keras 3's saved-state tree (saving_lib._save_state walks
 * a layer's attributes: an RNN's `cell`, Bidirectional's `forward_layer`,
 * MultiHeadAttention's `query_dense`). It holds the layer's weights named
 * "<scope>/...", scope being `scope` or, when that is NULL, the name of
 * sublayers[sublayer], whose own tree then continues below; its vars group
 * records the scope as its name (a part without weights, such as
 * MultiHeadAttention's `_softmax`, still has one). */
typedef struct ck_saved_part {
    const char *attr;   /* "cell", "forward_layer", "query_dense" */
    const char *scope;  /* "lstm_cell", "query"; NULL: a sublayer */
    int sublayer;
} ck_saved_part;
/* The hooks the engine runs a node with. `in`/`out` hold concrete batch sizes.
 * Backward accumulates (+=) into din (zeroed by the engine; a NULL din[i].data
 * means that gradient is not needed) and sets weight grads. A hook is declared
 * `ck_forward_fn name;` and defined `ck_status name(CK_FWD_ARGS)`. */
#define CK_FWD_ARGS ck_layer *l, const struct ck_tensor *in, int n_in, struct ck_tensor *out, int n_out, ck_run *ex
#define CK_BWD_ARGS                                                                                            \
    ck_layer *l, const struct ck_tensor *in, int n_in, const struct ck_tensor *out, const struct ck_tensor *dout, \
        int n_out, struct ck_tensor *din, ck_run *ex
typedef ck_status ck_forward_fn(CK_FWD_ARGS);
typedef ck_status ck_backward_fn(CK_BWD_ARGS);
struct ck_fusion; /* engine/run.h */

/* A class's config struct and its field table, the count derived (a class
 * table entry's designators). */
#define CK_CONFIG(type_, fields_) .config_size = sizeof(type_), .fields = fields_, .n_fields = CK_N_OF(fields_)

/* How Keras writes a class where it departs from Keras's defaults: facts of the
 * .keras/.h5 formats (the JSON config, inbound nodes, the saved-state tree)
 * that only the config codec (graph/config.c) and the file readers and writers
 * (io/) read. Every class is written by Keras, so every class has one; all
 * zero is the default, which most classes keep (ck_layer_class.keras). */
typedef struct ck_keras_format {
    const char *saved_name;       /* class_name in the JSON when Keras saves the
                                     class under an export alias; NULL: class_name */
    /* Keras's build(self, a_shape, b_shape, ...) takes named shapes: build_config
     * then holds {"shapes_dict": {name: shape}} for the inputs given (a trailing
     * "[]" in a name collects the remaining inputs as a list). NULL: input_shape. */
    const char *const *build_shape_names;
    /* How a node's inputs appear in Keras's call: all in one list (merge layers,
     * the default), as separate positional arguments (attention's query, value,
     * key), or the first positional and the rest as the initial_state keyword
     * (RNNs). */
    enum { CK_CALL_LIST, CK_CALL_POSITIONAL, CK_CALL_STATES } call_inputs;
    /* The Keras class has no build() of its own (Activation, Dropout, ...), so
     * Keras never records a build_config for it in the JSON config. */
    bool no_build_config;
    /* call() has a mask argument (Softmax, RNNs): Keras's JSON records
     * "kwargs": {"mask": null} in each inbound node. */
    bool call_mask;
    /* get_config() written by hand in Keras (SpatialDropout): fields plus name
     * and dtype as a plain string, no trainable. */
    bool bare_config;
    /* Children in Keras 3's saved-state tree, ended by an entry with a NULL attr;
     * NULL: every weight is in the layer's own vars group. */
    const ck_saved_part *saved_parts;
    /* The call keyword that adds outputs (MultiHeadAttention's
     * return_attention_scores); a loaded node that sets it true sets the
     * layer's optional_outputs before the layer is built. */
    const char *optional_outputs_kwarg;
    /* A keyword Keras 3's __init__ still takes under its Keras 2 name and maps to
     * a field (LeakyReLU's alpha, negative_slope now); NULL: none. It wins over the
     * field's own key, as Keras pops it after. */
    const char *keras2_name, *keras2_field;
} ck_keras_format;

/* What a class is: its name, config, arity and build, the hooks that run it
 * (each NULL where the class has none), how Keras writes it, and the engine's
 * optional fusion protocol. */
typedef struct ck_layer_class {
    const char *class_name;       /* "Dense", exactly as Keras spells it         */
    const char *module;           /* "keras.layers" for the JSON config          */
    size_t config_size;
    const ck_field *fields;       /* in Keras's get_config() key order           */
    int n_fields;
    int min_inputs, max_inputs;   /* merge layers take 2..many                   */
    /* Checks the config, infers output shapes and adds weights in Keras's order
     * (ck_layer_add_weight). `in` shapes include the batch dim. */
    ck_status (*build)(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out);
    /* The engine's hooks; NULL where the engine cannot run the class (its models
     * still build, summarise and convert; predict and fit refuse them). */
    ck_forward_fn *forward;
    ck_backward_fn *backward;
    /* Forward FLOPs for one sample given the built shapes (multiply-add = 2). */
    int64_t (*flops)(const ck_layer *l);
    /* Floats per sample of the node's workspace (ex->workspace, rows * this, planned
     * once for the largest batch): what forward keeps for backward (masks, stats),
     * then any scratch either pass needs during the call, so hooks never allocate.
     * Only float-aligned: doubles go at a rounded offset (layers/engine_util.h). */
    int64_t (*workspace)(const ck_layer *l);
    /* How many spatial axes follow the channel axis when the layer's data_format
     * is channels_first; 0 when it is channels_last. The engine then hands the
     * hooks every tensor that has that channel axis moved last (and the build
     * shapes alike, while they run), so hooks know one layout. NULL: the class
     * has no data_format, or reads it itself. */
    int (*channels_first)(const ck_layer *l);
    /* Keras masks (sequence issue): what output `index` carries as its mask; NULL
     * means CK_MASK_NONE (the mask stops here, as for layers without masking). */
    ck_mask_mode (*mask)(const ck_layer *l, int index);
    /* Keras makes the class's variables with autocast=False (the normalization
     * layers): under a mixed dtype policy it computes with them in float32,
     * and the engine leaves them unrounded (only inputs and outputs are cast). */
    bool float32_variables;
    /* Keras sets self.autocast = False (LayerNormalization, GroupNormalization):
     * under a mixed policy the layer takes its inputs as they come, so the
     * engine does not round them (its output is still cast). */
    bool no_autocast;
    /* Under a mixed policy Keras computes the class in float32 and casts its
     * result to the half type (the normalizations; GlobalAveragePooling's
     * jnp.mean): XLA keeps that cast, so a float32 reader sees the rounded
     * output (engine/exec.c keeps other bfloat16 outputs unrounded for it). */
    bool casts_output;
    /* How Keras writes the class (designators .keras.call_mask = true, ...). Not
     * a pointer to an optional part, as fusion is: every class is written by
     * Keras, and zero is Keras's default. */
    ck_keras_format keras;
    /* The engine's fusion protocol (engine/run.h), filled only by the classes
     * that fuse with a neighbour (convolutions, pooling, BatchNormalization,
     * activations); NULL: the class runs on its own. */
    const struct ck_fusion *fusion;
} ck_layer_class;

/* ---- the class table (graph/classes.c) -------------------------------------------- */
/* One family of classes, as one array (a file of layers/). */
typedef struct ck_layer_family {
    const ck_layer_class *const *classes;
    int count;
} ck_layer_family;
#define CK_FAMILY(name, ...)                                                          \
    static const ck_layer_class *const name##_classes[] = {__VA_ARGS__};              \
    const ck_layer_family name = {name##_classes, CK_N_OF(name##_classes)}
/* Every family, defined by the floor above that holds the classes
 * (layers/registry.c); graph only reads it. */
extern const ck_layer_family *const ck_layer_families[];
extern const int ck_n_layer_families;

const ck_layer_class *ck_find_layer_class(const char *class_name);
/* InputLayer, the class of a model's inputs, and whether a layer is one. */
const ck_layer_class *ck_input_layer_class(void);
bool ck_layer_is_input(const ck_layer *l);
/* Whether a tensor carries a Keras mask by the classes' mask hooks: made by its
 * layer, passed on from the layer's first input, or combined from its inputs'. */
bool ck_ktensor_has_mask(const ck_ktensor *t);
/* "Dense 'dense': " prefix for messages about a layer. */
ck_status ck_layer_error(const ck_layer *l, ck_status st, const char *fmt, ...) CK_PRINTF(3, 4);

/* ---- tensors (concrete, for the engine) ------------------------------------- */
typedef struct ck_tensor {
    ck_shape shape;   /* concrete, batch first */
    float *data;      /* row-major             */
} ck_tensor;

/* ---- weights -------------------------------------------------------------------- */
typedef struct ck_weight {
    char name[CK_STR_MAX];   /* "kernel", "moving_mean"                     */
    char path[640];          /* Keras 3 variable.path, set at model build   */
    ck_shape shape;          /* no batch dim                                */
    int64_t size;            /* product of shape                            */
    bool trainable;          /* as created (BN statistics: false)           */
    ck_dtype dtype;          /* CK_FLOAT32, or CK_INT32/64 for counters     */
    ck_init init;
    float *value;            /* [size], inside the model's weight block     */
    bool init_pending;       /* initial values not drawn yet (see ck_model_init_weights) */
    float *grad;             /* [size], inside the model's gradient block   */
} ck_weight;

/* ---- graph nodes and symbolic tensors --------------------------------------------- */
typedef struct ck_node ck_node;
struct ck_ktensor {
    ck_shape shape;   /* batch first, CK_NONE for unknown                     */
    ck_node *node;    /* the call that produced it                           */
    int index;        /* which output of that call                           */
    int slot;         /* engine: index of its activation buffer              */
};

struct ck_node {
    ck_layer *layer;
    int node_index;           /* position among the layer's inbound nodes      */
    ck_ktensor **inputs;      /* [n_inputs] borrowed from upstream nodes       */
    int n_inputs;
    ck_ktensor *outputs;      /* [n_outputs] owned                             */
    int n_outputs;
    int depth;                /* Keras's node depth (outputs = 0)              */
    char *call_kwargs;        /* owned: the call's non-tensor keyword arguments
                                 as a loaded config recorded them (JSON text,
                                 e.g. {"training": false, "mask": null}), written
                                 back as they were; NULL: the class's defaults */
    char *mask_from;          /* owned: "not_equal[0][0]", the mask= tensors a
                                 loaded Keras 3 config recorded for the call from
                                 keras.src.ops layers it dropped (io/json_config.c),
                                 which summary() lists as Keras does; NULL: none */
};

/* ---- layers ------------------------------------------------------------------ */
/* Build shapes a layer records (Keras's build_config lists every input: NASNet
 * concatenates six). */
#define CK_LAYER_SHAPES 16

struct ck_layer {
    const ck_layer_class *cls;
    char name[CK_NAME_MAX];
    bool auto_named;            /* name still to be assigned by the model      */
    bool numpy_op;              /* a keras.src.ops.numpy entry (x + y on two
                                   tensors) run as its layer twin, written back
                                   as the operation Keras saved               */
    bool counter_named;         /* name came from the auto-name counter: redone
                                   when the model tree it is in grows          */
    uint64_t serial;            /* creation order, for Keras's naming order    */
    bool trainable;
    bool built;
    void *config;               /* cls->config_size bytes                      */
    char dtype[16];             /* "float32"                                   */

    bool has_input_shape;       /* input_shape=/batch_input_shape= was given   */
    ck_shape input_shape;       /* batch first                                 */

    ck_weight *weights;         /* [n_weights] in Keras's order                */
    int n_weights, cap_weights;

    ck_shape in_shapes[CK_LAYER_SHAPES]; /* build shapes of the first call    */
    int n_in;                   /* (a merge of more inputs keeps the first ones) */
    ck_shape out_shapes[CK_LAYER_SHAPES];
    int n_out;

    ck_node **nodes;            /* inbound nodes (calls), owned                */
    int n_nodes, cap_nodes;

    ck_model *model;            /* non-NULL when this layer is a model         */
    ck_model *owner;            /* the model or graph that owns this layer     */
    void *state;                /* per-layer engine state, owned by the class  */
    bool optional_outputs;      /* called with the class's optional_outputs_kwarg */
    ck_layer **sublayers;       /* wrapped layers (Bidirectional...), owned; their
                                 * weights are mirrored in `weights` in order  */
    int n_sublayers;
};

ck_layer *ck_layer_alloc(const ck_layer_class *cls);
/* Applies kwargs (Python literal syntax) over the class defaults. */
ck_status ck_layer_apply_kwargs(ck_layer *l, const char *kwargs);
ck_status ck_layer_add_weight(ck_layer *l, const char *name, ck_shape shape,
                              const ck_init *init, bool trainable, ck_dtype dtype);
/* The config struct, typed by the caller. */
#define CK_CFG(layer, type) ((type *)(layer)->config)
/* Builds the layer on given input shapes (once; later calls check compatibility). */
ck_status ck_layer_build(ck_layer *l, const ck_shape *in, int n_in, ck_shape *out, int *n_out);
int64_t ck_layer_params(const ck_layer *l);
/* Bytes of one value of the layer's float variables: its dtype policy's
 * variable_dtype (float64 layers keep float64 variables, mixed_float16 float32). */
int ck_layer_variable_bytes(const ck_layer *l);
/* The half type of the layer's float variables (float16 and bfloat16 layers;
 * a mixed policy keeps float32 variables): what its saved datasets hold. */
ck_half ck_layer_variable_half(const ck_layer *l);
/* The dtype its policy computes in, which its outputs carry: "float16" for
 * mixed_float16, "bfloat16" for mixed_bfloat16, the dtype itself otherwise. */
const char *ck_layer_compute_dtype(const ck_layer *l);

/* ---- models ------------------------------------------------------------------- */
typedef enum ck_model_kind { CK_SEQUENTIAL, CK_FUNCTIONAL } ck_model_kind;

/* One step of the execution plan: a node in topological order. */
typedef struct ck_step {
    ck_node *node;
    int in_slot[8];     /* activation slot of each input  */
    int out_slot[4];    /* activation slot of each output */
} ck_step;

/* A LossScaleOptimizer's settings and its step_counter and dynamic_scale as a
 * file gave them (read) at the inner optimizer's iteration `iterations`, for
 * the compile `engine`. */
typedef struct ck_loss_scale {
    bool wrapped;           /* the file's optimizer config was a LossScaleOptimizer */
    char name[CK_NAME_MAX]; /* its name; "" : Keras's "loss_scale_optimizer"      */
    double initial_scale;   /* 0: Keras's default, 2^15                           */
    int64_t growth_steps;   /* dynamic_growth_steps; 0: Keras's default, 2000     */
    bool read;
    const void *engine;
    int64_t iterations;
    int64_t step_counter;
    float dynamic_scale;
} ck_loss_scale;

/* A keras.src.ops layer a loaded config recorded for a mask= call argument and
 * the loader dropped: a summary row of 0 params, placed before the row of layer
 * `before` (NULL: after the last). All strings owned. */
typedef struct ck_op_row {
    char *name, *class_name;
    char *shape;     /* Keras's "(None, 6)" */
    char *connected; /* "input_layer[0][0]" */
    char *before;
} ck_op_row;

struct ck_model {
    ck_layer base;              /* a model is a layer (nesting); base.model = self */
    ck_model_kind kind;
    uint64_t seed;
    /* Initial values are drawn on first use, not at build, so a model loaded only
     * to be summarised (100 MB of weights) costs no random numbers: init_seed is
     * the seed at build, and weights with init_pending wait for it. Threads
     * predicting with one model may race to the first use: ck_model_lock lets
     * one draw while the others wait, and init_pending is atomic so that a
     * thread that sees it false also sees the values. */
    _Atomic bool init_pending;
    atomic_flag lock;           /* ck_model_lock                              */
    uint64_t init_seed;

    ck_layer **layers;          /* model.layers; Functional includes InputLayers */
    int n_layers, cap_layers;
    ck_layer *input_layer;      /* Sequential: its InputLayer, if any          */
    ck_layer **owned;           /* every layer the model frees (graph calls)   */
    int n_owned, cap_owned;

    ck_ktensor **inputs;        /* model inputs                               */
    int n_inputs, cap_inputs;
    ck_ktensor **outputs;       /* model outputs                              */
    int n_outputs;
    bool finished;              /* functional graph closed by _finish         */

    ck_step *steps;             /* topological order of nodes                 */
    int n_steps;
    int n_slots;                /* activation buffers                         */

    float *weight_block;        /* every weight's values, one allocation      */
    float *grad_block;
    int64_t weight_block_size;
    /* Moves whenever weight values may have changed (ck_model_weights_changed):
     * the engine's packed copies of kernels are stale once it has moved. */
    _Atomic uint64_t weights_gen;
    /* Moves whenever the graph's steps or its weight block are made again
     * (allocate_weights): an engine planned before then is stale. */
    uint64_t plan_gen;

    ck_status error;            /* first failure while recording the graph    */
    char errmsg[512];

    void *engine;               /* compiled training state (train/)           */
    ck_data_parallel *data_parallel; /* borrowed; NULL: one process (src/dist/) */
    void (*engine_free)(void *engine); /* frees it with the model (train/)   */
    /* ck_model_predict's engine, kept for the next call (train/predict.c):
     * a call takes it and puts it back with atomic exchanges, so concurrent
     * calls never share one. */
    void *_Atomic kept_predict;
    void (*kept_predict_free)(void *engine);
    int64_t optimizer_params;   /* optimizer variables once built             */
    double optimizer_bytes;
    /* Keras's optimizer.built: compile() alone leaves it false (summary shows no
     * "Optimizer params" row); the first fit() or ck_model_build_optimizer sets it. */
    bool optimizer_built;
    /* Building a Sequential makes Keras create an internal Functional, which takes
     * the next 'functional' auto name; its creation order (0 = not built yet). */
    uint64_t functional_serial;
    /* Keras's add() makes the InputLayer of a first layer with input_shape= at
     * once; ckeras makes it at build, with this creation order (0 = none). */
    uint64_t input_serial;
    /* The compile_config of the .keras file the model was compiled from on load,
     * written back by to_json while that compile (file_compile_engine) stands. */
    char *file_compile_config;
    const void *file_compile_engine;
    /* Keras's LossScaleOptimizer around the optimizer of a model compiled under
     * mixed_float16 (keras/src/trainers/trainer.py compile,
     * keras/src/optimizers/loss_scale_optimizer.py): ckeras trains with the
     * inner optimizer alone and keeps only what its files hold (io/). */
    ck_loss_scale loss_scale;
    /* Why the compile in effect is not all of the file's compile config (an
     * optimizer keyword ckeras cannot honour, such as use_ema=True, was left out,
     * or nothing could be compiled): fit refuses to train it as if it were. NULL:
     * it is, or the model was compiled since. */
    char *compile_gap;
    /* A legacy .h5's optimizer_weights, all values in the file's order, kept for
     * the first fit: Keras's load builds the optimizer over none of the model's
     * variables (only its scalars exist), and fit builds it over the trainable
     * ones, taking these when their count is that optimizer's. NULL: none. */
    float *pending_optimizer;   /* [pending_optimizer_floats] */
    int64_t pending_optimizer_floats;
    /* A loaded config's inputs or outputs given as a dict ({"a": ["a", 0, 0]}, as
     * Keras 3.15 writes for dict inputs): its keys in order as a JSON array text,
     * written back by to_json; NULL: a list. */
    char *input_keys, *output_keys;
    /* Those dropped keras.src.ops layers, as summary() lists them among the rows
     * (Keras's model.operations). */
    ck_op_row *op_rows;          /* [n_op_rows] */
    int n_op_rows;
    /* The order of the layers in such a config, which map_graph keeps for
     * m->layers: Keras wrote it from model.operations, whose depths the dropped
     * ops shaped. NULL: by depth, as Keras orders a graph it builds. Borrowed,
     * read only by ck_functional_finish. */
    ck_layer *const *listed_order; /* [n_listed] */
    int n_listed;
};

/* Every weight of the model in get_weights() order (deduplicated by identity). */
typedef struct ck_weight_ref {
    ck_weight *w;
    ck_layer *layer;
    bool trainable;              /* effective: false if any owner is frozen */
} ck_weight_ref;
ck_status ck_model_collect_weights(const ck_model *m, ck_weight_ref **refs, int *n);
/* Draws the initial values still pending (the values a fill at build would have
 * given). Every reader or writer of weight values calls it first: get/set
 * weights, the engine, file readers and writers. */
ck_status ck_model_init_weights(ck_model *m);
/* Marks m's weight values as (possibly) changed. ck_model_init_weights, which
 * every reader and writer of values calls first, does it; so do the writers
 * that skip it (the optimizer step, restored best weights). */
static inline void ck_model_weights_changed(ck_model *m) { m->weights_gen++; }
/* Serialises the lazy set-up that engines of one model on several threads may
 * race to (initial values, the gradient block); held only briefly. */
void ck_model_lock(ck_model *m);
void ck_model_unlock(ck_model *m);

/* ck_call and ck_sequential_add for callers that keep every layer they made
 * until the end (the Python reader): a layer that could not be placed is not freed. */
ck_ktensor *ck_graph_call(ck_model *m, ck_layer *l, ck_ktensor *const *inputs, int n_in);
ck_status ck_graph_sequential_add(ck_model *m, ck_layer *l);
/* Adds a ready InputLayer to a functional graph (readers of saved configs). */
ck_status ck_graph_add_input(ck_model *m, ck_layer *input_layer, ck_node **node);
/* Frees a layer's inbound nodes (a Sequential rebuilds its chain). */
void ck_layer_reset_graph(ck_layer *l);
/* Attention's use_causal_mask over the layer's calls, read off their recorded
 * call kwargs: 0 or 1 when every call agrees, -1 when calls differ (a layer
 * runs one way for all its calls). */
int ck_layer_causal(const ck_layer *l);
/* Sequential-like test of Keras's summary (3 columns, no "Connected to"). */
bool ck_model_is_sequential_like(const ck_model *m);
/* Is the node part of the model's graph (reachable from its outputs)? */
static inline bool ck_node_in_model(const ck_node *n) { return n->depth >= 0; }

/* Nested layers of a layer that is a model, for summaries and weights. */
bool ck_layer_is_model(const ck_layer *l);

/* Keras's to_snake_case of a class name: "Conv2DTranspose" -> "conv2d_transpose". */
void ck_snake_case(const char *class_name, char *out, size_t cap);

/* Initialisers: parse by name or Keras config object, fill values. */
ck_status ck_init_from_name(const char *name, ck_init *out);
ck_status ck_init_fill(const ck_init *init, const ck_shape *shape, float *values, ck_rng *rng);
/* The errors ck_init_fill would give for this shape, without drawing values. */
ck_status ck_init_check(const ck_init *init, const ck_shape *shape);
const char *ck_init_class_name(const ck_init *init);

#endif
