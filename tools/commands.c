/* Every ckeras command: its arguments, options (kind, range, default, help) and
 * examples. This table is the one source of the parser, `--help`, the man pages
 * and the shell completion (tools/cli_args.c). */
#include "cli.h"

#include <stddef.h>

int cmd_summary(const cli_args *a), cmd_weights(const cli_args *a), cmd_example(const cli_args *a),
    cmd_layers(const cli_args *a);                                 /* tools/cmd_summary.c */
int cmd_version(const cli_args *a), cmd_help(const cli_args *a), cmd_man(const cli_args *a),
    cmd_completion(const cli_args *a);                             /* tools/cmd_help.c */
int cmd_predict(const cli_args *a);                                /* tools/cmd_predict.c */
int cmd_files_convert(const cli_args *a), cmd_files_inspect(const cli_args *a); /* tools/cmd_files.c */
int cmd_config(const cli_args *a);                                 /* tools/cmd_config.c */
int cmd_fit(const cli_args *a), cmd_evaluate(const cli_args *a), cmd_demo_fashion(const cli_args *a); /* cmd_fit.c */
int cmd_demo_cnn(const cli_args *a);                               /* tools/cmd_demo_cnn.c */
int cmd_plot(const cli_args *a);                                   /* tools/cmd_plot.c */
int cmd_run(const cli_args *a);                                    /* tools/cmd_run.c */
int cmd_export(const cli_args *a);                                 /* tools/cmd_export.c */

#define ARRAY_FORMATS ".npy, .npz (one array), .csv (header row) or .json (nested lists); - is stdin"
#define MODEL_FILES "MODEL is any model file: .keras, .h5, TF.js model.json or a Keras JSON config."
#define BIG 1e18

static const cli_option summary_options[] = {
    {"style", CLI_CHOICE, NULL, "keras3", "the table's style: Keras 3, tf.keras 2, or JSON with counts and FLOPs", 0, 0, 0,
     "keras3|keras2|json"},
    {"line-length", CLI_INT, "N", "Keras's for the model kind", "total width of the table", 0, 1, 100000, NULL},
    {"positions", CLI_TEXT, "A,B,C", "Keras's", "column ends as fractions of the width (model.summary(positions=...))", 0,
     0, 0, NULL},
    {"show-trainable", CLI_FLAG, NULL, NULL, "add the Trainable column", 0, 0, 0, NULL},
    {"expand-nested", CLI_FLAG, NULL, NULL, "show the layers of nested models", 0, 0, 0, NULL},
    {"layer-range", CLI_TEXT, "START END", NULL, "rows from the first layer matching START to the last matching END",
     CLI_TWO_VALUES, 0, 0, NULL},
    {"flops", CLI_FLAG, NULL, NULL, "append forward FLOPs and memory lines (not in Keras)", 0, 0, 0, NULL},
    {NULL, 0, NULL, NULL, NULL, 0, 0, 0, NULL},
};

static const cli_option weights_options[] = {
    {"layer", CLI_TEXT, "NAME", NULL, "only the weights of this layer", 0, 0, 0, NULL},
    {"values", CLI_FLAG, NULL, NULL, "print the values too", 0, 0, 0, NULL},
    {"output", CLI_FILE, "FILE", NULL,
     "write the arrays instead of listing them: .npz (np.savez(*model.get_weights()), in get_weights() order, "
     "which --weights of predict, fit and evaluate reads back); - is stdout",
     0, 0, 0, NULL},
    {"format", CLI_CHOICE, NULL, "npz for --output, else text", "what to write", 0, 0, 0, "text|npz"},
    {NULL, 0, NULL, NULL, NULL, 0, 0, 0, NULL},
};

static const cli_option convert_options[] = {
    {"weights", CLI_FILE, "FILE", NULL,
     "weights to load into IN first, for an architecture and its weights kept apart (model.json + weights.h5): "
     ".npz in get_weights() order, .weights.h5, .h5, .keras",
     0, 0, 0, NULL},
    {NULL, 0, NULL, NULL, NULL, 0, 0, 0, NULL},
};

