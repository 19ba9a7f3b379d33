/*
 * Code generation of `ckeras export --c` (export_c.c drives it, emit_layers.c
 * holds one emitter per layer class): a built model's plan, flattened through
 * nested models, becomes one C99 function that calls a kernel per layer on one
 * sample. Every tensor of the plan is a value; values share storage where a
 * layer only renames its input (Reshape, Dropout) or may overwrite it
 * (activations), and what remains is packed into one arena by lifetime.
 * Emitters run twice: a dry pass that checks the layer (refusing what the
 * generated code cannot do, before any file is written) and asks for scratch,
 * then the pass that writes code. A channels_first step runs on channels-last
 * copies of its values (moved_in/moved_out); stateful layers keep their states
 * in the arena (ex_state); an input of unknown length is planned at max_steps
 * and sized by `steps` in the code (ex_rows, ex_steps).
 */
#ifndef CK_EXPORT_H
#define CK_EXPORT_H

#include "graph/graph.h"

#include <stdbool.h>
#include <stdint.h>

typedef enum ex_place { EX_ARENA, EX_INPUT, EX_OUTPUT } ex_place;

typedef struct ex_value {
    ck_shape shape;     /* batch first; dim[0] is not used           */
    int64_t size;       /* floats of one sample                      */
    int link;           /* the value whose storage it shares (itself: its own) */
    ex_place place;     /* where its storage is (of the root)        */
    int64_t offset;     /* floats into the arena, `in` or `out`      */
    int first, last;    /* steps that write it and last read it      */
    int model_output;   /* index of the model output it is, or -1    */
    float lo, hi;       /* calibrated range (int8 export), when ranged */
    bool ranged;
    bool q8;            /* (a root) stored as int8 at its qparams: every
                           writer makes int8 and every reader takes it   */
    int mask;           /* the value holding its Keras mask [steps] (1 kept, 0 masked), or -1 */
    int64_t step_stride; /* a TimeDistributed slice of its link: step t's floats
                           start t * step_stride in (0: not a slice)          */
    bool varlen;        /* axis 1 has an unknown length: planned at len_max,
                           sized in the code by the length variable `len`     */
    int len;            /* 0: `steps` (the input's); k: `steps_k`, the output
                           length of a window (Conv1D, pooling) over it        */
    int64_t len_max;    /* that length at max_steps input steps               */
} ex_value;

#define EX_MAX_IO CK_LAYER_SHAPES
#define EX_MAX_SCRATCH 8

typedef struct ex_step {
    const ck_layer *layer;
    const ck_node *node;
    bool top;                    /* a node of the top-level model itself */
    int in[EX_MAX_IO], n_in;     /* values read                         */
    int out[4], n_out;           /* values written                      */
    int scratch[EX_MAX_SCRATCH], n_scratch; /* values of its scratch    */
    int fold;                    /* the BatchNormalization step it takes in, or -1 */
    int mask_out;                /* the mask value it writes (Embedding(mask_zero), Masking), or -1 */
    int folded_into;             /* (a BatchNormalization) the step doing its work, or -1 */
    bool aliased;                /* its output shares input 0's floats: no code      */
    bool q8;                     /* runs in int8: may read and write int8 values     */
    bool q8_through;             /* may map int8 to int8 (max pooling), when both are */
    /* A channels_first layer runs as the engine runs it, on channels-last
     * copies: in[k] / out[k] are then those copies, and these the model's
     * values they are moved from / to (-1: not moved). */
    int moved_in[EX_MAX_IO], moved_out[4];
    int spatial;                 /* its channels_first spatial axes (0: none moved)  */
    /* (EX_WINDOW over an unknown length) its output length from its input's:
     * Keras's (in - span) // stride + 1 ('valid') or (in - 1) // stride + 1. */
    int64_t win_span, win_stride;
    bool win_valid, win_same;    /* padding 'valid'; 'same' (padding set per call) */
} ex_step;

typedef struct ex_ctx ex_ctx;

