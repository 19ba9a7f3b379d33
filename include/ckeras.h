/*
 * ckeras: Keras-style neural networks in plain C.
 *
 * The one public header. Models are declared layer by layer exactly as in Keras 3
 * (same class names, keyword arguments, defaults, auto-names and shape rules); the
 * library counts their parameters, prints summary() byte-identical to Keras, hands
 * out weights in Keras's order, runs and trains them, and reads and writes Keras's
 * files.
 *
 * Conventions (as in SQLite and Lua):
 *  - every fallible call returns a ck_status (CK_OK == 0) or NULL; the message,
 *    naming the file, layer and field, is read with ck_errmsg() on the same thread;
 *  - the library never prints, aborts or exits;
 *  - sizes are int64_t; an unknown dimension (Keras's None) is CK_NONE;
 *  - what a call returns through a pointer is the caller's, freed with the
 *    matching *_free (or free() where it says "malloc'ed"); const char * results
 *    are borrowed from their object.
 *
 * Quick start:
 *     ck_model *m = ck_sequential(NULL);
 *     ck_sequential_add(m, ck_dense(3, "input_shape=(2,), activation='relu'"));
 *     ck_sequential_add(m, ck_dense(2, "activation='softmax'"));
 *     char *text;
 *     if (ck_model_build(m) == CK_OK && ck_model_summary(m, NULL, &text) == CK_OK) {
 *         fputs(text, stdout);
 *         free(text);
 *     }
 *     ck_model_free(m);
 *
 * Layer keyword arguments are written as in Python ("units=3, use_bias=False,
 * kernel_size=(3, 3), name='d1'"), parsed by one codec that also reads Keras JSON
 * configs, so every class accepts exactly its Keras keywords with Keras's defaults.
 *
 * Topics, in order: version and basic types; build (layers, Sequential,
 * Functional); count and show (counts, summary, to_json); weights; files
 * (models, weights, arrays); train (compile, callbacks, fit, evaluate); predict;
 * errors; threads.
 */
#ifndef CKERAS_H
#define CKERAS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the calls libckeras.so exports; everything else in it is hidden. */
#if defined(_WIN32)
#define CK_API
#elif defined(__GNUC__)
#define CK_API __attribute__((visibility("default")))
#else
#define CK_API
#endif

/* ==== version and basic types ============================================ */
#define CKERAS_VERSION "0.1.0"
#define CKERAS_VERSION_MAJOR 0
#define CKERAS_VERSION_MINOR 1
#define CKERAS_VERSION_PATCH 0

/* The version of the library actually linked ("0.1.0"); compare it with
 * CKERAS_VERSION, the header's. */
CK_API const char *ck_version(void);

typedef enum ck_status {
    CK_OK = 0,
    CK_ERR_NOMEM,       /* allocation failed                                  */
    CK_ERR_ARG,         /* bad argument to a C call                           */
    CK_ERR_CONFIG,      /* bad layer/model configuration (keyword, JSON)      */
    CK_ERR_SHAPE,       /* impossible or incompatible shape                   */
    CK_ERR_OVERFLOW,    /* a size does not fit in int64                       */
    CK_ERR_UNSUPPORTED, /* unknown layer class or feature                     */
    CK_ERR_IO,          /* file could not be read or written                  */
    CK_ERR_FORMAT,      /* malformed file contents                            */
    CK_ERR_STATE,       /* call not valid in the object's current state       */
    CK_ERR_NUMERIC      /* NaN/Inf where a finite number is required          */
} ck_status;

#define CK_MAX_RANK 8
#define CK_NONE ((int64_t)-1) /* Keras's None */

typedef struct ck_shape {
    int rank;                  /* number of dims, batch included when present */
    int64_t dim[CK_MAX_RANK];  /* CK_NONE for unknown */
} ck_shape;

/* Keras 3 summary text of a shape: "(None, 3)", rank-1 "(None)", scalar "()". */
CK_API void ck_shape_format(const ck_shape *s, char *buf, size_t cap);

typedef enum ck_dtype { CK_FLOAT32 = 0, CK_INT32, CK_INT64, CK_FLOAT64, CK_UINT8 } ck_dtype;

typedef struct ck_layer ck_layer;
typedef struct ck_model ck_model;
typedef struct ck_ktensor ck_ktensor; /* a symbolic tensor of a functional graph */

/* ==== build: layers ======================================================== */
/* keras.layers.<class_name>(**kwargs): any registered class by its Keras name,
 * kwargs as Python text (NULL or "" for none). NULL on an unknown class,
 * keyword, type or value (CK_ERR_UNSUPPORTED / CK_ERR_CONFIG). The caller owns
 * the layer until a model takes it (ck_sequential_add, ck_call). */
CK_API ck_layer *ck_layer_new(const char *class_name, const char *kwargs);
CK_API void ck_layer_free(ck_layer *layer);

/* Dense(units, ...), Activation(activation, ...), Dropout(rate, ...),
 * Flatten(...); kwargs and ownership as for ck_layer_new. */
CK_API ck_layer *ck_dense(int64_t units, const char *kwargs);
CK_API ck_layer *ck_activation(const char *activation, const char *kwargs);
CK_API ck_layer *ck_dropout(double rate, const char *kwargs);
CK_API ck_layer *ck_flatten(const char *kwargs);

/* layer.name, layer.__class__.__name__, layer.trainable. */
CK_API const char *ck_layer_name(const ck_layer *layer);
CK_API const char *ck_layer_class_name(const ck_layer *layer);
CK_API bool ck_layer_trainable(const ck_layer *layer);
/* layer.trainable = value: freezes (or thaws) all of its weights. */
CK_API void ck_layer_set_trainable(ck_layer *layer, bool trainable);
/* The registered layer classes (ckeras layers): count, and name of each. */
CK_API int ck_layer_class_count(void);
CK_API const char *ck_layer_class_at(int index);