static const cli_option export_options[] = {
    {"c", CLI_FILE, "DIR", NULL, "the folder to write NAME.h and NAME.c in (it must exist)", CLI_REQUIRED, 0, 0, NULL},
    {"name", CLI_TEXT, "NAME", "the model's name", "the C prefix of the files, types and functions", 0, 0, 0, NULL},
    {"weights", CLI_FILE, "FILE", NULL, "weights to load first (.npz in get_weights() order, .weights.h5, .h5, .keras)",
     0, 0, 0, NULL},
    {"bin-threshold", CLI_INT, "BYTES", "1048576",
     "above this many bytes of weights they go to NAME_weights.bin, embedded by NAME_weights.S (.incbin); -1: never",
     0, -1, BIG, NULL},
    {"int8", CLI_FLAG, NULL, NULL,
     "post-training int8 quantization as TensorFlow Lite does it (Dense and Conv layers), needs --calibrate", 0, 0, 0,
     NULL},
    {"calibrate", CLI_FILE, "FILE", NULL, "rows of model input 0 whose activation ranges set the int8 scales", 0, 0, 0,
     NULL},
    {"max-steps", CLI_INT, "N", NULL,
     "for an input of unknown length (None steps): the most steps a call takes; the arena is sized for N and the "
     "code gets NAME_predict_len(in, steps, out, arena)",
     0, 1, BIG, NULL},
    {NULL, 0, NULL, NULL, NULL, 0, 0, 0, NULL},
};

static const cli_option predict_options[] = {
    {"input", CLI_FILE, "FILE", NULL, "input array, once per model input in order: " ARRAY_FORMATS,
     CLI_REPEAT | CLI_REQUIRED, 0, 0, NULL},
    {"output", CLI_FILE, "FILE", "CSV text on stdout",
     "where each output goes, once per model output; the format follows the extension (.npy, .npz, .csv, .json); "
     "- is stdout (.npy bytes)",
     CLI_REPEAT, 0, 0, NULL},
    {"weights", CLI_FILE, "FILE", NULL,
     "weights to load first: .npz in get_weights() order (what 'ckeras weights --output' writes), .weights.h5, "
     ".h5, .keras",
     0, 0, 0, NULL},
    {"batch-size", CLI_INT, "N", "32", "rows per batch", 0, 1, BIG, NULL},
    {"check", CLI_FILE, "FILE", NULL, "compare the first output with this .npy and fail beyond 1e-5", 0, 0, 0, NULL},
    {NULL, 0, NULL, NULL, NULL, 0, 0, 0, NULL},
};

#define DATA_OPTIONS                                                                                               \
    {"x", CLI_FILE, "FILE", NULL, "input array, once per model input in order: " ARRAY_FORMATS, CLI_REPEAT, 0, 0,   \
     NULL},                                                                                                        \
        {"y", CLI_FILE, "FILE", NULL,                                                                              \
         "target array, once per model output (class indices for sparse losses, one-hot rows for categorical "     \
         "ones)",                                                                                                  \
         CLI_REPEAT, 0, 0, NULL},                                                                                  \
        {"csv", CLI_FILE, "FILE", NULL, "x and y from one CSV file (header row), y being --label-column", 0, 0, 0, \
         NULL},                                                                                                    \
        {"label-column", CLI_TEXT, "NAME", NULL, "the CSV column that holds y", 0, 0, 0, NULL},                    \
        {"loss", CLI_TEXT, "SPEC", NULL,                                                                           \
         "the loss by its Keras name: mse, sparse_categorical_crossentropy, "                                      \
         "\"BinaryCrossentropy(from_logits=True)\"; once, or once per output; without it, the compile() a "    \
         ".keras file recorded", CLI_REPEAT, 0, 0, NULL},                                                                   \
        {"metrics", CLI_TEXT, "LIST", NULL, "comma-separated metrics (accuracy, mae, \"AUC()\"); once per output",  \
         CLI_REPEAT, 0, 0, NULL},                                                                                  \
        {"weights", CLI_FILE, "FILE", NULL, "weights to load first (.npz in get_weights() order, .weights.h5, .h5, " \
         ".keras)", 0, 0, 0, NULL},                                                                                \
        {"batch-size", CLI_INT, "N", "32", "samples per batch", 0, 1, BIG, NULL}

