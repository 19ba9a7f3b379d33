/* The table of every command (each lives in a tools/cmd_*.c file), in the
 * order `ckeras --help` lists them. Add one line per command here. */
#include "cli.h"

#include <stddef.h>

int cmd_summary(int argc, char **argv), cmd_weights(int argc, char **argv); /* tools/cmd_summary.c */
int cmd_example_args(int argc, char **argv), cmd_layers_args(int argc, char **argv);
int cmd_predict(int argc, char **argv); /* tools/cmd_predict.c */
int cmd_files_convert(int argc, char **argv);
int cmd_files_inspect(int argc, char **argv);
int cmd_config(int argc, char **argv); /* tools/cmd_config.c */
int cmd_fit(int argc, char **argv), cmd_evaluate(int argc, char **argv), cmd_demo_fashion(int argc, char **argv); /* tools/cmd_fit.c */
int cmd_demo_cnn(int argc, char **argv); /* tools/cmd_demo_cnn.c */
int cmd_export(int argc, char **argv);   /* tools/cmd_export.c */

const cli_command cli_commands[] = {
    {"summary", cmd_summary,
     "  summary FILE [options]    print model.summary() of a model file\n"
     "      --style keras3|keras2|json   (default keras3)\n"
     "      --line-length N  --positions a,b,c  --show-trainable  --expand-nested\n"
     "      --layer-range START END  --flops\n"},
    {"weights", cmd_weights,
     "  weights FILE [--layer NAME] [--format text|npz --output F.npz]  list every weight\n"},
    {"example", cmd_example_args, "  example                   the classic model: its summary and get_weights()\n"},
    {"layers", cmd_layers_args, "  layers                    list the supported Keras layer classes\n"},
    {"predict", cmd_predict,
     "  predict MODEL --input X.npy [--input ...] --output Y.npy [--output ...]\n"
     "          [--weights W.npz|.weights.h5|.h5|.keras] [--batch-size N] [--check EXPECTED.npy]\n"
     "          run the model (MODEL: .keras, .h5, model.json or a JSON config; X may be .csv)\n"},
    {"fit", cmd_fit,
     "  fit MODEL --x X.npy --y Y.npy | --csv DATA.csv --label-column NAME [--epochs N] [--batch-size B]\n"
     "          [--optimizer adam] [--loss L] [--metrics accuracy] [--weights W.npz|.weights.h5|...]\n"
     "          [--validation-split F] [--verbose 0|1|2] [--seed S] [--no-shuffle]\n"
     "          [--save OUT.npz|.keras|.weights.h5|.h5|.json]\n"
     "          several inputs/outputs: --x, --y, --loss, --metrics once per input/output,\n"
     "          [--loss-weights 1,0.5] [--sample-weight SW.npy] [--weighted-metrics LIST]\n"},
    {"evaluate", cmd_evaluate,
     "  evaluate MODEL --x X.npy --y Y.npy | --csv DATA.csv --label-column NAME --loss L\n"
     "          [--metrics LIST] [--weights W.npz]\n"},
    {"convert", cmd_files_convert,
     "  convert IN OUT            rewrite a model as .keras, .h5, .weights.h5 or model.json\n"},
    {"inspect", cmd_files_inspect,
     "  inspect FILE              format, Keras version, layers, weights, optimizer state\n"},
    {"demo-fashion", cmd_demo_fashion,
     "  demo-fashion              train an MLP on Fashion-MNIST (Debian's dataset-fashion-mnist)\n"},
    {"demo-cnn", cmd_demo_cnn,
     "  demo-cnn [--epochs N] [--batch-size N] [--limit N] [--threads N]\n"
     "                            train a CNN on Fashion-MNIST to 90% test accuracy\n"},
    {"export", cmd_export,
     "  export MODEL --c DIR [--name NAME] [--weights W] [--bin-threshold BYTES]\n"
     "          [--int8 --calibrate X.npy]\n"
     "          write the model as DIR/NAME.h and DIR/NAME.c: C99, libm only, no malloc\n"},
    {"config", cmd_config, "  config FILE [--output OUT]  the model's Keras 3 model.to_json()\n"},
    {NULL, NULL, NULL},
};