/* ==== build: Sequential ===================================================== */
/* keras.Sequential(name=name); NULL name = auto "sequential", "sequential_1"... */
CK_API ck_model *ck_sequential(const char *name);
/* model.add(layer): the model takes the layer, also when the call fails
 * (CK_ERR_STATE on a Functional, CK_ERR_CONFIG for a misplaced InputLayer): a
 * layer no model took is freed then. A model added to itself or to a model
 * inside it (CK_ERR_ARG) is the exception: it stays the caller's. */
CK_API ck_status ck_sequential_add(ck_model *model, ck_layer *layer);

/* ==== build: Functional ===================================================== */
/* Functional models are recorded on a graph: create it, add inputs, call layers
 * on symbolic tensors, then name the outputs. The graph owns every tensor and every
 * layer called on it. Calls with a NULL tensor (an earlier failure) return NULL and
 * keep the first error, so a chain can be checked once at ck_functional_finish. */
CK_API ck_model *ck_functional(const char *name);
/* keras.Input(shape=..., batch_size=..., name=...) with Python-style kwargs. */
CK_API ck_ktensor *ck_input(ck_model *graph, const char *kwargs);
/* layer(inputs): one input, or a list for merge layers; the graph takes layer,
 * and frees it if the call fails and no model holds it (unless it is a model
 * holding the graph). A finished graph refuses calls (CK_ERR_STATE) without
 * keeping that as its error: the model stays usable. */
CK_API ck_ktensor *ck_call(ck_model *graph, ck_layer *layer, ck_ktensor *const *inputs, int n_inputs);
CK_API ck_ktensor *ck_call1(ck_model *graph, ck_layer *layer, ck_ktensor *input);
/* For layers with several outputs: output i of the node that made t. */
CK_API ck_ktensor *ck_ktensor_output(ck_ktensor *t, int index);
/* tensor.shape (batch first, CK_NONE for None); borrowed from the graph. */
CK_API const ck_shape *ck_ktensor_shape(const ck_ktensor *t);
/* keras.Model(inputs, outputs): finishes the graph and builds it; the first
 * error of the chain (CK_ERR_SHAPE, CK_ERR_CONFIG) is returned here. */
CK_API ck_status ck_functional_finish(ck_model *graph, ck_ktensor *const *inputs, int n_inputs,
                                      ck_ktensor *const *outputs, int n_outputs);

/* ==== build: models ========================================================= */
/* A model used as a layer of another model (nesting): the outer model takes it. */
CK_API ck_layer *ck_model_as_layer(ck_model *model);
/* Frees the model with its layers, weights, optimizer and plans. NULL is fine. */
CK_API void ck_model_free(ck_model *model);
/* model.name. */
CK_API const char *ck_model_name(const ck_model *model);
/* model.build(): infers every shape and creates the weights (initial values are
 * drawn on first use, as an eager build would draw them). A Sequential whose
 * first layer has no input shape stays unbuilt (CK_OK); shape errors name the
 * layer (CK_ERR_SHAPE). */
CK_API ck_status ck_model_build(ck_model *model);
/* model.build((None, 2)) for a Sequential without an input shape. */
CK_API ck_status ck_model_build_with(ck_model *model, const ck_shape *input_shape);
/* model.built. */
CK_API bool ck_model_built(const ck_model *model);
/* Seed for the weight initialisers (default 0); applies at the next build and
 * to ck_model_reinitialize. The same seed gives the same weights. */
CK_API void ck_model_set_seed(ck_model *model, uint64_t seed);
/* Draws every weight's initial value again from the seed. */
CK_API ck_status ck_model_reinitialize(ck_model *model);

/* model.layers: Sequential hides its InputLayer, Functional shows them.
 * Layers are borrowed from the model. */
CK_API int ck_model_layer_count(const ck_model *model);
CK_API ck_layer *ck_model_layer(const ck_model *model, int index);
/* model.get_layer(name); NULL if there is none. */
CK_API ck_layer *ck_model_get_layer(const ck_model *model, const char *name);
/* len(model.inputs), len(model.outputs), and their shapes (batch first). */
CK_API int ck_model_input_count(const ck_model *model);
CK_API int ck_model_output_count(const ck_model *model);
CK_API const ck_shape *ck_model_input_shape(const ck_model *model, int index);
CK_API const ck_shape *ck_model_output_shape(const ck_model *model, int index);

/* ==== count and show ========================================================= */
typedef struct ck_param_counts {
    int64_t total;          /* trainable + non_trainable (+ optimizer when built) */
    int64_t trainable;
    int64_t non_trainable;
    int64_t optimizer;      /* 0 unless an optimizer is built                     */
    double total_bytes, trainable_bytes, non_trainable_bytes, optimizer_bytes;
} ck_param_counts;
/* model.count_params() and the split summary() prints. */
CK_API ck_status ck_model_count_params(const ck_model *model, ck_param_counts *out);
/* layer.count_params(): all its weights, trainable or not; -1 if not built. */
CK_API int64_t ck_layer_count_params(const ck_layer *layer);

typedef enum ck_summary_style {
    CK_SUMMARY_KERAS3 = 0,  /* Keras 3 (rich table), the default          */
    CK_SUMMARY_KERAS2,      /* tf.keras 2.13+ plain text                  */
    CK_SUMMARY_JSON         /* machine-readable: rows, counts, FLOPs, memory */
} ck_summary_style;

typedef struct ck_summary_opts {
    ck_summary_style style;
    int line_length;              /* 0 = Keras's default                         */
    const double *positions;      /* NULL = Keras's default; fractions           */
    int n_positions;
    bool show_trainable;
    bool expand_nested;
    const char *layer_range[2];   /* regexes of first and last row, or NULLs     */
    int console_width;            /* terminal columns; 0 = not a terminal (80)   */
    bool show_flops;              /* append FLOPs and memory lines (not in Keras) */
} ck_summary_opts;