/* Under an MPI launcher (mpirun -np N ckeras fit ...) fit and evaluate run on N ranks. */
#define DIST_OPTIONS                                                                                                \
    {"bucket-mb", CLI_NUMBER, "MB", "25", "under mpirun: gradient bucket size; a bucket's reduction starts as soon "  \
     "as backward has made it", 0, 1e-6, 1e6, NULL},                                                                \
        {"reduction", CLI_CHOICE, NULL, "ordered", "under mpirun: add the ranks' gradients in rank order (reruns "   \
         "give the same bits) or by MPI_Iallreduce (less traffic at scale)", 0, 0, 0, "ordered|mpi"},               \
        {"dist-stats", CLI_FLAG, NULL, NULL, "under mpirun: rank 0 prints where the reductions' time went", 0, 0, 0, \
         NULL}

static const cli_option fit_options[] = {
    DATA_OPTIONS,
    DIST_OPTIONS,
    {"epochs", CLI_INT, "N", "1", "epochs to train", 0, 0, 1e9, NULL},
    {"initial-epoch", CLI_INT, "N", "0", "epoch to start from (fit(initial_epoch=...))", 0, 0, 1e9, NULL},
    {"optimizer", CLI_TEXT, "SPEC", "rmsprop", "adam, sgd, \"SGD(learning_rate=0.1, momentum=0.9)\" (or \"SGD(0.1, 0.9)\"), "
     "\"Adam(learning_rate=ExponentialDecay(initial_learning_rate=0.01, decay_steps=100, decay_rate=0.9))\"",
     0, 0, 0, NULL},
    {"loss-weights", CLI_TEXT, "W1,W2", "1 each", "weights of the outputs' losses", 0, 0, 0, NULL},
    {"weighted-metrics", CLI_TEXT, "LIST", NULL, "metrics that see --sample-weight, once per output", CLI_REPEAT, 0, 0,
     NULL},
    {"sample-weight", CLI_FILE, "FILE", NULL, "one weight per sample", 0, 0, 0, NULL},
    {"validation-split", CLI_NUMBER, "F", "0", "last fraction of the samples held out for validation", 0, 0, 0.999999,
     NULL},
    {"verbose", CLI_CHOICE, NULL, "1", "0 silent, 1 progress bar, 2 one line per epoch (then a 'final' line)", 0, 0, 0,
     "0|1|2"},
    {"seed", CLI_INT, "S", "0", "seed of the shuffling", 0, 0, BIG, NULL},
    {"no-shuffle", CLI_FLAG, NULL, NULL, "keep the samples' order (fit(shuffle=False))", 0, 0, 0, NULL},
    {"callback", CLI_TEXT, "SPEC", NULL,
     "a Keras callback as Python: \"EarlyStopping(monitor='val_loss', patience=2)\", "
     "\"ModelCheckpoint(filepath='ckpt-{epoch:02d}.keras')\", \"BackupAndRestore(backup_dir='bk')\", "
     "\"ReduceLROnPlateau(factor=0.5)\", \"CSVLogger(filename='log.csv')\", \"TerminateOnNaN()\"",
     CLI_REPEAT, 0, 0, NULL},
    {"save", CLI_FILE, "FILE", NULL, "save the trained model: .keras, .h5, .weights.h5, .json or a folder/ (TF.js) or .npz "
     "(get_weights() arrays); written to a temporary file, then renamed", 0, 0, 0, NULL},
    {NULL, 0, NULL, NULL, NULL, 0, 0, 0, NULL},
};

static const cli_option evaluate_options[] = {
    DATA_OPTIONS,
    DIST_OPTIONS,
    {NULL, 0, NULL, NULL, NULL, 0, 0, 0, NULL},
};