/* What an emitter says about its class (ex_class.flags). */
enum {
    EX_ALIAS = 1,   /* the output is the input's floats unchanged: no code (emit,
                       if any, only checks the layer, in the dry pass)          */
    EX_INPLACE = 2, /* the kernel may write its output over input 0           */
    EX_VARLEN = 4,  /* the emitter sizes its calls with ex_rows / ex_steps, so
                       it takes values of unknown length                       */
    EX_MOVES = 8,   /* (an alias) channels_first reorders the floats: then not
                       an alias, its emitter moves the channels last           */
    EX_WINDOW = 16, /* a rank-1 convolution or pooling window: over an unknown
                       length its output's length is computed per call (ex_window) */
};

typedef ck_status (*ex_emit_fn)(ex_ctx *c, const ck_layer *l, const ex_step *s);
typedef struct ex_class {
    const char *class_name;
    ex_emit_fn emit;    /* may be NULL with EX_ALIAS */
    unsigned flags;
} ex_class;

/* Whether a layer can take a BatchNormalization after it into its kernel and
 * bias (Dense and convolutions without an activation; emit_layers.c). */
bool ex_can_fold(const ck_layer *l);
/* The inference-time y = x * scale + shift over the last axis of `channels`
 * that layer l is (the class's affine hook: BatchNormalization), if it is one. */
bool ex_affine_of(const ck_layer *l, int64_t channels, float *scale, float *shift);
/* The BatchNormalization folded into step s, or NULL. */
const ck_layer *ex_folded(const ex_ctx *c, const ex_step *s);

/* The emitter of a class (emit_layers.c), NULL when the class is not exported. */
const ex_class *ex_find_class(const char *class_name);
/* The names of every exported class, NULL-terminated (for messages and docs). */
const ex_class *ex_classes(int *n);

/* ---- what emitters call (export_c.c) -------------------------------------------- */
bool ex_emitting(const ex_ctx *c);
const ex_value *ex_val(const ex_ctx *c, int v);
/* C expressions (float *) of a step's input k / output k / scratch buffer. */
const char *ex_in(ex_ctx *c, const ex_step *s, int k);
const char *ex_out(ex_ctx *c, const ex_step *s, int k);
/* Input k's Keras mask as a C expression, or "NULL" when it has none; the
 * mask this step writes (its class makes a new one). */
const char *ex_in_mask(ex_ctx *c, const ex_step *s, int k);
const char *ex_out_mask(ex_ctx *c, const ex_step *s);
/* Value v's floats divided by `per`, as a C expression: a number, or a
 * multiple of `steps` when v has the unknown length (then `per` must divide
 * one step's floats; the step is refused otherwise). */
const char *ex_rows(ex_ctx *c, int v, int64_t per);
/* Value v's axis 1 (its steps) as a C expression. */
const char *ex_steps(ex_ctx *c, int v);
/* A rank-1 window's geometry (ex_geom's name) as a pointer expression: over an
 * unknown length, a copy written before the call with this call's lengths and
 * 'same' padding. */
const char *ex_geom_now(ex_ctx *c, const ex_step *s, const char *geom);
/* An EX_WINDOW layer's window span (dilation * (k - 1) + 1), stride and padding
 * (emit_layers.c); false for any other layer. */
bool ex_window(const ck_layer *l, int64_t *span, int64_t *stride, const char **padding);
/* A scratch buffer of `floats` floats live during this step only. */
const char *ex_scratch(ex_ctx *c, int64_t floats);
/* Floats of state that layer l (stateful) keeps between calls, as a C
 * expression; zeroed by NAME_reset, one row per sample of l's fixed batch. */
const char *ex_state(ex_ctx *c, const ck_layer *l, int64_t floats);
/* Name of a const float array holding weight w's values (one array per weight). */
const char *ex_weight(ex_ctx *c, const ck_layer *l, const ck_weight *w);
/* Name of a const array of n floats / longs made by the exporter (derived
 * constants: folded scales, geometry); tag names it in the file. */