/* model.summary(line_length, positions, expand_nested, show_trainable,
 * layer_range): *text is a malloc'ed UTF-8 string the caller frees. opts may be
 * NULL (Keras's defaults); a bad layer_range regex is CK_ERR_ARG. */
CK_API ck_status ck_model_summary(const ck_model *model, const ck_summary_opts *opts, char **text);
/* Forward FLOPs of one sample (multiply-add = 2); not in Keras. */
CK_API ck_status ck_model_flops(const ck_model *model, int64_t *flops_per_sample);
/* model.to_json(): *json_text is malloc'ed, the text Keras 3 writes. */
CK_API ck_status ck_model_to_json(const ck_model *model, char **json_text);

/* plot_model's options; a zeroed struct (or NULL) gives plot_model's defaults.
 * model_to_dot's own default differs in one field: show_layer_names=True. */
typedef struct ck_plot_opts {
    bool show_shapes;
    bool show_dtype;
    bool show_layer_names;
    const char *rankdir;          /* "TB" (NULL) or "LR"                           */
    bool expand_nested;           /* nested models as dashed clusters              */
    int dpi;                      /* 0 = 200                                       */
    bool show_layer_activations;
    bool show_trainable;
    const char *splines;          /* "ortho" (NULL), "curved", "polyline", "spline", "line" */
} ck_plot_opts;
/* keras.utils.model_to_dot(model).to_string(): Keras 3's node labels (HTML
 * tables), node order, edges and clusters; node ids are layer names. Malloc'ed. */
CK_API ck_status ck_model_to_dot(const ck_model *model, const ck_plot_opts *opts, char **dot);
/* keras.utils.plot_model(model, to_file=path): the format is the path's ending
 * (.png, .svg, .pdf, .dot as Graphviz lays it out; none = png), rendered by
 * Graphviz's library (libgvc) and written atomically. */
CK_API ck_status ck_model_plot(const ck_model *model, const char *path, const ck_plot_opts *opts);

/* ==== weights ================================================================ */
typedef struct ck_weight_info {
    const char *name;       /* "kernel"                                   */
    const char *path;       /* Keras 3 variable.path "sequential/dense/kernel" */
    const char *layer;      /* owning layer's name                        */
    ck_shape shape;         /* no batch dim: (2, 3)                       */
    int64_t size;           /* product of shape                           */
    bool trainable;         /* as Keras reports it (frozen layers: false) */
    ck_dtype dtype;         /* float32 except counters (stored as float)  */
    const float *data;      /* row-major values, size floats; borrowed    */
} ck_weight_info;

/* model.get_weights(): the count, then each array in Keras's order (per layer:
 * kernel before bias, trainable before non-trainable, as model.weights lists
 * them). The strings and data are borrowed until the model changes. */
CK_API int ck_model_weight_count(const ck_model *model);
CK_API ck_status ck_model_weight(const ck_model *model, int index, ck_weight_info *out);
/* model.set_weights() for one array: the shape must equal the weight's
 * (CK_ERR_SHAPE naming the layer, weight and both shapes); data is copied. */
CK_API ck_status ck_model_set_weight(ck_model *model, int index, const ck_shape *shape,
                                     const float *data);

/* ==== files: models ========================================================== */
/* keras.models.load_model(path): any supported file, the format detected from
 * its content (a legacy HDF5 file named .keras is common): .keras, legacy .h5,
 * TF.js model.json, Keras JSON configs, and Keras model code (a .py file, read
 * as ck_python_run reads it: its last model). Weights are loaded when the file has
 * them, and a .keras file's compile_config compiles the model. NULL on error
 * (CK_ERR_IO, CK_ERR_FORMAT, CK_ERR_UNSUPPORTED), naming file, layer and field. */
CK_API ck_model *ck_model_load(const char *path);
/* The architecture only: the weight data is never read (the weights keep their
 * initial values), so large files open at once (ckeras summary). */
CK_API ck_model *ck_model_load_config(const char *path);
/* keras.models.model_from_json(text): a Keras 2 or 3 JSON model config;
 * `origin` names the text in messages. */
CK_API ck_model *ck_model_from_json(const char *json_text, const char *origin);
CK_API ck_model *ck_model_load_json_file(const char *path);
/* model.load_weights(path) on a built model: a Keras 3 .weights.h5, a legacy .h5
 * (save_weights or a full model), a .keras archive or a TF.js model.json. Shapes
 * must match; a mismatch names the file, layer, weight and both shapes. */
CK_API ck_status ck_model_load_weights(ck_model *model, const char *path);
/* model.save(path) / model.save_weights(path) by the path's ending: ".keras"
 * (Keras 3 archive), ".weights.h5" (Keras 3 weights only), ".h5" (legacy full
 * model), "model.json" or other ".json" (TF.js layers model +
 * "<name>.weights-<content hash>.bin", model.json written last) or a folder
 * "web/" (its model.json). A missing folder is created, as tensorflowjs_converter
 * does, whole: written beside it and renamed into place. Atomic, as
 * ck_file_write. */
CK_API ck_status ck_model_save(const ck_model *model, const char *path);
/* Writes a whole file as the saves do: a temporary file in the same folder,
 * fsync, the old file's mode (a new one: 0666 less the umask), rename, fsync of
 * the folder; so `path` holds the old contents or the new, never a part. */
CK_API ck_status ck_file_write(const char *path, const void *data, size_t len);
/* Name of the detected format of a file ("keras-zip", "keras-json", ...),
 * or NULL with a message. Static storage. */
CK_API const char *ck_file_format(const char *path);