static const cli_option config_options[] = {
    {"output", CLI_FILE, "FILE", "stdout", "write the JSON there (- is stdout)", 0, 0, 0, NULL},
    {NULL, 0, NULL, NULL, NULL, 0, 0, 0, NULL},
};

#define FASHION_DIR \
    {"dir", CLI_FILE, "DIR", "/usr/share/datasets/fashion-mnist", "folder of the IDX files", 0, 0, 0, NULL}
static const cli_option fashion_options[] = {
    FASHION_DIR,
    {"epochs", CLI_INT, "N", "10", "epochs to train", 0, 1, 1e9, NULL},
    {NULL, 0, NULL, NULL, NULL, 0, 0, 0, NULL},
};

static const cli_option cnn_options[] = {
    FASHION_DIR,
    {"epochs", CLI_INT, "N", "6", "epochs to train", 0, 1, 1e9, NULL},
    {"batch-size", CLI_INT, "N", "64", "samples per batch", 0, 1, BIG, NULL},
    {"limit", CLI_INT, "N", "0 (all 60000)", "train on the first N images only (a quick smoke run)", 0, 0, BIG, NULL},
    {"threads", CLI_INT, "N", "0 (every core)", "threads of the kernels", 0, 0, 4096, NULL},
    {NULL, 0, NULL, NULL, NULL, 0, 0, 0, NULL},
};

static const cli_option plot_options[] = {
    {"output", CLI_FILE, "FILE", "model.png",
     "the picture: .png, .svg, .pdf, or .dot as Graphviz lays it out (plot_model's to_file); - prints "
     "model_to_dot(...).to_string() instead",
     0, 0, 0, NULL},
    {"show-shapes", CLI_FLAG, NULL, NULL, "input and output shapes in each box", 0, 0, 0, NULL},
    {"show-dtype", CLI_FLAG, NULL, NULL, "the output dtype in each box", 0, 0, 0, NULL},
    {"show-layer-names", CLI_FLAG, NULL, NULL, "layer names before the class names", 0, 0, 0, NULL},
    {"rankdir", CLI_CHOICE, NULL, "TB", "top to bottom or left to right", 0, 0, 0, "TB|LR"},
    {"expand-nested", CLI_FLAG, NULL, NULL, "nested models as dashed clusters of their layers", 0, 0, 0, NULL},
    {"dpi", CLI_INT, "N", "200", "resolution of the picture", 0, 1, 10000, NULL},
    {"show-layer-activations", CLI_FLAG, NULL, NULL, "the activation of layers that have one", 0, 0, 0, NULL},
    {"show-trainable", CLI_FLAG, NULL, NULL, "whether each layer with weights is trainable", 0, 0, 0, NULL},
    {"splines", CLI_CHOICE, NULL, "ortho", "how edges are drawn", 0, 0, 0, "ortho|curved|polyline|spline|line"},
    {NULL, 0, NULL, NULL, NULL, 0, 0, 0, NULL},
};

static const cli_option man_options[] = {
    {"output-dir", CLI_FILE, "DIR", "stdout", "write ckeras.1 and every ckeras-COMMAND.1 into DIR", 0, 0, 0, NULL},
    {NULL, 0, NULL, NULL, NULL, 0, 0, 0, NULL},
};

static const cli_option completion_options[] = {
    {"output", CLI_FILE, "FILE", "stdout", "write the script there", 0, 0, 0, NULL},
    {NULL, 0, NULL, NULL, NULL, 0, 0, 0, NULL},
};