const char *ex_floats(ex_ctx *c, const ck_layer *l, const char *tag, const float *v, int64_t n);
const char *ex_longs(ex_ctx *c, const ck_layer *l, const char *tag, const int64_t *v, int n);
/* Name of a const k_geom (kernel template "geom") with these fields. */
const char *ex_geom(ex_ctx *c, const ck_layer *l, const int64_t in[3], const int64_t out[3], const int64_t k[3],
                    const int64_t s[3], const int64_t d[3], const int64_t pad[3], int64_t cin, int64_t cout,
                    int64_t groups, int64_t mult);
/* Makes the generated file carry kernel template `name` (and what it uses). */
void ex_use(ex_ctx *c, const char *name);
/* A string made by the context (valid for its next few such calls). */
const char *ex_str(ex_ctx *c, const char *fmt, ...) CK_PRINTF(2, 3);
/* A float literal of v (as float32), exact to 9 digits. */
const char *ex_float(ex_ctx *c, double v);
/* One line of the predict function's body. */
void ex_line(ex_ctx *c, const char *fmt, ...) CK_PRINTF(2, 3);
/* Constant arrays of int8 / int32 values (quantized weights). */
const char *ex_int8s(ex_ctx *c, const ck_layer *l, const char *tag, const signed char *v, int64_t n);
const char *ex_int32s(ex_ctx *c, const ck_layer *l, const char *tag, const int32_t *v, int64_t n);
/* Whether step s runs in int8 (--int8 and both its input 0 and output 0 calibrated). */
bool ex_int8(const ex_ctx *c, const ex_step *s);
/* TensorFlow Lite's asymmetric int8 parameters of value v's calibrated range. */
void ex_qparams(const ex_ctx *c, int v, float *scale, int *zero_point);
/* Counts a layer that ran in int8 (for the report); in the dry pass, marks
 * the current step as one that reads input 0 and writes output 0 in int8. */
void ex_int8_done(ex_ctx *c);
/* (dry pass) Marks the current step as one that can map an int8 input 0 to an
 * int8 output 0 (max pooling); it runs so when both values are stored int8. */
void ex_int8_through(ex_ctx *c);
/* Whether value v is stored as int8 (signed char) at ex_qparams(v): its C
 * expressions (ex_in, ex_out) are then signed char pointers. */
bool ex_q8_value(const ex_ctx *c, int v);

/* int8 forms (emit_int8.c), for steps where ex_int8 holds and the activation
 * is one ex_q8_activation accepts (a clamp of the int8 result). */
struct ck_conv_geom;
bool ex_q8_activation(ck_act_kind k);
ck_status ex_dense_q8(ex_ctx *c, const ck_layer *l, const ex_step *s, const float *w, const float *b, int64_t rows,
                      int64_t n_in, int64_t n_out, ck_act_kind act);
ck_status ex_conv_q8(ex_ctx *c, const ck_layer *l, const ex_step *s, const struct ck_conv_geom *g, const float *w,
                     const float *b, const char *geom, ck_act_kind act);
/* Max pooling from an int8 value to an int8 value, written when both are
 * stored so (else false: the float form is the caller's to write). */
bool ex_max_pool_q8(ex_ctx *c, const ex_step *s, const char *geom);

/* TimeDistributed of any exported class: a C loop over the steps that runs
 * `inner`'s emitter on one step's slice of s's input and output. */
ck_status ex_per_step(ex_ctx *c, const ex_step *s, const ck_layer *inner);
/* Whether step s runs on channels-last copies of its channels_first tensors
 * (its layer's data_format then reads as channels_last); the ck_run that
 * says so to the layers' geometry helpers. */
bool ex_moved(const ex_step *s);
const ck_run *ex_view(const ex_step *s, ck_run *scratch);
/* The refusal of a layer the generated code cannot run: names class, layer, why. */
ck_status ex_refuse(const ck_layer *l, const char *fmt, ...) CK_PRINTF(2, 3);
/* Keras activation `kind` applied in place to expr ([rows, cols], the
 * row-wise ones over cols; rows a C expression, as ex_rows gives). */
ck_status ex_activation(ex_ctx *c, const ck_layer *l, ck_act_kind kind, const char *expr, const char *rows,
                        int64_t cols);

#endif