/* What a file holds, read without building the model (ckeras inspect). */
typedef struct ck_file_info {
    char format[32];          /* "keras-zip", "hdf5-model", "hdf5-weights-legacy",
                                 "hdf5-weights-keras3", "tfjs", "keras-json"     */
    char keras_version[32];   /* writer's version, "" if the file does not say  */
    char backend[32];         /* "tensorflow", "jax", ... or ""                 */
    char model_class[32];     /* "Sequential", "Functional", ... or ""          */
    bool has_config;          /* the architecture is in the file                */
    bool has_weights;
    bool has_optimizer;       /* optimizer state (or a training_config) present */
    int64_t n_weights;        /* weight arrays stored                           */
    int64_t n_values;         /* numbers stored in them                         */
} ck_file_info;
CK_API ck_status ck_file_inspect(const char *path, ck_file_info *info);

/* Every weight array stored in a file, straight from its HDF5 or TF.js manifest,
 * also when the architecture is unsupported: path ("layers/dense/vars/0"), shape.
 * fn returns nonzero to stop. */
typedef int (*ck_stored_weight_fn)(void *ctx, const char *path, const ck_shape *shape);
CK_API ck_status ck_file_list_weights(const char *path, ck_stored_weight_fn fn, void *ctx);
/* One stored array by the path ck_file_list_weights gave; *data is malloc'ed. */
CK_API ck_status ck_file_read_weight(const char *path, const char *weight_path, ck_shape *shape,
                                     float **data);

/* ==== files: Keras model code (Python) ======================================= */
/* Runs a Keras model script without Python: the declarative subset model code
 * uses (imports of keras/tf.keras, assignments, calls, literals, `for` over
 * range() or a list, `if` on constants, Sequential/Input/Model, layer calls) and
 * the calls that show things (print, model.summary, count_params, get_weights,
 * plot_model, compile, save). *output (malloc'ed) is what Python would print,
 * also the part before a failure; *model (may be NULL) receives the last model
 * the script made, the caller frees it. Anything else fails with
 * "file:line:column: unsupported Python: <what>"; nothing beyond the subset runs.
 * ck_model_load reads a .py file the same way, without printing or writing. */
CK_API ck_status ck_python_run(const char *path, int console_width, char **output, ck_model **model);

/* ==== files: arrays (NumPy .npy/.npz, CSV, IDX) ============================== */
/* An n-dimensional array in C order; data holds shape-product elements of dtype. */
typedef struct ck_array {
    ck_dtype dtype;
    ck_shape shape;   /* no batch convention: exactly the file's shape */
    void *data;       /* malloc'ed; ck_array_free releases it          */
} ck_array;
CK_API void ck_array_free(ck_array *a);
/* Elements in the array (product of the shape; 1 for a scalar). */
CK_API int64_t ck_array_size(const ck_array *a);
/* arr.astype(np.float32) in place (int64 beyond 2^24 rounds, as numpy does). */
CK_API ck_status ck_array_to_float32(ck_array *a);

/* np.load / np.save of a .npy file: float32, float64, int32, int64 or uint8,
 * little-endian, C order. Fortran order, big-endian, strings and objects fail
 * with a message naming the file (CK_ERR_UNSUPPORTED). Writes are atomic. */
CK_API ck_status ck_npy_read(const char *path, ck_array *out);
CK_API ck_status ck_npy_write(const char *path, const ck_array *a);

/* A .npz archive (np.savez): named arrays in file order ("arr_0", ...; names
 * without the ".npy" suffix). Free with ck_npz_free. */
typedef struct ck_npz {
    int n;
    char **names;
    ck_array *arrays;
} ck_npz;
CK_API ck_status ck_npz_read(const char *path, ck_npz *out);
/* np.savez(path, *arrays) when names is NULL ("arr_0", "arr_1", ...), else
 * np.savez(path, **dict(zip(names, arrays))). Atomic. */
CK_API ck_status ck_npz_write(const char *path, const char *const *names, const ck_array *arrays, int n);
CK_API void ck_npz_free(ck_npz *z);

/* A numeric CSV file with a header row of column names: x receives every column
 * but `label_column` as float32 [rows, columns], y that column as float32 [rows].
 * label_column NULL: every column into x (y may then be NULL and is left empty).
 * Blank lines, CRLF, a UTF-8 BOM, spaces and double quotes around fields are
 * accepted; a non-number, an empty field or a short row fails with
 * "file:line:column: ..." naming the column, an unknown label column lists the
 * header's names. Free both with ck_array_free. */
CK_API ck_status ck_csv_read(const char *path, const char *label_column, ck_array *x, ck_array *y);

/* An MNIST/Fashion-MNIST IDX file (gzip or plain) as a uint8 array. */
CK_API ck_status ck_idx_read(const char *path, ck_array *out);

/* ==== train: compile ========================================================= */
/* model.compile(optimizer, loss, metrics). optimizer: "adam", "SGD(learning_rate=0.1,
 * momentum=0.9)", "Adam(learning_rate=ExponentialDecay(initial_learning_rate=0.1,
 * decay_steps=100, decay_rate=0.9))"; loss: "categorical_crossentropy",
 * "BinaryCrossentropy(from_logits=True)", or NULL (compile(loss=None): the
 * optimizer exists and counts, but fit and evaluate refuse to run); metrics: a
 * comma-separated list or NULL: "accuracy, mae, Precision(), AUC()". Arguments
 * may be positional, in Keras's __init__ order ("Adam(0.01)" is
 * Adam(learning_rate=0.01)); so may callbacks' (ck_callback_new). One input and
 * one output. Unknown names and keywords, a keyword given twice: CK_ERR_CONFIG. */
CK_API ck_status ck_model_compile(ck_model *model, const char *optimizer, const char *loss,
                                  const char *metrics);
/* compile(loss=[...], loss_weights=[...], metrics=[[...], ...]) of a functional
 * model: losses[i] and metrics[i] (a comma list or NULL) for output i; one loss
 * applies to every output (metrics must come one list per output, as Keras
 * requires; n_metrics 0 for none); loss_weights NULL means 1. The
 * logged loss is the weighted sum; with several outputs the logs also hold each
 * output's unweighted loss and metrics under its layer name, as Keras 3 names
 * them ("cls_loss", "cls_accuracy"). n_losses 0 (losses NULL) is compile(loss=None). */