const cli_command cli_commands[] = {
    {"summary", cmd_summary, "FILE", 1, 1, "print model.summary() of a model file",
     "Prints the summary Keras 3 prints for the model in FILE (.keras, .h5, TF.js model.json or a "
     "Keras JSON config), byte for byte. Only the architecture is read, so large files are quick.",
     summary_options,
     "ckeras summary model.keras\n"
     "ckeras summary --show-trainable --line-length 100 model.h5\n"
     "ckeras summary model.keras --style json"},
    {"weights", cmd_weights, "FILE", 1, 1, "list or write model.get_weights()",
     "Lists every weight of the model in FILE in Keras's get_weights() order: its path, shape and size, and with "
     "--values its numbers; or writes them to an .npz. Files whose architecture ckeras cannot build list the "
     "stored arrays as they are.",
     weights_options,
     "ckeras weights model.keras\n"
     "ckeras weights model.keras --layer dense --values\n"
     "ckeras weights model.keras --output w.npz"},
    {"export", cmd_export, "MODEL", 1, 1, "write the model as one dependency-free C file",
     "Writes DIR/NAME.h and DIR/NAME.c: C99 that needs only libm, allocates nothing and writes no global. "
     "NAME_predict(in, out, arena) runs one sample (inputs and outputs concatenated in Keras's order), "
     "NAME_predict_batch many, in an arena of NAME_ARENA_BYTES. A layer class without an emitter is refused, "
     "naming the class and the layer, before any file is written. " MODEL_FILES,
     export_options,
     "ckeras export model.keras --c out --name net\n"
     "ckeras export model.keras --c out --int8 --calibrate x.npy"},
    {"config", cmd_config, "FILE", 1, 1, "print the model's Keras 3 model.to_json()",
     "Prints the JSON config Keras 3 writes for the model in FILE; keras.models.model_from_json reads it back.",
     config_options, "ckeras config model.h5\nckeras config model.h5 --output model.json"},
    {"inspect", cmd_files_inspect, "FILE", 1, 1, "format, Keras version, layers, weights, optimizer state",
     "Tells what a model file holds without building the model: its format, the Keras version and backend that "
     "wrote it, the model class, the weights stored and whether an optimizer state is present.",
     NULL, "ckeras inspect model.keras"},
    {"convert", cmd_files_convert, "IN OUT", 2, 2, "rewrite a model as .keras, .h5, .weights.h5 or model.json",
     "Reads the model IN (any format) and writes it to OUT in the format OUT's name asks for: .keras (Keras 3), "
     ".h5 (legacy HDF5), .weights.h5 (weights only), .json (TF.js layers model and its .weights.bin).",
     convert_options,
     "ckeras convert model.h5 model.keras\nckeras convert model.keras web/model.json\n"
     "ckeras convert model.json --weights weights.h5 model.keras"},
    {"predict", cmd_predict, "MODEL", 1, 1, "model.predict() on arrays",
     "Runs the model on the arrays given by --input and writes its outputs. " MODEL_FILES
     " Inputs with None dimensions run on the arrays' shapes.",
     predict_options,
     "ckeras predict model.keras --input x.npy\n"
     "ckeras predict model.keras --input x.npy --output y.npy\n"
     "ckeras predict model.keras --input x.csv --output y.csv --weights w.npz\n"
     "ckeras predict model.keras --input - --output - < x.npy > y.npy"},
    {"fit", cmd_fit, "MODEL", 1, 1, "model.compile() and model.fit() on arrays",
     "Compiles the model with --optimizer, --loss and --metrics and trains it on --x and --y (or a CSV file), "
     "printing Keras's progress, then saves it with --save. " MODEL_FILES
     " Labels are checked against the loss as Keras checks them.",
     fit_options,
     "ckeras fit model.json --x x.npy --y y.npy --loss sparse_categorical_crossentropy --metrics accuracy "
     "--epochs 5 --save trained.keras\n"
     "ckeras fit model.json --csv iris.csv --label-column species --loss sparse_categorical_crossentropy\n"
     "ckeras fit model.keras --x x.npy --y y.npy --loss mse --epochs 50 --validation-split 0.2 "
     "--callback \"EarlyStopping(patience=2)\" --callback \"ModelCheckpoint(filepath='best.keras', "
     "save_best_only=True)\"\n"
     "mpirun -np 4 ckeras fit model.keras --x x.npy --y y.npy --loss mse --batch-size 256 --save out.keras"},
    {"evaluate", cmd_evaluate, "MODEL", 1, 1, "model.evaluate() on arrays",
     "Compiles the model with --loss and --metrics and prints the loss and metrics on --x and --y. " MODEL_FILES,
     evaluate_options,
     "ckeras evaluate trained.keras --x x.npy --y y.npy --loss sparse_categorical_crossentropy --metrics accuracy"},
    {"plot", cmd_plot, "MODEL", 1, 1, "keras.utils.plot_model: a picture of the model's graph",
     "Draws the model as Keras's plot_model does, with its options and defaults: Keras 3's boxes (HTML-table "
     "labels), node order, edges and, with --expand-nested, nested models as clusters. Graphviz's library "
     "renders it; no dot program is run. " MODEL_FILES " MODEL may also be Keras model code (a .py file).",
     plot_options,
     "ckeras plot model.keras --output model.png --show-shapes\n"
     "ckeras plot model.h5 --output model.svg --show-layer-names --rankdir LR\n"
     "ckeras plot model.py --output - --show-shapes --expand-nested"},
    {"run", cmd_run, "SCRIPT.py", 1, 1, "run Keras model code without Python",
     "Runs the declarative subset of Python that Keras model code uses (imports of keras and tf.keras, "
     "assignments, calls, literals, for loops over range() or a list, if on constants, Sequential, Input, "
     "functional calls, keras.Model) and prints what Python would: model.summary(), print(), count_params(), "
     "get_weights() shapes; plot_model() and save() write their files. Anything else stops with "
     "file:line:column: unsupported Python, and nothing beyond the subset is executed.",
     NULL, "ckeras run model.py"},
    {"layers", cmd_layers, "", 0, 0, "list the supported Keras layer classes",
     "Prints the name of every Keras layer class ckeras reads, builds and runs, one per line.", NULL,
     "ckeras layers | grep Conv"},
    {"example", cmd_example, "", 0, 0, "the classic model: its summary and get_weights()",
     "Builds Dense(3, relu) -> Dense(2, softmax) on 2 inputs through the C API and prints its summary and weights.",
     NULL, "ckeras example"},
    {"demo-fashion", cmd_demo_fashion, "", 0, 0, "train an MLP on Fashion-MNIST",
     "Trains Flatten -> Dense(256) -> Dense(128) -> Dense(10) on Debian's dataset-fashion-mnist with Adam and "
     "prints the test accuracy; exit status 3 below 88%.",
     fashion_options, "ckeras demo-fashion --epochs 3"},
    {"demo-cnn", cmd_demo_cnn, "", 0, 0, "train a CNN on Fashion-MNIST to 90% test accuracy",
     "Trains Conv2D(32) -> MaxPool -> Conv2D(64) -> MaxPool -> Dense(128) -> Dense(10) on Fashion-MNIST with "
     "Adam, the test set as validation data, and prints the test accuracy; exit status 3 below 90%.",
     cnn_options, "ckeras demo-cnn\nckeras demo-cnn --epochs 1 --limit 2000"},
    {"version", cmd_version, "", 0, 0, "print the version (also ckeras --version)",
     "Prints 'ckeras' and the version of the library it runs with.", NULL, "ckeras --version"},
    {"help", cmd_help, "[COMMAND]", 0, 1, "help on ckeras or on one command",
     "Prints the list of commands, or the help of COMMAND (the same as ckeras COMMAND --help).", NULL,
     "ckeras help fit"},
    {"man", cmd_man, "[COMMAND]", 0, 1, "print a man page (roff)",
     "Prints the man page ckeras(1), or ckeras-COMMAND(1), in roff; make install installs them all.",
     man_options, "ckeras man fit | man -l -\nckeras man --output-dir share/man/man1"},
    {"completion", cmd_completion, "bash|zsh", 1, 1, "print the shell completion script",
     "Prints the completion script for bash or zsh; make install installs both.", completion_options,
     "source <(ckeras completion bash)\nckeras completion zsh --output ~/.zsh/functions/_ckeras"},
    {NULL, NULL, NULL, 0, 0, NULL, NULL, NULL, NULL},
};