CK_API ck_status ck_model_compile_outputs(ck_model *model, const char *optimizer, const char *const *losses,
                                          int n_losses, const double *loss_weights,
                                          const char *const *metrics, int n_metrics);
/* compile(weighted_metrics=...), after ck_model_compile*: metrics[i] (a comma
 * list or NULL) for output i, one per output. They see sample_weight and
 * class_weight; a name already taken by a metric is logged "weighted_<name>". */
CK_API ck_status ck_model_compile_weighted_metrics(ck_model *model, const char *const *metrics, int n_metrics);
/* model.optimizer.build(model.trainable_variables) after compile: as in Keras,
 * compile() alone does not show "Optimizer params" in summary() and counts; the
 * first fit() or this call does. CK_ERR_STATE if the model is not compiled. */
CK_API ck_status ck_model_build_optimizer(ck_model *model);
/* model.get_compile_config() as JSON text, as Keras 3 records the same compile():
 * the optimizer with its hyper-parameters (a learning-rate schedule in place of
 * the rate), the loss as given (a name, or "Class(...)" as a serialized loss
 * object), one loss per output or one for all, loss_weights, metrics and
 * weighted_metrics (one list per output with several outputs); "{}" for a model
 * not compiled or compiled in a way Keras's form cannot carry here (a metric
 * object such as "Precision()"). .keras files write it as compile_config, legacy
 * .h5 as training_config. malloc'ed; the caller frees it. */
CK_API ck_status ck_model_compile_config(const ck_model *model, char **json_text);
/* Keras's model.optimizer.variables of a compiled model, in Keras's order
 * (iteration, learning_rate unless a schedule replaces it, the slots as the
 * Keras optimizer's build() makes them, Nadam's u_product), which .keras files
 * store under optimizer/vars/<i>: their count, then each one's shape and values
 * (values may be NULL to ask only the shape; scalars are given as one float). */
CK_API int ck_model_optimizer_variable_count(const ck_model *model);
CK_API ck_status ck_model_optimizer_variable(const ck_model *model, int index, ck_shape *shape, float *values);
CK_API ck_status ck_model_set_optimizer_variable(ck_model *model, int index, const ck_shape *shape,
                                                 const float *values);
/* The variable's name under the optimizer, as Keras's variable.path has it after
 * "<optimizer name>/": "iteration", "learning_rate",
 * "sequential_dense_kernel_momentum" (legacy .h5 optimizer_weights). */
CK_API ck_status ck_model_optimizer_variable_name(const ck_model *model, int index, char *out, size_t cap);
/* Keras's class name of a compiled model's optimizer ("Adam"); NULL if none. */
CK_API const char *ck_model_optimizer_class(const ck_model *model);

/* ==== train: history and callbacks =========================================== */
/* History.history of fit() (and evaluate()'s logs): "loss", metrics,
 * "val_loss", ..., "learning_rate" per epoch. Free with ck_history_free. */
typedef struct ck_history ck_history;
CK_API int ck_history_epochs(const ck_history *h);
CK_API int ck_history_key_count(const ck_history *h);
/* Keys sorted like Keras's logs; borrowed from h. */
CK_API const char *ck_history_key(const ck_history *h, int index);
/* Value of a key at an epoch (0-based, counted from initial_epoch); NAN if absent. */
CK_API double ck_history_value(const ck_history *h, const char *key, int epoch);
CK_API void ck_history_free(ck_history *h);

typedef struct ck_callback ck_callback;
/* A keras.callbacks class by its Python spelling: "EarlyStopping(monitor='val_loss',
 * patience=2, restore_best_weights=True)", "ReduceLROnPlateau(factor=0.5,
 * patience=1)", "TerminateOnNaN()", "CSVLogger(filename='log.csv')",
 * "ModelCheckpoint(filepath='ckpt-{epoch:02d}-{val_loss:.2f}.keras',
 * save_best_only=True)" (the filepath is formatted as Python's str.format with
 * epoch and the logs; its ending says what is written: .keras, .h5, with
 * save_weights_only=True .weights.h5, or .npz for the get_weights() arrays; all
 * atomic), "BackupAndRestore(backup_dir='bk')" (a fit killed and run again
 * resumes after its last epoch with the weights and optimizer state it had;
 * a completed fit deletes the backup), "LearningRateScheduler(CosineDecay(
 * initial_learning_rate=0.0, decay_steps=100, warmup_target=0.1,
 * warmup_steps=10))" (any Keras schedule, evaluated at the epoch). NULL on an
 * unknown class or keyword, or a filepath Keras refuses (CK_ERR_CONFIG). The
 * caller owns it; fit borrows it. */
CK_API ck_callback *ck_callback_new(const char *spec);
/* LearningRateScheduler(schedule): the new rate from (epoch, current rate). */
CK_API ck_callback *ck_callback_lr_scheduler(double (*schedule)(int epoch, double lr, void *user),
                                             void *user);
/* LambdaCallback(on_epoch_end=...): a C hook called at each epoch end with the
 * logs; return false to stop training (model.stop_training = True). */
CK_API ck_callback *ck_callback_hook(bool (*on_epoch_end)(int epoch, const ck_history *logs, void *user),
                                     void *user);
CK_API void ck_callback_free(ck_callback *cb);

/* ==== train: fit and evaluate ================================================ */
typedef struct ck_fit_opts {
    int epochs;                    /* 1                                          */
    int64_t batch_size;            /* 32                                         */
    bool shuffle;                  /* true: reshuffled each epoch from `seed`    */
    uint64_t seed;
    double validation_split;       /* last fraction of x, y held out (0)         */
    const float *val_x, *val_y;    /* validation_data (overrides the split)      */
    int64_t n_val;
    const float *sample_weight;    /* [n_samples] or NULL                        */
    const float *class_weight;     /* [n_class_weight] by class index, or NULL   */
    int n_class_weight;
    int initial_epoch;             /* 0                                          */
    int verbose;                   /* 0 silent, 1 progress bar, 2 line per epoch */
    ck_callback *const *callbacks; /* borrowed                                   */
    int n_callbacks;
    /* Where progress goes (Keras's print_fn); NULL = stdout. */
    void (*print)(const char *text, void *user);
    void *print_user;
    bool terminal;                 /* draw the live bar (\r updates); set by the CLI */
} ck_fit_opts;
/* Keras's defaults: epochs 1, batch_size 32, shuffle true, verbose 1. */
CK_API ck_fit_opts ck_fit_defaults(void);

/* model.fit(x, y): x [n_samples, ...input dims], y [n_samples, ...output dims] (or
 * [n_samples] class indices for sparse losses). *history (may be NULL) is the
 * caller's. CK_ERR_STATE if not compiled with a loss; labels that do not fit
 * the loss, and NaN in x, fail with CK_ERR_SHAPE / CK_ERR_NUMERIC naming the
 * array, as Keras raises. */
CK_API ck_status ck_model_fit(ck_model *model, const float *x, const float *y, int64_t n_samples,
                              const ck_fit_opts *opts, ck_history **history);
/* The checks model.fit(x, y) makes on NumPy arrays before it trains, for
 * callers that have shapes (ck_model_fit takes bare floats): every array is
 * float32 with finite values (CK_ERR_NUMERIC), x[i] fits input i and all
 * arrays have the same samples ("Data cardinality is ambiguous"), and y[i]
 * fits output i under its compiled loss: one-hot rows of the output's shape
 * for categorical losses, class indices (the shape without the class axis) for
 * sparse ones, Keras's trailing-1 squeeze allowed (CK_ERR_SHAPE, one line
 * naming the array, the loss and the shape it wants). After compile. */
CK_API ck_status ck_model_check_data(ck_model *model, const ck_array *x, int n_x, const ck_array *y, int n_y);
/* model.evaluate(x, y, batch_size) -> logs with "loss" and the metrics (a
 * one-epoch history, the caller's). */
CK_API ck_status ck_model_evaluate(ck_model *model, const float *x, const float *y, int64_t n_samples,
                                   int64_t batch_size, ck_history **logs);
/* fit / evaluate with x[i] [n_samples, ...input i dims] and y[i] for output i.
 * opts->val_x/val_y are for single-input single-output models; use
 * validation_split otherwise. class_weight needs a single output (as in Keras). */
CK_API ck_status ck_model_fit_multi(ck_model *model, const float *const *x, const float *const *y,
                                    int64_t n_samples, const ck_fit_opts *opts, ck_history **history);
CK_API ck_status ck_model_evaluate_multi(ck_model *model, const float *const *x, const float *const *y,
                                         int64_t n_samples, int64_t batch_size, ck_history **logs);
/* fit / evaluate (as the _multi calls) on inputs whose None dims take the
 * data's values: in_shapes[i] is input i's full data shape, rows first (see
 * ck_model_predict_shaped); y[i] holds the labels of the outputs' shapes. */
CK_API ck_status ck_model_fit_shaped(ck_model *model, const ck_shape *in_shapes, const float *const *x,
                                     const float *const *y, int64_t n_samples, const ck_fit_opts *opts,
                                     ck_history **history);
CK_API ck_status ck_model_evaluate_shaped(ck_model *model, const ck_shape *in_shapes, const float *const *x,
                                          const float *const *y, int64_t n_samples, int64_t batch_size,
                                          ck_history **logs);
/* model.reset_states(): zeroes the states that stateful recurrent layers carry
 * from one batch to the next. */
CK_API ck_status ck_model_reset_states(ck_model *model);

/* ==== training on many processes: data-parallel fit over MPI (src/dist/) ===== */
/* Keras 3's keras.distribution.DataParallel on MPI, the way Horovod does it: each
 * process (rank) holds the whole model and data; every global batch of
 * `batch_size` rows, shuffled by one permutation from the fit seed, is split
 * into contiguous slices, one per rank (the first batch_size % size ranks take
 * one row more); each rank's gradient is its slice's share of the global mean,
 * and the shares are summed across ranks, so every rank applies the same
 * optimizer step and results equal one process's up to float rounding.
 * Printing and files (progress bar, ModelCheckpoint, CSVLogger) are rank 0's.
 * A library built without MPI (CMake found none) has the calls, which fail
 * with CK_ERR_UNSUPPORTED. */
typedef struct ck_data_parallel ck_data_parallel;
/* How gradients are summed across ranks. ORDERED (the default): each bucket is
 * gathered from every rank (MPI_Iallgather) and added in rank order, so reruns
 * are bit-identical whatever MPI's algorithm; its traffic grows as (size - 1) x
 * the gradients. MPI: MPI_Iallreduce, a ring or tree of 2 (size - 1) / size x the
 * gradients at scale, in an order MPI leaves unspecified. */
typedef enum ck_reduction { CK_REDUCE_ORDERED, CK_REDUCE_MPI } ck_reduction;
/* Joins the job: MPI_Init unless the caller has initialised MPI (then it uses a
 * duplicate of MPI_COMM_WORLD and leaves MPI_Finalize to the caller). */
CK_API ck_status ck_distribute_init(int *argc, char ***argv, ck_data_parallel **out);
/* Was this process started by an MPI launcher (mpirun, srun)? (environment) */
CK_API bool ck_distribute_launched(void);
CK_API int ck_distribute_rank(const ck_data_parallel *d);
CK_API int ck_distribute_size(const ck_data_parallel *d);
/* Gradient bucket size in bytes (25 MB, PyTorch DDP's default); each bucket's
 * reduction starts as soon as backward has made all of its gradients. */
CK_API void ck_distribute_set_bucket_bytes(ck_data_parallel *d, int64_t bytes);
CK_API void ck_distribute_set_reduction(ck_data_parallel *d, ck_reduction r);
/* Where the time of the fits so far went (for bench/run_dist.sh). */
typedef struct ck_distribute_stats {
    int64_t steps, buckets;  /* optimizer steps; bucket reductions started       */
    double bytes;            /* gradient bytes this rank sent into reductions     */
    double wait_s;           /* blocked after backward until the last bucket came */
    double sum_s;            /* adding gathered buckets in rank order (ORDERED)   */
} ck_distribute_stats;
CK_API void ck_distribute_get_stats(const ck_data_parallel *d, ck_distribute_stats *out);
/* Trains `model` across the ranks of d from now on (NULL: one process again);
 * d is borrowed and must outlive the model's fits. Call it on every rank. */
CK_API ck_status ck_model_set_distribution(ck_model *model, ck_data_parallel *d);
/* After a failed call on one rank the others would wait for it forever: a
 * program that cannot go on ends the whole job with this (MPI_Abort; nothing
 * when d is NULL). */
CK_API void ck_distribute_abort(ck_data_parallel *d, int exit_code);
/* Frees d; MPI_Finalize if ck_distribute_init called MPI_Init. */
CK_API void ck_distribute_finalize(ck_data_parallel *d);

/* ==== predict ================================================================ */
/* model.predict(x, batch_size=...): inputs[i] is [rows, ...input i dims] and
 * outputs[i] a caller-provided [rows, ...output i dims] buffer, row-major float32.
 * batch_size <= 0 means Keras's default, 32. Dropout is off (inference). */
CK_API ck_status ck_model_predict(ck_model *model, const float *const *inputs, int64_t rows, float **outputs,
                                  int64_t batch_size);
/* One input, one output. */
CK_API ck_status ck_model_predict1(ck_model *model, const float *input, int64_t rows, float *output);
/* Threads: any number may predict with one model at once (these calls, the
 * variable-length ones, a ck_predictor each): every call's buffers and scratch
 * are its own, and the first call draws pending initial values while the others
 * wait. Calls that change the model (fit, set_weights, load_weights, a stateful
 * RNN's carried state) must not overlap them. */

/* Inputs whose non-batch dims are None (Embedding on (None, None), an LSTM on
 * (None, None, 3)) run on whatever shape the data has, as in Keras: the engine
 * plans that call for the concrete shapes; the model's shapes, summary and
 * weights do not change. in_shapes[i] is input i's full data shape, rows first
 * (all inputs the same rows), and must agree with every known dim (CK_ERR_SHAPE).
 * Such a call lends the concrete shapes to the model's layers while it runs, so
 * such calls on one model from several threads take turns (correct, not parallel). */
/* The outputs' shapes (rows first) for inputs of those shapes. */
CK_API ck_status ck_model_output_shapes_for(ck_model *model, const ck_shape *in_shapes, ck_shape *out_shapes);
/* model.predict(x) on inputs of those shapes: outputs[i] holds the floats of
 * out_shapes[i] from ck_model_output_shapes_for. */
CK_API ck_status ck_model_predict_shaped(ck_model *model, const ck_shape *in_shapes, const float *const *inputs,
                                         float **outputs, int64_t batch_size);

/* A reusable predict state for a fixed maximum batch: every buffer is planned once,
 * so ck_predictor_run allocates nothing (the lean path for single-sample latency).
 * A large max_rows is planned for one cache-sized sub-batch of it, and runs of
 * more rows loop over such sub-batches (so do ck_model_predict and
 * ck_model_predict_shaped), unless a layer ties the rows together (a stateful
 * RNN built for a fixed batch). The model must outlive it and keep its
 * structure (weights may change). */
typedef struct ck_predictor ck_predictor;
CK_API ck_status ck_predictor_new(ck_model *model, int64_t max_rows, ck_predictor **out);
/* The same, planned for inputs of those shapes (their row counts ignored: up to
 * max_rows rows a run); every run's inputs must have them. */
CK_API ck_status ck_predictor_new_shaped(ck_model *model, int64_t max_rows, const ck_shape *in_shapes,
                                         ck_predictor **out);
/* rows <= max_rows; outputs as for ck_model_predict. */
CK_API ck_status ck_predictor_run(ck_predictor *p, const float *const *inputs, int64_t rows, float **outputs);
CK_API void ck_predictor_free(ck_predictor *p);

/* ==== limits and memory ====================================================== */
/* Set once for the whole program, before threads read files (ck_get_limits gives
 * the current values, so change a copy). A compressed member of a .keras archive
 * or an array of an .npz may inflate to what its header or the model's config
 * implies plus inflate_slack_bytes, never beyond inflate_max_bytes, never beyond
 * what deflate can make of its compressed size, and a .keras config.json or
 * metadata.json to config_max_bytes; all checked before inflating. HDF5 files
 * are first read by a forked child process (libhdf5 1.10 trusts a file's sizes and addresses: a damaged heap can crash or
 * stall it) that may take hdf5_seconds of CPU time (a busy machine does not count
 * against it; a child blocked for 10x that plus 10 s of wall time is ended too)
 * and hdf5_memory_bytes more address space;
 * a child that crashes or overruns makes the read fail with one line. Set
 * hdf5_in_process only for files you trust (it skips the child). */
typedef struct ck_limits {
    int64_t inflate_slack_bytes; /* default 1 MiB   */
    int64_t inflate_max_bytes;   /* default 4 GiB   */
    int64_t config_max_bytes;    /* default 64 MiB  */
    double hdf5_seconds;         /* CPU, default 1.0 */
    int64_t hdf5_memory_bytes;   /* default 1 GiB   */
    bool hdf5_in_process;        /* default false   */
} ck_limits;
CK_API void ck_get_limits(ck_limits *out);
CK_API ck_status ck_set_limits(const ck_limits *limits);

/* Every allocation the library makes itself goes through these; NULL restores
 * libc. calloc may be NULL, and then a zeroed allocation is malloc and zeroing,
 * which touches every page: a hook that passes large blocks on to libc's calloc
 * keeps the pages of weights that are never used (a summary's) untouched. Set
 * it before any other call, with no ckeras object alive, since memory goes back
 * to the allocator that made it. The text and arrays the API hands out to be
 * released with free() come from it too, so a hook wraps malloc (to count,
 * limit or fail allocations, as the tests do) rather than replacing it. libhdf5, libzip, jansson and OpenBLAS allocate on
 * their own. A failed allocation makes the call fail with CK_ERR_NOMEM, never a
 * crash; so does an address-space limit (RLIMIT_AS) too small for a call, where
 * the program was started with OPENBLAS_NUM_THREADS=1 (OpenBLAS's own threads
 * start as it loads and spin for ever on a buffer the limit leaves no room for). */
typedef struct ck_allocator {
    void *(*malloc)(void *ctx, size_t bytes);
    void *(*realloc)(void *ctx, void *p, size_t bytes); /* p may be NULL */
    void (*free)(void *ctx, void *p);                    /* p may be NULL */
    void *ctx;
    void *(*calloc)(void *ctx, size_t n, size_t size); /* optional: zeroed n x size */
} ck_allocator;
CK_API ck_status ck_set_allocator(const ck_allocator *allocator);

/* ==== errors ================================================================= */
/* The message of the last failed call on this thread ("" if none): one line
 * naming the file, the layer and the field. Borrowed until the next call. */
CK_API const char *ck_errmsg(void);
/* The status that came with that message, for calls that return a pointer. */
CK_API ck_status ck_errstatus(void);
/* A short name for a status ("CK_ERR_SHAPE"). */
CK_API const char *ck_status_name(ck_status s);

/* ==== threads ================================================================ */
/* Threads used by the kernels; n <= 0 restores the default (all processors).
 * ckeras threads with OpenMP alone: it sets OpenBLAS to one thread (here and
 * whenever it makes an engine) and splits large products over its OpenMP
 * threads, because two pools spinning on the same cores slowed each other
 * down. A program that also calls OpenBLAS itself sees that setting. At one
 * thread, and for work too small to split, no OpenMP region is entered; on a
 * machine whose cores other processes keep busy, loops take fewer threads,
 * down to one, rather than wait for a thread that has no core. */
CK_API void ck_set_num_threads(int n);
/* The instruction set of ckeras's own matrix kernels here: "avx512", "avx2",
 * or "none" (OpenBLAS alone); the widest the CPU has by default. The
 * environment variable CKERAS_ISA=avx512, avx2 or none, read once, picks one
 * no wider than the CPU's (benchmarks of each path on one AVX-512 CPU);
 * element-wise loops still take the CPU's widest clone. */
CK_API const char *ck_kernel_isa(void);

/* ---- export: a model as one dependency-free C file (src/export/) ----------------- */
/* Writes NAME.h and NAME.c into dir (and NAME_weights.bin with NAME_weights.S,
 * which .incbin's it, when the weights pass the threshold): C99 with libm only,
 * no allocation, no written globals; NAME_predict(in, out, arena) runs one
 * sample (inputs concatenated in Keras's order in `in`, outputs likewise in
 * `out`), NAME_predict_batch many; the arena is NAME_ARENA_BYTES bytes. Every
 * layer's class must have an emitter: anything else is refused, naming the
 * class and the layer, before a file is written. Same model, same bytes. */
typedef struct ck_export_opts {
    const char *name;         /* C prefix; NULL: the model's name as an identifier */
    int64_t bin_threshold;    /* weight bytes above which they go to NAME_weights.bin;
                                 0: 1 MiB; < 0: never                               */
    /* Post-training int8 quantization as TensorFlow Lite does it: Dense and
     * Conv layers of the top-level model whose activation is linear, relu or
     * relu6 run on int8 (per-channel symmetric weights, per-tensor asymmetric
     * activations from the calibration rows, int32 bias, fixed-point
     * requantization); every other layer stays float. One-input models. */
    bool int8;
    const float *calibration; /* [calibration_rows, input floats]                   */
    int64_t calibration_rows;
    /* Consecutive int8 layers pass int8 activations (their arena bytes are
     * the int8 values'); true makes them pass floats, as exports did before,
     * with the same outputs and a larger arena (for the tests' comparison). */
    bool int8_float_between;
    /* A model whose input has an unknown length (None time steps, axis 1):
     * the most steps a call may take; the arena is sized for it and the code
     * gets NAME_predict_len(in, steps, out, arena). 0: such models are refused. */
    int64_t max_steps;
} ck_export_opts;
typedef struct ck_export_info {
    int64_t arena_bytes;      /* NAME_ARENA_BYTES                                 */
    int64_t weight_bytes;     /* constants (weights and derived) in the file       */
    int64_t naive_bytes;      /* every tensor in its own buffer, for comparison     */
    int layers;               /* layer calls in NAME_predict                        */
    bool weights_bin;         /* the weights went to NAME_weights.bin               */
    int int8_layers;          /* layers that run in int8                            */
    char name[64];            /* the C prefix used                                  */
} ck_export_info;
CK_API ck_status ck_model_export_c(ck_model *model, const char *dir, const ck_export_opts *opts,
                                  ck_export_info *info);
/* Whether ck_model_export_c has an emitter for a layer class. */
CK_API bool ck_export_supports(const char *class_name);

#ifdef __cplusplus
}
#endif
#endif /* CKERAS_H */
